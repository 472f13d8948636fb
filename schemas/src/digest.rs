//! Digest algorithms for evidence, and streaming digests of files.
//!
//! The digest is the only thing about a document that ever leaves the machine that
//! holds it. Files are hashed in fixed-size chunks, so a multi-gigabyte PDF costs a
//! 64 KiB buffer, not its size in memory.

use std::{fmt, fs::File, io::Read, path::Path, str::FromStr};

use alloy_primitives::{B256, Keccak256};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Digest as _;

use crate::error::{SchemaError, clip};

/// A 32-byte digest of evidence.
pub type Digest32 = B256;

/// How a piece of evidence was hashed. The numeric codes are part of the canonical
/// encoding and of the registry contract's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DigestAlgorithm {
    /// SHA-256 (FIPS 180-4). Code 1. The default.
    Sha256,
    /// Keccak-256 as used by Ethereum. Code 2.
    Keccak256,
    /// SM3 (GB/T 32905-2016), the Chinese national standard hash. Code 3.
    Sm3,
}

impl DigestAlgorithm {
    /// Every algorithm, in code order.
    pub const ALL: [Self; 3] = [Self::Sha256, Self::Keccak256, Self::Sm3];

    /// The numeric code used on chain and in the canonical encoding.
    pub const fn code(self) -> u8 {
        match self {
            Self::Sha256 => 1,
            Self::Keccak256 => 2,
            Self::Sm3 => 3,
        }
    }

    /// The algorithm with the given on-chain code.
    pub fn from_code(code: u8) -> Result<Self, SchemaError> {
        Self::ALL
            .into_iter()
            .find(|a| a.code() == code)
            .ok_or_else(|| SchemaError::UnknownDigestAlgorithm {
                value: code.to_string(),
            })
    }

    /// The lowercase name: `sha256`, `keccak256` or `sm3`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Keccak256 => "keccak256",
            Self::Sm3 => "sm3",
        }
    }

    /// Starts a streaming hasher for this algorithm.
    pub fn hasher(self) -> Hasher {
        Hasher(match self {
            Self::Sha256 => HasherInner::Sha256(sha2::Sha256::new()),
            Self::Keccak256 => HasherInner::Keccak256(Keccak256::new()),
            Self::Sm3 => HasherInner::Sm3(sm3::Sm3::new()),
        })
    }

    /// The digest of a byte string.
    pub fn digest(self, bytes: &[u8]) -> B256 {
        let mut h = self.hasher();
        h.update(bytes);
        h.finalize()
    }

    /// The digest of everything a reader yields, read in 64 KiB chunks.
    pub fn digest_reader<R: Read>(self, mut reader: R) -> std::io::Result<B256> {
        let mut h = self.hasher();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            h.update(&buf[..n]);
        }
        Ok(h.finalize())
    }

    /// The digest of a file, streamed from disk.
    pub fn digest_file(self, path: &Path) -> std::io::Result<B256> {
        self.digest_reader(File::open(path)?)
    }
}

impl fmt::Display for DigestAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DigestAlgorithm {
    type Err = SchemaError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "sha256" | "sha-256" => Ok(Self::Sha256),
            "keccak256" | "keccak-256" => Ok(Self::Keccak256),
            "sm3" => Ok(Self::Sm3),
            _ => Err(SchemaError::UnknownDigestAlgorithm { value: clip(s) }),
        }
    }
}

impl Serialize for DigestAlgorithm {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for DigestAlgorithm {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for DigestAlgorithm {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DigestAlgorithm".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "Digest algorithm of the evidence (on-chain codes: sha256 = 1, keccak256 = 2, sm3 = 3)",
            "enum": ["sha256", "keccak256", "sm3"]
        })
    }
}

/// A streaming hasher for one [`DigestAlgorithm`].
#[derive(Debug, Clone)]
pub struct Hasher(HasherInner);

