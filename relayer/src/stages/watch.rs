//! The watch stage: an attestor's other duty. It compares what each destination
//! mirror accepted for a source chain with this instance's own log (the one
//! divergence check, [`check_mirror_root`]) and reports an owner's pending
//! attestor-set proposal on the mirror. Both raise alarms; neither writes to a chain.
//!
//! An attest-only instance runs it in place of the attest stage; a mirror that cannot
//! be read is logged and tried again on the next step.

use async_trait::async_trait;
use evidence_schemas::ChainId;
use tracing::warn;

use super::{Stage, StageContext};
use crate::{
    Result,
    alarms::{MirrorCheck, check_mirror_root, raise_alarm},
    log::Logs,
    runtime::RouteRuntime,
    store::{Alarm, AlarmKind, Store},
};

/// The watch stage of one source chain, over the routes from it.
#[derive(Debug, Clone, Copy)]
pub struct WatchStage<'a> {
    /// The chain.
    pub chain: &'a ChainId,
    /// The engine's routes (those from `chain` are watched).
    pub routes: &'a [RouteRuntime],
}

#[async_trait]
impl Stage for WatchStage<'_> {
    /// Mirrors compared.
    type Outcome = usize;

    fn name(&self) -> &'static str {
        "watch"
    }

    async fn execute(&mut self, ctx: StageContext<'_>) -> Result<usize> {
        watch_mirrors_once(ctx.store, ctx.logs, self.chain, self.routes).await
    }
}

/// Raises [`AlarmKind::OwnerRotationProposed`] (once per proposal) when `route`'s
/// mirror has a pending owner proposal for `chain`'s attestor set.
pub async fn watch_owner_rotation(
    store: &Store,
    chain: &ChainId,
    route: &RouteRuntime,
) -> Result<()> {
    let pending = match route.mirror.fetch_pending_owner_rotation(chain).await {
        Ok(p) => p,
        Err(e) => {
            warn!(target: "relayer::attestor", destination = %route.destination_chain, error = %e,
                "cannot read the mirror's pending owner rotation; will try again");
            return Ok(());
        }
    };
    let Some(p) = pending else { return Ok(()) };
    let alarm = Alarm {
        kind: AlarmKind::OwnerRotationProposed,
        source_chain: chain.clone(),
        destination: Some(route.destination_chain.clone()),
        size: p.version,
        peer: Some(format!("mirror {}", route.domain.mirror)),
        our_root: None,
        their_root: None,
        message: format!(
            "the owner of the mirror {} on {} proposed attestor set version {} for {chain} (threshold {} of {}: {}), executable from unix time {}; if the partners did not agree to it, sign its cancellation (`bridge mirror sign-rotation --cancel`) and submit it (`bridge mirror cancel-rotation`)",
            route.domain.mirror,
            route.destination_chain,
            p.version,
            p.threshold,
            p.attestors.len(),
            p.attestors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            p.executable_at
        ),
    };
    if !store.has_alarm(&alarm).await? {
        raise_alarm(store, &alarm).await?;
    }
    Ok(())
}

/// Compares what every destination mirror accepted for `chain` with our own log;
/// raises a [`AlarmKind::MirrorDiverged`] alarm on a difference. Returns the number
/// of mirrors whose latest checkpoint was compared.
pub async fn watch_mirrors_once(
    store: &Store,
    logs: &Logs,
    chain: &ChainId,
    routes: &[RouteRuntime],
) -> Result<usize> {
    let mut compared = 0;
    for route in routes.iter().filter(|r| r.source_chain == *chain) {
        watch_owner_rotation(store, chain, route).await?;
        let state = match route.mirror.fetch_state(chain).await {
            Ok(s) => s,
            Err(e) => {
                warn!(target: "relayer::attestor", destination = %route.destination_chain, error = %e,
                    "cannot read the mirror; will try again");
                continue;
            }
        };
        match check_mirror_root(store, logs, route, &state).await? {
            MirrorCheck::NotComparable => {}
            MirrorCheck::Agrees | MirrorCheck::Diverged(_) => compared += 1,
        }
    }
    Ok(compared)
}
