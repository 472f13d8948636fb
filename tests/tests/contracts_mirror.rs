//! `AnchorMirror` and `EvidenceRegistry` on anvil: the happy path, and every rejection
//! asserting the *specific* custom error.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use alloy::{
    primitives::{Address, B256, Bytes, U256},
    providers::DynProvider,
};
use evidence_schemas::{ChainId, checkpoint::MirrorDomain, log::MerkleLog};
use evidence_tests::{
    Attestors, Devchain, MirrorSetup,
    attest::{sign_checkpoint, sign_one, signature_bytes},
    contracts::{
        AnchorMirror::{self, AnchorMirrorErrors, AnchorMirrorInstance},
        EvidenceRegistry::{self, EvidenceRegistryErrors},
    },
    decode_events, expect_revert, send_tx,
};
use rand::{Rng, SeedableRng, rngs::StdRng};

const DEST_CHAIN_ID: u64 = 31_338;

fn source() -> ChainId {
    ChainId::eip155(31_337)
}

fn random_log(n: u64, seed: u64) -> (MerkleLog, Vec<B256>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let ids: Vec<B256> = (0..n)
        .map(|_| {
            let mut b = [0u8; 32];
            rng.fill(&mut b);
            B256::from(b)
        })
        .collect();
    (MerkleLog::from_record_ids(&ids), ids)
}

/// A dev chain with a 3-of-5 mirror and a 40-record log.
async fn setup() -> (Devchain, MirrorSetup, MerkleLog, Vec<B256>) {
    let chain = Devchain::start(DEST_CHAIN_ID).await.unwrap();
    let m = MirrorSetup::deploy(&chain, source(), 5, 3).await.unwrap();
    let (log, ids) = random_log(40, 1);
    (chain, m, log, ids)
}

type Latest = (u64, B256, u64);

async fn latest(m: &MirrorSetup) -> Latest {
    let r = m
        .mirror
        .latestCheckpoint(m.source.key())
        .call()
        .await
        .unwrap();
    (r.size, r.root, r.sourceBlockNumber)
}

