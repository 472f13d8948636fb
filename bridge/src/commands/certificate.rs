//! `bridge certificate RECORD_ID --to CHAIN -o cert.pdf`: write an evidence certificate
//! (see [`crate::certificate`]) with the proof bundle on CHAIN attached; the other chains
//! the record is provable on are listed with their own checkpoint and attestor set.

use evidence_schemas::digest::parse_b256;

use crate::{
    certificate::{self, Fonts, font::font_path},
    cli::ProofArgs,
    commands::proof::build_bundle,
    config::Settings,
    context,
    exit::{CmdResult, Failure},
    output::print_json,
};

pub(crate) async fn run(args: ProofArgs) -> CmdResult {
    let settings = Settings::load(&args.config)?;
    let record_id = parse_b256("record id", &args.record_id)?;
    let dest = settings.chain(&args.to)?.clone();
    let base = settings.api.lookup_base().ok_or_else(|| {
        Failure::usage("no address of the lookup page for the certificate's QR code: set [api] public_url (or [api] listen) in the config")
    })?;
    let fonts =
        Fonts::load(&font_path(settings.certificate.font.as_deref())).map_err(Failure::usage)?;
    let store = context::open_store(&settings).await?;
    let view = store
        .load_record(record_id)
        .await
        .map_err(|e| Failure::failed(format!("reading the store: {e}")))?
        .ok_or_else(|| Failure::failed(format!("record {record_id} is not known to this relayer (check the id, or whether its chain is indexed)")))?;
    let primary = build_bundle(&store, record_id, &dest).await?;
    let store = &store;
    let others = certificate::other_bundles(
        &view,
        &dest.chain_id,
        &settings.chains,
        |chain| async move {
            build_bundle(store, record_id, chain)
                .await
                .map_err(|f| f.message)
        },
    )
    .await;
    let roots = crate::timestamping::configured_roots(&settings.timestamping)
        .map_err(|e| Failure::usage(e.to_string()))?;
    let mut req = certificate::Request::new(view, primary, others, &settings.chains, base);
    req.timestamps = certificate::verified_times(&req.primary, &roots);
    let (cert, pdf) = certificate::issue(req, fonts)
        .await
        .map_err(|e| Failure::failed(format!("rendering the certificate: {e}")))?;
    std::fs::write(&args.output, &pdf)
        .map_err(|e| Failure::usage(format!("cannot write {}: {e}", args.output.display())))?;
    let provable: Vec<&str> = cert
        .provable
        .iter()
        .map(|p| p.chain_name.as_str())
        .collect();
    if args.json {
        print_json(&serde_json::json!({
            "record_id": record_id,
            "digest": cert.digest,
            "destination": dest.name,
            "provable_on": provable,
            "revoked": !matches!(cert.revocation, certificate::model::RevocationStatus::NotRevoked),
            "lookup_url": cert.lookup_url,
            "bytes": pdf.len(),
            "output": args.output,
        }))?;
    } else {
        println!(
            "wrote {} ({} KiB): evidence certificate of record {record_id} (digest {}), provable on {}; the proof bundle on {} is attached (check it: bridge verify {})",
            args.output.display(),
            pdf.len().div_ceil(1024),
            cert.digest,
            provable.join(", "),
            dest.name,
            args.output.display()
        );
    }
    Ok(())
}
