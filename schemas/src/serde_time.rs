//! Unix seconds in Rust, RFC 3339 text in JSON.

use serde::{Deserialize, Deserializer, Serializer};

pub(crate) fn serialize<S: Serializer>(secs: &u64, s: S) -> Result<S::Ok, S::Error> {
    let secs = i64::try_from(*secs).map_err(serde::ser::Error::custom)?;
    let ts = jiff::Timestamp::from_second(secs).map_err(serde::ser::Error::custom)?;
    s.serialize_str(&ts.to_string())
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let text = String::deserialize(d)?;
    let ts: jiff::Timestamp = text.parse().map_err(|e| {
        serde::de::Error::custom(format!(
            "bad RFC 3339 time {text:?}: {e} (expected e.g. \"2026-01-02T03:04:05Z\")"
        ))
    })?;
    if ts.subsec_nanosecond() != 0 {
        return Err(serde::de::Error::custom(format!(
            "time {text:?} has fractional seconds; block times are whole seconds"
        )));
    }
    u64::try_from(ts.as_second())
        .map_err(|_| serde::de::Error::custom(format!("time {text:?} is before 1970")))
}

/// Unix seconds as RFC 3339 UTC text.
pub fn to_rfc3339(secs: u64) -> String {
    i64::try_from(secs)
        .ok()
        .and_then(|s| jiff::Timestamp::from_second(s).ok())
        .map_or_else(|| secs.to_string(), |t| t.to_string())
}
