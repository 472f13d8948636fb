//! `bridge verify FILE [--config FILE]`: check a proof bundle, naming the failed check.

use evidence_adapters::MirrorClient;
use evidence_schemas::{ProofBundle, bundle::BUNDLE_VERSION};
use serde::Serialize;

use crate::{
    cli::VerifyArgs,
    config::{ChainSettings, Settings},
    context,
    exit::{CmdResult, Failure},
    output::print_json,
};

/// One verification check and its outcome.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Check {
    /// Check name: `offline` or the failed offline check (`record_id`, `inclusion`, …),
    /// then `mirror` and `root` when the destination mirror was asked.
    pub(crate) check: &'static str,
    /// Whether it passed.
    pub(crate) ok: bool,
    /// What was checked, or why it failed.
    pub(crate) detail: String,
}

/// The outcome of verifying a bundle.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Report {
    /// Every check passed.
    pub(crate) valid: bool,
    /// The bundle's record id.
    pub(crate) record_id: String,
    /// CAIP-2 id of the record's chain.
    pub(crate) source_chain: String,
    /// CAIP-2 id of the bundle's destination.
    pub(crate) destination_chain: String,
    /// The checks, in order.
    pub(crate) checks: Vec<Check>,
    /// The first failed check, when not valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) failed_check: Option<&'static str>,
}

impl Report {
    /// The offline checks of `bundle` (record id, inclusion proof, signatures).
    pub(crate) fn offline(bundle: &ProofBundle) -> Self {
        let mut report = Report {
            valid: false,
            record_id: bundle.record_id.to_string(),
            source_chain: bundle.record.source.chain.to_string(),
            destination_chain: bundle.destination.chain.to_string(),
            checks: Vec::new(),
            failed_check: None,
        };
        match bundle.verify_offline() {
            Ok(signers) => report.checks.push(Check {
                check: "offline",
                ok: true,
                detail: format!(
                    "record id, inclusion proof (leaf {} of {}), {} attestor signature(s) of threshold {}",
                    bundle.leaf_index,
                    bundle.checkpoint.size,
                    signers.len(),
                    bundle.destination.threshold
                ),
            }),
            Err(e) => report.checks.push(Check { check: e.check(), ok: false, detail: e.to_string() }),
        }
        report.finish();
        report
    }

    /// Sets `valid` and `failed_check` from the checks.
    pub(crate) fn finish(&mut self) {
        self.valid = self.checks.iter().all(|c| c.ok);
        self.failed_check = self.checks.iter().find(|c| !c.ok).map(|c| c.check);
    }
}

/// Reads and parses a bundle; a file that is not a bundle is bad input (exit 2).
pub(crate) fn read_bundle(path: &std::path::Path) -> Result<ProofBundle, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("cannot read bundle {}: {e}", path.display())))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Failure::usage(format!("{} is not valid JSON ({e}); is the file truncated?", path.display()))
    })?;
    if let Some(v) = value.get("version").and_then(serde_json::Value::as_u64)
        && v != BUNDLE_VERSION
    {
        return Err(Failure::usage(format!("{}: bundle version {v}, this build reads version {BUNDLE_VERSION}", path.display())));
    }
    serde_json::from_value(value)
        .map_err(|e| Failure::usage(format!("{} is not a proof bundle: {e}", path.display())))
}

pub(crate) async fn run(args: VerifyArgs) -> CmdResult {
    let bundle = read_bundle(&args.bundle)?;
    let mut report = Report::offline(&bundle);
    if report.valid
        && let Some(config) = &args.config
    {
        let settings = Settings::load(config)?;
        let dest = destination_of(&settings, &bundle)?;
        let client = context::read_only_mirror(dest).await?;
        for check in online_checks(dest, client.as_ref(), &bundle).await? {
            report.checks.push(check);
        }
    }
    report.finish();
    if args.json {
        print_json(&report)?;
    } else {
        for c in &report.checks {
            println!("{} {:<12} {}", if c.ok { "ok  " } else { "FAIL" }, c.check, c.detail);
        }
        println!("{}", if report.valid { "bundle VALID" } else { "bundle INVALID" });
    }
    if report.valid {
        Ok(())
    } else {
        let failed: Vec<_> = report.checks.iter().filter(|c| !c.ok).map(|c| c.check).collect();
        Err(Failure::failed(format!("verification failed: check(s) {}", failed.join(", "))))
    }
}

/// The configured chain that is the bundle's destination.
pub(crate) fn destination_of<'a>(settings: &'a Settings, bundle: &ProofBundle) -> Result<&'a ChainSettings, Failure> {
    settings.chains.iter().find(|c| c.chain_id == bundle.destination.chain).ok_or_else(|| {
        Failure::usage(format!(
            "the bundle's destination {} is not a chain in this config (chains: {})",
            bundle.destination.chain,
            settings.chain_names().join(", ")
        ))
    })
}

/// Asks the destination mirror (`dest`, read through `client`) whether it accepts the
/// proof and holds the same root.
pub(crate) async fn online_checks(
    dest: &ChainSettings,
    client: &dyn MirrorClient,
    bundle: &ProofBundle,
) -> Result<Vec<Check>, Failure> {
    let mut checks = Vec::new();
    if dest.mirror != bundle.destination.mirror {
        checks.push(Check {
            check: "mirror",
            ok: false,
            detail: format!("bundle names mirror {}, the config's mirror on {} is {}", bundle.destination.mirror, dest.name, dest.mirror),
        });
        return Ok(checks);
    }
    let source = &bundle.checkpoint.source_chain;
    let ok = client
        .verify_record(source, bundle.checkpoint.size, bundle.record_id, bundle.leaf_index, &bundle.inclusion_proof)
        .await
        .map_err(|e| Failure::failed(format!("cannot ask the mirror on {}: {e}", dest.name)))?;
    checks.push(Check {
        check: "mirror",
        ok,
        detail: if ok {
            format!("{} verifyRecord returned true at size {}", dest.name, bundle.checkpoint.size)
        } else {
            format!("{} verifyRecord returned false: the mirror has no matching root at size {}", dest.name, bundle.checkpoint.size)
        },
    });
    let root = client
        .fetch_root_at(source, bundle.checkpoint.size)
        .await
        .map_err(|e| Failure::failed(format!("cannot ask the mirror on {}: {e}", dest.name)))?;
    checks.push(Check {
        check: "root",
        ok: root == bundle.checkpoint.root,
        detail: format!("mirror root at size {}: {root}", bundle.checkpoint.size),
    });
    Ok(checks)
}
