//! `bridge config check --config FILE`: loads a config file through the same loader as
//! `bridge run` (TOML, `BRIDGE__` environment overrides, validation) and reports what it
//! found. Exit 0 when valid, 2 with the reason when not. Used by operators before a
//! restart and by the test that parses every config file the repository ships.

use crate::{cli::ConfigCheckArgs, config::Settings, exit::CmdResult, output::print_json};

pub(crate) fn run(args: &ConfigCheckArgs) -> CmdResult {
    let settings = Settings::load(&args.config)?;
    if args.json {
        return print_json(&settings);
    }
    let routes: Vec<String> = settings.effective_routes().iter().map(|r| format!("{} -> {}", r.from, r.to)).collect();
    let store = settings.store.url.split(':').next().unwrap_or_default();
    println!("{}: valid", args.config.display());
    println!("  store:  {store}");
    println!("  chains: {}", settings.chain_names().join(", "));
    println!("  routes: {}", routes.join(", "));
    Ok(())
}
