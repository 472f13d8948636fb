//! Turning configuration into connected runtime objects: RPC clients, source
//! adapters, mirror readers and submitters, record re-readers and the store.
//!
//! This is the one place that builds chain-family specific objects from a chain's
//! [`ChainConf`]: every builder below is a `match` with one arm per family (only
//! [`ChainConf::Evm`] so far), and commands get traits (`EvidenceSource`,
//! `MirrorReader`, `MirrorSubmitter`, `RegistryWriter`, `MirrorAdmin`, `RecordDecoder`)
//! or an opaque [`Connection`] through it. Only the EVM-by-nature commands (`bridge
//! deploy`, `bridge devnet*`) take the EVM client itself ([`connect_rpc`]).

use std::{sync::Arc, time::Duration};

use alloy::signers::local::PrivateKeySigner;
use evidence_adapters::{
    AdapterError, EasSource, EvidenceSource, EvmMirrorAdmin, EvmRegistryWriter, MappedSource,
    MirrorAdmin, MirrorClient, MirrorReader, MultiSource, ReceiptsSource, RecordDecoder,
    RegistryWriter,
    eas::EasDecoder,
    evm_mirror::{EvmMirrorClient, EvmMirrorReader},
    mapped::MappedSpec,
    recheck::reread_record_with,
    registry::{RegistrySource, RegistrySourceOptions},
    rpc::{ChainRpc, RpcConfig},
};
use evidence_relayer::{
    engine::{ChainRuntime, EngineSettings, RouteRuntime},
    store::Store,
};
use evidence_schemas::{EvidenceRecord, checkpoint::MirrorDomain};

use crate::{
    config::{ChainConf, ChainSettings, EvmChainConf, Settings},
    exit::Failure,
};

/// The chain's family view (checked when the config was loaded).
fn conf(chain: &ChainSettings) -> Result<ChainConf<'_>, Failure> {
    Ok(chain.conf()?)
}

/// Connects to a chain's RPC endpoints, checking the chain id: for the EVM-only
/// commands (`bridge deploy`, `bridge devnet*`); every other command goes through
/// [`connect`] and the builders below.
pub(crate) async fn connect_rpc(chain: &ChainSettings) -> Result<ChainRpc, Failure> {
    match conf(chain)? {
        ChainConf::Evm(evm) => connect_evm(chain, &evm).await,
    }
}

