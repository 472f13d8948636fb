//! The report of `bridge verify` ([`super::verify`]): its checks, its verdict, how it
//! is printed and the exit code it ends with.

use std::path::Path;

use evidence_schemas::{ProofBundle, trust::TrustRoot};
use serde::Serialize;

use crate::exit::{CmdResult, Failure};

/// One verification check and its outcome.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Check {
    /// Check name: `offline` or the failed offline check (`record_id`, `inclusion`, …),
    /// then `trust_root` or the failed trust check (`trust_mirror`, `trust_source`,
    /// `trust_version`, `trust_members`, `trust_chain`) with `--trust`, then the online
    /// checks in order (`mirror`, `root`, `attestor_set`, `mirror_tx`, `source`,
    /// `source_revocation`).
    pub(crate) check: &'static str,
    /// Whether it passed.
    pub(crate) ok: bool,
    /// It was not run to an answer: the chain it needs could not be asked (`ok` is
    /// false, but nothing was refuted).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    #[schema(required = false)]
    pub(crate) unchecked: bool,
    /// What was checked, or why it failed.
    pub(crate) detail: String,
}

impl Check {
    /// A check that could not be run because a chain did not answer.
    pub(crate) fn could_not_check(check: &'static str, detail: String) -> Self {
        Self {
            check,
            ok: false,
            unchecked: true,
            detail: format!("COULD NOT CHECK: {detail}"),
        }
    }

    /// `check` failed with `e`: a node that could not be asked (transport failure, an
    /// RPC error) is "could not check"; any other answer fails the check.
    pub(crate) fn from_adapter_error(
        check: &'static str,
        chain: &str,
        e: &evidence_adapters::AdapterError,
    ) -> Self {
        use evidence_adapters::AdapterError as E;
        match e {
            E::Rpc { .. } | E::RangeTooLarge { .. } => {
                Self::could_not_check(check, format!("{chain} did not answer: {e}"))
            }
            other => Self {
                check,
                ok: false,
                unchecked: false,
                detail: format!("{chain} could not answer: {other}"),
            },
        }
    }
}

/// The outcome of verifying a bundle.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Report {
    /// Every check passed AND the signers are pinned (by a trust root or by the
    /// destination mirror). A revoked record's bundle can be valid: then `revoked` is
    /// true and `status` is `revoked`, never `valid`.
    pub(crate) valid: bool,
    /// The proven record carries a proven revocation.
    pub(crate) revoked: bool,
    /// `valid`, `revoked`, `invalid`, `unpinned` (every check run passed, but nothing
    /// pinned the signer set: offline without a trust root) or `unchecked` (no check
    /// failed, but a chain needed by one could not be asked: exit 5).
    pub(crate) status: &'static str,
    /// Whether the checks that need chains were run.
    pub(crate) online: bool,
    /// Whether the bundle's attestor set is confirmed: by the trust root (check
    /// `trust_root`) or by the destination mirror (check `mirror`: it holds the root).
    pub(crate) signers_pinned: bool,
    /// The trust-root file checked against, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) trust_root: Option<String>,
    /// The bundle's record id.
    pub(crate) record_id: String,
    /// CAIP-2 id of the record's chain.
    pub(crate) source_chain: String,
    /// CAIP-2 id of the bundle's destination.
    pub(crate) destination_chain: String,
    /// The revocation's record id, when the bundle carries one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) revocation_record_id: Option<String>,
    /// The checks, in order.
    pub(crate) checks: Vec<Check>,
    /// The RFC 3161 timestamps that verified (TSA, time), in the bundle's order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) timestamps: Vec<super::verify_tsa::VerifiedTimestamp>,
    /// Tokens the bundle carries that were not checked (no TSA root was given).
    #[serde(skip_serializing_if = "is_zero")]
    pub(crate) timestamps_unchecked: usize,
    /// The first failed check, when not valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) failed_check: Option<&'static str>,
    /// The failed check found the bundle malformed (exit 2 rather than 1).
    #[serde(skip)]
    pub(crate) malformed: bool,
}

