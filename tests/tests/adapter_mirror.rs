//! The EVM mirror client against a real anvil node and the real `AnchorMirror`:
//! prepare (sign locally) → send (twice) → confirm, replacement of a transaction by a
//! higher-fee one with the same nonce, and reverts named by their custom error.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::{path::PathBuf, time::Duration};

use alloy::{
    node_bindings::{Anvil, AnvilInstance},
    primitives::{Address, B256, Bytes},
    signers::{SignerSync, local::PrivateKeySigner},
};
use evidence_adapters::{
    AdapterError, ChainRpc, EvmMirrorClient, MirrorClient, MirrorReader, PreparedSubmission,
    RpcConfig, TxOutcome, deploy_contracts, evm_mirror::EvmTxPayload, set_attestors,
};
use evidence_schemas::{
    ChainId,
    checkpoint::{
        AttestorSignature, Checkpoint, MirrorDomain, SignedCheckpoint, verify_signatures,
    },
    log::MerkleLog,
};

/// The EVM transaction inside a prepared submission (opaque to the relayer).
fn evm(tx: &PreparedSubmission) -> EvmTxPayload {
    EvmTxPayload::decode(&ChainId::eip155(31337), &tx.payload).unwrap()
}

fn anvil_bin() -> PathBuf {
    let path = std::env::var_os("ANVIL_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../deploy/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
        });
    assert!(
        path.exists(),
        "anvil not found at {} — run `npm ci` in deploy/ or set ANVIL_BIN; these tests need a real node",
        path.display()
    );
    path
}

struct World {
    _anvil: AnvilInstance,
    client: EvmMirrorClient,
    mirror: Address,
    attestors: Vec<PrivateKeySigner>,
    source: ChainId,
    log: MerkleLog,
}

async fn world() -> World {
    let anvil = Anvil::at(anvil_bin()).spawn();
    let rpc = ChainRpc::connect(&RpcConfig::new(
        ChainId::eip155(31337),
        vec![anvil.endpoint()],
    ))
    .await
    .unwrap();
    let owner: PrivateKeySigner = anvil.keys()[0].clone().into();
    let relayer: PrivateKeySigner = anvil.keys()[1].clone().into();
    let deployed = deploy_contracts(&rpc, owner.clone(), owner.address(), 3_600)
        .await
        .unwrap();
    let source = ChainId::eip155(7777);
    let attestors: Vec<PrivateKeySigner> = (0..3).map(|_| PrivateKeySigner::random()).collect();
    let addrs: Vec<Address> = attestors.iter().map(|a| a.address()).collect();
    set_attestors(&rpc, owner, deployed.mirror, &source, &addrs, 2)
        .await
        .unwrap();
    let client = EvmMirrorClient::new(rpc, ChainId::eip155(31337), deployed.mirror, relayer)
        .with_start_block(deployed.mirror_block);
    let log = MerkleLog::from_record_ids(&(1u8..=8).map(B256::repeat_byte).collect::<Vec<_>>());
    World {
        _anvil: anvil,
        client,
        mirror: deployed.mirror,
        attestors,
        source,
        log,
    }
}

impl World {
    /// Checkpoint `size` of the log, signed by the attestors `which` (sorted by address).
    fn signed(&self, size: u64, which: &[usize]) -> SignedCheckpoint {
        let checkpoint = Checkpoint {
            source_chain: self.source.clone(),
            size,
            root: self.log.root_at(size).unwrap(),
            source_block_number: 100 + size,
            source_block_hash: B256::repeat_byte(0xbb),
        };
        let domain = MirrorDomain {
            chain_id: 31337,
            mirror: self.mirror,
        };
        let hash = checkpoint.signing_hash(&domain);
        let mut signatures: Vec<AttestorSignature> = which
            .iter()
            .map(|&i| {
                let key = &self.attestors[i];
                let sig = key.sign_hash_sync(&hash).unwrap();
                AttestorSignature {
                    attestor: key.address(),
                    signature: Bytes::from(sig.as_bytes().to_vec()),
                }
            })
            .collect();
        signatures.sort_by_key(|s| s.attestor);
        let set: Vec<Address> = self.attestors.iter().map(|a| a.address()).collect();
        verify_signatures(&checkpoint, &domain, &signatures, &set, 2).unwrap();
        SignedCheckpoint {
            checkpoint,
            signatures,
        }
    }

