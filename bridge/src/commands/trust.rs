//! `bridge trust export --config FILE -o trust.json`: the trust root of every
//! configured mirror, read from the chains (see `crate::trust`).

use crate::{
    cli::TrustExportArgs,
    config::Settings,
    exit::{CmdResult, Failure},
    trust::{ExportOptions, export as export_root},
};

pub(crate) async fn export(args: TrustExportArgs) -> CmdResult {
    let settings = Settings::load(&args.config)?;
    let root = export_root(
        &settings,
        ExportOptions {
            pin_owner_sets: args.pin_owner_sets,
        },
    )
    .await?;
    let text = serde_json::to_string_pretty(&root)
        .map_err(|e| Failure::failed(format!("encoding the trust root: {e}")))?;
    std::fs::write(&args.output, format!("{text}\n"))
        .map_err(|e| Failure::usage(format!("cannot write {}: {e}", args.output.display())))?;
    let sets: usize = root
        .mirrors
        .iter()
        .flat_map(|m| &m.sources)
        .map(|s| s.sets.len())
        .sum();
    let unpinned_owner_sets = root
        .mirrors
        .iter()
        .flat_map(|m| &m.sources)
        .flat_map(|s| &s.sets)
        .filter(|s| {
            s.authorization == evidence_schemas::attestor_set::SetAuthorization::OwnerTimelock
                && !s.pinned
        })
        .count();
    println!(
        "trust root written to {}: {} mirror(s), {sets} attestor-set version(s), {} TSA root(s); first sets pinned — check them out of band before you rely on the file",
        args.output.display(),
        root.mirrors.len(),
        root.tsa_roots.len()
    );
    if unpinned_owner_sets > 0 {
        println!(
            "{unpinned_owner_sets} set(s) installed by an owner through the timelock are NOT pinned: bundles signed under them fail `verify --trust` until you pin them (--pin-owner-sets)"
        );
    }
    Ok(())
}
