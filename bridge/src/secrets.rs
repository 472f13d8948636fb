//! Keys, from the environment or an encrypted keystore file — never from the config
//! file, never logged.

use alloy::signers::local::PrivateKeySigner;

use crate::config::KeySettings;

/// A key could not be loaded; always a configuration error (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct KeyError(String);

fn parse_key(var: &str, text: &str) -> Result<PrivateKeySigner, KeyError> {
    text.trim().parse::<PrivateKeySigner>().map_err(|_| {
        KeyError(format!(
            "environment variable {var} does not hold a 32-byte hex private key"
        ))
    })
}

fn read_env(var: &str) -> Result<String, KeyError> {
    std::env::var(var).map_err(|_| {
        KeyError(format!("environment variable {var} is not set; it must hold the key (for the devnet: `set -a; . DIR/devnet.env`)"))
    })
}

/// The relayer's key, which pays for checkpoint submissions.
pub(crate) fn relayer_key(keys: &KeySettings) -> Result<PrivateKeySigner, KeyError> {
    if let Some(path) = &keys.relayer_keystore {
        let var = keys.keystore_password_env.as_deref().ok_or_else(|| {
            KeyError("keys.relayer_keystore is set but keys.keystore_password_env is not".into())
        })?;
        let password = read_env(var)?;
        return PrivateKeySigner::decrypt_keystore(path, password)
            .map_err(|e| KeyError(format!("cannot open keystore {path}: {e}")));
    }
    let var = keys.relayer_key_env.as_deref().ok_or_else(|| {
        KeyError(
            "no relayer key configured: set keys.relayer_key_env (or keys.relayer_keystore)".into(),
        )
    })?;
    parse_key(var, &read_env(var)?)
}

/// Comma-separated hex keys from environment variable `var`.
pub(crate) fn keys_from_env(var: &str) -> Result<Vec<PrivateKeySigner>, KeyError> {
    let text = read_env(var)?;
    text.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|k| parse_key(var, k))
        .collect()
}

/// One hex key from environment variable `var`.
pub(crate) fn single_key_from_env(var: &str) -> Result<PrivateKeySigner, KeyError> {
    parse_key(var, &read_env(var)?)
}

/// The attestor keys this instance holds (may be none: then it only relays).
pub(crate) fn attestor_keys(keys: &KeySettings) -> Result<Vec<PrivateKeySigner>, KeyError> {
    let Some(var) = keys.attestor_keys_env.as_deref() else {
        return Ok(Vec::new());
    };
    let text = read_env(var)?;
    text.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|k| parse_key(var, k))
        .collect()
}

/// The key `bridge anchor` sends from: `anchor_key_env`, else the relayer key.
pub(crate) fn anchor_key(keys: &KeySettings) -> Result<PrivateKeySigner, KeyError> {
    match keys.anchor_key_env.as_deref() {
        Some(var) => parse_key(var, &read_env(var)?),
        None => relayer_key(keys),
    }
}

/// The mirror owner's key for the owner's `bridge mirror` commands: the
/// `--owner-key-env` flag, else `owner_key_env`. Never the relayer key by default: the
/// owner is a separate party (a multisig in production).
pub(crate) fn owner_key(
    keys: &KeySettings,
    flag: Option<&str>,
) -> Result<PrivateKeySigner, KeyError> {
    match flag.or(keys.owner_key_env.as_deref()) {
        Some(var) => parse_key(var, &read_env(var)?),
        None => Err(KeyError(
            "no mirror owner key: pass --owner-key-env VAR or set keys.owner_key_env (the owner is never the relayer key)".into(),
        )),
    }
}
