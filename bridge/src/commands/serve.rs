//! `bridge serve --config FILE [--listen ADDR]`: a read-only lookup node.
//!
//! Opens the store read-only (another instance's `bridge run` writes it) and holds no
//! relayer or attestor key. `POST /api/v1/anchor` is enabled only when the config lists
//! token hashes (`api.anchor_tokens_sha256`) AND names an anchor key
//! (`keys.anchor_key_env`); otherwise it answers 403.

use tokio_util::sync::CancellationToken;

use crate::{
    api::{self, AnchorAccess, ApiState},
    cli::ServeArgs,
    commands::devnet::wait_for_shutdown,
    config::Settings,
    exit::{CmdResult, Failure},
    secrets,
};

pub(crate) async fn run(args: ServeArgs) -> CmdResult {
    let mut settings = Settings::load(&args.config)?;
    let listen = args.listen.or(settings.api.listen).ok_or_else(|| {
        Failure::usage("no address to listen on: set [api] listen in the config or pass --listen 127.0.0.1:8080")
    })?;
    let store = evidence_relayer::Store::connect_read_only(&settings.store.url)
        .await
        .map_err(|e| {
            Failure::usage(format!(
                "cannot open store {} read-only: {e}",
                evidence_relayer::store::redact(&settings.store.url)
            ))
        })?;
    // The address served is the lookup page's when no public URL is configured (the
    // certificate's QR code points there).
    settings.api.listen = Some(listen);
    let tokens = settings.api.token_hashes()?;
    let anchor = match (&settings.keys.anchor_key_env, tokens.is_empty()) {
        (Some(_), false) => AnchorAccess::new(tokens, secrets::anchor_key(&settings.keys)?),
        _ => None,
    };
    let listener = api::bind(listen).await?;
    tracing::info!(target: "api", %listen, anchoring = anchor.is_some(), "read-only lookup node starting");
    let limits = settings.api.limits();
    let app = api::router(ApiState::new(store, settings, anchor));
    let shutdown = CancellationToken::new();
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        wait_for_shutdown().await;
        trigger.cancel();
    });
    api::serve(listener, app, limits, shutdown).await
}
