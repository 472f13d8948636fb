//! `bridge run --config FILE`: index, attest and relay until interrupted.

use evidence_relayer::engine::Engine;
use tokio_util::sync::CancellationToken;

use crate::{
    cli::ConfigArg,
    commands::devnet::wait_for_shutdown,
    config::Settings,
    context,
    exit::{CmdResult, Failure},
    secrets,
};

pub(crate) async fn run(args: ConfigArg) -> CmdResult {
    let settings = Settings::load(&args.config)?;
    let relayer_key = secrets::relayer_key(&settings.keys)?;
    let attestors = secrets::attestor_keys(&settings.keys)?;
    let store = context::open_store(&settings).await?;
    let (chains, routes) = context::engine_parts(&settings, &relayer_key).await?;
    tracing::info!(
        chains = chains.len(),
        routes = routes.len(),
        attestors = attestors.len(),
        relayer = %relayer_key.address(),
        "bridge starting"
    );
    let engine = Engine::new(store, chains, routes, attestors, context::engine_settings(&settings))
        .await
        .map_err(|e| Failure::usage(format!("cannot start the engine: {e}")))?
        .with_cluster(settings.cluster.to_engine()?);
    let shutdown = CancellationToken::new();
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        wait_for_shutdown().await;
        tracing::info!("shutdown requested");
        trigger.cancel();
    });
    tokio::spawn(crate::progress::watch_backfill(settings.store.url.clone(), shutdown.clone()));
    engine.run(shutdown).await.map_err(|e| Failure::failed(format!("engine stopped: {e}")))?;
    tracing::info!("bridge stopped");
    Ok(())
}
