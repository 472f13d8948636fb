//! The TSA's certificate: found in the token, chained to a configured root, valid at
//! the token's time, and allowed to sign timestamps.

use der::{Decode, Encode, asn1::ObjectIdentifier as Oid};
use x509_cert::{
    Certificate,
    ext::pkix::{BasicConstraints, ExtendedKeyUsage},
};

use super::{TimestampError, crypto::verify_signature};

const EXT_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.37");
const BASIC_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.19");
const KP_TIME_STAMPING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.8");

/// Longest chain from the TSA certificate to a root (TSA, intermediates, root).
const MAX_CHAIN: usize = 6;

/// Checks that `signer` (the certificate that signed the token) may sign timestamps:
/// an extendedKeyUsage extension that is critical and names only timeStamping
/// (RFC 3161 section 2.3).
pub(crate) fn check_timestamping_usage(signer: &Certificate) -> Result<(), TimestampError> {
    let ext = signer
        .tbs_certificate
        .extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == EXT_KEY_USAGE)
        .ok_or_else(|| {
            TimestampError::Usage("the TSA certificate has no extendedKeyUsage extension".into())
        })?;
    if !ext.critical {
        return Err(TimestampError::Usage(
            "the TSA certificate's extendedKeyUsage is not critical (RFC 3161 requires it)".into(),
        ));
    }
    let eku = ExtendedKeyUsage::from_der(ext.extn_value.as_bytes())
        .map_err(|e| TimestampError::Usage(format!("bad extendedKeyUsage: {e}")))?;
    if eku.0.as_slice() != [KP_TIME_STAMPING] {
        return Err(TimestampError::Usage(format!(
            "the TSA certificate's extendedKeyUsage is {:?}, not exactly timeStamping",
            eku.0.iter().map(ToString::to_string).collect::<Vec<_>>()
        )));
    }
    Ok(())
}

/// Chains `signer` to one of `roots` through `others` (the token's certificates),
/// each certificate valid at `at` (unix seconds) and each issuer a CA. A root may be
/// the TSA certificate itself.
pub(crate) fn check_chain(
    signer: &Certificate,
    others: &[Certificate],
    roots: &[Certificate],
    at: u64,
) -> Result<(), TimestampError> {
    if roots.is_empty() {
        return Err(TimestampError::Chain(
            "no TSA root certificate is configured to check the token against".into(),
        ));
    }
    let mut current = signer.clone();
    for _ in 0..MAX_CHAIN {
        check_validity(&current, at)?;
        if roots.iter().any(|r| r == &current) {
            return Ok(());
        }
        let issued_by =
            |c: &&Certificate| c.tbs_certificate.subject == current.tbs_certificate.issuer;
        // A configured root wins over a same-named certificate shipped in the token.
        let issuer = roots
            .iter()
            .filter(issued_by)
            .chain(others.iter().filter(issued_by))
            .find(|c| verify_issued(&current, c).is_ok());
        let Some(issuer) = issuer else {
            return Err(TimestampError::Chain(format!(
                "no configured TSA root (or certificate in the token chaining to one) signed the certificate of {} (issuer {})",
                current.tbs_certificate.subject, current.tbs_certificate.issuer
            )));
        };
        check_is_ca(issuer)?;
        if roots.iter().any(|r| r == issuer) {
            return check_validity(issuer, at);
        }
        current = issuer.clone();
    }
    Err(TimestampError::Chain(format!(
        "no configured TSA root within {MAX_CHAIN} certificates of the TSA certificate"
    )))
}

fn verify_issued(cert: &Certificate, issuer: &Certificate) -> Result<(), String> {
    let tbs = cert
        .tbs_certificate
        .to_der()
        .map_err(|e| format!("cannot re-encode the certificate: {e}"))?;
    let sig = cert
        .signature
        .as_bytes()
        .ok_or_else(|| "the certificate's signature is not whole bytes".to_owned())?;
    if cert.signature_algorithm != cert.tbs_certificate.signature {
        return Err(
            "the certificate's signatureAlgorithm differs from its signed one (RFC 5280 4.1.1.2)"
                .into(),
        );
    }
    verify_signature(
        &issuer.tbs_certificate.subject_public_key_info,
        &cert.signature_algorithm,
        None,
        &tbs,
        sig,
    )
}

fn check_is_ca(cert: &Certificate) -> Result<(), TimestampError> {
    let ca = cert
        .tbs_certificate
        .extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == BASIC_CONSTRAINTS)
        .and_then(|e| BasicConstraints::from_der(e.extn_value.as_bytes()).ok())
        .is_some_and(|bc| bc.ca);
    if ca {
        Ok(())
    } else {
        Err(TimestampError::Chain(format!(
            "{} issued the TSA's certificate but is not a CA (basicConstraints cA is not set)",
            cert.tbs_certificate.subject
        )))
    }
}

fn check_validity(cert: &Certificate, at: u64) -> Result<(), TimestampError> {
    let v = &cert.tbs_certificate.validity;
    let (from, until) = (
        v.not_before.to_unix_duration().as_secs(),
        v.not_after.to_unix_duration().as_secs(),
    );
    if at < from || at > until {
        return Err(TimestampError::Validity(format!(
            "the certificate of {} is valid from {} to {}, not at the token's time {}",
            cert.tbs_certificate.subject,
            v.not_before,
            v.not_after,
            crate::serde_time::to_rfc3339(at)
        )));
    }
    Ok(())
}
