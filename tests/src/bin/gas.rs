//! Gas measurements of `AnchorMirror` on anvil.
//!
//! ```text
//! cargo run --release -p evidence-tests --bin gas
//! ```
//!
//! - `submitCheckpoint` with 1-of-1, 3-of-5 and 5-of-7 signatures: `gasUsed` of the
//!   mined transaction, for the first checkpoint of a source (no consistency proof) and
//!   for a later one (with its consistency proof). Both store a new root. Besides a
//!   1,000-record log (proof of 9), a log of 2^20 records that exists only in Rust (its
//!   first checkpoint is submitted as is) gives a 20-hash proof (the target case, from
//!   an old size with one trailing zero bit) and a 21-hash proof (the longest a log of
//!   2^20 can need).
//! - Attestor-set changes of a 3-of-5 source to a fresh 5-member set: the owner's first
//!   `setAttestors`, a `rotateAttestors` signed by 3 of the 5 current attestors, and the
//!   owner's `proposeOwnerRotation` → `executeOwnerRotation` (after advancing anvil's
//!   clock past the timelock) and a `cancelOwnerRotation` by 3 signatures.
//! - `verifyRecord` at log sizes 2^10 and 2^20: `eth_estimateGas` of the view call, raw
//!   and as execution gas (minus the 21,000 intrinsic gas and the calldata cost). The
//!   execution figure comes from a Cancun node, because on Prague and later the
//!   EIP-7623 calldata floor, not execution, sets the estimate of such a call. The
//!   2^20-record log exists only in Rust; its first checkpoint is submitted as is.
//!
//! Targets (from the design review and issue 11): 3-of-5 `submitCheckpoint` ≤ 100,000
//! gas, also with a 20-hash consistency proof; `verifyRecord` at 2^20 ≤ 10,000
//! execution gas. Misses are reported, not fatal.

use alloy::{
    primitives::{B256, Bytes},
    rpc::types::TransactionReceipt,
};
use anyhow::Context as _;
use evidence_schemas::{
    ChainId,
    log::{MerkleLog, consistency_proof_len},
};
use evidence_tests::{
    Attestors, Devchain, MirrorSetup,
    devchain::TEST_ROTATION_DELAY,
    gas::{TX_INTRINSIC_GAS, calldata_gas, execution_gas},
    send_tx,
};
use rand::{Rng, SeedableRng, rngs::StdRng};

const SUBMIT_TARGET: u64 = 100_000;
const VERIFY_TARGET: u64 = 10_000;

/// A log of `n` random record ids, and the ids.
fn random_log(n: u64, rng: &mut StdRng) -> (MerkleLog, Vec<B256>) {
    let ids: Vec<B256> = (0..n)
        .map(|_| {
            let mut b = [0u8; 32];
            rng.fill(&mut b);
            B256::from(b)
        })
        .collect();
    (MerkleLog::from_record_ids(&ids), ids)
}

fn verdict(value: u64, target: u64) -> String {
    if value <= target {
        format!("ok (≤ {target})")
    } else {
        format!("MISSED (> {target})")
    }
}

/// The smallest old size from `from` up whose consistency proof to `new_size` has
/// exactly `len` hashes.
fn old_size_with_proof_len(from: u64, new_size: u64, len: usize) -> anyhow::Result<u64> {
    for old in from..new_size {
        if consistency_proof_len(old, new_size)? == len {
            return Ok(old);
        }
    }
    anyhow::bail!("no old size in {from}..{new_size} has a {len}-hash proof to {new_size}")
}