fn mirror_as(
    chain: &Devchain,
    m: &MirrorSetup,
    dev_index: usize,
) -> AnchorMirrorInstance<DynProvider> {
    AnchorMirror::new(
        *m.mirror.address(),
        chain.provider_for(chain.dev_signer(dev_index).unwrap()),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn happy_path_two_checkpoints_and_verify_record() {
    let (_chain, m, log, ids) = setup().await;
    let key = m.source.key();
    assert_eq!(latest(&m).await, (0, B256::ZERO, 0));

    // First checkpoint: no consistency proof.
    let cp1 = m.checkpoint(&log, 17).unwrap();
    let receipt = m.submit(&cp1, vec![], m.sign(&cp1).unwrap()).await.unwrap();
    let events = decode_events::<AnchorMirror::CheckpointAccepted>(&receipt);
    assert_eq!(
        events,
        vec![AnchorMirror::CheckpointAccepted {
            sourceChain: key,
            size: 17,
            root: cp1.root,
            sourceBlockNumber: cp1.source_block_number,
            sourceBlockHash: cp1.source_block_hash,
            attestorSetVersion: 1,
        }]
    );
    assert_eq!(latest(&m).await, (17, cp1.root, cp1.source_block_number));

    // Second: consistency proof from 17.
    let cp2 = m.checkpoint(&log, 40).unwrap();
    let proof = log.consistency_proof(17, 40).unwrap();
    let receipt = m.submit(&cp2, proof, m.sign(&cp2).unwrap()).await.unwrap();
    let events = decode_events::<AnchorMirror::CheckpointAccepted>(&receipt);
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].size, events[0].root, events[0].attestorSetVersion),
        (40, cp2.root, 1)
    );
    assert_eq!(latest(&m).await, (40, cp2.root, cp2.source_block_number));
    assert_eq!(m.mirror.rootAt(key, 17).call().await.unwrap(), cp1.root);
    assert_eq!(m.mirror.rootAt(key, 40).call().await.unwrap(), cp2.root);
    assert_eq!(m.mirror.rootAt(key, 20).call().await.unwrap(), B256::ZERO);

    // Every record at both accepted sizes.
    for size in [17u64, 40] {
        for (i, id) in ids.iter().enumerate().take(size as usize) {
            let proof = log.inclusion_proof(i as u64, size).unwrap();
            let ok = m
                .mirror
                .verifyRecord(key, size, *id, i as u64, proof)
                .call()
                .await
                .unwrap();
            assert!(ok, "verifyRecord false for record {i} at size {size}");
        }
    }
    // And the negatives.
    let proof = log.inclusion_proof(5, 40).unwrap();
    let v = |size: u64, id: B256, index: u64, proof: Vec<B256>| {
        let mirror = m.mirror.clone();
        async move {
            mirror
                .verifyRecord(key, size, id, index, proof)
                .call()
                .await
                .unwrap()
        }
    };
    assert!(
        !v(40, ids[5], 6, proof.clone()).await,
        "wrong index accepted"
    );
    assert!(
        !v(40, ids[6], 5, proof.clone()).await,
        "wrong record accepted"
    );
    let mut bad = proof.clone();
    bad[0].0[0] ^= 1;
    assert!(!v(40, ids[5], 5, bad).await, "tampered proof accepted");
    assert!(
        !v(40, ids[5], 5, proof[..proof.len() - 1].to_vec()).await,
        "truncated proof accepted"
    );
    let proof20 = log.inclusion_proof(5, 20).unwrap();
    assert!(
        !v(20, ids[5], 5, proof20).await,
        "proof at a size with no accepted root accepted"
    );
    assert!(
        !v(40, ids[5], 40, proof.clone()).await,
        "index = size accepted"
    );
    let other = ChainId::eip155(1).key();
    assert!(
        !m.mirror
            .verifyRecord(other, 40, ids[5], 5, proof)
            .call()
            .await
            .unwrap(),
        "unknown source accepted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoint_digest_matches_rust_eip712() {
    let (_chain, m, log, _) = setup().await;
    let cp = m.checkpoint(&log, 9).unwrap();
    let on_chain = m
        .mirror
        .checkpointDigest(AnchorMirror::Checkpoint::from(&cp))
        .call()
        .await
        .unwrap();
    assert_eq!(on_chain, cp.signing_hash(&m.domain));
    let sep = m.mirror.domainSeparator().call().await.unwrap();
    assert_eq!(sep, m.domain.eip712().separator());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_signature_is_not_attestor() {
    let (_chain, m, log, _) = setup().await;
    let cp = m.checkpoint(&log, 10).unwrap();
    let forger = alloy::signers::local::PrivateKeySigner::random();
    let mut signers = m.attestors.signers()[..2].to_vec();
    signers.push(forger.clone());
    let sigs = signature_bytes(&sign_checkpoint(&cp, &m.domain, &signers).unwrap());
    let err = expect_revert::<_, AnchorMirrorErrors>(m.submit(&cp, vec![], sigs).await).unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::NotAttestor(AnchorMirror::NotAttestor {
            signer: forger.address()
        })
    );
    assert_eq!(latest(&m).await.0, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_signer_is_rejected() {
    let (_chain, m, log, _) = setup().await;
    let cp = m.checkpoint(&log, 10).unwrap();
    let a = &m.attestors.signers()[0];
    let b = &m.attestors.signers()[1];
    let sa = sign_one(&cp, &m.domain, a).unwrap();
    let sb = sign_one(&cp, &m.domain, b).unwrap();
    let err = expect_revert::<_, AnchorMirrorErrors>(
        m.submit(&cp, vec![], vec![sa.clone(), sa, sb]).await,
    )
    .unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::DuplicateSigner(AnchorMirror::DuplicateSigner {
            signer: a.address()
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsorted_signers_are_rejected() {
    let (_chain, m, log, _) = setup().await;
    let cp = m.checkpoint(&log, 10).unwrap();
    let s = m.attestors.signers();
    let sigs: Vec<Bytes> = [&s[1], &s[0], &s[2]]
        .iter()
        .map(|k| sign_one(&cp, &m.domain, k).unwrap())
        .collect();
    let err = expect_revert::<_, AnchorMirrorErrors>(m.submit(&cp, vec![], sigs).await).unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::SignersNotSorted(AnchorMirror::SignersNotSorted {
            previous: s[1].address(),
            signer: s[0].address()
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn below_threshold_is_rejected() {
    let (_chain, m, log, _) = setup().await;
    let cp = m.checkpoint(&log, 10).unwrap();
    let sigs = m.attestors.sign(&cp, &m.domain, 2).unwrap();
    let err = expect_revert::<_, AnchorMirrorErrors>(m.submit(&cp, vec![], sigs).await).unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::BelowThreshold(AnchorMirror::BelowThreshold {
            got: U256::from(2),
            threshold: 3
        })
    );
    let err = expect_revert::<_, AnchorMirrorErrors>(m.submit(&cp, vec![], vec![]).await).unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::BelowThreshold(AnchorMirror::BelowThreshold {
            got: U256::ZERO,
            threshold: 3
        })
    );
}

/// Asserts `err` is `NotAttestor` for an address outside the set.
fn assert_not_attestor_outside(err: &AnchorMirrorErrors, attestors: &Attestors) {
    match err {
        AnchorMirrorErrors::NotAttestor(e) => {
            assert!(
                !attestors.addresses().contains(&e.signer),
                "recovered a real attestor {}",
                e.signer
            )
        }
        other => panic!("expected NotAttestor, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_for_another_destination_are_rejected() {
    let (chain, m, log, _) = setup().await;
    let cp = m.checkpoint(&log, 10).unwrap();

    // Same mirror address, another destination chain id.
    let other_chain = MirrorDomain {
        chain_id: DEST_CHAIN_ID + 1,
        ..m.domain
    };
    let sigs = m.attestors.sign(&cp, &other_chain, 3).unwrap();
    let err = expect_revert::<_, AnchorMirrorErrors>(m.submit(&cp, vec![], sigs).await).unwrap();
    assert_not_attestor_outside(&err, &m.attestors);

    // Same chain, another mirror (with the same attestors): valid there, not here.
    let mirror2 = chain.deploy_mirror(chain.address()).await.unwrap();
    send_tx(&mirror2.setAttestors(m.source.key(), m.attestors.addresses(), 3))
        .await
        .unwrap();
    let domain2 = MirrorDomain {
        chain_id: DEST_CHAIN_ID,
        mirror: *mirror2.address(),
    };
    let sigs2 = m.attestors.sign(&cp, &domain2, 3).unwrap();
    let err =
        expect_revert::<_, AnchorMirrorErrors>(m.submit(&cp, vec![], sigs2.clone()).await).unwrap();
    assert_not_attestor_outside(&err, &m.attestors);
    send_tx(&mirror2.submitCheckpoint(AnchorMirror::Checkpoint::from(&cp), vec![], sigs2))
        .await
        .expect("the same signatures are accepted by the mirror they were made for");
    assert_eq!(latest(&m).await.0, 0);

    // Signed over a different checkpoint (another root) than the one submitted.
    let mut signed = cp.clone();
    signed.root = log.root_at(11).unwrap();
    let sigs = m.attestors.sign(&signed, &m.domain, 3).unwrap();
    let err = expect_revert::<_, AnchorMirrorErrors>(m.submit(&cp, vec![], sigs).await).unwrap();
    assert_not_attestor_outside(&err, &m.attestors);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_signatures_are_invalid() {
    let (_chain, m, log, _) = setup().await;
    let cp = m.checkpoint(&log, 10).unwrap();
    let good = m.sign(&cp).unwrap();
    let variants: Vec<(&str, Bytes)> = vec![
        ("64 bytes", Bytes::from(good[1][..64].to_vec())),
        ("v = 29", {
            let mut b = good[1].to_vec();
            b[64] = 29;
            Bytes::from(b)
        }),
        ("high s", {
            // s' = n - s recovers the same key with flipped parity: the EIP-2 malleable twin.
            const N: U256 = U256::from_be_slice(&[
                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c,
                0xd0, 0x36, 0x41, 0x41,
            ]);
            let mut b = good[1].to_vec();
            let s = U256::from_be_slice(&b[32..64]);
            b[32..64].copy_from_slice(&(N - s).to_be_bytes::<32>());
            b[64] = if b[64] == 27 { 28 } else { 27 };
            Bytes::from(b)
        }),
    ];
    for (what, bad) in variants {
        let sigs = vec![good[0].clone(), bad, good[2].clone()];
        let err =
            expect_revert::<_, AnchorMirrorErrors>(m.submit(&cp, vec![], sigs).await).unwrap();
        assert_eq!(
            err,
            AnchorMirrorErrors::InvalidSignature(AnchorMirror::InvalidSignature {
                index: U256::from(1)
            }),
            "{what}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_root_and_unknown_source_are_rejected() {
    let (_chain, m, log, _) = setup().await;
    let mut cp = m.checkpoint(&log, 10).unwrap();
    cp.root = B256::ZERO;
    let sigs = m.sign(&cp).unwrap();
    let err = expect_revert::<_, AnchorMirrorErrors>(m.submit(&cp, vec![], sigs).await).unwrap();
    assert!(matches!(err, AnchorMirrorErrors::ZeroRoot(_)), "{err:?}");

    let mut cp = m.checkpoint(&log, 10).unwrap();
    cp.source_chain = ChainId::eip155(5);
    let sigs = m.sign(&cp).unwrap();
    let err = expect_revert::<_, AnchorMirrorErrors>(m.submit(&cp, vec![], sigs).await).unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::UnknownSourceChain(AnchorMirror::UnknownSourceChain {
            sourceChain: ChainId::eip155(5).key()
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_and_replayed_checkpoints_are_rejected() {
    let (_chain, m, log, _) = setup().await;
    let key = m.source.key();
    m.submit_log(&log, None, 10).await.unwrap();
    m.submit_log(&log, Some(10), 20).await.unwrap();
    let before = latest(&m).await;
    assert_eq!(before.0, 20);

    // The same accepted checkpoint again, and an older accepted one.
    for size in [20u64, 10] {
        let cp = m.checkpoint(&log, size).unwrap();
        let err = expect_revert::<_, AnchorMirrorErrors>(
            m.submit(&cp, vec![], m.sign(&cp).unwrap()).await,
        )
        .unwrap();
        assert_eq!(
            err,
            AnchorMirrorErrors::CheckpointAlreadyAccepted(
                AnchorMirror::CheckpointAlreadyAccepted {
                    sourceChain: key,
                    size
                }
            )
        );
        assert_eq!(
            latest(&m).await,
            before,
            "state changed after replaying size {size}"
        );
    }

    // A smaller, never-accepted size, and the same size with another root (a fork).
    let cp = m.checkpoint(&log, 15).unwrap();
    let err =
        expect_revert::<_, AnchorMirrorErrors>(m.submit(&cp, vec![], m.sign(&cp).unwrap()).await)
            .unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::SizeNotIncreasing(AnchorMirror::SizeNotIncreasing {
            size: 15,
            latest: 20
        })
    );
    let mut fork = m.checkpoint(&log, 20).unwrap();
    fork.root = log.root_at(21).unwrap();
    let err = expect_revert::<_, AnchorMirrorErrors>(
        m.submit(&fork, vec![], m.sign(&fork).unwrap()).await,
    )
    .unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::SizeNotIncreasing(AnchorMirror::SizeNotIncreasing {
            size: 20,
            latest: 20
        })
    );
    assert_eq!(latest(&m).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consistency_proofs_are_enforced() {
    let (_chain, m, log, _) = setup().await;

    // First checkpoint must come without a proof.
    let cp = m.checkpoint(&log, 10).unwrap();
    let junk = log.consistency_proof(5, 10).unwrap();
    let err =
        expect_revert::<_, AnchorMirrorErrors>(m.submit(&cp, junk, m.sign(&cp).unwrap()).await)
            .unwrap();
    assert!(
        matches!(err, AnchorMirrorErrors::UnexpectedProof(_)),
        "{err:?}"
    );
    m.submit_log(&log, None, 10).await.unwrap();

    let cp = m.checkpoint(&log, 27).unwrap();
    let sigs = m.sign(&cp).unwrap();
    let proof = log.consistency_proof(10, 27).unwrap();
    let expected = U256::from(proof.len());

    // Wrong proof of the right length: one flipped bit in each position.
    for i in 0..proof.len() {
        let mut bad = proof.clone();
        bad[i].0[31] ^= 0x80;
        let err =
            expect_revert::<_, AnchorMirrorErrors>(m.submit(&cp, bad, sigs.clone()).await).unwrap();
        assert!(
            matches!(err, AnchorMirrorErrors::InvalidConsistencyProof(_)),
            "element {i}: {err:?}"
        );
    }
    // A valid proof from another old size, of the same length, still does not link.
    let other = log.consistency_proof(11, 27).unwrap();
    if other.len() == proof.len() {
        let err = expect_revert::<_, AnchorMirrorErrors>(m.submit(&cp, other, sigs.clone()).await)
            .unwrap();
        assert!(
            matches!(err, AnchorMirrorErrors::InvalidConsistencyProof(_)),
            "{err:?}"
        );
    }
    // Non-canonical lengths.
    let mut long = proof.clone();
    long.push(B256::repeat_byte(7));
    let err =
        expect_revert::<_, AnchorMirrorErrors>(m.submit(&cp, long, sigs.clone()).await).unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::NonCanonicalProofLength(AnchorMirror::NonCanonicalProofLength {
            expected,
            got: expected + U256::from(1)
        })
    );
    let err = expect_revert::<_, AnchorMirrorErrors>(
        m.submit(&cp, proof[1..].to_vec(), sigs.clone()).await,
    )
    .unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::NonCanonicalProofLength(AnchorMirror::NonCanonicalProofLength {
            expected,
            got: expected - U256::from(1)
        })
    );
    let err =
        expect_revert::<_, AnchorMirrorErrors>(m.submit(&cp, vec![], sigs.clone()).await).unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::NonCanonicalProofLength(AnchorMirror::NonCanonicalProofLength {
            expected,
            got: U256::ZERO
        })
    );
    // The right proof is accepted.
    m.submit(&cp, proof, sigs).await.unwrap();
    assert_eq!(latest(&m).await.0, 27);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_owner_changes_attestors_and_ownership() {
    let (chain, m, _, _) = setup().await;
    let key = m.source.key();
    let stranger = chain.dev_signer(1).unwrap().address();
    let as_stranger = mirror_as(&chain, &m, 1);
    let err = expect_revert::<_, AnchorMirrorErrors>(
        send_tx(&as_stranger.setAttestors(key, vec![stranger], 1)).await,
    )
    .unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::NotOwner(AnchorMirror::NotOwner { caller: stranger })
    );
    let err = expect_revert::<_, AnchorMirrorErrors>(
        send_tx(&as_stranger.transferOwnership(stranger)).await,
    )
    .unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::NotOwner(AnchorMirror::NotOwner { caller: stranger })
    );
    assert_eq!(m.mirror.owner().call().await.unwrap(), chain.address());
    assert_eq!(m.mirror.pendingOwner().call().await.unwrap(), Address::ZERO);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_step_ownership_transfer() {
    let (chain, m, _, _) = setup().await;
    let key = m.source.key();
    let owner = chain.address();
    let next = chain.dev_signer(1).unwrap().address();
    let other = chain.dev_signer(2).unwrap().address();

    let receipt = send_tx(&m.mirror.transferOwnership(next)).await.unwrap();
    assert_eq!(
        decode_events::<AnchorMirror::OwnershipTransferStarted>(&receipt),
        vec![AnchorMirror::OwnershipTransferStarted {
            previousOwner: owner,
            newOwner: next
        }]
    );
    // Not yet transferred.
    assert_eq!(m.mirror.owner().call().await.unwrap(), owner);
    assert_eq!(m.mirror.pendingOwner().call().await.unwrap(), next);
    let err = expect_revert::<_, AnchorMirrorErrors>(
        send_tx(&mirror_as(&chain, &m, 1).setAttestors(key, vec![next], 1)).await,
    )
    .unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::NotOwner(AnchorMirror::NotOwner { caller: next })
    );
    // Only the pending owner accepts.
    let err = expect_revert::<_, AnchorMirrorErrors>(
        send_tx(&mirror_as(&chain, &m, 2).acceptOwnership()).await,
    )
    .unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::NotPendingOwner(AnchorMirror::NotPendingOwner { caller: other })
    );
    let receipt = send_tx(&mirror_as(&chain, &m, 1).acceptOwnership())
        .await
        .unwrap();
    assert_eq!(
        decode_events::<AnchorMirror::OwnershipTransferred>(&receipt),
        vec![AnchorMirror::OwnershipTransferred {
            previousOwner: owner,
            newOwner: next
        }]
    );
    assert_eq!(m.mirror.owner().call().await.unwrap(), next);
    assert_eq!(m.mirror.pendingOwner().call().await.unwrap(), Address::ZERO);
    // The old owner is now a stranger; the new one is in charge.
    let err = expect_revert::<_, AnchorMirrorErrors>(
        send_tx(&m.mirror.setAttestors(key, vec![owner], 1)).await,
    )
    .unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::NotOwner(AnchorMirror::NotOwner { caller: owner })
    );
    send_tx(&mirror_as(&chain, &m, 1).setAttestors(key, vec![owner], 1))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attestor_set_rotation() {
    let (_chain, m, log, ids) = setup().await;
    let key = m.source.key();
    m.submit_log(&log, None, 10).await.unwrap();

    let new_set = Attestors::random(4);
    let receipt = send_tx(&m.mirror.setAttestors(key, new_set.addresses(), 2))
        .await
        .unwrap();
    assert_eq!(
        decode_events::<AnchorMirror::AttestorSetChanged>(&receipt),
        vec![AnchorMirror::AttestorSetChanged {
            sourceChain: key,
            version: 2,
            attestors: new_set.addresses(),
            threshold: 2,
            authorization: 0,
            signatures: vec![],
        }]
    );
    let set = m.mirror.attestorSet(key).call().await.unwrap();
    assert_eq!(
        (set.attestors, set.threshold, set.version),
        (new_set.addresses(), 2, 2)
    );
    for a in m.attestors.addresses() {
        assert!(
            !m.mirror.isAttestor(key, a).call().await.unwrap(),
            "old attestor {a} still a member"
        );
    }
    for a in new_set.addresses() {
        assert!(
            m.mirror.isAttestor(key, a).call().await.unwrap(),
            "new attestor {a} not a member"
        );
    }

    // Old-set signatures no longer count.
    let cp = m.checkpoint(&log, 20).unwrap();
    let proof = log.consistency_proof(10, 20).unwrap();
    let old_sigs = m.attestors.sign(&cp, &m.domain, 3).unwrap();
    let err = expect_revert::<_, AnchorMirrorErrors>(m.submit(&cp, proof.clone(), old_sigs).await)
        .unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::NotAttestor(AnchorMirror::NotAttestor {
            signer: m.attestors.addresses()[0]
        })
    );
    // Roots accepted under the old set still verify.
    for i in 0..10u64 {
        let p = log.inclusion_proof(i, 10).unwrap();
        assert!(
            m.mirror
                .verifyRecord(key, 10, ids[i as usize], i, p)
                .call()
                .await
                .unwrap()
        );
    }
    // The new set takes over, and the event names its version.
    let sigs = new_set.sign(&cp, &m.domain, 2).unwrap();
    let receipt = m.submit(&cp, proof, sigs).await.unwrap();
    let events = decode_events::<AnchorMirror::CheckpointAccepted>(&receipt);
    assert_eq!(events.len(), 1);
    assert_eq!((events[0].size, events[0].attestorSetVersion), (20, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attestor_set_validation() {
    let (_chain, m, _, _) = setup().await;
    let key = m.source.key();
    let a = Attestors::random(3).addresses();
    let cases: Vec<(Vec<Address>, u8, AnchorMirrorErrors)> = vec![
        (
            vec![],
            1,
            AnchorMirrorErrors::EmptyAttestorSet(AnchorMirror::EmptyAttestorSet {}),
        ),
        (
            a.clone(),
            0,
            AnchorMirrorErrors::InvalidThreshold(AnchorMirror::InvalidThreshold {
                threshold: 0,
                setSize: U256::from(3),
            }),
        ),
        (
            a.clone(),
            4,
            AnchorMirrorErrors::InvalidThreshold(AnchorMirror::InvalidThreshold {
                threshold: 4,
                setSize: U256::from(3),
            }),
        ),
        (
            vec![a[0], Address::ZERO],
            1,
            AnchorMirrorErrors::ZeroAttestor(AnchorMirror::ZeroAttestor {
                index: U256::from(1),
            }),
        ),
        (
            vec![a[0], a[1], a[0]],
            1,
            AnchorMirrorErrors::DuplicateAttestor(AnchorMirror::DuplicateAttestor {
                attestor: a[0],
            }),
        ),
    ];
    for (set, threshold, want) in cases {
        let err = expect_revert::<_, AnchorMirrorErrors>(
            send_tx(&m.mirror.setAttestors(key, set.clone(), threshold)).await,
        )
        .unwrap();
        assert_eq!(err, want, "setAttestors({set:?}, {threshold})");
    }
    // Version unchanged by the failures.
    assert_eq!(m.mirror.attestorSet(key).call().await.unwrap().version, 1);
}

// ---------------------------------------------------------------------------------
// EvidenceRegistry
// ---------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_events_carry_sequence_numbers() {
    let chain = Devchain::start(DEST_CHAIN_ID).await.unwrap();
    let registry = chain.deploy_registry().await.unwrap();
    let me = chain.address();
    let other_signer = chain.dev_signer(3).unwrap();
    let other = other_signer.address();
    let as_other = EvidenceRegistry::new(*registry.address(), chain.provider_for(other_signer));
    assert_eq!(registry.nextSeq().call().await.unwrap(), 1);

    let d1 = B256::repeat_byte(1);
    let d2 = B256::repeat_byte(2);
    let meta = B256::repeat_byte(9);
    let max_kind = "k".repeat(64);

    let r = send_tx(&registry.anchor(1, d1, "iou".into(), meta))
        .await
        .unwrap();
    assert_eq!(
        decode_events::<EvidenceRegistry::Anchored>(&r),
        vec![EvidenceRegistry::Anchored {
            seq: 1,
            digest: d1,
            submitter: me,
            digestAlg: 1,
            kind: "iou".into(),
            metadata: meta
        }]
    );
    let r = send_tx(&as_other.anchor(3, d2, max_kind.clone(), B256::ZERO))
        .await
        .unwrap();
    assert_eq!(
        decode_events::<EvidenceRegistry::Anchored>(&r),
        vec![EvidenceRegistry::Anchored {
            seq: 2,
            digest: d2,
            submitter: other,
            digestAlg: 3,
            kind: max_kind,
            metadata: B256::ZERO
        }]
    );
    let reference = B256::repeat_byte(0xee);
    let r = send_tx(&registry.revoke(1, d1, reference, "iou".into()))
        .await
        .unwrap();
    assert_eq!(
        decode_events::<EvidenceRegistry::Revoked>(&r),
        vec![EvidenceRegistry::Revoked {
            seq: 3,
            digest: d1,
            submitter: me,
            digestAlg: 1,
            r#ref: reference,
            kind: "iou".into()
        }]
    );
    let r = send_tx(&registry.anchor(2, d1, String::new(), meta))
        .await
        .unwrap();
    assert_eq!(decode_events::<EvidenceRegistry::Anchored>(&r)[0].seq, 4);
    assert_eq!(registry.nextSeq().call().await.unwrap(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_validation_errors() {
    let chain = Devchain::start(DEST_CHAIN_ID).await.unwrap();
    let registry = chain.deploy_registry().await.unwrap();
    let d = B256::repeat_byte(1);
    for alg in [0u8, 4, 255] {
        let err = expect_revert::<_, EvidenceRegistryErrors>(
            send_tx(&registry.anchor(alg, d, "iou".into(), B256::ZERO)).await,
        )
        .unwrap();
        assert_eq!(
            err,
            EvidenceRegistryErrors::UnknownDigestAlgorithm(
                EvidenceRegistry::UnknownDigestAlgorithm { digestAlg: alg }
            )
        );
        let err = expect_revert::<_, EvidenceRegistryErrors>(
            send_tx(&registry.revoke(alg, d, d, "iou".into())).await,
        )
        .unwrap();
        assert!(
            matches!(err, EvidenceRegistryErrors::UnknownDigestAlgorithm(_)),
            "{err:?}"
        );
    }
    let err = expect_revert::<_, EvidenceRegistryErrors>(
        send_tx(&registry.anchor(1, B256::ZERO, "iou".into(), B256::ZERO)).await,
    )
    .unwrap();
    assert!(
        matches!(err, EvidenceRegistryErrors::ZeroDigest(_)),
        "{err:?}"
    );
    let err = expect_revert::<_, EvidenceRegistryErrors>(
        send_tx(&registry.revoke(1, B256::ZERO, d, "iou".into())).await,
    )
    .unwrap();
    assert!(
        matches!(err, EvidenceRegistryErrors::ZeroDigest(_)),
        "{err:?}"
    );
    let err = expect_revert::<_, EvidenceRegistryErrors>(
        send_tx(&registry.anchor(1, d, "k".repeat(65), B256::ZERO)).await,
    )
    .unwrap();
    assert_eq!(
        err,
        EvidenceRegistryErrors::KindTooLong(EvidenceRegistry::KindTooLong {
            length: U256::from(65)
        })
    );
    let err = expect_revert::<_, EvidenceRegistryErrors>(
        send_tx(&registry.revoke(1, d, B256::ZERO, "iou".into())).await,
    )
    .unwrap();
    assert!(matches!(err, EvidenceRegistryErrors::ZeroRef(_)), "{err:?}");
    // Nothing was emitted.
    assert_eq!(registry.nextSeq().call().await.unwrap(), 1);
}