async fn connect_evm(chain: &ChainSettings, evm: &EvmChainConf<'_>) -> Result<ChainRpc, Failure> {
    let cfg = RpcConfig::new(chain.chain_id.clone(), evm.rpc.to_vec());
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

/// One chain's connection, opaque to commands: they hand it back to the builders below
/// when they ask one chain several things (`bridge verify` connects once, then reads
/// the mirror or re-reads records through it).
#[derive(Debug, Clone)]
pub(crate) struct Connection(Connected);

#[derive(Debug, Clone)]
enum Connected {
    Evm(ChainRpc),
}

/// Connects to a chain's nodes (checking the chain id): a configuration problem is bad
/// input (exit 2), no node answering a failure (exit 1).
pub(crate) async fn connect(chain: &ChainSettings) -> Result<Connection, Failure> {
    match conf(chain)? {
        ChainConf::Evm(evm) => Ok(Connection(Connected::Evm(connect_evm(chain, &evm).await?))),
    }
}

/// A reader of a chain's mirror (no key); event queries start at the chain's
/// `start_block`.
pub(crate) async fn mirror_reader(chain: &ChainSettings) -> Result<Arc<dyn MirrorReader>, Failure> {
    Ok(mirror_reader_on(&connect(chain).await?, chain))
}

/// [`mirror_reader`] over a connection to `chain`.
pub(crate) fn mirror_reader_on(conn: &Connection, chain: &ChainSettings) -> Arc<dyn MirrorReader> {
    match &conn.0 {
        Connected::Evm(rpc) => Arc::new(
            EvmMirrorReader::new(rpc.clone(), chain.chain_id.clone(), chain.mirror)
                .with_start_block(chain.start_block),
        ),
    }
}

/// Re-reads `record` from its source chain `chain` over `conn`: the event its locator
/// names, decoded by the decoder of its adapter (built in for our registry and the
/// mirrors' receipts; from the chain's configured sources for EAS and mapped events).
/// `Ok(Err(reason))` when it does not give the same record.
pub(crate) async fn reread_record(
    conn: &Connection,
    chain: &ChainSettings,
    record: &EvidenceRecord,
) -> Result<Result<(), String>, AdapterError> {
    let decoders = match chain_decoders(chain) {
        Ok(decoders) => decoders,
        Err(f) => {
            return Ok(Err(format!(
                "the chain's configured sources cannot be built: {}",
                f.message
            )));
        }
    };
    match &conn.0 {
        Connected::Evm(rpc) => reread_record_with(rpc, record, &decoders).await,
    }
}

/// The EIP-712 domain attestors sign checkpoints and set changes of `chain`'s mirror
/// in.
pub(crate) fn mirror_domain(chain: &ChainSettings) -> Result<MirrorDomain, Failure> {
    match conf(chain)? {
        ChainConf::Evm(evm) => Ok(MirrorDomain {
            chain_id: evm.chain_id,
            mirror: evm.mirror,
        }),
    }
}

/// Anchoring and revoking on `chain`'s registry with `key` (connects; a chain without
/// a registry is bad input).
pub(crate) async fn registry_writer(
    chain: &ChainSettings,
    key: PrivateKeySigner,
) -> Result<Arc<dyn RegistryWriter>, Failure> {
    match conf(chain)? {
        ChainConf::Evm(evm) => {
            let registry = evm.registry.ok_or_else(|| {
                Failure::usage(format!("chain {} has no `registry` configured", chain.name))
            })?;
            let rpc = connect_evm(chain, &evm).await?;
            Ok(Arc::new(EvmRegistryWriter::new(rpc, registry, key)))
        }
    }
}

/// Administering the attestor sets of `chain`'s mirror with `key` (connects).
pub(crate) async fn mirror_admin(
    chain: &ChainSettings,
    key: PrivateKeySigner,
) -> Result<Arc<dyn MirrorAdmin>, Failure> {
    match conf(chain)? {
        ChainConf::Evm(evm) => {
            let rpc = connect_evm(chain, &evm).await?;
            Ok(Arc::new(EvmMirrorAdmin::new(rpc, evm.mirror, key)))
        }
    }
}

/// The submitter of checkpoints to a chain's mirror, signing with `relayer_key`, or a
/// watcher that never sends (`None`: an attest-only instance), with the mirror's
/// EIP-712 domain.
fn mirror_submitter(
    chain: &ChainSettings,
    rpc: &ChainRpc,
    relayer_key: Option<&PrivateKeySigner>,
) -> Result<(Arc<dyn MirrorClient>, MirrorDomain), Failure> {
    match conf(chain)? {
        ChainConf::Evm(evm) => {
            let (id, mirror) = (chain.chain_id.clone(), evm.mirror);
            let client: Arc<dyn MirrorClient> = Arc::new(match relayer_key {
                Some(key) => EvmMirrorClient::new(rpc.clone(), id, mirror, key.clone()),
                None => EvmMirrorClient::without_sender(rpc.clone(), id, mirror),
            });
            Ok((client, mirror_domain(chain)?))
        }
    }
}

/// The evidence source of one chain: its registry, EAS and mapped contracts (and the
/// mirror's receipts), as one composite source (the registry, when configured, is the
/// one with sequence numbers).
pub(crate) fn chain_source(
    c: &ChainSettings,
    rpc: &ChainRpc,
) -> Result<Arc<dyn EvidenceSource>, Failure> {
    let usage =
        |e: evidence_adapters::AdapterError| Failure::usage(format!("chain {}: {e}", c.name));
    let mut sources: Vec<Arc<dyn EvidenceSource>> = Vec::new();
    let mut sequenced = None;
    match conf(c)? {
        ChainConf::Evm(evm) => {
            let (id, finality) = (c.chain_id.clone(), evm.finality);
            if let Some(registry) = evm.registry {
                let opts = RegistrySourceOptions {
                    max_span: evm.max_block_span,
                    initial_span: evm.max_block_span.min(2_000),
                    ..Default::default()
                };
                sequenced = Some(sources.len());
                let source = RegistrySource::new(rpc.clone(), id.clone(), registry, opts);
                sources.push(Arc::new(source.with_finality(finality)));
            }
            if let Some(eas) = evm.eas {
                let source = EasSource::new(rpc.clone(), id.clone(), eas.clone()).map_err(usage)?;
                sources.push(Arc::new(source.with_finality(finality)));
            }
            for m in evm.mapped {
                let source =
                    MappedSource::new(rpc.clone(), id.clone(), m.clone(), evm.max_block_span)
                        .map_err(usage)?;
                sources.push(Arc::new(source.with_finality(finality)));
            }
            if let Some(from) = evm.receipts_from {
                let source = ReceiptsSource::new(rpc.clone(), id, evm.mirror, evm.max_block_span)
                    .from_block(from);
                sources.push(Arc::new(source.with_finality(finality)));
            }
        }
    }
    if sources.len() == 1
        && let Some(only) = sources.pop()
    {
        return Ok(only);
    }
    let multi = MultiSource::new(sources).map_err(usage)?;
    let multi = match sequenced {
        Some(i) => multi.with_sequenced(i).map_err(usage)?,
        None => multi,
    };
    Ok(Arc::new(multi))
}

/// The decoders of a chain's configured sources that need their configuration to
/// re-read a record (EAS, mapped contracts): `recheck::reread_record_with` uses them,
/// and the built-in ones (registry, receipts) for the rest.
pub(crate) fn chain_decoders(c: &ChainSettings) -> Result<Vec<Arc<dyn RecordDecoder>>, Failure> {
    let usage =
        |e: evidence_adapters::AdapterError| Failure::usage(format!("chain {}: {e}", c.name));
    let mut out: Vec<Arc<dyn RecordDecoder>> = Vec::new();
    match conf(c)? {
        ChainConf::Evm(evm) => {
            if let Some(eas) = evm.eas {
                out.push(Arc::new(EasDecoder::new(eas.clone()).map_err(usage)?));
            }
            for m in evm.mapped {
                out.push(Arc::new(MappedSpec::new(m.clone()).map_err(usage)?));
            }
        }
    }
    Ok(out)
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
            fetch_span: Default::default(),
        });
    }
    let mut routes = Vec::new();
    for r in settings.effective_routes() {
        let from = settings.chain(&r.from)?;
        let (to, rpc) = rpcs
            .iter()
            .find(|(c, _)| c.name == r.to)
            .ok_or_else(|| Failure::usage(format!("route to unknown chain {}", r.to)))?;
        let (mirror, domain) = mirror_submitter(to, rpc, relayer_key)?;
        routes.push(RouteRuntime {
            source_chain: from.chain_id.clone(),
            destination_chain: to.chain_id.clone(),
            mirror,
            domain,
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
