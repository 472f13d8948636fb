//! Alarms: findings that a log, a mirror or an attestor disagrees with ours, stored
//! (`alarms` table), counted ([`ALARMS_METRIC`]) and logged at ERROR.
//!
//! [`check_mirror_root`] is the one comparison of a destination mirror's latest root
//! with our own log: the submit stage refuses to submit on a difference, the watch
//! stage ([`crate::stages::watch`]) of an attest-only instance reports it.

use evidence_adapters::MirrorState;
use evidence_schemas::ChainId;
use tracing::error;

use crate::{
    RelayerError, Result,
    log::Logs,
    runtime::RouteRuntime,
    store::{Alarm, AlarmKind, Store},
};

/// Name of the counter of alarms raised, labelled by `kind`.
pub const ALARMS_METRIC: &str = "bridge_alarms_total";

/// Stores an alarm, counts it in [`ALARMS_METRIC`] and logs it at ERROR the first
/// time the finding is seen and then at its 2nd, 4th, 8th, … sighting (with the count),
/// so a peer repeating the same finding cannot flood the log.
pub async fn raise_alarm(store: &Store, alarm: &Alarm) -> Result<()> {
    metrics::counter!(ALARMS_METRIC, "kind" => alarm.kind.as_str()).increment(1);
    let seen = store.raise_alarm(alarm).await?;
    if seen.is_power_of_two() {
        error!(target: "relayer::alarm", kind = alarm.kind.as_str(), source = %alarm.source_chain,
            destination = ?alarm.destination.as_ref().map(ChainId::as_str), size = alarm.size,
            peer = ?alarm.peer, our_root = ?alarm.our_root, their_root = ?alarm.their_root, seen,
            "ALARM: {}", alarm.message);
    } else {
        tracing::debug!(target: "relayer::alarm", kind = alarm.kind.as_str(), size = alarm.size, peer = ?alarm.peer, seen,
            "alarm seen again");
    }
    Ok(())
}

/// What comparing a mirror's latest checkpoint with our log found.
#[derive(Debug)]
pub enum MirrorCheck {
    /// The mirror holds nothing yet, or a size our log has not reached.
    NotComparable,
    /// The mirror's root at its latest size is our root at that size.
    Agrees,
    /// It is not: a [`RelayerError::MirrorDiverged`] (the alarm was raised).
    Diverged(RelayerError),
}

/// Compares `state` (the route's mirror, for the route's source chain) with our log;
/// on a difference raises a [`AlarmKind::MirrorDiverged`] alarm and returns the
/// (fatal, see [`RelayerError::is_fatal`]) error.
pub async fn check_mirror_root(
    store: &Store,
    logs: &Logs,
    route: &RouteRuntime,
    state: &MirrorState,
) -> Result<MirrorCheck> {
    let chain = &route.source_chain;
    if state.latest_size == 0 || state.latest_size > logs.size(chain).await? {
        return Ok(MirrorCheck::NotComparable);
    }
    let ours = logs.root_at(chain, state.latest_size).await?;
    if ours == state.latest_root {
        return Ok(MirrorCheck::Agrees);
    }
    raise_alarm(
        store,
        &Alarm {
            kind: AlarmKind::MirrorDiverged,
            source_chain: chain.clone(),
            destination: Some(route.destination_chain.clone()),
            size: state.latest_size,
            peer: Some(format!("mirror {}", route.domain.mirror)),
            our_root: Some(ours),
            their_root: Some(state.latest_root),
            message: format!(
                "the mirror on {} accepted root {} at size {} for {chain}, but this instance's own log has {ours}: someone signed a false checkpoint or a node is wrong",
                route.destination_chain, state.latest_root, state.latest_size
            ),
        },
    )
    .await?;
    Ok(MirrorCheck::Diverged(RelayerError::MirrorDiverged {
        source_chain: chain.clone(),
        destination: route.destination_chain.clone(),
        size: state.latest_size,
        mirror_root: state.latest_root,
        our_root: ours,
    }))
}