impl Report {
    /// The offline checks of `bundle` (record id, inclusion proof, signatures,
    /// revocation).
    pub(crate) fn offline(bundle: &ProofBundle) -> Self {
        let mut report = Report {
            valid: false,
            revoked: false,
            status: "invalid",
            online: false,
            signers_pinned: false,
            trust_root: None,
            record_id: bundle.record_id.to_string(),
            source_chain: bundle.record.source.chain.to_string(),
            destination_chain: bundle.destination.chain.to_string(),
            revocation_record_id: bundle.revocation.as_ref().map(|r| r.record_id.to_string()),
            checks: Vec::new(),
            timestamps: Vec::new(),
            timestamps_unchecked: 0,
            failed_check: None,
            malformed: false,
        };
        match bundle.verify_offline() {
            Ok(signers) => report.checks.push(Check {
                check: "offline",
                ok: true,
                unchecked: false,
                detail: format!(
                    "record id, inclusion proof (leaf {} of {}), {} attestor signature(s) of threshold {} by set version {} as the bundle lists it{}",
                    bundle.leaf_index,
                    bundle.checkpoint.size,
                    signers.len(),
                    bundle.destination.threshold,
                    bundle.destination.attestor_set_version,
                    bundle.revocation.as_ref().map_or_else(String::new, |r| format!(
                        ", revocation {} (leaf {}) proven in the same checkpoint",
                        r.record_id, r.leaf_index
                    ))
                ),
            }),
            Err(e) => {
                report.malformed = e.is_malformed();
                report.checks.push(Check { check: e.check(), ok: false, unchecked: false, detail: e.to_string() });
            }
        }
        report.finish(bundle);
        report
    }

    /// Adds the `trust_root` check of `bundle` against `root` (read from `file`).
    pub(crate) fn check_trust(&mut self, bundle: &ProofBundle, root: &TrustRoot, file: &Path) {
        self.trust_root = Some(file.display().to_string());
        self.checks.push(match root.check_bundle(bundle) {
            Ok(trusted) => Check {
                check: "trust_root",
                ok: true,
                unchecked: false,
                detail: format!(
                    "signers pinned by {}: {}",
                    file.display(),
                    trusted.describe()
                ),
            },
            Err(e) => Check {
                check: e.check(),
                ok: false,
                unchecked: false,
                detail: format!("{}: {e}", file.display()),
            },
        });
        self.finish(bundle);
    }

