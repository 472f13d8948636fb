//! `bridge run --config FILE`: index, attest and relay until interrupted, serving the
//! HTTP API when `[api] listen` is set.
//!
//! An instance without a relayer key (or with `attestation.attest_only = true`) is
//! attest-only: it indexes its chains from its own nodes, checkpoints, serves
//! signatures on the attestor endpoint (part of the API) and watches what the mirrors
//! accepted, but never submits. A relaying instance gathers signatures from the
//! `[[attestors]]` it is given.

use std::time::Duration;

use evidence_relayer::{
    attestors::{RemoteAttestor, RemoteAttestors},
    engine::Engine,
};
use tokio_util::sync::CancellationToken;

use crate::{
    api::{self, AnchorAccess, ApiState},
    cli::ConfigArg,
    commands::devnet::wait_for_shutdown,
    config::Settings,
    context,
    exit::{CmdResult, Failure},
    secrets,
};

pub(crate) async fn run(args: ConfigArg) -> CmdResult {
    let settings = Settings::load(&args.config)?;
    let attest_only = settings.attest_only();
    // An attest-only instance holds no relayer key: its mirrors are only read.
    let relayer_key = if attest_only {
        None
    } else {
        Some(secrets::relayer_key(&settings.keys)?)
    };
    let attestors = secrets::attestor_keys(&settings.keys)?;
    if attest_only && attestors.is_empty() {
        return Err(Failure::usage(
            "this instance is attest-only (no relayer key, or attestation.attest_only = true) but holds no attestor key: set keys.attestor_keys_env",
        ));
    }
    // Bind before starting anything, so a port in use is reported at once.
    let listener = match settings.api.listen {
        Some(listen) => Some(api::bind(listen).await?),
        None => None,
    };
    let store = context::open_store(&settings).await?;
    let (chains, routes) = context::engine_parts(&settings, relayer_key.as_ref()).await?;
    tracing::info!(
        chains = chains.len(),
        routes = routes.len(),
        attestors = attestors.len(),
        remote_attestors = settings.attestors.len(),
        attest_only,
        relayer = %relayer_key.as_ref().map_or_else(|| "none".to_string(), |k| k.address().to_string()),
        "bridge starting"
    );
    let mut engine = Engine::new(
        store,
        chains,
        routes,
        attestors,
        context::engine_settings(&settings),
    )
    .await
    .map_err(|e| Failure::usage(format!("cannot start the engine: {e}")))?
    .with_cluster(settings.cluster.to_engine()?);
    if attest_only {
        engine = engine.attest_only();
    }
    if !settings.attestors.is_empty() {
        let remote = settings
            .attestors
            .iter()
            .map(|a| {
                Ok(RemoteAttestor {
                    url: a.url.clone(),
                    address: a.address,
                    token: a.token()?,
                })
            })
            .collect::<Result<_, crate::config::ConfigError>>()?;
        let client = RemoteAttestors::new(
            remote,
            Duration::from_millis(settings.attestation.request_timeout_ms),
        )
        .map_err(|e| Failure::usage(format!("attestors: {e}")))?;
        engine = engine.with_remote_attestors(client);
    }
    if !settings.timestamping.is_empty() && !attest_only {
        engine = engine.with_timestamping(crate::timestamping::clients(&settings.timestamping)?);
    }
    let shutdown = CancellationToken::new();
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        wait_for_shutdown().await;
        tracing::info!("shutdown requested");
        trigger.cancel();
    });
    tokio::spawn(crate::progress::watch_backfill(
        settings.store.url.clone(),
        shutdown.clone(),
    ));
    let server = match listener {
        Some(listener) => {
            let tokens = settings.api.token_hashes()?;
            let anchor = if tokens.is_empty() {
                None
            } else {
                AnchorAccess::new(tokens, secrets::anchor_key(&settings.keys)?)
            };
            let state = ApiState::new(engine.store().clone(), settings.clone(), anchor);
            let policy = settings.attestation.sign_policy()?;
            let attestor = api::attestor::router(engine.attestor_service(), &policy);
            let router = api::app(state, Some(attestor));
            Some(tokio::spawn(api::serve(
                listener,
                router,
                settings.api.limits(),
                shutdown.clone(),
            )))
        }
        None => None,
    };
    let result = engine.run(shutdown.clone()).await;
    shutdown.cancel();
    if let Some(server) = server {
        match server.await {
            Ok(Err(failure)) => return Err(failure),
            Err(e) => return Err(Failure::failed(format!("HTTP server task failed: {e}"))),
            Ok(Ok(())) => {}
        }
    }
    result.map_err(|e| Failure::failed(format!("engine stopped: {e}")))?;
    tracing::info!("bridge stopped");
    Ok(())
}
