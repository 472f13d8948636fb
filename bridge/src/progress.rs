//! A progress bar per chain while `bridge run` backfills many blocks or builds the log
//! tiles of a store from before them, shown only when stderr is a terminal (logs and
//! scripts never see it).

use std::{collections::HashMap, io::IsTerminal, time::Duration};

use evidence_relayer::store::Store;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use tokio_util::sync::CancellationToken;

/// Lag (in blocks) above which a chain counts as backfilling.
const BACKFILL_LAG: u64 = 500;

/// Watches the store and draws a bar for each chain that is far behind its head.
pub(crate) async fn watch_backfill(store_url: String, shutdown: CancellationToken) {
    if !std::io::stderr().is_terminal() {
        return;
    }
    let Ok(store) = Store::connect_read_only(&store_url).await else {
        return;
    };
    let bars = MultiProgress::new();
    let style = ProgressStyle::with_template(
        "{prefix:>10} [{bar:40}] block {pos}/{len} ({per_sec}, eta {eta})",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    let tile_style = ProgressStyle::with_template(
        "{prefix:>10} [{bar:40}] log tiles {pos}/{len} ({per_sec}, eta {eta})",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    let mut shown: HashMap<String, ProgressBar> = HashMap::new();
    let mut tiling: HashMap<String, ProgressBar> = HashMap::new();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
        // A store from before stored tiles is migrated first (see relayer::log).
        if let Ok(cursors) = store.load_cursors().await {
            for c in cursors {
                match tiling.get(&c.name) {
                    Some(bar) => {
                        bar.set_position(c.tiled_size);
                        if c.tiled_size >= c.log_size {
                            bar.finish_with_message("tiles built");
                        }
                    }
                    None if c.tiled_size < c.log_size => {
                        let bar = bars.add(
                            ProgressBar::new(c.log_size)
                                .with_style(tile_style.clone())
                                .with_prefix(c.name.clone()),
                        );
                        bar.set_position(c.tiled_size);
                        tiling.insert(c.name.clone(), bar);
                    }
                    None => {}
                }
            }
        }
        let Ok(status) = store.status().await else {
            continue;
        };
        for s in status {
            let Some(head) = s.head else { continue };
            match shown.get(&s.name) {
                Some(bar) => {
                    bar.set_length(head);
                    bar.set_position(s.cursor.min(head));
                    if s.lag == 0 {
                        bar.finish_with_message("caught up");
                    }
                }
                None if s.lag > BACKFILL_LAG => {
                    let bar = bars.add(
                        ProgressBar::new(head)
                            .with_style(style.clone())
                            .with_prefix(s.name.clone()),
                    );
                    bar.set_position(s.cursor);
                    shown.insert(s.name.clone(), bar);
                }
                None => {}
            }
        }
    }
    for bar in shown.values().chain(tiling.values()) {
        bar.abandon();
    }
}
