//! Turning configuration into connected runtime objects: RPC clients, source
//! adapters, mirror clients and the store.

use std::{sync::Arc, time::Duration};

use alloy::signers::local::PrivateKeySigner;
use evidence_adapters::{
    EasSource, EvidenceSource, MappedSource, MirrorClient, MirrorReader, MultiSource,
    ReceiptsSource,
    evm_mirror::{EvmMirrorClient, EvmMirrorReader},
    registry::{RegistrySource, RegistrySourceOptions},
    rpc::{ChainRpc, RpcConfig},
};
use evidence_relayer::{
    engine::{ChainRuntime, EngineSettings, RouteRuntime},
    store::Store,
};
use evidence_schemas::checkpoint::MirrorDomain;

use crate::{
    config::{ChainSettings, Settings},
    exit::Failure,
};

/// Connects to a chain's RPC endpoints, checking the chain id.
pub(crate) async fn connect_rpc(chain: &ChainSettings) -> Result<ChainRpc, Failure> {
    let cfg = RpcConfig::new(chain.chain_id.clone(), chain.rpc.clone());
    ChainRpc::connect(&cfg).await.map_err(|e| match e {
        evidence_adapters::AdapterError::WrongChain { .. }
        | evidence_adapters::AdapterError::Config(_) => {
            Failure::usage(format!("chain {}: {e}", chain.name))
        }
        other => Failure::failed(format!(
            "chain {}: cannot reach any RPC endpoint: {other}",
            chain.name
        )),
    })
}

/// Opens the store (creating it and running migrations when needed).
pub(crate) async fn open_store(settings: &Settings) -> Result<Store, Failure> {
    Store::connect(&settings.store.url).await.map_err(|e| {
        Failure::usage(format!(
            "cannot open store {}: {e}",
            evidence_relayer::store::redact(&settings.store.url)
        ))
    })
}

/// A reader of a chain's mirror, as a trait object (no key).
pub(crate) async fn read_only_mirror(
    chain: &ChainSettings,
) -> Result<Arc<dyn MirrorReader>, Failure> {
    Ok(Arc::new(mirror_reader(chain).await?))
}

/// A reader of a chain's mirror (no key); event queries start at the chain's
/// `start_block`.
pub(crate) async fn mirror_reader(chain: &ChainSettings) -> Result<EvmMirrorReader, Failure> {
    let rpc = connect_rpc(chain).await?;
    Ok(mirror_reader_over(rpc, chain))
}

/// [`mirror_reader`] over an RPC client already connected to `chain`.
pub(crate) fn mirror_reader_over(rpc: ChainRpc, chain: &ChainSettings) -> EvmMirrorReader {
    EvmMirrorReader::new(rpc, chain.chain_id.clone(), chain.mirror)
        .with_start_block(chain.start_block)
}

/// The evidence source of one chain: its registry, EAS and mapped contracts, as one
/// composite source (the registry, when configured, is the one with sequence numbers).
pub(crate) fn chain_source(
    c: &ChainSettings,
    rpc: &ChainRpc,
) -> Result<Arc<dyn EvidenceSource>, Failure> {
    let mut sources: Vec<Arc<dyn EvidenceSource>> = Vec::new();
    let mut sequenced = None;
    if let Some(registry) = c.registry {
        let opts = RegistrySourceOptions {
            max_span: c.max_block_span,
            initial_span: c.max_block_span.min(2_000),
            ..Default::default()
        };
        sequenced = Some(sources.len());
        sources.push(Arc::new(RegistrySource::new(
            rpc.clone(),
            c.chain_id.clone(),
            registry,
            opts,
        )));
    }
    if let Some(eas) = &c.eas {
        let source = EasSource::new(rpc.clone(), c.chain_id.clone(), eas.clone())
            .map_err(|e| Failure::usage(format!("chain {}: {e}", c.name)))?;
        sources.push(Arc::new(source));
    }
    for m in &c.mapped {
        let source =
            MappedSource::new(rpc.clone(), c.chain_id.clone(), m.clone(), c.max_block_span)
                .map_err(|e| Failure::usage(format!("chain {}: {e}", c.name)))?;
        sources.push(Arc::new(source));
    }
    if c.receipts {
        let receipts =
            ReceiptsSource::new(rpc.clone(), c.chain_id.clone(), c.mirror, c.max_block_span)
                .from_block(c.receipts_start_block.unwrap_or(c.start_block));
        sources.push(Arc::new(receipts));
    }
    if sources.len() == 1
        && let Some(only) = sources.pop()
    {
        return Ok(only);
    }
    let multi =
        MultiSource::new(sources).map_err(|e| Failure::usage(format!("chain {}: {e}", c.name)))?;
    let multi = match sequenced {
        Some(i) => multi
            .with_sequenced(i)
            .map_err(|e| Failure::usage(format!("chain {}: {e}", c.name)))?,
        None => multi,
    };
    Ok(Arc::new(multi))
}

/// Everything `bridge run` needs.
/// `relayer_key` is `None` for an attest-only instance: its routes' mirrors are read
/// (watched) and never sent to.
pub(crate) async fn engine_parts(
    settings: &Settings,
    relayer_key: Option<&PrivateKeySigner>,
) -> Result<(Vec<ChainRuntime>, Vec<RouteRuntime>), Failure> {
    let mut rpcs = Vec::new();
    for c in &settings.chains {
        rpcs.push((c, connect_rpc(c).await?));
    }
    let mut chains = Vec::new();
    for (c, rpc) in &rpcs {
        let source = chain_source(c, rpc)?;
        chains.push(ChainRuntime {
            chain: c.chain_id.clone(),
            name: c.name.clone(),
            source,
            confirmations: c.confirmations,
            start_block: c.start_block,
            batch_span: c.max_block_span,
        });
    }
    let mut routes = Vec::new();
    for r in settings.effective_routes() {
        let from = settings.chain(&r.from)?;
        let (to, rpc) = rpcs
            .iter()
            .find(|(c, _)| c.name == r.to)
            .ok_or_else(|| Failure::usage(format!("route to unknown chain {}", r.to)))?;
        let chain_id = to
            .chain_id
            .eip155_id()
            .ok_or_else(|| Failure::usage(format!("{} is not an eip155 chain", to.name)))?;
        let mirror: Arc<dyn MirrorClient> = Arc::new(match relayer_key {
            Some(key) => {
                EvmMirrorClient::new(rpc.clone(), to.chain_id.clone(), to.mirror, key.clone())
            }
            None => EvmMirrorClient::without_sender(rpc.clone(), to.chain_id.clone(), to.mirror),
        });
        routes.push(RouteRuntime {
            source_chain: from.chain_id.clone(),
            destination_chain: to.chain_id.clone(),
            mirror,
            domain: MirrorDomain {
                chain_id,
                mirror: to.mirror,
            },
        });
    }
    Ok((chains, routes))
}

/// Engine timing from the config.
pub(crate) fn engine_settings(settings: &Settings) -> EngineSettings {
    let e = &settings.engine;
    EngineSettings {
        poll_interval: e.poll_interval(),
        checkpoint_interval: Duration::from_secs(e.checkpoint_interval_secs),
        checkpoint_max_records: e.checkpoint_max_records,
        tx_timeout: Duration::from_secs(e.tx_timeout_secs),
        ..EngineSettings::default()
    }
}
