//! The shared source-adapter suite (`evidence_tests::adapter_suite`) run against every
//! source adapter, each on its real contract(s) on a fresh anvil chain:
//! - `registry`: our `EvidenceRegistry`;
//! - `eas`: the Ethereum Attestation Service (the pinned npm package's bytecode);
//! - `mapped`: a third-party evidence contract (`HashStore`) read through the
//!   configured-event adapter;
//! - `receipts`: an `AnchorMirror`'s `CheckpointAccepted` events (the round-trip
//!   receipts), each emitted by a real signed checkpoint submission;
//! - `multi`: the registry and the receipts of one chain through `MultiSource`, as
//!   production reads a chain that is both a source and a destination.
//!
//! The receipts fixture has no `malformed_quarantined` check: the mirror contract emits
//! `CheckpointAccepted` itself, with ABI-encoded fields, so a malformed receipt cannot
//! be produced on a real chain (the decoder's rejection of bad logs is unit-tested in
//! `adapters/src/receipts.rs`). The `multi` fixture runs it through its registry part.
//!
//! To add an adapter: implement `SourceFixture` below and add a line to `suite!`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use alloy::providers::Provider;
use alloy::{
    primitives::{B256, Bytes},
    sol_types::SolValue,
};
use evidence_adapters::{
    ChainRpc, EasDecoder, EasDigest, EasSchemaMapping, EasSource, EasSourceOptions, EvidenceSource,
    MappedSource, MappedSourceOptions, RecordDecoder, RegistrySource, RegistrySourceOptions,
    anchor,
    contracts::EvidenceRegistry,
    deploy_contracts,
    deploy_eas::{DeployedEas, EasAttestation, deploy_eas, eas_attest, register_schema},
    mapped::MappedSpec,
    mapped::contracts::HashStore,
};
use evidence_adapters::{MultiSource, ReceiptsSource};
use evidence_schemas::{ChainId, DigestAlgorithm, Label, log::MerkleLog};
use evidence_tests::{
    Devchain, MirrorSetup,
    adapter_suite::{self, Emitted, SUITE_CHAIN_ID, SourceFixture},
};

/// Our own registry.
struct RegistryFixture {
    registry: alloy::primitives::Address,
    start: u64,
}

impl SourceFixture for RegistryFixture {
    const NAME: &'static str = "registry";

    async fn deploy(chain: &Devchain, rpc: &ChainRpc) -> anyhow::Result<Self> {
        let d = deploy_contracts(rpc, chain.signer.clone(), chain.address(), 3_600).await?;
        Ok(Self {
            registry: d.registry,
            start: d.registry_block,
        })
    }

    fn start_block(&self) -> u64 {
        self.start
    }

    async fn emit(&mut self, chain: &Devchain, rpc: &ChainRpc, i: u64) -> anyhow::Result<Emitted> {
        let digest = alloy::primitives::keccak256(format!("registry evidence {i}"));
        let r = anchor(
            rpc,
            chain.signer.clone(),
            self.registry,
            DigestAlgorithm::Keccak256,
            digest,
            &Label::parse("kind", "iou")?,
            B256::ZERO,
        )
        .await?;
        Ok(Emitted {
            tx_hash: r.tx_hash,
            block_number: r.block_number,
        })
    }

    async fn emit_malformed(
        &mut self,
        chain: &Devchain,
        _rpc: &ChainRpc,
    ) -> anyhow::Result<Emitted> {
        // The contract checks only the length of `kind`; the record schema forbids spaces.
        let receipt = EvidenceRegistry::new(self.registry, &chain.provider)
            .anchor(1, B256::repeat_byte(2), "Zhang San".into(), B256::ZERO)
            .send()
            .await?
            .get_receipt()
            .await?;
        anyhow::ensure!(receipt.status(), "the malformed anchor reverted");
        Ok(Emitted {
            tx_hash: receipt.transaction_hash,
            block_number: receipt.block_number.unwrap_or_default(),
        })
    }