/// One row of a gas table: gasUsed of the receipt, the calldata gas, and the rest
/// (execution, after the 21,000 intrinsic gas).
fn row(label: &str, what: &str, receipt: &TransactionReceipt, calldata: &Bytes, target: &str) {
    let used = receipt.gas_used;
    println!(
        "{:<8} {:<34} {:>9} {:>9} {:>10}  {}",
        label,
        what,
        used,
        calldata_gas(calldata),
        used.saturating_sub(TX_INTRINSIC_GAS + calldata_gas(calldata)),
        target
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(2026);
    let chain = Devchain::start(31_338).await?;
    println!("anvil {} (chain id {})\n", chain.rpc_url, chain.chain_id);

    // ---------------------------------------------------------------- submitCheckpoint
    let (log, _) = random_log(1_000, &mut rng);
    let started = std::time::Instant::now();
    let (big_log, big_ids) = random_log(1 << 20, &mut rng);
    eprintln!("(built the 2^20 log in {:?})", started.elapsed());
    let big = big_log.size();
    let old20 = old_size_with_proof_len(700_000, big, 20)?;
    let old21 = old_size_with_proof_len(700_000, big, 21)?;
    println!("submitCheckpoint (tx receipt gasUsed; calldata = 16/nonzero + 4/zero byte)");
    println!(
        "{:<8} {:<34} {:>9} {:>9} {:>10}  target",
        "sigs", "checkpoint", "gasUsed", "calldata", "execution"
    );
    let mut missed = Vec::new();
    for (threshold, n) in [(1u8, 1usize), (3, 5), (5, 7)] {
        let steps: [(&MerkleLog, Option<u64>, u64); 6] = [
            (&log, None, 500),
            (&log, Some(500), 1_000),
            (&big_log, None, old20),
            (&big_log, Some(old20), big),
            (&big_log, None, old21),
            (&big_log, Some(old21), big),
        ];
        let mut mirror = None;
        for (log, previous, size) in steps {
            // Every first checkpoint goes to a new mirror.
            if previous.is_none() {
                mirror =
                    Some(MirrorSetup::deploy(&chain, ChainId::eip155(31_337), n, threshold).await?);
            }
            let m = mirror
                .as_ref()
                .context("no mirror for a later checkpoint")?;
            let cp = m.checkpoint(log, size)?;
            let proof = match previous {
                Some(old) => log.consistency_proof(old, size)?,
                None => Vec::new(),
            };
            let proof_len = proof.len();
            let sigs = m.sign(&cp)?;
            let call = m.mirror.submitCheckpoint((&cp).into(), proof, sigs);
            let calldata = call.calldata().clone();
            let receipt = send_tx(&call).await.context("submitCheckpoint")?;
            let used = receipt.gas_used;
            let what = match previous {
                Some(old) => format!("{old} -> {size}, proof of {proof_len}"),
                None => format!("first, size {size}, no proof"),
            };
            // The target covers proofs up to 20 hashes; the 21-hash case is reported.
            let target = if threshold == 3 && proof_len <= 20 {
                if used > SUBMIT_TARGET {
                    missed.push(format!("submitCheckpoint 3-of-5 {what}: {used} gas"));
                }
                verdict(used, SUBMIT_TARGET)
            } else {
                String::new()
            };
            row(
                &format!("{threshold}-of-{n}"),
                &what,
                &receipt,
                &calldata,
                &target,
            );
        }
    }

    // ---------------------------------------------------------------- attestor sets
    // A 3-of-5 source moving to a fresh 5-member set (3-of-5), each way it can.
    println!("\nattestor-set changes, 3-of-5 to a fresh 5-member set (tx receipt gasUsed)");
    println!(
        "{:<8} {:<34} {:>9} {:>9} {:>10}",
        "sigs", "call", "gasUsed", "calldata", "execution"
    );
    let m = MirrorSetup::deploy(&chain, ChainId::eip155(31_337), 5, 3).await?;
    let key = m.source.key();
    {
        let first = Attestors::random(5);
        let call = m
            .mirror
            .setAttestors(ChainId::eip155(5).key(), first.addresses(), 3);
        let receipt = send_tx(&call).await.context("setAttestors")?;
        row(
            "owner",
            "setAttestors (first set)",
            &receipt,
            call.calldata(),
            "",
        );
    }
    let mut current = m.attestors.clone();
    for version in [2u64, 3] {
        let next = Attestors::random(5);
        let update = m.update(version, next.addresses(), 3);
        let sigs = current.sign_update(&update, &m.domain, 3)?;
        let call = m
            .mirror
            .rotateAttestors(key, version, next.addresses(), 3, sigs);
        let receipt = send_tx(&call).await.context("rotateAttestors")?;
        row(
            "3-of-5",
            &format!("rotateAttestors (v{} -> v{version})", version - 1),
            &receipt,
            call.calldata(),
            "",
        );
        current = next;
    }
    {
        let proposed = Attestors::random(5);
        let call = m.mirror.proposeOwnerRotation(key, proposed.addresses(), 3);
        let receipt = send_tx(&call).await.context("proposeOwnerRotation")?;
        row(
            "owner",
            "proposeOwnerRotation",
            &receipt,
            call.calldata(),
            "",
        );
        chain.increase_time(TEST_ROTATION_DELAY + 1).await?;
        let call = m.mirror.executeOwnerRotation(key);
        let receipt = send_tx(&call).await.context("executeOwnerRotation")?;
        row(
            "owner",
            "executeOwnerRotation (v3 -> v4)",
            &receipt,
            call.calldata(),
            "",
        );
        current = proposed;
    }
    {
        let proposed = Attestors::random(5);
        let proposal = m.update(5, proposed.addresses(), 3);
        let call = m.mirror.proposeOwnerRotation(key, proposed.addresses(), 3);
        send_tx(&call).await.context("proposeOwnerRotation")?;
        let sigs = current.sign_cancel(&proposal, &m.domain, 3)?;
        let call = m.mirror.cancelOwnerRotation(key, sigs);
        let receipt = send_tx(&call).await.context("cancelOwnerRotation")?;
        row(
            "3-of-5",
            "cancelOwnerRotation",
            &receipt,
            call.calldata(),
            "",
        );
    }

    // ---------------------------------------------------------------- verifyRecord
    // Since Prague (EIP-7623) a transaction pays at least 21,000 + 10 gas per calldata
    // token (zero byte = 1 token, nonzero = 4). A proof-heavy view call sits on that
    // floor, so eth_estimateGas on the default (latest) hardfork reports the floor, and
    // "estimate - 21000 - calldata" would only measure calldata. Execution gas is
    // therefore measured on a second node running Cancun (no floor; opcode and
    // precompile prices are the same), and the raw estimate is reported from both.
    let cancun = Devchain::start_with_args(31_339, &["--hardfork", "cancun"]).await?;
    println!("\nverifyRecord (view call; worst of 3 leaf positions)");
    println!(
        "  estimateGas: raw eth_estimateGas on the default hardfork node and on a Cancun node"
    );
    println!("  execution:   Cancun estimate - 21000 - calldata (16/nonzero, 4/zero byte)");
    println!("  exec.mined:  the same from the receipt gasUsed of the call sent as a transaction");
    println!("  7623 floor:  21000 + 10 * calldata tokens, the minimum a Prague+ transaction pays");
    println!(
        "{:<10} {:>6} {:>12} {:>12} {:>9} {:>10} {:>10} {:>11}  target",
        "log size",
        "proof",
        "est.default",
        "est.cancun",
        "calldata",
        "execution",
        "exec.mined",
        "7623 floor"
    );
    for bits in [10u32, 20] {
        let size = 1u64 << bits;
        let small;
        let (log, ids) = if size == big {
            (&big_log, &big_ids)
        } else {
            small = random_log(size, &mut rng);
            (&small.0, &small.1)
        };
        let mut on_default = None;
        let mut on_cancun = None;
        for (node, slot) in [(&chain, &mut on_default), (&cancun, &mut on_cancun)] {
            let m =
                MirrorSetup::deploy(node, ChainId::eip155(1_000 + u64::from(bits)), 1, 1).await?;
            m.submit_log(log, None, size).await?;
            let key = m.source.key();
            // The proof is always `bits` long; take the worst of a few positions.
            let mut worst: Option<(u64, Vec<u8>, u64)> = None;
            for index in [0, size / 3, size - 1] {
                let proof = log.inclusion_proof(index, size)?;
                let record_id = *ids.get(index as usize).context("index beyond the ids")?;
                let call = m.mirror.verifyRecord(key, size, record_id, index, proof);
                let ok = call.call().await.context("verifyRecord")?;
                anyhow::ensure!(
                    ok,
                    "verifyRecord returned false for index {index} at size {size}"
                );
                let estimate = call
                    .estimate_gas()
                    .await
                    .context("estimateGas verifyRecord")?;
                let calldata = call.calldata().to_vec();
                // The same call mined as a transaction: its receipt's gasUsed is what the
                // call really cost (the estimate can sit a little above it).
                let used = evidence_tests::send_tx(&call)
                    .await
                    .context("verifyRecord as a transaction")?
                    .gas_used;
                if worst.as_ref().is_none_or(|(e, _, _)| estimate > *e) {
                    worst = Some((estimate, calldata, used));
                }
            }
            *slot = worst;
        }
        let (est_default, _, _) = on_default.context("no measurement")?;
        let (est_cancun, calldata, used_cancun) = on_cancun.context("no measurement")?;
        let exec = execution_gas(est_cancun, &calldata);
        let exec_used = execution_gas(used_cancun, &calldata);
        let tokens: u64 = calldata.iter().map(|&b| if b == 0 { 1 } else { 4 }).sum();
        let floor = TX_INTRINSIC_GAS + 10 * tokens;
        let target = if bits == 20 {
            if exec > VERIFY_TARGET {
                missed.push(format!(
                    "verifyRecord at 2^20: {exec} execution gas (Cancun estimateGas {est_cancun}, calldata {})",
                    calldata_gas(&calldata)
                ));
            }
            verdict(exec, VERIFY_TARGET)
        } else {
            String::new()
        };
        println!(
            "{:<10} {:>6} {:>12} {:>12} {:>9} {:>10} {:>10} {:>11}  {}",
            format!("2^{bits}"),
            bits,
            est_default,
            est_cancun,
            calldata_gas(&calldata),
            exec,
            exec_used,
            floor,
            target
        );
    }

    if missed.is_empty() {
        println!("\nall targets met");
    } else {
        println!("\nTARGETS MISSED:\n  {}", missed.join("\n  "));
    }
    Ok(())
}