// One hasher per digest being computed: boxing the larger state would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
enum HasherInner {
    Sha256(sha2::Sha256),
    Keccak256(Keccak256),
    Sm3(sm3::Sm3),
}

impl Hasher {
    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        match &mut self.0 {
            HasherInner::Sha256(h) => h.update(bytes),
            HasherInner::Keccak256(h) => h.update(bytes),
            HasherInner::Sm3(h) => h.update(bytes),
        }
    }

    /// Finishes and returns the 32-byte digest.
    pub fn finalize(self) -> B256 {
        match self.0 {
            HasherInner::Sha256(h) => B256::from_slice(&h.finalize()),
            HasherInner::Keccak256(h) => h.finalize(),
            HasherInner::Sm3(h) => B256::from_slice(&h.finalize()),
        }
    }
}

/// Parses 32 bytes of `0x`-prefixed (or bare) hex, naming `field` in the error.
pub fn parse_b256(field: &'static str, value: &str) -> Result<B256, SchemaError> {
    let hex = value
        .strip_prefix("0x")
        .or_else(|| value.strip_prefix("0X"))
        .unwrap_or(value);
    let bad = || SchemaError::BadHex {
        field,
        expected_bytes: 32,
        value: clip(value),
    };
    if hex.len() != 64 {
        return Err(bad());
    }
    let bytes = hex::decode(hex).map_err(|_| bad())?;
    Ok(B256::from_slice(&bytes))
}

/// Parses a nonzero 32-byte evidence digest, naming `field` in the error.
pub fn parse_digest(field: &'static str, value: &str) -> Result<B256, SchemaError> {
    let d = parse_b256(field, value)?;
    if d.is_zero() {
        return Err(SchemaError::ZeroDigest { field });
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::b256;

    #[test]
    fn known_answers() {
        // FIPS 180-2 / Keccak team / GB/T 32905-2016 appendix A example 1 ("abc").
        assert_eq!(
            DigestAlgorithm::Sha256.digest(b"abc"),
            b256!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert_eq!(
            DigestAlgorithm::Keccak256.digest(b"abc"),
            b256!("4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45")
        );
        assert_eq!(
            DigestAlgorithm::Sm3.digest(b"abc"),
            b256!("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")
        );
    }

    #[test]
    fn streaming_equals_one_shot_across_chunk_boundaries() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 31 % 251) as u8).collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.bin");
        std::fs::write(&path, &data).unwrap();
        for alg in DigestAlgorithm::ALL {
            assert_eq!(alg.digest_file(&path).unwrap(), alg.digest(&data), "{alg}");
        }
    }

    #[test]
    fn codes_and_names_round_trip() {
        for alg in DigestAlgorithm::ALL {
            assert_eq!(DigestAlgorithm::from_code(alg.code()).unwrap(), alg);
            assert_eq!(alg.name().parse::<DigestAlgorithm>().unwrap(), alg);
        }
        assert!(DigestAlgorithm::from_code(0).is_err());
        assert!(DigestAlgorithm::from_code(4).is_err());
        let err = "md5".parse::<DigestAlgorithm>().unwrap_err();
        assert!(err.to_string().contains("md5"), "{err}");
    }

    #[test]
    fn hex_parsing_names_field_and_value() {
        let ok = "0x".to_owned() + &"ab".repeat(32);
        assert_eq!(
            parse_digest("digest", &ok).unwrap(),
            B256::repeat_byte(0xab)
        );
        for bad in ["0x1234", "zz".repeat(32).as_str(), &"ab".repeat(33)] {
            let err = parse_digest("digest", bad).unwrap_err();
            assert!(
                matches!(
                    err,
                    SchemaError::BadHex {
                        field: "digest",
                        ..
                    }
                ),
                "{err}"
            );
        }
        let zero = "0x".to_owned() + &"00".repeat(32);
        assert!(matches!(
            parse_digest("digest", &zero),
            Err(SchemaError::ZeroDigest { .. })
        ));
    }
}
