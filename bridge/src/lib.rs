//! The pure parts of the `bridge` binary as a library, for the fuzz targets (`fuzz/`)
//! and the test that replays their corpora: configuration loading and validation
//! ([`fuzzing::load_config`]) and the HTTP API's path and query parameters
//! ([`fuzzing::api_params`]). The binary (`main.rs`) compiles the same files as its
//! own modules; nothing here is used by it.

#[allow(dead_code, unreachable_pub, missing_docs, unused_imports)]
mod config;

#[allow(dead_code, unreachable_pub, missing_docs)]
mod timestamping;

#[allow(dead_code, unreachable_pub)]
#[path = "api/params.rs"]
mod params;

pub mod fuzzing {
    //! Entry points over hostile text, as the binary runs them.

    use evidence_schemas::{
        ChainId,
        digest::{parse_b256, parse_digest},
    };

    /// A configuration file's text through the loader the binary uses (the `config`
    /// crate's TOML source, then `Settings` and its validation; no environment
    /// overrides). `Err` is the message `bridge config check` would print.
    pub fn load_config(text: &str) -> Result<(), String> {
        super::config::keys::check_toml_keys(text)?;
        let cfg = ::config::Config::builder()
            .add_source(::config::File::from_str(text, ::config::FileFormat::Toml))
            .build()
            .map_err(|e| e.to_string())?;
        let settings: super::config::Settings = cfg.try_deserialize().map_err(|e| e.to_string())?;
        settings.validate().map_err(|e| e.to_string())?;
        settings.api.token_hashes().map_err(|e| e.to_string())?;
        Ok(())
    }

    /// An API request target (`/api/v1/...?query`): every path segment through the
    /// parsers the handlers use for `{digest}`, `{record_id}` and `{name}` (a chain name
    /// or CAIP-2 id), and the query's `limit` and `before` through the page parameters'
    /// parsers. Returns how many parts parsed (only to keep the work observable).
    pub fn api_params(target: &str) -> usize {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let mut ok = 0;
        for segment in path.split('/') {
            ok += usize::from(parse_digest("digest", segment).is_ok());
            ok += usize::from(parse_b256("record_id", segment).is_ok());
            ok += usize::from(ChainId::parse(segment).is_ok());
        }
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            ok += match key {
                "limit" => usize::from(super::params::page_limit(Some(value)).is_ok()),
                "before" => {
                    usize::from(super::params::size_cursor(value).is_ok())
                        + usize::from(super::params::quarantine_cursor(value).is_ok())
                }
                _ => 0,
            };
        }
        ok
    }
}