    fn source(&self, rpc: &ChainRpc) -> anyhow::Result<Arc<dyn EvidenceSource>> {
        Ok(Arc::new(RegistrySource::new(
            rpc.clone(),
            ChainId::eip155(SUITE_CHAIN_ID),
            self.registry,
            RegistrySourceOptions {
                retry_pause: std::time::Duration::from_millis(10),
                ..Default::default()
            },
        )))
    }
}

/// The Ethereum Attestation Service with one schema whose first word is a document's
/// sha256.
struct EasFixture {
    eas: DeployedEas,
    schema: B256,
}

impl SourceFixture for EasFixture {
    const NAME: &'static str = "eas";

    async fn deploy(chain: &Devchain, rpc: &ChainRpc) -> anyhow::Result<Self> {
        let eas = deploy_eas(rpc, chain.signer.clone()).await?;
        let schema = register_schema(
            rpc,
            chain.signer.clone(),
            eas.schema_registry,
            "bytes32 docHash,string note",
            true,
        )
        .await?;
        Ok(Self { eas, schema })
    }

    fn start_block(&self) -> u64 {
        self.eas.eas_block
    }

    async fn emit(&mut self, chain: &Devchain, rpc: &ChainRpc, i: u64) -> anyhow::Result<Emitted> {
        let digest = alloy::primitives::keccak256(format!("eas evidence {i}"));
        let data: Bytes = (digest, format!("note {i}")).abi_encode_params().into();
        let r = eas_attest(
            rpc,
            chain.signer.clone(),
            self.eas.eas,
            &EasAttestation::new(self.schema, data),
        )
        .await?;
        Ok(Emitted {
            tx_hash: r.tx_hash,
            block_number: r.block_number,
        })
    }

    async fn emit_malformed(
        &mut self,
        chain: &Devchain,
        rpc: &ChainRpc,
    ) -> anyhow::Result<Emitted> {
        // EAS does not check data against the schema: 10 bytes have no digest word.
        let r = eas_attest(
            rpc,
            chain.signer.clone(),
            self.eas.eas,
            &EasAttestation::new(self.schema, vec![7u8; 10]),
        )
        .await?;
        Ok(Emitted {
            tx_hash: r.tx_hash,
            block_number: r.block_number,
        })
    }

    fn source(&self, rpc: &ChainRpc) -> anyhow::Result<Arc<dyn EvidenceSource>> {
        Ok(Arc::new(EasSource::new(
            rpc.clone(),
            ChainId::eip155(SUITE_CHAIN_ID),
            self.options()?,
        )?))
    }

    fn decoders(&self) -> anyhow::Result<Vec<Arc<dyn RecordDecoder>>> {
        Ok(vec![Arc::new(EasDecoder::new(self.options()?)?)])
    }
}

impl EasFixture {
    fn options(&self) -> anyhow::Result<EasSourceOptions> {
        let mut opts = EasSourceOptions::new(self.eas.eas, self.eas.eas_block);
        opts.schemas = vec![EasSchemaMapping {
            uid: self.schema,
            kind: Some(Label::parse("kind", "document")?),
            digest: EasDigest::Word {
                index: 0,
                alg: DigestAlgorithm::Sha256,
            },
        }];
        opts.only_listed_schemas = true;
        opts.retry_pause_ms = 10;
        Ok(opts)
    }
}

/// An `AnchorMirror` on the chain taking checkpoints of a made-up source log: each
/// emitted event is one accepted checkpoint (one receipt).
struct ReceiptsFixture {
    mirror: MirrorSetup,
    start: u64,
    /// The made-up source log's record ids.
    leaves: Vec<B256>,
}

impl SourceFixture for ReceiptsFixture {
    const NAME: &'static str = "receipts";

    async fn deploy(chain: &Devchain, _rpc: &ChainRpc) -> anyhow::Result<Self> {
        let start = chain.provider.get_block_number().await?;
        let mirror = MirrorSetup::deploy(chain, ChainId::eip155(1), 3, 2).await?;
        Ok(Self {
            mirror,
            start,
            leaves: Vec::new(),
        })
    }

