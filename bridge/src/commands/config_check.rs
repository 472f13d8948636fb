//! `bridge config check --config FILE`: loads a config file through the same loader as
//! `bridge run` (TOML, `BRIDGE__` environment overrides, validation) and reports what it
//! found. Exit 0 when valid, 2 with the reason when not. Used by operators before a
//! restart (the systemd unit runs it as `ExecStartPre`) and by the test that parses
//! every config file the repository ships.

use crate::{cli::ConfigCheckArgs, config::Settings, exit::CmdResult, output::print_json};

pub(crate) fn run(args: &ConfigCheckArgs) -> CmdResult {
    let settings = Settings::load(&args.config)?;
    if args.json {
        let mut shown = settings.clone();
        shown.store.url = redact_password(&shown.store.url);
        return print_json(&shown);
    }
    let routes: Vec<String> = settings.effective_routes().iter().map(|r| format!("{} -> {}", r.from, r.to)).collect();
    println!("{}: valid", args.config.display());
    println!("  store:  {}", redact_password(&settings.store.url));
    println!("  chains: {}", settings.chain_names().join(", "));
    println!("  routes: {}", routes.join(", "));
    for t in &settings.timestamping {
        let roots = crate::timestamping::configured_roots(std::slice::from_ref(t))?;
        println!("  timestamping: {} at {} (roots: {})", t.name, t.url, roots.subjects().join("; "));
    }
    Ok(())
}

/// `scheme://user:secret@host/db` → `scheme://user:***@host/db`; other URLs unchanged.
fn redact_password(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        let (authority, path) = rest.split_once('/').map_or((rest, None), |(a, p)| (a, Some(p)));
        if let Some((creds, host)) = authority.rsplit_once('@')
            && let Some((user, _)) = creds.split_once(':')
        {
            let path = path.map(|p| format!("/{p}")).unwrap_or_default();
            return format!("{scheme}://{user}:***@{host}{path}");
        }
    }
    url.to_owned()
}

#[cfg(test)]
mod tests {
    use super::redact_password;

    #[test]
    fn passwords_are_never_printed() {
        assert_eq!(redact_password("postgres://bridge:s3cr3t@db:5432/bridge"), "postgres://bridge:***@db:5432/bridge");
        assert_eq!(redact_password("postgres://bridge@db/bridge"), "postgres://bridge@db/bridge");
        assert_eq!(redact_password("sqlite:///var/lib/b.sqlite?mode=rwc"), "sqlite:///var/lib/b.sqlite?mode=rwc");
    }
}
