//! The `timestamp` checks of `bridge verify`: each RFC 3161 token a (v3) bundle
//! carries, checked offline against the TSA roots of the trust root (`tsa_roots`) and
//! of `--tsa-root FILE` ([`ProofBundle::verify_timestamps`]).
//!
//! A token that verifies is listed in the report's `timestamps` (TSA, time, subject),
//! not among the checks, so the proof's checks stay the same with or without tokens. A
//! token that fails fails the bundle (check `timestamp_<check>`, e.g.
//! `timestamp_imprint`, exit 1; an unreadable token, `timestamp_token`, exit 2). With no
//! TSA root given, tokens are counted in `timestamps_unchecked`: the bundle's proof
//! does not depend on them.

use std::path::Path;

use evidence_schemas::{ProofBundle, timestamp::TsaRoots, trust::TrustRoot};
use serde::Serialize;

use super::verify::{Check, Report, read_capped};
use crate::exit::Failure;

/// A token whose check passed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct VerifiedTimestamp {
    /// The TSA's name as the bundle gives it.
    pub(crate) tsa: String,
    /// The TSA's time (the token's genTime), RFC 3339.
    pub(crate) gen_time: String,
    /// The TSA certificate's subject.
    pub(crate) tsa_subject: String,
}

/// The TSA roots to check against: the trust root's `tsa_roots`, `--tsa-root`, and the
/// `[[timestamping]]` roots of `--config` when one is given.
pub(crate) fn roots(
    trust: Option<&TrustRoot>,
    file: Option<&Path>,
    config: Option<&Path>,
) -> Result<TsaRoots, Failure> {
    let mut roots = match trust {
        Some(t) => t
            .tsa_roots()
            .map_err(|e| Failure::usage(format!("trust root tsa_roots: {e}")))?,
        None => TsaRoots::default(),
    };
    if let Some(config) = config {
        let settings = crate::config::Settings::load(config)?;
        roots.extend(crate::timestamping::configured_roots(
            &settings.timestamping,
        )?);
    }
    if let Some(path) = file {
        let text = read_capped(path, "TSA root certificate")?;
        roots.extend(
            TsaRoots::from_pem(&text)
                .map_err(|e| Failure::usage(format!("--tsa-root {}: {e}", path.display())))?,
        );
    }
    Ok(roots)
}

fn failed_check(check: &str) -> &'static str {
    match check {
        "status" => "timestamp_status",
        "imprint" => "timestamp_imprint",
        "nonce" => "timestamp_nonce",
        "signature" => "timestamp_signature",
        "usage" => "timestamp_usage",
        "chain" => "timestamp_chain",
        "validity" => "timestamp_validity",
        "gen_time" => "timestamp_gen_time",
        _ => "timestamp_token",
    }
}

/// Adds one check per token of `bundle` to `report` (none for a bundle without tokens).
pub(crate) fn check_timestamps(report: &mut Report, bundle: &ProofBundle, roots: &TsaRoots) {
    if bundle.timestamps.is_empty() {
        return;
    }
    if roots.is_empty() {
        report.timestamps_unchecked = bundle.timestamps.len();
        return;
    }
    let results = match bundle.verify_timestamps(roots) {
        Ok(r) => r,
        Err(e) => {
            report.malformed = e.is_malformed();
            report.checks.push(Check {
                check: "timestamp_token",
                ok: false,
                unchecked: false,
                detail: e.to_string(),
            });
            return;
        }
    };
    for (t, result) in bundle.timestamps.iter().zip(results) {
        match result {
            Ok(v) => {
                let gen_time =
                    jiff::Timestamp::from_second(i64::try_from(v.gen_time).unwrap_or(i64::MAX))
                        .map_or_else(|_| v.gen_time.to_string(), |t| t.to_string());
                report.timestamps.push(VerifiedTimestamp {
                    tsa: t.tsa.clone(),
                    gen_time,
                    tsa_subject: v.tsa_subject,
                });
            }
            Err(e) => {
                report.malformed |= e.is_malformed();
                report.checks.push(Check {
                    check: failed_check(e.check()),
                    ok: false,
                    unchecked: false,
                    detail: format!("{}: {e}", t.tsa),
                });
            }
        }
    }
}

/// The text lines of the report's timestamps.
pub(crate) fn print_timestamps(report: &Report) {
    for t in &report.timestamps {
        println!(
            "ok   {:<14} {}: RFC 3161 time {}, signed by {} (over the checkpoint's EIP-712 hash)",
            "timestamp", t.tsa, t.gen_time, t.tsa_subject
        );
    }
    if report.timestamps_unchecked > 0 {
        println!(
            "note {:<14} {} RFC 3161 token(s) NOT checked: no TSA root given (--tsa-root FILE, or a trust root with tsa_roots)",
            "timestamp", report.timestamps_unchecked
        );
    }
}