    fn start_block(&self) -> u64 {
        self.start
    }

    async fn emit(
        &mut self,
        _chain: &Devchain,
        _rpc: &ChainRpc,
        i: u64,
    ) -> anyhow::Result<Emitted> {
        // The mirror's size on the chain as it is now (a reorg may have undone some of
        // this fixture's checkpoints): extend the source log from there.
        let latest = self
            .mirror
            .mirror
            .latestCheckpoint(self.mirror.source.key())
            .call()
            .await?;
        let kept = usize::try_from(latest.size)?;
        self.leaves.truncate(kept);
        self.leaves
            .push(alloy::primitives::keccak256(format!("source record {i}")));
        let log = MerkleLog::from_record_ids(&self.leaves);
        let previous = (latest.size > 0).then_some(latest.size);
        let receipt = self.mirror.submit_log(&log, previous, log.size()).await?;
        Ok(Emitted {
            tx_hash: receipt.transaction_hash,
            block_number: receipt.block_number.unwrap_or_default(),
        })
    }

    async fn emit_malformed(
        &mut self,
        _chain: &Devchain,
        _rpc: &ChainRpc,
    ) -> anyhow::Result<Emitted> {
        anyhow::bail!(
            "a real AnchorMirror cannot emit a malformed CheckpointAccepted (see the file's notes)"
        )
    }

    fn source(&self, rpc: &ChainRpc) -> anyhow::Result<Arc<dyn EvidenceSource>> {
        let source = ReceiptsSource::new(
            rpc.clone(),
            ChainId::eip155(SUITE_CHAIN_ID),
            *self.mirror.mirror.address(),
            2_000,
        )
        .from_block(self.start);
        Ok(Arc::new(source))
    }
}

/// The registry and the mirror's receipts of one chain, read through `MultiSource`:
/// even events are registry anchors, odd ones accepted checkpoints.
struct MultiFixture {
    registry: RegistryFixture,
    receipts: ReceiptsFixture,
}

impl SourceFixture for MultiFixture {
    const NAME: &'static str = "multi";

    async fn deploy(chain: &Devchain, rpc: &ChainRpc) -> anyhow::Result<Self> {
        let registry = RegistryFixture::deploy(chain, rpc).await?;
        let receipts = ReceiptsFixture::deploy(chain, rpc).await?;
        Ok(Self { registry, receipts })
    }

    fn start_block(&self) -> u64 {
        self.registry.start_block().min(self.receipts.start_block())
    }

    async fn emit(&mut self, chain: &Devchain, rpc: &ChainRpc, i: u64) -> anyhow::Result<Emitted> {
        if i.is_multiple_of(2) {
            self.registry.emit(chain, rpc, i).await
        } else {
            self.receipts.emit(chain, rpc, i).await
        }
    }

    async fn emit_malformed(
        &mut self,
        chain: &Devchain,
        rpc: &ChainRpc,
    ) -> anyhow::Result<Emitted> {
        self.registry.emit_malformed(chain, rpc).await
    }

    fn source(&self, rpc: &ChainRpc) -> anyhow::Result<Arc<dyn EvidenceSource>> {
        let sources = vec![self.registry.source(rpc)?, self.receipts.source(rpc)?];
        Ok(Arc::new(MultiSource::new(sources)?))
    }
}

macro_rules! suite {
    ($($fixture:ty => $prefix:ident $(+ $extra:ident)*),* $(,)?) => {
        $(
            mod $prefix {
                use super::*;

                #[tokio::test]
                async fn inclusive_ranges() {
                    adapter_suite::inclusive_ranges::<$fixture>().await.unwrap();
                }

                #[tokio::test]
                async fn duplicates_tolerated() {
                    adapter_suite::duplicates_tolerated::<$fixture>().await.unwrap();
                }

                #[tokio::test]
                async fn finality_respected() {
                    adapter_suite::finality_respected::<$fixture>().await.unwrap();
                }

                #[tokio::test]
                async fn rewind_after_reorg() {
                    adapter_suite::rewind_after_reorg::<$fixture>().await.unwrap();
                }

                $(
                    #[tokio::test]
                    async fn $extra() {
                        adapter_suite::$extra::<$fixture>().await.unwrap();
                    }
                )*

                #[tokio::test]
                async fn resumes_after_restart() {
                    adapter_suite::resumes_after_restart::<$fixture>().await.unwrap();
                }
            }
        )*
    };
}

