//! `AnchorMirror` and `EvidenceRegistry` on anvil: the happy path, attestor-set changes
//! (the owner's first set, rotations signed by the current set, the owner's timelocked
//! proposals and their cancellation), and every rejection asserting the *specific*
//! custom error.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use alloy::{
    primitives::{Address, B256, Bytes, U256},
    providers::DynProvider,
    signers::local::PrivateKeySigner,
};
use evidence_schemas::{
    ChainId, attestor_set::SetUpdate, checkpoint::MirrorDomain, log::MerkleLog,
};
use evidence_tests::{
    Attestors, Devchain, MirrorSetup,
    attest::{
        malleate, recover, sign_checkpoint, sign_hash, sign_hash_sorted, sign_one, sign_set_update,
        signature_bytes,
    },
    contracts::{
        AnchorMirror::{self, AnchorMirrorErrors, AnchorMirrorInstance},
        EvidenceRegistry::{self, EvidenceRegistryErrors},
    },
    decode_events,
    devchain::TEST_ROTATION_DELAY,
    expect_revert, send_tx,
};
use rand::{Rng, SeedableRng, rngs::StdRng};

const DEST_CHAIN_ID: u64 = 31_338;

/// `AttestorSetChanged.authorization`: the first set, installed by the owner.
const AUTH_FIRST_SET: u8 = 0;
/// `AttestorSetChanged.authorization`: signed by the previous set's threshold.
const AUTH_SIGNED: u8 = 1;
/// `AttestorSetChanged.authorization`: the owner's proposal, executed after the timelock.
const AUTH_OWNER_TIMELOCK: u8 = 2;

fn source() -> ChainId {
    ChainId::eip155(31_337)
}