    async fn wait_receipt(&self, hash: B256) -> TxOutcome {
        for _ in 0..100 {
            if let Some(r) = self.client.fetch_receipt(hash).await.unwrap() {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("transaction {hash} not mined after 10 s");
    }
}

#[tokio::test]
async fn prepare_send_twice_confirm_and_read_back() {
    let w = world().await;
    let before = w.client.fetch_state(&w.source).await.unwrap();
    assert_eq!(
        (
            before.latest_size,
            before.latest_root,
            before.threshold,
            before.attestor_set_version
        ),
        (0, B256::ZERO, 2, 1)
    );
    let mut sorted: Vec<Address> = w.attestors.iter().map(|a| a.address()).collect();
    sorted.sort();
    assert_eq!(before.attestors, sorted, "set_attestors sorts ascending");
    let nonce0 = w.client.fetch_confirmed_nonce().await.unwrap();

    let cp = w.signed(3, &[0, 2]);
    let tx = w.client.prepare_submission(&cp, &[], None).await.unwrap();
    assert_eq!(evm(&tx).nonce, nonce0);
    assert!(evm(&tx).max_fee_per_gas >= evm(&tx).max_priority_fee_per_gas);
    // Nothing was sent by preparing.
    assert_eq!(w.client.fetch_receipt(tx.id).await.unwrap(), None);
    assert_eq!(
        w.client.fetch_state(&w.source).await.unwrap().latest_size,
        0
    );

    w.client.send_raw(&tx).await.unwrap();
    w.client.send_raw(&tx).await.unwrap(); // same bytes again: a no-op
    let outcome = w.wait_receipt(tx.id).await;
    assert!(outcome.success);
    w.client.send_raw(&tx).await.unwrap(); // and once mined ("nonce too low" + receipt)
    assert_eq!(w.client.fetch_confirmed_nonce().await.unwrap(), nonce0 + 1);

    let state = w.client.fetch_state(&w.source).await.unwrap();
    assert_eq!(
        (
            state.latest_size,
            state.latest_root,
            state.latest_source_block
        ),
        (3, w.log.root_at(3).unwrap(), 103)
    );
    assert!(state.read_at_block >= outcome.block_number);
    assert_eq!(
        w.client.fetch_root_at(&w.source, 3).await.unwrap(),
        w.log.root_at(3).unwrap()
    );
    assert_eq!(
        w.client
            .fetch_accepted_checkpoint_tx(&w.source, 3)
            .await
            .unwrap(),
        Some((tx.id, outcome.block_number))
    );
    assert_eq!(
        w.client
            .fetch_accepted_checkpoint_tx(&w.source, 4)
            .await
            .unwrap(),
        None
    );

    // The mirror verifies inclusion against the accepted root.
    let proof = w.log.inclusion_proof(1, 3).unwrap();
    assert!(
        w.client
            .verify_record(&w.source, 3, B256::repeat_byte(2), 1, &proof)
            .await
            .unwrap()
    );
    assert!(
        !w.client
            .verify_record(&w.source, 3, B256::repeat_byte(9), 1, &proof)
            .await
            .unwrap()
    );

    // The next checkpoint, with its consistency proof.
    let cp5 = w.signed(5, &[1, 2]);
    let tx5 = w
        .client
        .prepare_submission(&cp5, &w.log.consistency_proof(3, 5).unwrap(), None)
        .await
        .unwrap();
    assert_eq!(evm(&tx5).nonce, nonce0 + 1);
    w.client.send_raw(&tx5).await.unwrap();
    assert!(w.wait_receipt(tx5.id).await.success);
    assert_eq!(
        w.client.fetch_state(&w.source).await.unwrap().latest_size,
        5
    );
}

#[tokio::test]
async fn a_replacement_with_the_same_nonce_and_higher_fees_wins() {
    let w = world().await;
    let cp = w.signed(4, &[0, 1]);
    let stuck = w.client.prepare_submission(&cp, &[], None).await.unwrap();
    // Not sent, its nonce free: it can still be mined.
    assert_eq!(w.client.fetch_unmineable(&stuck).await.unwrap(), None);
    let replacement = w
        .client
        .prepare_submission(&cp, &[], Some(&stuck))
        .await
        .unwrap();
    let (new, old) = (evm(&replacement), evm(&stuck));
    assert_eq!(new.nonce, old.nonce);
    assert_ne!(replacement.id, stuck.id);
    assert!(
        new.max_fee_per_gas * 8 >= old.max_fee_per_gas * 9,
        "{new:?} vs {old:?}"
    );
    assert!(new.max_priority_fee_per_gas * 8 >= old.max_priority_fee_per_gas * 9);

    w.client.send_raw(&replacement).await.unwrap();
    assert!(w.wait_receipt(replacement.id).await.success);
    assert_eq!(
        w.client.fetch_state(&w.source).await.unwrap().latest_size,
        4
    );

    // The replaced transaction can never be mined now, and says so.
    let err = w.client.send_raw(&stuck).await.unwrap_err();
    assert!(
        matches!(err, AdapterError::NonceUsed { nonce, .. } if nonce == old.nonce),
        "{err}"
    );
    assert_eq!(w.client.fetch_receipt(stuck.id).await.unwrap(), None);
    let why = w.client.fetch_unmineable(&stuck).await.unwrap();
    assert!(
        why.as_deref()
            .is_some_and(|w| w.contains(&format!("nonce {}", old.nonce))),
        "{why:?}"
    );
}

#[tokio::test]
async fn reverts_during_estimation_name_the_custom_error() {
    let w = world().await;
    let cp = w.signed(2, &[0, 1]);
    let tx = w.client.prepare_submission(&cp, &[], None).await.unwrap();
    w.client.send_raw(&tx).await.unwrap();
    assert!(w.wait_receipt(tx.id).await.success);

    let err = w
        .client
        .prepare_submission(&cp, &[], None)
        .await
        .unwrap_err();
    match &err {
        AdapterError::Reverted { reason, .. } => {
            assert!(reason.starts_with("CheckpointAlreadyAccepted("), "{reason}");
            assert!(reason.contains("size: 2"), "{reason}");
        }
        other => panic!("expected Reverted, got {other}"),
    }

    let mut one = w.signed(3, &[0, 1]);
    one.signatures.truncate(1);
    let err = w
        .client
        .prepare_submission(&one, &w.log.consistency_proof(2, 3).unwrap(), None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AdapterError::Reverted { reason, .. } if reason.starts_with("BelowThreshold(")),
        "{err}"
    );

    let unknown = SignedCheckpoint {
        checkpoint: Checkpoint {
            source_chain: ChainId::eip155(1),
            ..cp.checkpoint.clone()
        },
        signatures: cp.signatures.clone(),
    };
    let err = w
        .client
        .prepare_submission(&unknown, &[], None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AdapterError::Reverted { reason, .. } if reason.starts_with("UnknownSourceChain(")),
        "{err}"
    );
}