/// A third-party evidence contract (`HashStore`) read by the mapped-event adapter.
struct MappedFixture {
    contract: alloy::primitives::Address,
    start: u64,
}

const STORED: &str =
    "Stored(bytes32 indexed hash, address indexed owner, uint256 time, string kind)";

impl SourceFixture for MappedFixture {
    const NAME: &'static str = "mapped";

    async fn deploy(chain: &Devchain, _rpc: &ChainRpc) -> anyhow::Result<Self> {
        let store = HashStore::deploy(chain.provider.clone()).await?;
        let start = chain.provider.get_block_number().await?;
        Ok(Self {
            contract: *store.address(),
            start,
        })
    }

    fn start_block(&self) -> u64 {
        self.start
    }

    async fn emit(&mut self, chain: &Devchain, _rpc: &ChainRpc, i: u64) -> anyhow::Result<Emitted> {
        let digest = alloy::primitives::keccak256(format!("mapped evidence {i}"));
        let receipt = HashStore::new(self.contract, &chain.provider)
            .store(digest, "deed".into())
            .send()
            .await?
            .get_receipt()
            .await?;
        anyhow::ensure!(receipt.status(), "HashStore.store reverted");
        Ok(Emitted {
            tx_hash: receipt.transaction_hash,
            block_number: receipt.block_number.unwrap_or_default(),
        })
    }

    async fn emit_malformed(
        &mut self,
        chain: &Devchain,
        _rpc: &ChainRpc,
    ) -> anyhow::Result<Emitted> {
        // The `Stored` topic0 and both indexed topics, but a body too short to decode.
        let topic0 = alloy::primitives::keccak256("Stored(bytes32,address,uint256,string)");
        let receipt = HashStore::new(self.contract, &chain.provider)
            .emitRaw(
                vec![topic0, B256::repeat_byte(7), chain.address().into_word()],
                Bytes::from_static(&[1, 2, 3]),
            )
            .send()
            .await?
            .get_receipt()
            .await?;
        anyhow::ensure!(receipt.status(), "HashStore.emitRaw reverted");
        Ok(Emitted {
            tx_hash: receipt.transaction_hash,
            block_number: receipt.block_number.unwrap_or_default(),
        })
    }

    fn source(&self, rpc: &ChainRpc) -> anyhow::Result<Arc<dyn EvidenceSource>> {
        Ok(Arc::new(MappedSource::new(
            rpc.clone(),
            ChainId::eip155(SUITE_CHAIN_ID),
            self.options(),
            2_000,
        )?))
    }

    fn decoders(&self) -> anyhow::Result<Vec<Arc<dyn RecordDecoder>>> {
        Ok(vec![Arc::new(MappedSpec::new(self.options())?)])
    }
}

impl MappedFixture {
    fn options(&self) -> MappedSourceOptions {
        MappedSourceOptions {
            name: "hashstore".into(),
            contract: self.contract,
            event: STORED.into(),
            digest: "hash".into(),
            digest_alg: DigestAlgorithm::Sha256,
            submitter: "owner".into(),
            kind_field: Some("kind".into()),
            kind: None,
            metadata_field: None,
            metadata_fields: vec!["time".into()],
        }
    }
}

suite! {
    RegistryFixture => registry + malformed_quarantined + rereads_through_its_decoder,
    EasFixture => eas + malformed_quarantined + rereads_through_its_decoder,
    MappedFixture => mapped + malformed_quarantined + rereads_through_its_decoder,
    ReceiptsFixture => receipts + rereads_through_its_decoder,
    MultiFixture => multi + malformed_quarantined + rereads_through_its_decoder,
}