/// A second source chain, with no attestor set unless a test installs one.
fn other_source() -> ChainId {
    ChainId::eip155(5)
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

/// `attestorSet(sourceChain)`: (members, threshold, version).
async fn current_set_of(m: &MirrorSetup, source_chain: B256) -> (Vec<Address>, u8, u64) {
    let r = m.mirror.attestorSet(source_chain).call().await.unwrap();
    (r.attestors, r.threshold, r.version)
}

/// `attestorSet` of the test source.
async fn current_set(m: &MirrorSetup) -> (Vec<Address>, u8, u64) {
    current_set_of(m, m.source.key()).await
}

/// `attestorSetAt(source, version)`: (members, threshold).
async fn set_at(m: &MirrorSetup, version: u64) -> (Vec<Address>, u8) {
    let r = m
        .mirror
        .attestorSetAt(m.source.key(), version)
        .call()
        .await
        .unwrap();
    (r.attestors, r.threshold)
}

/// `pendingOwnerRotation(source)`: (version, members, threshold, executableAt).
async fn pending_rotation(m: &MirrorSetup) -> (u64, Vec<Address>, u8, u64) {
    let r = m
        .mirror
        .pendingOwnerRotation(m.source.key())
        .call()
        .await
        .unwrap();
    (r.version, r.attestors, r.threshold, r.executableAt)
}

/// The owner proposes `set` with `threshold` as the next version of the test source;
/// asserts the `OwnerRotationProposed` event (executable `TEST_ROTATION_DELAY` seconds
/// after the proposal's block) and returns the proposal and its `executableAt`.
async fn propose(
    chain: &Devchain,
    m: &MirrorSetup,
    set: &Attestors,
    threshold: u8,
) -> (SetUpdate, u64) {
    let key = m.source.key();
    let version = current_set(m).await.2 + 1;
    let receipt = send_tx(
        &m.mirror
            .proposeOwnerRotation(key, set.addresses(), threshold),
    )
    .await
    .unwrap();
    let proposed_at = chain
        .block_timestamp(receipt.block_number.unwrap())
        .await
        .unwrap();
    let executable_at = proposed_at + TEST_ROTATION_DELAY;
    assert_eq!(
        decode_events::<AnchorMirror::OwnerRotationProposed>(&receipt),
        vec![AnchorMirror::OwnerRotationProposed {
            sourceChain: key,
            version,
            attestors: set.addresses(),
            threshold,
            executableAt: executable_at,
        }]
    );
    (m.update(version, set.addresses(), threshold), executable_at)
}

/// Every record of `log`'s first `size` verifies against the root accepted at `size`.
async fn assert_all_verify(m: &MirrorSetup, log: &MerkleLog, ids: &[B256], size: u64) {
    for (i, id) in ids.iter().enumerate().take(size as usize) {
        let proof = log.inclusion_proof(i as u64, size).unwrap();
        let ok = m
            .mirror
            .verifyRecord(m.source.key(), size, *id, i as u64, proof)
            .call()
            .await
            .unwrap();
        assert!(ok, "verifyRecord false for record {i} at size {size}");
    }
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
        // s' = n - s recovers the same key with flipped parity: the EIP-2 malleable twin.
        ("high s", malleate(&good[1]).unwrap()),
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
    let fresh = other_source().key();
    let stranger = chain.dev_signer(1).unwrap().address();
    let as_stranger = mirror_as(&chain, &m, 1);
    let not_owner = AnchorMirrorErrors::NotOwner(AnchorMirror::NotOwner { caller: stranger });
    // A first set (of a source without one) and every owner-side step of a rotation.
    let err = expect_revert::<_, AnchorMirrorErrors>(
        send_tx(&as_stranger.setAttestors(fresh, vec![stranger], 1)).await,
    )
    .unwrap();
    assert_eq!(err, not_owner, "setAttestors");
    let err = expect_revert::<_, AnchorMirrorErrors>(
        send_tx(&as_stranger.proposeOwnerRotation(key, vec![stranger], 1)).await,
    )
    .unwrap();
    assert_eq!(err, not_owner, "proposeOwnerRotation");
    let err = expect_revert::<_, AnchorMirrorErrors>(
        send_tx(&as_stranger.executeOwnerRotation(key)).await,
    )
    .unwrap();
    assert_eq!(err, not_owner, "executeOwnerRotation");
    let err = expect_revert::<_, AnchorMirrorErrors>(
        send_tx(&as_stranger.transferOwnership(stranger)).await,
    )
    .unwrap();
    assert_eq!(err, not_owner, "transferOwnership");
    assert_eq!(m.mirror.owner().call().await.unwrap(), chain.address());
    assert_eq!(m.mirror.pendingOwner().call().await.unwrap(), Address::ZERO);
    assert_eq!(current_set(&m).await, (m.attestors.addresses(), 3, 1));
    assert_eq!(current_set_of(&m, fresh).await, (vec![], 0, 0));
    assert_eq!(pending_rotation(&m).await.0, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_step_ownership_transfer() {
    let (chain, m, _, _) = setup().await;
    let key = m.source.key();
    let owner = chain.address();
    let next = chain.dev_signer(1).unwrap().address();
    let other = chain.dev_signer(2).unwrap().address();
    let fresh = other_source().key();

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
        send_tx(&mirror_as(&chain, &m, 1).setAttestors(fresh, vec![next], 1)).await,
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
    // The old owner is now a stranger, for first sets and for proposals …
    let err = expect_revert::<_, AnchorMirrorErrors>(
        send_tx(&m.mirror.setAttestors(fresh, vec![owner], 1)).await,
    )
    .unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::NotOwner(AnchorMirror::NotOwner { caller: owner })
    );
    let err = expect_revert::<_, AnchorMirrorErrors>(
        send_tx(&m.mirror.proposeOwnerRotation(key, vec![owner], 1)).await,
    )
    .unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::NotOwner(AnchorMirror::NotOwner { caller: owner })
    );
    // … and the new one is in charge: it installs a first set and proposes rotations,
    // but, like any owner, cannot replace an installed set directly.
    let as_next = mirror_as(&chain, &m, 1);
    send_tx(&as_next.setAttestors(fresh, vec![owner], 1))
        .await
        .unwrap();
    assert_eq!(current_set_of(&m, fresh).await, (vec![owner], 1, 1));
    let err = expect_revert::<_, AnchorMirrorErrors>(
        send_tx(&as_next.setAttestors(key, vec![owner], 1)).await,
    )
    .unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::AttestorSetAlreadyInstalled(
            AnchorMirror::AttestorSetAlreadyInstalled {
                sourceChain: key,
                version: 1
            }
        )
    );
    send_tx(&as_next.proposeOwnerRotation(key, vec![owner], 1))
        .await
        .unwrap();
    assert_eq!(pending_rotation(&m).await.0, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_installs_only_the_first_set() {
    let (chain, m, log, _) = setup().await;
    let key = m.source.key();

    // The first set of a source: version 1, authorization 0, no signatures.
    let fresh = other_source().key();
    let first = Attestors::random(2);
    let receipt = send_tx(&m.mirror.setAttestors(fresh, first.addresses(), 2))
        .await
        .unwrap();
    assert_eq!(
        decode_events::<AnchorMirror::AttestorSetChanged>(&receipt),
        vec![AnchorMirror::AttestorSetChanged {
            sourceChain: fresh,
            version: 1,
            attestors: first.addresses(),
            threshold: 2,
            authorization: AUTH_FIRST_SET,
            signatures: vec![],
        }]
    );

    // Any later set: refused, whatever it is (even the same set again), and the set is
    // unchanged — also after a signed rotation.
    m.submit_log(&log, None, 10).await.unwrap();
    let takeover = chain.address();
    for (set, threshold) in [
        (vec![takeover], 1u8),
        (m.attestors.addresses(), 3),
        (Attestors::random(5).addresses(), 3),
    ] {
        let err = expect_revert::<_, AnchorMirrorErrors>(
            send_tx(&m.mirror.setAttestors(key, set.clone(), threshold)).await,
        )
        .unwrap();
        assert_eq!(
            err,
            AnchorMirrorErrors::AttestorSetAlreadyInstalled(
                AnchorMirror::AttestorSetAlreadyInstalled {
                    sourceChain: key,
                    version: 1
                }
            ),
            "setAttestors({set:?}, {threshold})"
        );
    }
    assert_eq!(current_set(&m).await, (m.attestors.addresses(), 3, 1));
    assert!(!m.mirror.isAttestor(key, takeover).call().await.unwrap());

    let next = Attestors::random(3);
    let update = m.update(2, next.addresses(), 2);
    m.rotate(
        &update,
        m.attestors.sign_update(&update, &m.domain, 3).unwrap(),
    )
    .await
    .unwrap();
    let err = expect_revert::<_, AnchorMirrorErrors>(
        send_tx(&m.mirror.setAttestors(key, vec![takeover], 1)).await,
    )
    .unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::AttestorSetAlreadyInstalled(
            AnchorMirror::AttestorSetAlreadyInstalled {
                sourceChain: key,
                version: 2
            }
        )
    );
    assert_eq!(current_set(&m).await, (next.addresses(), 2, 2));
    // The keys the owner tried to install sign nothing: a checkpoint appending a
    // forged record, signed by the owner's and another dev key, is refused.
    let cp = m.checkpoint(&log, 20).unwrap();
    let owner_keys = [chain.dev_signer(0).unwrap(), chain.dev_signer(1).unwrap()];
    let forged = sign_hash_sorted(&cp.signing_hash(&m.domain), &owner_keys).unwrap();
    let err = expect_revert::<_, AnchorMirrorErrors>(
        m.submit(&cp, log.consistency_proof(10, 20).unwrap(), forged)
            .await,
    )
    .unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::NotAttestor(AnchorMirror::NotAttestor {
            signer: owner_keys
                .iter()
                .map(PrivateKeySigner::address)
                .min()
                .unwrap()
        })
    );
    assert_eq!(latest(&m).await.0, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_rotation_by_the_current_set() {
    let (chain, m, log, ids) = setup().await;
    let key = m.source.key();
    m.submit_log(&log, None, 10).await.unwrap();

    let new_set = Attestors::random(4);
    let update = m.update(2, new_set.addresses(), 2);
    // The mirror hashes the update exactly as the Rust side signs it.
    let on_chain = m
        .mirror
        .attestorSetUpdateDigest(key, 2, new_set.addresses(), 2)
        .call()
        .await
        .unwrap();
    assert_eq!(on_chain, update.signing_hash(&m.domain));

    // Anyone may submit the signed update: here a dev account that is neither owner nor
    // attestor.
    let sigs = m.attestors.sign_update(&update, &m.domain, 3).unwrap();
    let receipt = send_tx(&mirror_as(&chain, &m, 5).rotateAttestors(
        key,
        2,
        new_set.addresses(),
        2,
        sigs.clone(),
    ))
    .await
    .unwrap();
    assert_eq!(
        decode_events::<AnchorMirror::AttestorSetChanged>(&receipt),
        vec![AnchorMirror::AttestorSetChanged {
            sourceChain: key,
            version: 2,
            attestors: new_set.addresses(),
            threshold: 2,
            authorization: AUTH_SIGNED,
            signatures: sigs.clone(),
        }]
    );
    assert!(
        decode_events::<AnchorMirror::OwnerRotationCancelled>(&receipt).is_empty(),
        "nothing was pending, nothing cancelled"
    );
    // The signatures in the event are the previous set's threshold over the update.
    let signers: Vec<Address> = sigs
        .iter()
        .map(|s| recover(&update.signing_hash(&m.domain), s).unwrap())
        .collect();
    assert_eq!(signers, m.attestors.addresses()[..3].to_vec());

    assert_eq!(current_set(&m).await, (new_set.addresses(), 2, 2));
    assert_eq!(set_at(&m, 1).await, (m.attestors.addresses(), 3));
    assert_eq!(set_at(&m, 2).await, (new_set.addresses(), 2));
    assert_eq!(set_at(&m, 3).await, (vec![], 0));
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
    assert_all_verify(&m, &log, &ids, 10).await;
    // The new set takes over, and the event names its version.
    let sigs = new_set.sign(&cp, &m.domain, 2).unwrap();
    let receipt = m.submit(&cp, proof, sigs).await.unwrap();
    assert_eq!(
        decode_events::<AnchorMirror::CheckpointAccepted>(&receipt),
        vec![AnchorMirror::CheckpointAccepted {
            sourceChain: key,
            size: 20,
            root: cp.root,
            sourceBlockNumber: cp.source_block_number,
            sourceBlockHash: cp.source_block_hash,
            attestorSetVersion: 2,
        }]
    );
    assert_all_verify(&m, &log, &ids, 20).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_signed_by_a_removed_set_or_strangers_is_not_attestor() {
    let (_chain, m, log, _) = setup().await;
    let v2 = Attestors::random(5);
    let u2 = m.update(2, v2.addresses(), 3);
    m.rotate(&u2, m.attestors.sign_update(&u2, &m.domain, 3).unwrap())
        .await
        .unwrap();

    let v3 = Attestors::random(5);
    let u3 = m.update(3, v3.addresses(), 3);
    // The removed set (version 1) signs the next update: its keys count for nothing now.
    let err = expect_revert::<_, AnchorMirrorErrors>(
        m.rotate(&u3, m.attestors.sign_update(&u3, &m.domain, 5).unwrap())
            .await,
    )
    .unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::NotAttestor(AnchorMirror::NotAttestor {
            signer: m.attestors.addresses()[0]
        })
    );
    // Keys that were never members, e.g. the proposed set signing itself in.
    let err = expect_revert::<_, AnchorMirrorErrors>(
        m.rotate(&u3, v3.sign_update(&u3, &m.domain, 3).unwrap())
            .await,
    )
    .unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::NotAttestor(AnchorMirror::NotAttestor {
            signer: v3.addresses()[0]
        })
    );
    // Two members and one stranger: the stranger is named.
    let stranger = PrivateKeySigner::random();
    let mut signers = v2.signers()[..2].to_vec();
    signers.push(stranger.clone());
    let err = expect_revert::<_, AnchorMirrorErrors>(
        m.rotate(&u3, sign_set_update(&u3, &m.domain, &signers).unwrap())
            .await,
    )
    .unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::NotAttestor(AnchorMirror::NotAttestor {
            signer: stranger.address()
        })
    );
    // The current set's checkpoint signatures are not update signatures (another type
    // hash), nor are its signatures over a cancellation of the same set.
    let cp = m.checkpoint(&log, 10).unwrap();
    for (what, sigs) in [
        ("checkpoint", v2.sign(&cp, &m.domain, 3).unwrap()),
        ("cancel", v2.sign_cancel(&u3, &m.domain, 3).unwrap()),
    ] {
        let err =
            expect_revert::<_, AnchorMirrorErrors>(m.rotate(&u3, sigs.clone()).await).unwrap();
        assert_eq!(
            err,
            AnchorMirrorErrors::NotAttestor(AnchorMirror::NotAttestor {
                signer: recover(&u3.signing_hash(&m.domain), &sigs[0]).unwrap()
            }),
            "{what} signatures used as update signatures"
        );
    }
    assert_eq!(current_set(&m).await, (v2.addresses(), 3, 2));
    m.rotate(&u3, v2.sign_update(&u3, &m.domain, 3).unwrap())
        .await
        .expect("the current set's own signatures install it");
    assert_eq!(current_set(&m).await.2, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_signatures_follow_the_checkpoint_rules() {
    let (_chain, m, _, _) = setup().await;
    let next = Attestors::random(5);
    let update = m.update(2, next.addresses(), 3);
    let hash = update.signing_hash(&m.domain);
    let s = m.attestors.signers();
    let sig = |i: usize| sign_hash(&hash, &s[i]).unwrap();

    let cases: Vec<(&str, Vec<Bytes>, AnchorMirrorErrors)> = vec![
        (
            "two of three",
            vec![sig(0), sig(1)],
            AnchorMirrorErrors::BelowThreshold(AnchorMirror::BelowThreshold {
                got: U256::from(2),
                threshold: 3,
            }),
        ),
        (
            "none",
            vec![],
            AnchorMirrorErrors::BelowThreshold(AnchorMirror::BelowThreshold {
                got: U256::ZERO,
                threshold: 3,
            }),
        ),
        (
            "one signer twice",
            vec![sig(0), sig(0), sig(1)],
            AnchorMirrorErrors::DuplicateSigner(AnchorMirror::DuplicateSigner {
                signer: s[0].address(),
            }),
        ),
        (
            "unsorted",
            vec![sig(1), sig(0), sig(2)],
            AnchorMirrorErrors::SignersNotSorted(AnchorMirror::SignersNotSorted {
                previous: s[1].address(),
                signer: s[0].address(),
            }),
        ),
        (
            "high s",
            vec![sig(0), malleate(&sig(1)).unwrap(), sig(2)],
            AnchorMirrorErrors::InvalidSignature(AnchorMirror::InvalidSignature {
                index: U256::from(1),
            }),
        ),
        (
            // The malleated twin of a signature already given is still refused as
            // malformed, not counted as a second approval.
            "a signature and its high-s twin",
            vec![sig(0), sig(1), malleate(&sig(1)).unwrap()],
            AnchorMirrorErrors::InvalidSignature(AnchorMirror::InvalidSignature {
                index: U256::from(2),
            }),
        ),
        (
            "64 bytes",
            vec![sig(0), Bytes::from(sig(1)[..64].to_vec()), sig(2)],
            AnchorMirrorErrors::InvalidSignature(AnchorMirror::InvalidSignature {
                index: U256::from(1),
            }),
        ),
    ];
    for (what, sigs, want) in cases {
        let err = expect_revert::<_, AnchorMirrorErrors>(m.rotate(&update, sigs).await).unwrap();
        assert_eq!(err, want, "{what}");
    }
    assert_eq!(current_set(&m).await, (m.attestors.addresses(), 3, 1));
    // All five, sorted, are fine too (more than the threshold).
    let receipt = m
        .rotate(
            &update,
            m.attestors.sign_update(&update, &m.domain, 5).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        decode_events::<AnchorMirror::AttestorSetChanged>(&receipt)[0]
            .signatures
            .len(),
        5
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_rotations_are_rejected() {
    let (chain, m, _, _) = setup().await;
    let next = Attestors::random(5);
    let u2 = m.update(2, next.addresses(), 3);

    // The NotAttestor a signature over another message yields: the address it recovers
    // to under this mirror's digest of `submitted`.
    let stray = |submitted: &SetUpdate, sigs: &[Bytes]| {
        AnchorMirrorErrors::NotAttestor(AnchorMirror::NotAttestor {
            signer: recover(&submitted.signing_hash(&m.domain), &sigs[0]).unwrap(),
        })
    };

    // Another mirror on the same chain with the same attestors: valid there, not here.
    let m2 = MirrorSetup::deploy_with(&chain, source(), m.attestors.clone(), 3)
        .await
        .unwrap();
    let for_m2 = m.attestors.sign_update(&u2, &m2.domain, 3).unwrap();
    let err = expect_revert::<_, AnchorMirrorErrors>(m.rotate(&u2, for_m2.clone()).await).unwrap();
    assert_eq!(err, stray(&u2, &for_m2), "signed for another mirror");
    m2.rotate(&u2, for_m2)
        .await
        .expect("accepted by the mirror it was signed for");

    // Another chain id, same mirror address: a mirror on a second anvil, deployed by the
    // same account at the same nonce.
    let chain_b = Devchain::start(DEST_CHAIN_ID + 1).await.unwrap();
    let mb = MirrorSetup::deploy_with(&chain_b, source(), m.attestors.clone(), 3)
        .await
        .unwrap();
    assert_eq!(
        mb.domain.mirror, m.domain.mirror,
        "only the chain id differs"
    );
    assert_ne!(mb.domain.chain_id, m.domain.chain_id);
    let for_b = m.attestors.sign_update(&u2, &mb.domain, 3).unwrap();
    let err = expect_revert::<_, AnchorMirrorErrors>(m.rotate(&u2, for_b.clone()).await).unwrap();
    assert_eq!(err, stray(&u2, &for_b), "signed for another chain id");
    mb.rotate(&u2, for_b)
        .await
        .expect("accepted on the chain it was signed for");

    // Another source chain (which this mirror also knows, with the same attestors).
    send_tx(
        &m.mirror
            .setAttestors(other_source().key(), m.attestors.addresses(), 3),
    )
    .await
    .unwrap();
    let mut other = u2.clone();
    other.source_chain = other_source();
    let for_other = m.attestors.sign_update(&other, &m.domain, 3).unwrap();
    let err =
        expect_revert::<_, AnchorMirrorErrors>(m.rotate(&u2, for_other.clone()).await).unwrap();
    assert_eq!(err, stray(&u2, &for_other), "signed for another source");

    // Another version: submitted as signed, it is not the next one; submitted as the
    // next one, the signatures do not match.
    let mut u3 = u2.clone();
    u3.new_version = 3;
    let for_v3 = m.attestors.sign_update(&u3, &m.domain, 3).unwrap();
    let err = expect_revert::<_, AnchorMirrorErrors>(m.rotate(&u3, for_v3.clone()).await).unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::UnexpectedSetVersion(AnchorMirror::UnexpectedSetVersion {
            expected: 2,
            got: 3
        })
    );
    let err = expect_revert::<_, AnchorMirrorErrors>(m.rotate(&u2, for_v3.clone()).await).unwrap();
    assert_eq!(
        err,
        stray(&u2, &for_v3),
        "signed for version 3, submitted as 2"
    );
    let mut u1 = u2.clone();
    u1.new_version = 1;
    let err = expect_revert::<_, AnchorMirrorErrors>(
        m.rotate(&u1, m.attestors.sign_update(&u1, &m.domain, 3).unwrap())
            .await,
    )
    .unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::UnexpectedSetVersion(AnchorMirror::UnexpectedSetVersion {
            expected: 2,
            got: 1
        })
    );

    // Another set or threshold than the one signed.
    let sigs = m.attestors.sign_update(&u2, &m.domain, 3).unwrap();
    for (what, tampered) in [
        ("threshold", m.update(2, next.addresses(), 1)),
        ("one member swapped", {
            let mut a = next.addresses();
            a[4] = chain.address();
            m.update(2, a, 3)
        }),
        ("members reordered", {
            let mut a = next.addresses();
            a.reverse();
            m.update(2, a, 3)
        }),
        (
            "a member dropped",
            m.update(2, next.addresses()[..4].to_vec(), 3),
        ),
    ] {
        let err = expect_revert::<_, AnchorMirrorErrors>(m.rotate(&tampered, sigs.clone()).await)
            .unwrap();
        assert_eq!(
            err,
            stray(&tampered, &sigs),
            "{what} differs from the signed update"
        );
    }
    assert_eq!(current_set(&m).await, (m.attestors.addresses(), 3, 1));

    // The real one, then the same update again.
    m.rotate(&u2, sigs.clone()).await.unwrap();
    assert_eq!(current_set(&m).await, (next.addresses(), 3, 2));
    let err = expect_revert::<_, AnchorMirrorErrors>(m.rotate(&u2, sigs).await).unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::UnexpectedSetVersion(AnchorMirror::UnexpectedSetVersion {
            expected: 3,
            got: 2
        })
    );
    assert_eq!(current_set(&m).await, (next.addresses(), 3, 2));
    // The other source kept its own set.
    assert_eq!(
        current_set_of(&m, other_source().key()).await,
        (m.attestors.addresses(), 3, 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_of_an_unknown_source_is_rejected() {
    let (_chain, m, _, _) = setup().await;
    let unknown = other_source();
    let next = Attestors::random(3);
    let update = SetUpdate {
        source_chain: unknown.clone(),
        new_version: 1,
        attestors: next.addresses(),
        threshold: 2,
    };
    let want = AnchorMirrorErrors::UnknownSourceChain(AnchorMirror::UnknownSourceChain {
        sourceChain: unknown.key(),
    });
    for version in [1u64, 2] {
        let mut u = update.clone();
        u.new_version = version;
        let err = expect_revert::<_, AnchorMirrorErrors>(
            m.rotate(&u, m.attestors.sign_update(&u, &m.domain, 3).unwrap())
                .await,
        )
        .unwrap();
        assert_eq!(err, want, "rotateAttestors to version {version}");
    }
    let err = expect_revert::<_, AnchorMirrorErrors>(
        send_tx(
            &m.mirror
                .proposeOwnerRotation(unknown.key(), next.addresses(), 2),
        )
        .await,
    )
    .unwrap();
    assert_eq!(err, want, "proposeOwnerRotation");
    let nothing =
        AnchorMirrorErrors::NoOwnerRotationPending(AnchorMirror::NoOwnerRotationPending {
            sourceChain: unknown.key(),
        });
    let err = expect_revert::<_, AnchorMirrorErrors>(
        send_tx(&m.mirror.executeOwnerRotation(unknown.key())).await,
    )
    .unwrap();
    assert_eq!(err, nothing, "executeOwnerRotation");
    let err = expect_revert::<_, AnchorMirrorErrors>(
        send_tx(&m.mirror.cancelOwnerRotation(unknown.key(), vec![])).await,
    )
    .unwrap();
    assert_eq!(err, nothing, "cancelOwnerRotation");
    assert_eq!(current_set_of(&m, unknown.key()).await, (vec![], 0, 0));
}

/// Sets every installer must refuse, with the error each must give.
fn invalid_sets() -> Vec<(&'static str, Vec<Address>, u8, AnchorMirrorErrors)> {
    let a = Attestors::random(3).addresses();
    let too_many: Vec<Address> = (1..=256u64)
        .map(|i| Address::left_padding_from(&i.to_be_bytes()))
        .collect();
    vec![
        (
            "empty",
            vec![],
            1,
            AnchorMirrorErrors::EmptyAttestorSet(AnchorMirror::EmptyAttestorSet {}),
        ),
        (
            "threshold 0",
            a.clone(),
            0,
            AnchorMirrorErrors::InvalidThreshold(AnchorMirror::InvalidThreshold {
                threshold: 0,
                setSize: U256::from(3),
            }),
        ),
        (
            "threshold above the size",
            a.clone(),
            4,
            AnchorMirrorErrors::InvalidThreshold(AnchorMirror::InvalidThreshold {
                threshold: 4,
                setSize: U256::from(3),
            }),
        ),
        (
            "zero address",
            vec![a[0], Address::ZERO],
            1,
            AnchorMirrorErrors::ZeroAttestor(AnchorMirror::ZeroAttestor {
                index: U256::from(1),
            }),
        ),
        (
            "duplicate",
            vec![a[0], a[1], a[0]],
            1,
            AnchorMirrorErrors::DuplicateAttestor(AnchorMirror::DuplicateAttestor {
                attestor: a[0],
            }),
        ),
        (
            "256 members",
            too_many,
            1,
            AnchorMirrorErrors::AttestorSetTooLarge(AnchorMirror::AttestorSetTooLarge {
                setSize: U256::from(256),
            }),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attestor_set_validation() {
    let (_chain, m, _, _) = setup().await;
    let key = m.source.key();
    let fresh = other_source().key();
    for (what, set, threshold, want) in invalid_sets() {
        // The first set, by the owner.
        let err = expect_revert::<_, AnchorMirrorErrors>(
            send_tx(&m.mirror.setAttestors(fresh, set.clone(), threshold)).await,
        )
        .unwrap();
        assert_eq!(err, want, "setAttestors: {what}");
        // A later set, validly signed by the current set's threshold.
        let update = m.update(2, set.clone(), threshold);
        let err = expect_revert::<_, AnchorMirrorErrors>(
            m.rotate(
                &update,
                m.attestors.sign_update(&update, &m.domain, 3).unwrap(),
            )
            .await,
        )
        .unwrap();
        assert_eq!(err, want, "rotateAttestors: {what}");
        // A later set, proposed by the owner (refused at proposal, not at execution).
        let err = expect_revert::<_, AnchorMirrorErrors>(
            send_tx(&m.mirror.proposeOwnerRotation(key, set.clone(), threshold)).await,
        )
        .unwrap();
        assert_eq!(err, want, "proposeOwnerRotation: {what}");
    }
    // Versions unchanged by the failures, nothing pending.
    assert_eq!(current_set(&m).await.2, 1);
    assert_eq!(current_set_of(&m, fresh).await.2, 0);
    assert_eq!(pending_rotation(&m).await.0, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_rotation_waits_for_the_timelock() {
    let (chain, m, log, _) = setup().await;
    let key = m.source.key();
    assert_eq!(
        m.mirror.ownerRotationDelay().call().await.unwrap(),
        TEST_ROTATION_DELAY
    );
    // Nothing pending yet.
    assert_eq!(pending_rotation(&m).await, (0, vec![], 0, 0));
    assert_eq!(
        m.mirror
            .ownerRotationCancelDigest(key)
            .call()
            .await
            .unwrap(),
        B256::ZERO
    );
    let nothing =
        AnchorMirrorErrors::NoOwnerRotationPending(AnchorMirror::NoOwnerRotationPending {
            sourceChain: key,
        });
    let err =
        expect_revert::<_, AnchorMirrorErrors>(send_tx(&m.mirror.executeOwnerRotation(key)).await)
            .unwrap();
    assert_eq!(err, nothing);

    // Propose (key loss): an event, a pending entry, and no change to the set.
    let next = Attestors::random(5);
    let (proposal, executable_at) = propose(&chain, &m, &next, 3).await;
    assert_eq!(proposal.new_version, 2);
    assert_eq!(
        pending_rotation(&m).await,
        (2, next.addresses(), 3, executable_at)
    );
    assert_eq!(current_set(&m).await, (m.attestors.addresses(), 3, 1));
    // The current set keeps signing checkpoints while the proposal waits.
    let receipt = m.submit_log(&log, None, 10).await.unwrap();
    assert_eq!(
        decode_events::<AnchorMirror::CheckpointAccepted>(&receipt)[0].attestorSetVersion,
        1
    );

    // One proposal at a time.
    let err = expect_revert::<_, AnchorMirrorErrors>(
        send_tx(
            &m.mirror
                .proposeOwnerRotation(key, Attestors::random(1).addresses(), 1),
        )
        .await,
    )
    .unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::OwnerRotationPending(AnchorMirror::OwnerRotationPending {
            version: 2,
            executableAt: executable_at
        })
    );

    // Too early: right away, and half-way.
    for advance in [0, TEST_ROTATION_DELAY / 2] {
        if advance > 0 {
            chain.increase_time(advance).await.unwrap();
        }
        let err = expect_revert::<_, AnchorMirrorErrors>(
            send_tx(&m.mirror.executeOwnerRotation(key)).await,
        )
        .unwrap();
        match err {
            AnchorMirrorErrors::TimelockNotExpired(e) => {
                assert_eq!(e.executableAt, executable_at);
                assert!(e.now_ < executable_at, "{} ≥ {executable_at}", e.now_);
            }
            other => panic!("expected TimelockNotExpired, got {other:?}"),
        }
        assert_eq!(current_set(&m).await.2, 1);
    }

    // After the delay, only the owner executes, and the set is installed with
    // authorization 2 and no signatures.
    let now = chain.increase_time(TEST_ROTATION_DELAY).await.unwrap();
    assert!(now >= executable_at);
    let stranger = chain.dev_signer(4).unwrap().address();
    let err = expect_revert::<_, AnchorMirrorErrors>(
        send_tx(&mirror_as(&chain, &m, 4).executeOwnerRotation(key)).await,
    )
    .unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::NotOwner(AnchorMirror::NotOwner { caller: stranger })
    );
    let receipt = send_tx(&m.mirror.executeOwnerRotation(key)).await.unwrap();
    assert_eq!(
        decode_events::<AnchorMirror::AttestorSetChanged>(&receipt),
        vec![AnchorMirror::AttestorSetChanged {
            sourceChain: key,
            version: 2,
            attestors: next.addresses(),
            threshold: 3,
            authorization: AUTH_OWNER_TIMELOCK,
            signatures: vec![],
        }]
    );
    assert_eq!(current_set(&m).await, (next.addresses(), 3, 2));
    assert_eq!(set_at(&m, 1).await, (m.attestors.addresses(), 3));
    assert_eq!(pending_rotation(&m).await, (0, vec![], 0, 0));
    // Executed once: nothing is pending any more.
    let err =
        expect_revert::<_, AnchorMirrorErrors>(send_tx(&m.mirror.executeOwnerRotation(key)).await)
            .unwrap();
    assert_eq!(err, nothing);

    // The old set is out, the new one signs.
    let cp = m.checkpoint(&log, 20).unwrap();
    let proof = log.consistency_proof(10, 20).unwrap();
    let err = expect_revert::<_, AnchorMirrorErrors>(
        m.submit(&cp, proof.clone(), m.sign(&cp).unwrap()).await,
    )
    .unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::NotAttestor(AnchorMirror::NotAttestor {
            signer: m.attestors.addresses()[0]
        })
    );
    let receipt = m
        .submit(&cp, proof, next.sign(&cp, &m.domain, 3).unwrap())
        .await
        .unwrap();
    assert_eq!(
        decode_events::<AnchorMirror::CheckpointAccepted>(&receipt)[0].attestorSetVersion,
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timelock_expires_exactly_at_executable_at() {
    let (chain, m, _, _) = setup().await;
    let key = m.source.key();
    let next = Attestors::random(2);
    let (_, executable_at) = propose(&chain, &m, &next, 2).await;

    // The transaction's block one second before the deadline: refused, naming that
    // block's time. (The gas estimate runs on the pending block, which carries the
    // timestamp set for the next block, so the revert is the one mining would hit.)
    chain
        .set_next_block_timestamp(executable_at - 1)
        .await
        .unwrap();
    let err =
        expect_revert::<_, AnchorMirrorErrors>(send_tx(&m.mirror.executeOwnerRotation(key)).await)
            .unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::TimelockNotExpired(AnchorMirror::TimelockNotExpired {
            executableAt: executable_at,
            now_: executable_at - 1
        })
    );
    assert_eq!(current_set(&m).await.2, 1);

    // In the block at exactly `executableAt`: installed.
    chain.set_next_block_timestamp(executable_at).await.unwrap();
    let receipt = send_tx(&m.mirror.executeOwnerRotation(key)).await.unwrap();
    assert_eq!(
        chain
            .block_timestamp(receipt.block_number.unwrap())
            .await
            .unwrap(),
        executable_at
    );
    assert_eq!(
        decode_events::<AnchorMirror::AttestorSetChanged>(&receipt)[0].authorization,
        AUTH_OWNER_TIMELOCK
    );
    assert_eq!(current_set(&m).await, (next.addresses(), 2, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attestors_cancel_an_owner_proposal() {
    let (chain, m, _, _) = setup().await;
    let key = m.source.key();
    let next = Attestors::random(5);
    let (proposal, _) = propose(&chain, &m, &next, 3).await;
    assert_eq!(
        m.mirror
            .ownerRotationCancelDigest(key)
            .call()
            .await
            .unwrap(),
        proposal.cancel_signing_hash(&m.domain),
        "the mirror hashes the cancellation as the Rust side signs it"
    );
    let as_stranger = mirror_as(&chain, &m, 6);

    // A stranger without signatures, and fewer than the threshold.
    let err = expect_revert::<_, AnchorMirrorErrors>(
        send_tx(&as_stranger.cancelOwnerRotation(key, vec![])).await,
    )
    .unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::BelowThreshold(AnchorMirror::BelowThreshold {
            got: U256::ZERO,
            threshold: 3
        })
    );
    let err = expect_revert::<_, AnchorMirrorErrors>(
        send_tx(&as_stranger.cancelOwnerRotation(
            key,
            m.attestors.sign_cancel(&proposal, &m.domain, 2).unwrap(),
        ))
        .await,
    )
    .unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::BelowThreshold(AnchorMirror::BelowThreshold {
            got: U256::from(2),
            threshold: 3
        })
    );
    // The proposed set cannot cancel (it is not the current set), and the current set's
    // signatures over the update itself are not a cancellation.
    let hash = proposal.cancel_signing_hash(&m.domain);
    for (what, sigs) in [
        (
            "proposed set",
            next.sign_cancel(&proposal, &m.domain, 3).unwrap(),
        ),
        (
            "update signatures",
            m.attestors.sign_update(&proposal, &m.domain, 3).unwrap(),
        ),
    ] {
        let err = expect_revert::<_, AnchorMirrorErrors>(
            send_tx(&as_stranger.cancelOwnerRotation(key, sigs.clone())).await,
        )
        .unwrap();
        assert_eq!(
            err,
            AnchorMirrorErrors::NotAttestor(AnchorMirror::NotAttestor {
                signer: recover(&hash, &sigs[0]).unwrap()
            }),
            "{what}"
        );
    }
    assert_eq!(pending_rotation(&m).await.0, 2);

    // The current set's threshold cancels, submitted by anyone.
    let cancel = m.attestors.sign_cancel(&proposal, &m.domain, 3).unwrap();
    let receipt = send_tx(&as_stranger.cancelOwnerRotation(key, cancel.clone()))
        .await
        .unwrap();
    assert_eq!(
        decode_events::<AnchorMirror::OwnerRotationCancelled>(&receipt),
        vec![AnchorMirror::OwnerRotationCancelled {
            sourceChain: key,
            version: 2,
            byAttestors: true
        }]
    );
    assert_eq!(pending_rotation(&m).await, (0, vec![], 0, 0));
    assert_eq!(
        m.mirror
            .ownerRotationCancelDigest(key)
            .call()
            .await
            .unwrap(),
        B256::ZERO
    );
    // Even after the delay, there is nothing to execute.
    chain.increase_time(TEST_ROTATION_DELAY + 1).await.unwrap();
    let nothing =
        AnchorMirrorErrors::NoOwnerRotationPending(AnchorMirror::NoOwnerRotationPending {
            sourceChain: key,
        });
    let err =
        expect_revert::<_, AnchorMirrorErrors>(send_tx(&m.mirror.executeOwnerRotation(key)).await)
            .unwrap();
    assert_eq!(err, nothing);
    let err = expect_revert::<_, AnchorMirrorErrors>(
        send_tx(&as_stranger.cancelOwnerRotation(key, cancel.clone())).await,
    )
    .unwrap();
    assert_eq!(err, nothing, "cancel with nothing pending");
    assert_eq!(current_set(&m).await, (m.attestors.addresses(), 3, 1));

    // A cancellation is bound to the proposal it names: another proposal is not
    // cancelled by it.
    let other = Attestors::random(5);
    let (proposal2, _) = propose(&chain, &m, &other, 3).await;
    let err = expect_revert::<_, AnchorMirrorErrors>(
        send_tx(&as_stranger.cancelOwnerRotation(key, cancel.clone())).await,
    )
    .unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::NotAttestor(AnchorMirror::NotAttestor {
            signer: recover(&proposal2.cancel_signing_hash(&m.domain), &cancel[0]).unwrap()
        })
    );
    // The owner withdraws its own proposal without signatures (byAttestors = false).
    let receipt = send_tx(&m.mirror.cancelOwnerRotation(key, vec![]))
        .await
        .unwrap();
    assert_eq!(
        decode_events::<AnchorMirror::OwnerRotationCancelled>(&receipt),
        vec![AnchorMirror::OwnerRotationCancelled {
            sourceChain: key,
            version: 2,
            byAttestors: false
        }]
    );
    assert_eq!(pending_rotation(&m).await.0, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_rotation_cancels_a_pending_owner_proposal() {
    let (chain, m, _, _) = setup().await;
    let key = m.source.key();
    let proposed = Attestors::random(2);
    propose(&chain, &m, &proposed, 1).await;

    let signed = Attestors::random(5);
    let update = m.update(2, signed.addresses(), 3);
    let sigs = m.attestors.sign_update(&update, &m.domain, 3).unwrap();
    let receipt = m.rotate(&update, sigs.clone()).await.unwrap();
    assert_eq!(
        decode_events::<AnchorMirror::OwnerRotationCancelled>(&receipt),
        vec![AnchorMirror::OwnerRotationCancelled {
            sourceChain: key,
            version: 2,
            byAttestors: false
        }]
    );
    assert_eq!(
        decode_events::<AnchorMirror::AttestorSetChanged>(&receipt),
        vec![AnchorMirror::AttestorSetChanged {
            sourceChain: key,
            version: 2,
            attestors: signed.addresses(),
            threshold: 3,
            authorization: AUTH_SIGNED,
            signatures: sigs,
        }]
    );
    assert_eq!(pending_rotation(&m).await, (0, vec![], 0, 0));
    // The stale proposal cannot be executed after its delay.
    chain.increase_time(TEST_ROTATION_DELAY + 1).await.unwrap();
    let err =
        expect_revert::<_, AnchorMirrorErrors>(send_tx(&m.mirror.executeOwnerRotation(key)).await)
            .unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::NoOwnerRotationPending(AnchorMirror::NoOwnerRotationPending {
            sourceChain: key
        })
    );
    assert_eq!(current_set(&m).await, (signed.addresses(), 3, 2));
    for a in proposed.addresses() {
        assert!(!m.mirror.isAttestor(key, a).call().await.unwrap());
    }
    // A new proposal now targets version 3.
    let (p3, _) = propose(&chain, &m, &proposed, 1).await;
    assert_eq!(p3.new_version, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_block_number_may_not_decrease() {
    let (_chain, m, log, _) = setup().await;
    let key = m.source.key();
    let cp10 = m.checkpoint(&log, 10).unwrap();
    m.submit(&cp10, vec![], m.sign(&cp10).unwrap())
        .await
        .unwrap();
    let before = latest(&m).await;

    // A larger log computed at an older source block.
    let proof = log.consistency_proof(10, 20).unwrap();
    let mut older = m.checkpoint(&log, 20).unwrap();
    older.source_block_number = cp10.source_block_number - 1;
    let err = expect_revert::<_, AnchorMirrorErrors>(
        m.submit(&older, proof.clone(), m.sign(&older).unwrap())
            .await,
    )
    .unwrap();
    assert_eq!(
        err,
        AnchorMirrorErrors::SourceBlockDecreasing(AnchorMirror::SourceBlockDecreasing {
            sourceBlockNumber: cp10.source_block_number - 1,
            latest: cp10.source_block_number
        })
    );
    assert_eq!(latest(&m).await, before);
    assert_eq!(m.mirror.rootAt(key, 20).call().await.unwrap(), B256::ZERO);

    // The same source block is fine (more records found in the same block range).
    let mut same = m.checkpoint(&log, 20).unwrap();
    same.source_block_number = cp10.source_block_number;
    m.submit(&same, proof, m.sign(&same).unwrap())
        .await
        .unwrap();
    assert_eq!(latest(&m).await, (20, same.root, cp10.source_block_number));
    // And a later one, of course.
    m.submit_log(&log, Some(20), 30).await.unwrap();
    assert_eq!(
        latest(&m).await.2,
        m.checkpoint(&log, 30).unwrap().source_block_number
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_proofs_verify_after_every_rotation() {
    let (chain, m, log, ids) = setup().await;
    let key = m.source.key();
    // Version 1 (first set): sizes 10 and 15.
    m.submit_log(&log, None, 10).await.unwrap();
    m.submit_log(&log, Some(10), 15).await.unwrap();

    // Version 2, signed by version 1: size 25.
    let v2 = Attestors::random(5);
    let u2 = m.update(2, v2.addresses(), 3);
    m.rotate(&u2, m.attestors.sign_update(&u2, &m.domain, 3).unwrap())
        .await
        .unwrap();
    for size in [10, 15] {
        assert_all_verify(&m, &log, &ids, size).await;
    }
    let cp = m.checkpoint(&log, 25).unwrap();
    let receipt = m
        .submit(
            &cp,
            log.consistency_proof(15, 25).unwrap(),
            v2.sign(&cp, &m.domain, 3).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        decode_events::<AnchorMirror::CheckpointAccepted>(&receipt)[0].attestorSetVersion,
        2
    );

    // Version 3, the owner's after the timelock: size 40.
    let v3 = Attestors::random(3);
    propose(&chain, &m, &v3, 2).await;
    chain.increase_time(TEST_ROTATION_DELAY + 1).await.unwrap();
    let receipt = send_tx(&m.mirror.executeOwnerRotation(key)).await.unwrap();
    assert_eq!(
        decode_events::<AnchorMirror::AttestorSetChanged>(&receipt)[0].authorization,
        AUTH_OWNER_TIMELOCK
    );
    for size in [10, 15, 25] {
        assert_all_verify(&m, &log, &ids, size).await;
    }
    let cp = m.checkpoint(&log, 40).unwrap();
    let receipt = m
        .submit(
            &cp,
            log.consistency_proof(25, 40).unwrap(),
            v3.sign(&cp, &m.domain, 2).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        decode_events::<AnchorMirror::CheckpointAccepted>(&receipt)[0].attestorSetVersion,
        3
    );
    for size in [10, 15, 25, 40] {
        assert_eq!(
            m.mirror.rootAt(key, size).call().await.unwrap(),
            log.root_at(size).unwrap()
        );
        assert_all_verify(&m, &log, &ids, size).await;
    }
    // The whole history stays readable.
    assert_eq!(set_at(&m, 1).await, (m.attestors.addresses(), 3));
    assert_eq!(set_at(&m, 2).await, (v2.addresses(), 3));
    assert_eq!(set_at(&m, 3).await, (v3.addresses(), 2));
    assert_eq!(current_set(&m).await, (v3.addresses(), 2, 3));
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
