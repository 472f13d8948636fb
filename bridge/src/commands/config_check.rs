//! `bridge config check --config FILE`: loads a config file through the same loader as
//! `bridge run` (TOML, `BRIDGE__` environment overrides, validation) and reports what it
//! found. Exit 0 when valid, 2 with the reason when not. Used by operators before a
//! restart (the systemd unit runs it as `ExecStartPre`) and by the test that parses
//! every config file the repository ships.

use evidence_adapters::redact::redact_url;

use crate::{cli::ConfigCheckArgs, config::Settings, exit::CmdResult, output::print_json_redacted};

pub(crate) fn run(args: &ConfigCheckArgs) -> CmdResult {
    let settings = Settings::load(&args.config)?;
    if args.json {
        return print_json_redacted(&redacted(&settings));
    }
    let routes: Vec<String> = settings
        .effective_routes()
        .iter()
        .map(|r| format!("{} -> {}", r.from, r.to))
        .collect();
    println!("{}: valid", args.config.display());
    println!("  store:  {}", redact_url(&settings.store.url));
    println!("  chains: {}", settings.chain_names().join(", "));
    for c in &settings.chains {
        println!(
            "    {}: {}",
            c.name,
            c.rpc
                .iter()
                .map(|u| redact_url(u))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    println!("  routes: {}", routes.join(", "));
    for t in &settings.timestamping {
        let roots = crate::timestamping::configured_roots(std::slice::from_ref(t))?;
        println!(
            "  timestamping: {} at {} (roots: {})",
            t.name,
            t.url,
            roots.subjects().join("; ")
        );
    }
    Ok(())
}

/// The settings with every URL's secrets masked: the store's password, the RPC URLs'
/// userinfo, key-like path segments and query values, the remote attestors' likewise.
fn redacted(settings: &Settings) -> Settings {
    let mut shown = settings.clone();
    shown.store.url = redact_url(&shown.store.url);
    for c in &mut shown.chains {
        c.rpc = c.rpc.iter().map(|u| redact_url(u)).collect();
    }
    for a in &mut shown.attestors {
        a.url = redact_url(&a.url);
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_never_printed() {
        assert_eq!(
            redact_url("postgres://bridge:s3cr3t@db:5432/bridge"),
            "postgres://bridge:***@db:5432/bridge"
        );
        assert_eq!(
            redact_url("postgres://bridge@db/bridge"),
            "postgres://bridge@db/bridge"
        );
        assert_eq!(
            redact_url("sqlite:///var/lib/b.sqlite?mode=rwc"),
            "sqlite:///var/lib/b.sqlite?mode=rwc"
        );
        assert_eq!(
            redact_url("https://u:pw@node.example/v3/KEY1"),
            "https://***@node.example/v3/***"
        );
    }
}
