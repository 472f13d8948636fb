//! Signature checks for timestamp tokens and their certificates: ECDSA over P-256 and
//! RSA PKCS#1 v1.5, with SHA-256/384/512. Everything else is refused by name.

use der::{Encode, Tagged as _, asn1::ObjectIdentifier as Oid};
use p256::ecdsa::{Signature as EcSignature, VerifyingKey, signature::hazmat::PrehashVerifier};
use rsa::{Pkcs1v15Sign, RsaPublicKey, pkcs1::DecodeRsaPublicKey};
use sha2::Digest as _;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

/// SHA-256 (2.16.840.1.101.3.4.2.1).
pub(crate) const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");
const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
const PRIME256V1: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
const ECDSA_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");

/// A hash algorithm this verifier supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    /// The hash a digest AlgorithmIdentifier names (parameters absent or NULL).
    pub(crate) fn from_alg(alg: &AlgorithmIdentifierOwned) -> Result<Self, String> {
        check_no_params(alg)?;
        match alg.oid {
            SHA256 => Ok(Self::Sha256),
            SHA384 => Ok(Self::Sha384),
            SHA512 => Ok(Self::Sha512),
            oid => Err(format!(
                "digest algorithm {oid} is not supported (use SHA-256, SHA-384 or SHA-512)"
            )),
        }
    }

    /// `bytes` hashed.
    pub(crate) fn digest(self, bytes: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha256 => sha2::Sha256::digest(bytes).to_vec(),
            Self::Sha384 => sha2::Sha384::digest(bytes).to_vec(),
            Self::Sha512 => sha2::Sha512::digest(bytes).to_vec(),
        }
    }

    fn rsa_scheme(self) -> Pkcs1v15Sign {
        match self {
            Self::Sha256 => Pkcs1v15Sign::new::<rsa::sha2::Sha256>(),
            Self::Sha384 => Pkcs1v15Sign::new::<rsa::sha2::Sha384>(),
            Self::Sha512 => Pkcs1v15Sign::new::<rsa::sha2::Sha512>(),
        }
    }
}

/// Checks `signature` over `message` with the key in `spki`, for the signature
/// algorithm `alg`. `digest_alg` is the hash a CMS SignerInfo names separately (its
/// signature algorithm may be plain `rsaEncryption`); certificates pass `None`.
pub(crate) fn verify_signature(
    spki: &SubjectPublicKeyInfoOwned,
    alg: &AlgorithmIdentifierOwned,
    digest_alg: Option<Hash>,
    message: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    check_no_params(alg)?;
    let alg = &alg.oid;
    let (is_rsa, hash) = match *alg {
        SHA256_WITH_RSA => (true, Hash::Sha256),
        SHA384_WITH_RSA => (true, Hash::Sha384),
        SHA512_WITH_RSA => (true, Hash::Sha512),
        ECDSA_SHA256 => (false, Hash::Sha256),
        ECDSA_SHA384 => (false, Hash::Sha384),
        ECDSA_SHA512 => (false, Hash::Sha512),
        RSA_ENCRYPTION => match digest_alg {
            Some(h) => (true, h),
            None => return Err("rsaEncryption without a digest algorithm".into()),
        },
        _ => {
            return Err(format!(
                "signature algorithm {alg} is not supported (use ECDSA P-256 or RSA PKCS#1 v1.5 with SHA-2)"
            ));
        }
    };
    if let Some(d) = digest_alg
        && d != hash
    {
        return Err(format!(
            "signature algorithm {alg} does not match the digest algorithm {d:?}"
        ));
    }
    let hashed = hash.digest(message);
    let key_bytes = spki.subject_public_key.raw_bytes();
    if is_rsa {
        if spki.algorithm.oid != RSA_ENCRYPTION {
            return Err(format!(
                "an RSA signature, but the key is {}",
                spki.algorithm.oid
            ));
        }
        let key = RsaPublicKey::from_pkcs1_der(key_bytes)
            .map_err(|e| format!("bad RSA public key: {e}"))?;
        key.verify(hash.rsa_scheme(), &hashed, signature)
            .map_err(|_| "the RSA signature does not verify".to_owned())
    } else {
        if spki.algorithm.oid != EC_PUBLIC_KEY {
            return Err(format!(
                "an ECDSA signature, but the key is {}",
                spki.algorithm.oid
            ));
        }
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<Oid>().ok());
        if curve != Some(PRIME256V1) {
            return Err("the EC key is not on P-256 (prime256v1), the only curve supported".into());
        }
        let key = VerifyingKey::from_sec1_bytes(key_bytes)
            .map_err(|e| format!("bad P-256 public key: {e}"))?;
        let sig = EcSignature::from_der(signature)
            .map_err(|e| format!("bad ECDSA signature encoding: {e}"))?;
        key.verify_prehash(&hashed, &sig)
            .map_err(|_| "the ECDSA signature does not verify".to_owned())
    }
}

/// The SHA-2, RSA PKCS#1 v1.5 and ECDSA algorithm identifiers take no parameters:
/// absent or NULL (RFC 5754, RFC 4055), nothing else.
fn check_no_params(alg: &AlgorithmIdentifierOwned) -> Result<(), String> {
    match &alg.parameters {
        None => Ok(()),
        Some(p) if p.tag() == der::Tag::Null && p.value().is_empty() => Ok(()),
        Some(p) => Err(format!(
            "algorithm {} has parameters of type {} (expected none or NULL)",
            alg.oid,
            p.tag()
        )),
    }
}

/// DER of `value`, or a message naming `what`.
pub(crate) fn to_der<T: Encode>(value: &T, what: &str) -> Result<Vec<u8>, String> {
    value
        .to_der()
        .map_err(|e| format!("cannot re-encode {what}: {e}"))
}
