//! Strict reading of the JSON documents a verifier is handed (proof bundles, trust
//! roots).
//!
//! RFC 8259 leaves the meaning of an object with two equal keys open, and `serde_json`
//! silently keeps the last value. Two verifiers built on different parsers could then
//! read one file as two different bundles, so every document is first scanned here and
//! an object with a repeated key (compared after unescaping) is refused, naming the key
//! and where it is.

use std::{cell::RefCell, collections::HashSet, fmt};

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// Why a JSON document was refused before its fields were read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentError {
    /// Not JSON at all (truncated, binary, trailing garbage).
    #[error("not valid JSON ({0}); is the file truncated or of another kind?")]
    Syntax(String),
    /// An object holds the same key twice.
    #[error(
        "duplicate JSON key {key:?} in the object at {path}: parsers disagree on which value counts, so the document is ambiguous; keep one of the two"
    )]
    DuplicateKey {
        /// JSON path of the object (`$` is the document, e.g. `$.destination`).
        path: String,
        /// The repeated key.
        key: String,
    },
    /// Valid JSON, but not a document of the expected kind (a missing or unknown
    /// field, a value of the wrong type).
    #[error("not a {what}: {reason}")]
    Shape {
        /// The kind of document expected (`proof bundle`, `trust root`).
        what: &'static str,
        /// What `serde` found wrong, with line and column.
        reason: String,
    },
}

/// Checks that `text` is one JSON value in which no object repeats a key.
pub fn check_unique_keys(text: &str) -> Result<(), DocumentError> {
    let found = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_str(text);
    let scanned = UniqueKeys {
        path: "$".to_owned(),
        found: &found,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end());
    if let Some(duplicate) = found.into_inner() {
        return Err(duplicate);
    }
    scanned.map_err(|e| DocumentError::Syntax(e.to_string()))
}

/// Parses `text` as `T` after [`check_unique_keys`]; `what` names the document kind in
/// errors.
pub fn from_str_strict<T: de::DeserializeOwned>(
    text: &str,
    what: &'static str,
) -> Result<T, DocumentError> {
    check_unique_keys(text)?;
    serde_json::from_str(text).map_err(|e| DocumentError::Shape {
        what,
        reason: e.to_string(),
    })
}

/// Walks a value, remembering the first repeated key it meets.
struct UniqueKeys<'a> {
    path: String,
    found: &'a RefCell<Option<DocumentError>>,
}

impl<'de> DeserializeSeed<'de> for UniqueKeys<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for UniqueKeys<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        while seq
            .next_element_seed(UniqueKeys {
                path: format!("{}[{index}]", self.path),
                found: self.found,
            })?
            .is_some()
        {
            index += 1;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let child = format!("{}.{key}", self.path);
            if !seen.insert(key.clone()) {
                *self.found.borrow_mut() = Some(DocumentError::DuplicateKey {
                    path: self.path.clone(),
                    key,
                });
                return Err(de::Error::custom("duplicate key"));
            }
            map.next_value_seed(UniqueKeys {
                path: child,
                found: self.found,
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn unique_keys_pass() {
        check_unique_keys(r#"{"a": 1, "b": [{"a": 2}, {"a": 3}], "c": {"a": null}}"#).unwrap();
        check_unique_keys("[1, 2.5, true, \"x\"]").unwrap();
    }

    #[test]
    fn a_repeated_key_is_found_with_its_path() {
        let err = check_unique_keys(r#"{"a": 1, "d": {"x": [0, {"t": 1, "t": 2}]}}"#).unwrap_err();
        assert_eq!(
            err,
            DocumentError::DuplicateKey {
                path: "$.d.x[1]".into(),
                key: "t".into()
            }
        );
        assert!(err.to_string().contains("\"t\""), "{err}");
        let err = check_unique_keys(r#"{"version": 2, "version": 1}"#).unwrap_err();
        assert_eq!(
            err,
            DocumentError::DuplicateKey {
                path: "$".into(),
                key: "version".into()
            }
        );
    }

    #[test]
    fn keys_are_compared_after_unescaping() {
        let err = check_unique_keys(r#"{"ab": 1, "a\u0062": 2}"#).unwrap_err();
        assert!(
            matches!(err, DocumentError::DuplicateKey { ref key, .. } if key == "ab"),
            "{err}"
        );
    }

    #[test]
    fn syntax_errors_are_not_duplicates() {
        for bad in ["", "{", "{\"a\": 1} x", "\u{0}\u{0}"] {
            assert!(
                matches!(check_unique_keys(bad), Err(DocumentError::Syntax(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn strict_parse_reports_the_shape() {
        let err = from_str_strict::<std::collections::BTreeMap<String, u8>>(r#"{"a": "x"}"#, "map")
            .unwrap_err();
        assert!(
            matches!(err, DocumentError::Shape { what: "map", .. }),
            "{err}"
        );
    }
}
