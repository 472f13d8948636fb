//! Redaction of URLs, for every message, log line, report and answer that may show one.
//!
//! Hosted node providers put the API key in the URL (`https://user:pass@host/v3/KEY`,
//! `https://host/KEY/`, `?apikey=…`), and database URLs carry passwords. Nothing this
//! project prints may contain them, so there is one rule, applied everywhere:
//!
//! - [`redact_url`] masks one URL: for HTTP(S) URLs (and any scheme but a database's)
//!   the userinfo, every path segment that is not a short plain word (`v3`, `rpc`,
//!   `api`, …) and every query value; for database URLs (PostgreSQL, SQLite) the
//!   password and secret-looking query parameters, keeping the user, host and database,
//!   which operators need to see.
//! - [`scrub`] finds every `scheme://…` in free text (an alloy or reqwest error embeds
//!   the URL it failed on) and masks each with [`redact_url`].
//!
//! Both are idempotent: redacting a redacted URL changes nothing.

use std::borrow::Cow;

/// What a masked part is replaced with.
pub const MASK: &str = "***";

/// Query parameters whose value is masked in any URL (HTTP URLs mask every value).
const SECRET_PARAMS: &[&str] = &[
    "password",
    "pass",
    "pwd",
    "sslpassword",
    "token",
    "key",
    "apikey",
    "api_key",
    "secret",
    "auth",
];

/// `raw` with its secrets masked (see the module doc). Text without `://` is returned
/// unchanged: it has no place for userinfo.
pub fn redact_url(raw: &str) -> String {
    let Some((scheme, rest)) = raw.split_once("://") else {
        return raw.to_owned();
    };
    // Database URLs keep what an operator needs; any other scheme is treated as a web
    // URL, the strict way.
    let web = !matches!(
        scheme.to_ascii_lowercase().as_str(),
        "postgres" | "postgresql" | "sqlite" | "mysql" | "mariadb"
    );
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let host = match authority.rsplit_once('@') {
        Some((_, host)) if web => format!("{MASK}@{host}"),
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:{MASK}@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_owned(),
    };
    // The fragment never reaches a server; drop it rather than judge it.
    let tail = tail.split_once('#').map_or(tail, |(t, _)| t);
    let (path, query) = tail
        .split_once('?')
        .map_or((tail, None), |(p, q)| (p, Some(q)));
    let path = if web {
        path.split('/')
            .map(|seg| {
                if seg.is_empty() || plain_word(seg) {
                    seg
                } else {
                    MASK
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    } else {
        path.to_owned()
    };
    let mut out = format!("{scheme}://{host}{path}");
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if web || SECRET_PARAMS.contains(&k.to_ascii_lowercase().as_str()) => {
                    format!("{k}={MASK}")
                }
                Some(_) => p.to_owned(),
                None if web && !p.is_empty() && p != MASK => MASK.to_owned(),
                None => p.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

/// A path segment that cannot be a key: a short lowercase word (`rpc`, `eth`, `api`,
/// `attestor`) that does not look like hex (`deadbeef`), or a version (`v1`, `v3`).
fn plain_word(seg: &str) -> bool {
    let hexlike = seg.len() >= 4 && seg.bytes().all(|b| b.is_ascii_hexdigit());
    let word = seg.len() <= 12
        && !hexlike
        && seg
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'-' || b == b'_');
    let version = seg.len() <= 4
        && seg.starts_with('v')
        && seg.len() > 1
        && seg[1..].bytes().all(|b| b.is_ascii_digit());
    word || version
}

/// `text` with every URL in it masked by [`redact_url`]. Borrowed when there is none.
pub fn scrub(text: &str) -> Cow<'_, str> {
    if !text.contains("://") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let before = &rest[..at];
        let scheme_len = before
            .bytes()
            .rev()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
            .count();
        let start = at - scheme_len;
        let after = &rest[at + 3..];
        let end = after
            .find(|c: char| {
                c.is_whitespace()
                    || matches!(
                        c,
                        '"' | '\'' | '`' | '<' | '>' | '(' | ')' | '\\' | ',' | ';' | '{' | '}'
                    )
            })
            .unwrap_or(after.len());
        out.push_str(&rest[..start]);
        if scheme_len == 0 {
            out.push_str("://");
            out.push_str(&after[..end]);
        } else {
            out.push_str(&redact_url(&rest[start..at + 3 + end]));
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosted_provider_urls_lose_every_secret() {
        for (raw, shown) in [
            (
                "https://user:s3cret@eth.example.com/v3/KEY123?apikey=abc&x",
                "https://***@eth.example.com/v3/***?apikey=***&***",
            ),
            (
                "https://mainnet.infura.io/v3/0123456789abcdef0123456789abcdef",
                "https://mainnet.infura.io/v3/***",
            ),
            (
                "https://rpc.ankr.com/eth/deadbeefdeadbeef",
                "https://rpc.ankr.com/eth/***",
            ),
            ("https://h.example/abcdef/", "https://h.example/***/"),
            (
                "https://name.quiknode.pro/a1b2c3d4e5/",
                "https://name.quiknode.pro/***/",
            ),
            ("http://127.0.0.1:8545", "http://127.0.0.1:8545"),
            (
                "http://127.0.0.1:9100/api/v1/attestor/checkpoints/sign",
                "http://127.0.0.1:9100/api/v1/attestor/checkpoints/sign",
            ),
            ("http://token@host:1/#frag", "http://***@host:1/"),
        ] {
            assert_eq!(redact_url(raw), shown, "{raw}");
            assert_eq!(redact_url(shown), shown, "idempotent on {shown}");
        }
    }

    #[test]
    fn database_urls_keep_user_host_and_database() {
        assert_eq!(
            redact_url("postgres://bridge:s3cr3t@db:5432/bridge"),
            "postgres://bridge:***@db:5432/bridge"
        );
        assert_eq!(
            redact_url("postgres://bridge@db/bridge?sslmode=require&password=pw"),
            "postgres://bridge@db/bridge?sslmode=require&password=***"
        );
        assert_eq!(
            redact_url("sqlite:///var/lib/b.sqlite?mode=rwc"),
            "sqlite:///var/lib/b.sqlite?mode=rwc"
        );
        assert_eq!(redact_url("sqlite::memory:"), "sqlite::memory:");
    }

    #[test]
    fn urls_inside_messages_are_found() {
        let msg = "eth_chainId: error sending request for url (http://user:s3cret@127.0.0.1:1/v3/KEY123): connection refused; \
                   also \"https://h/KEY456?k=v\", postgres://u:pw@db/x and http://[::1]:8545/abcDEF9";
        let out = scrub(msg);
        for secret in ["s3cret", "KEY123", "KEY456", "=v", "pw@", "abcDEF9"] {
            assert!(!out.contains(secret), "{secret} in {out}");
        }
        assert!(
            out.contains("(http://***@127.0.0.1:1/v3/***): connection refused"),
            "{out}"
        );
        assert!(out.contains("postgres://u:***@db/x"), "{out}");
        assert!(matches!(scrub("no url here"), Cow::Borrowed(_)));
        assert_eq!(scrub("odd ://x"), "odd ://x");
    }
}
