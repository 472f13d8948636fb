//! Gas measurements of `AnchorMirror` on anvil.
//!
//! ```text
//! cargo run -p evidence-tests --bin gas
//! ```
//!
//! - `submitCheckpoint` with 1-of-1, 3-of-5 and 5-of-7 signatures: `gasUsed` of the
//!   mined transaction, for the first checkpoint of a source (no consistency proof) and
//!   for a later one (with its consistency proof). Both store a new root.
//! - `verifyRecord` at log sizes 2^10 and 2^20: `eth_estimateGas` of the view call, raw
//!   and as execution gas (minus the 21,000 intrinsic gas and the calldata cost). The
//!   execution figure comes from a Cancun node, because on Prague and later the
//!   EIP-7623 calldata floor, not execution, sets the estimate of such a call. The
//!   2^20-record log exists only in Rust; its first checkpoint is submitted as is.
//!
//! Targets (from the design review): 3-of-5 `submitCheckpoint` ≤ 100,000 gas,
//! `verifyRecord` at 2^20 ≤ 10,000 execution gas. Misses are reported, not fatal.

use alloy::primitives::B256;
use anyhow::Context as _;
use evidence_schemas::{ChainId, log::MerkleLog};
use evidence_tests::{
    Devchain, MirrorSetup,
    gas::{TX_INTRINSIC_GAS, calldata_gas, execution_gas},
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

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(2026);
    let chain = Devchain::start(31_338).await?;
    println!("anvil {} (chain id {})\n", chain.rpc_url, chain.chain_id);

    // ---------------------------------------------------------------- submitCheckpoint
    let (log, _) = random_log(1_000, &mut rng);
    println!("submitCheckpoint (tx receipt gasUsed; calldata = 16/nonzero + 4/zero byte)");
    println!(
        "{:<8} {:<34} {:>9} {:>9} {:>10}  {}",
        "sigs", "checkpoint", "gasUsed", "calldata", "execution", "target"
    );
    let mut missed = Vec::new();
    for (threshold, n) in [(1u8, 1usize), (3, 5), (5, 7)] {
        let m = MirrorSetup::deploy(&chain, ChainId::eip155(31_337), n, threshold).await?;
        for (previous, size) in [(None, 500u64), (Some(500u64), 1_000u64)] {
            let cp = m.checkpoint(&log, size)?;
            let proof = match previous {
                Some(old) => log.consistency_proof(old, size)?,
                None => Vec::new(),
            };
            let proof_len = proof.len();
            let sigs = m.sign(&cp)?;
            let call = m.mirror.submitCheckpoint((&cp).into(), proof, sigs);
            let calldata = call.calldata().clone();
            let receipt = evidence_tests::send_tx(&call)
                .await
                .context("submitCheckpoint")?;
            let used = receipt.gas_used;
            let what = match previous {
                Some(old) => format!("{old} -> {size}, proof of {proof_len}"),
                None => format!("first, size {size}, no proof"),
            };
            let target = if threshold == 3 {
                let v = verdict(used, SUBMIT_TARGET);
                if used > SUBMIT_TARGET {
                    missed.push(format!("submitCheckpoint 3-of-5 {what}: {used} gas"));
                }
                v
            } else {
                String::new()
            };
            println!(
                "{:<8} {:<34} {:>9} {:>9} {:>10}  {}",
                format!("{threshold}-of-{n}"),
                what,
                used,
                calldata_gas(&calldata),
                used.saturating_sub(TX_INTRINSIC_GAS + calldata_gas(&calldata)),
                target
            );
        }
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
        "{:<10} {:>6} {:>12} {:>12} {:>9} {:>10} {:>10} {:>11}  {}",
        "log size",
        "proof",
        "est.default",
        "est.cancun",
        "calldata",
        "execution",
        "exec.mined",
        "7623 floor",
        "target"
    );
    for bits in [10u32, 20] {
        let size = 1u64 << bits;
        let started = std::time::Instant::now();
        let (log, ids) = random_log(size, &mut rng);
        let build = started.elapsed();
        let mut on_default = None;
        let mut on_cancun = None;
        for (node, slot) in [(&chain, &mut on_default), (&cancun, &mut on_cancun)] {
            let m =
                MirrorSetup::deploy(node, ChainId::eip155(1_000 + u64::from(bits)), 1, 1).await?;
            m.submit_log(&log, None, size).await?;
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
        eprintln!("(built the 2^{bits} log in {build:?})");
    }

    if missed.is_empty() {
        println!("\nall targets met");
    } else {
        println!("\nTARGETS MISSED:\n  {}", missed.join("\n  "));
    }
    Ok(())
}
