//! The attest stage: every attestor key this instance holds signs every new
//! checkpoint of a chain, once per destination (the EIP-712 domain binds the
//! destination chain and mirror). An attestor signs only checkpoints this instance
//! computed from its own log, and re-checks the root against that log before signing.

use alloy::signers::{SignerSync, local::PrivateKeySigner};
use evidence_schemas::{ChainId, checkpoint::AttestorSignature};
use tracing::{debug, instrument};

use crate::{RelayerError, Result, engine::RouteRuntime, log::Logs, store::Store};

/// Checkpoints signed per call at most, per attestor and destination.
const MAX_PER_CALL: u64 = 100;

/// Signs the chain's unsigned checkpoints for every route from it; returns the number
/// of signatures made.
#[instrument(target = "relayer::attest", skip_all, fields(chain = %chain))]
pub async fn attest_once(
    store: &Store,
    logs: &Logs,
    chain: &ChainId,
    routes: &[RouteRuntime],
    attestors: &[PrivateKeySigner],
) -> Result<usize> {
    let mut made = 0;
    for route in routes.iter().filter(|r| r.source_chain == *chain) {
        for signer in attestors {
            let attestor = signer.address();
            let last = store
                .load_last_signed_size(
                    chain,
                    &route.destination_chain,
                    &route.domain.mirror,
                    &attestor,
                )
                .await?;
            let mut checkpoints = store
                .load_checkpoints_after(chain, last, MAX_PER_CALL)
                .await?;
            checkpoints.reverse();
            for checkpoint in checkpoints {
                let ours = logs.root_at(chain, checkpoint.size)?;
                if ours != checkpoint.root {
                    return Err(RelayerError::corrupt(format!(
                        "{chain}: stored checkpoint of size {} has root {}, but the log computes {ours}; refusing to sign",
                        checkpoint.size, checkpoint.root
                    )));
                }
                let signature = signer
                    .sign_hash_sync(&checkpoint.signing_hash(&route.domain))
                    .map_err(|e| RelayerError::Signing {
                        attestor,
                        message: e.to_string(),
                    })?;
                let signature = AttestorSignature {
                    attestor,
                    signature: signature.as_bytes().to_vec().into(),
                };
                store
                    .insert_signatures(
                        chain,
                        checkpoint.size,
                        &route.destination_chain,
                        &route.domain.mirror,
                        &[signature],
                    )
                    .await?;
                debug!(target: "relayer::attest", size = checkpoint.size, %attestor,
                    destination = %route.destination_chain, "checkpoint signed");
                made += 1;
            }
        }
    }
    Ok(made)
}