    /// Sets `valid`, `revoked`, `signers_pinned`, `status` and `failed_check` from the
    /// checks.
    pub(crate) fn finish(&mut self, bundle: &ProofBundle) {
        let all_ok = self.checks.iter().all(|c| c.ok);
        let refuted = self.checks.iter().any(|c| !c.ok && !c.unchecked);
        self.signers_pinned = all_ok
            && self
                .checks
                .iter()
                .any(|c| c.ok && matches!(c.check, "trust_root" | "mirror"));
        self.valid = all_ok && self.signers_pinned;
        self.revoked = self.valid && bundle.is_revoked();
        self.status = match (all_ok, self.signers_pinned, self.revoked) {
            (false, _, _) if !refuted => "unchecked",
            (false, _, _) => "invalid",
            (true, false, _) => "unpinned",
            (true, true, true) => "revoked",
            (true, true, false) => "valid",
        };
        self.failed_check = self.checks.iter().find(|c| !c.ok).map(|c| c.check);
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Exit code of a bundle whose proof holds but whose record is revoked.
pub(crate) const EXIT_REVOKED: u8 = 3;

/// Exit code of a bundle that is self-consistent but whose signers nothing pinned.
pub(crate) const EXIT_UNPINNED: u8 = 4;

/// Exit code of a bundle that could not be checked: no check failed, but a chain the
/// online checks need did not answer.
pub(crate) const EXIT_UNCHECKED: u8 = 5;

pub(super) fn print_report(report: &Report, bundle: &ProofBundle) {
    for c in &report.checks {
        let mark = match (c.ok, c.unchecked) {
            (true, _) => "ok  ",
            (false, true) => "????",
            (false, false) => "FAIL",
        };
        println!(
            "{mark} {:<14} {}",
            c.check,
            evidence_adapters::redact::scrub(&c.detail)
        );
    }
    super::verify_tsa::print_timestamps(report);
    let trust = report
        .checks
        .iter()
        .find(|c| c.check == "trust_root")
        .map(|c| c.detail.as_str());
    match report.status {
        "valid" => match (trust, report.online) {
            (Some(t), true) => println!("bundle VALID ({t}; and by the destination mirror)"),
            (Some(t), false) => println!("bundle VALID (offline, {t})"),
            (None, _) => println!("bundle VALID (the destination mirror holds the root)"),
        },
        "revoked" => println!(
            "record REVOKED: the proof holds, and so does the proof of its revocation {}",
            report.revocation_record_id.as_deref().unwrap_or_default()
        ),
        "unpinned" => {
            let d = &bundle.destination;
            let members: Vec<String> = d.attestors.iter().map(ToString::to_string).collect();
            println!(
                "signer set NOT PINNED: version {} ({} of {}: {}) is only what the bundle itself claims",
                d.attestor_set_version,
                d.threshold,
                members.len(),
                members.join(", ")
            );
            println!(
                "bundle NOT VERIFIED: record {} is included in a checkpoint whose signatures are consistent with the set the bundle lists{}, but nothing says that set is the mirror's; anyone can make such a bundle with keys of their own. Verify with --trust trust.json (`bridge trust export`) or online with --config.",
                report.record_id,
                if bundle.is_revoked() {
                    " (it also carries a revocation)"
                } else {
                    ""
                }
            );
        }
        "unchecked" => println!(
            "bundle COULD NOT BE CHECKED: the offline checks hold, but a chain the online checks need did not answer; this is not a verdict (neither valid nor invalid): retry when the node is reachable, or verify offline with --trust"
        ),
        _ if report.malformed => println!("bundle MALFORMED"),
        _ => println!("bundle INVALID"),
    }
}

/// The exit code of a finished report.
pub(super) fn outcome(report: &Report) -> CmdResult {
    match report.status {
        "valid" => Ok(()),
        "revoked" => Err(Failure {
            code: EXIT_REVOKED,
            message: format!(
                "record {} is REVOKED (revocation {}); exit code {EXIT_REVOKED}",
                report.record_id,
                report.revocation_record_id.as_deref().unwrap_or_default()
            ),
        }),
        "unpinned" => Err(Failure {
            code: EXIT_UNPINNED,
            message: format!(
                "the bundle's signer set is NOT pinned: give --trust FILE (a trust root) or verify online with --config; exit code {EXIT_UNPINNED}"
            ),
        }),
        "unchecked" => {
            let unchecked: Vec<_> = report
                .checks
                .iter()
                .filter(|c| c.unchecked)
                .map(|c| c.check)
                .collect();
            Err(Failure {
                code: EXIT_UNCHECKED,
                message: format!(
                    "could not check {}: a chain did not answer (see the report); not a verdict; exit code {EXIT_UNCHECKED}",
                    unchecked.join(", ")
                ),
            })
        }
        _ => {
            let failed: Vec<_> = report
                .checks
                .iter()
                .filter(|c| !c.ok)
                .map(|c| c.check)
                .collect();
            let message = format!("verification failed: check(s) {}", failed.join(", "));
            Err(if report.malformed {
                Failure::usage(format!("malformed bundle: {message}"))
            } else {
                Failure::failed(message)
            })
        }
    }
}
