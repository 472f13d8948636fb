//! alloy `sol!` bindings of the Evidence Bridge contracts, generated from the compiled
//! artifacts committed in `deploy/artifacts/` (ABI and bytecode). A test in `tests/`
//! fails when those artifacts differ from a fresh compile of `deploy/contracts/`.
#![allow(missing_docs, unreachable_pub)]

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    EvidenceRegistry,
    "../deploy/artifacts/EvidenceRegistry.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    AnchorMirror,
    "../deploy/artifacts/AnchorMirror.json"
);

impl From<&evidence_schemas::Checkpoint> for AnchorMirror::Checkpoint {
    fn from(cp: &evidence_schemas::Checkpoint) -> Self {
        Self {
            sourceChain: cp.source_chain.key(),
            size: cp.size,
            root: cp.root,
            sourceBlockNumber: cp.source_block_number,
            sourceBlockHash: cp.source_block_hash,
        }
    }
}

/// Bindings of the Ethereum Attestation Service, generated from the artifacts of the
/// pinned npm package `@ethereum-attestation-service/eas-contracts`, copied into
/// `deploy/artifacts/eas/` by `deploy/scripts/eas-artifacts.js` (its `--check` mode
/// fails when they drift from the package).
pub mod eas {
    alloy::sol!(
        #[sol(rpc)]
        #[derive(Debug, PartialEq, Eq)]
        EAS,
        "../deploy/artifacts/eas/EAS.json"
    );

    alloy::sol!(
        #[sol(rpc)]
        #[derive(Debug, PartialEq, Eq)]
        SchemaRegistry,
        "../deploy/artifacts/eas/SchemaRegistry.json"
    );
}
