//! The pipeline stages, each a function that does one bounded step of work against
//! the store and the chains, so the [`Engine`](crate::Engine) can loop them and tests
//! can drive them one step at a time:
//!
//! index ([`index`]) → log ([`crate::log`]) → checkpoint ([`checkpoint`]) →
//! attest ([`attest`]) → submit ([`submit`]) → timestamp ([`timestamp`], off the
//! relaying path: its failures never hold a submission back); watch ([`watch`]: an
//! attest-only instance compares the destination mirrors with its own log).
//!
//! Stages depend on [`crate::runtime`], [`crate::alarms`], the store and the logs,
//! never on the engine that schedules them.

pub mod attest;
pub mod checkpoint;
pub mod index;
pub mod submit;
pub mod timestamp;
pub mod watch;

use async_trait::async_trait;

use crate::{Result, log::Logs, store::Store};

/// What a stage step runs against: the store (fenced by the lease the engine holds
/// for the step) and the logs.
#[derive(Debug, Clone, Copy)]
pub struct StageContext<'a> {
    /// The store, fenced by the step's lease.
    pub store: &'a Store,
    /// Every source chain's log.
    pub logs: &'a Logs,
}

/// One pipeline stage, after reth's `execute`/`unwind` stages: [`Stage::execute`]
/// does one bounded step of work (idempotent: a step cut short by a crash is redone
/// by the next one, since every stage keeps its progress in the store), and
/// [`Stage::unwind`] undoes the stage's work above a source block when a reorg
/// replaced it.
///
/// Only the index stage has work to unwind: everything after it is keyed by log size,
/// and the log is never rewritten (a reorg below logged records halts the chain
/// instead). The engine ([`crate::Engine`]) builds a stage per step over its runtime
/// and drives it through this trait.
#[async_trait]
pub trait Stage: Send {
    /// What one step reports to the engine (whether to wait, what changed).
    type Outcome: Send;

    /// The stage's name, as in logs (`relayer::<name>`).
    fn name(&self) -> &'static str;

    /// One bounded step of the stage's work.
    async fn execute(&mut self, ctx: StageContext<'_>) -> Result<Self::Outcome>;

    /// Undoes this stage's stored work for source blocks `to_block` and above. The
    /// default has nothing to undo.
    async fn unwind(&mut self, ctx: StageContext<'_>, to_block: u64) -> Result<()> {
        let _ = (ctx, to_block);
        Ok(())
    }
}
