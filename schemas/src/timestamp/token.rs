//! Encoding a `TimeStampReq`, and checking a `TimeStampResp` / `TimeStampToken`.

use alloy_primitives::B256;
use cmpv2::status::PkiStatus;
use cms::{
    cert::{CertificateChoices, IssuerAndSerialNumber},
    content_info::{CmsVersion, ContentInfo},
    signed_data::{SignedData, SignerIdentifier, SignerInfo},
};
use der::{
    Decode, Encode, Tagged as _,
    asn1::{Int, ObjectIdentifier as Oid, OctetString},
};
use x509_cert::{Certificate, ext::pkix::SubjectKeyIdentifier, spki::AlgorithmIdentifier};
use x509_tsp::{MessageImprint, TimeStampReq, TimeStampResp, TspVersion, TstInfo};

use super::{
    TimestampError, TsaRoots, VerifiedTime,
    chain::{check_chain, check_timestamping_usage},
    crypto::{Hash, SHA256, to_der, verify_signature},
};

const SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
const CT_TST_INFO: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.1.4");
const ATTR_CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
const ATTR_MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
const EXT_SUBJECT_KEY_ID: Oid = Oid::new_unwrap("2.5.29.14");

/// DER of a `TimeStampReq` for `imprint` (a SHA-256 hash) with `nonce` (big-endian
/// bytes of a positive integer, minimal: no leading zero byte, top bit clear) and
/// `certReq` true, so the reply carries the TSA's certificate.
pub fn build_request(imprint: &B256, nonce: &[u8]) -> Result<Vec<u8>, TimestampError> {
    let bad = |e: der::Error| TimestampError::Malformed(format!("cannot encode the request: {e}"));
    let req = TimeStampReq {
        version: TspVersion::V1,
        message_imprint: MessageImprint {
            hash_algorithm: AlgorithmIdentifier {
                oid: SHA256,
                parameters: None,
            },
            hashed_message: OctetString::new(imprint.as_slice()).map_err(bad)?,
        },
        req_policy: None,
        nonce: Some(Int::new(nonce).map_err(bad)?),
        cert_req: true,
        extensions: None,
    };
    req.to_der().map_err(bad)
}

/// Checks a TSA's reply (`application/timestamp-reply`, a DER `TimeStampResp`) to the
/// request [`build_request`]`(imprint, nonce)`, and returns the token to store (DER)
/// with what it says.
pub fn verify_response(
    response: &[u8],
    imprint: &B256,
    nonce: &[u8],
    roots: &TsaRoots,
) -> Result<(Vec<u8>, VerifiedTime), TimestampError> {
    let resp = TimeStampResp::from_der(response).map_err(|e| {
        TimestampError::Malformed(format!("the reply is not a DER TimeStampResp: {e}"))
    })?;
    match resp.status.status {
        PkiStatus::Accepted | PkiStatus::GrantedWithMods => {}
        other => {
            let text = resp
                .status
                .status_string
                .iter()
                .flat_map(|s| s.iter())
                .map(|s| s.as_str().to_owned())
                .collect::<Vec<_>>()
                .join("; ");
            return Err(TimestampError::Status(format!(
                "the TSA answered {other:?}{}",
                if text.is_empty() {
                    String::new()
                } else {
                    format!(": {text}")
                }
            )));
        }
    }
    let token = resp.time_stamp_token.ok_or_else(|| {
        TimestampError::Status("the TSA granted the request but sent no token".into())
    })?;
    let der = token
        .to_der()
        .map_err(|e| TimestampError::Malformed(format!("cannot re-encode the token: {e}")))?;
    let verified = check(&token, imprint, Some(nonce), roots)?;
    Ok((der, verified))
}

/// Checks a stored `TimeStampToken` (DER ContentInfo) over `imprint` against `roots`.
pub fn verify_token(
    token: &[u8],
    imprint: &B256,
    roots: &TsaRoots,
) -> Result<VerifiedTime, TimestampError> {
    let info = ContentInfo::from_der(token).map_err(|e| {
        TimestampError::Malformed(format!("the token is not a DER CMS ContentInfo: {e}"))
    })?;
    check(&info, imprint, None, roots)
}

fn check(
    token: &ContentInfo,
    imprint: &B256,
    nonce: Option<&[u8]>,
    roots: &TsaRoots,
) -> Result<VerifiedTime, TimestampError> {
    let malformed = TimestampError::Malformed;
    if token.content_type != SIGNED_DATA {
        return Err(malformed(format!(
            "the token's content type is {}, not SignedData",
            token.content_type
        )));
    }
    let sd = SignedData::from_der(&to_der(&token.content, "the token").map_err(malformed)?)
        .map_err(|e| malformed(format!("the token's content is not CMS SignedData: {e}")))?;
    // RFC 5652 section 5.1: version 3 for content other than id-data; a SignerInfo
    // names its certificate by issuer and serial (version 1) or key identifier (3).
    if sd.version != CmsVersion::V3 {
        return Err(malformed(format!(
            "SignedData version {:?}, a timestamp token's is 3",
            sd.version
        )));
    }
    if let Some(si) = sd.signer_infos.0.iter().find(|si| {
        !matches!(
            (&si.sid, si.version),
            (SignerIdentifier::IssuerAndSerialNumber(_), CmsVersion::V1)
                | (SignerIdentifier::SubjectKeyIdentifier(_), CmsVersion::V3)
        )
    }) {
        return Err(malformed(format!(
            "SignerInfo version {:?} does not match its signer identifier",
            si.version
        )));
    }
    if sd.encap_content_info.econtent_type != CT_TST_INFO {
        return Err(malformed(format!(
            "the token signs content of type {}, not TSTInfo",
            sd.encap_content_info.econtent_type
        )));
    }
    let econtent = sd
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or_else(|| malformed("the token has no TSTInfo content".into()))?;
    if econtent.tag() != der::Tag::OctetString {
        return Err(malformed(format!(
            "the token's content is a {}, not an OCTET STRING",
            econtent.tag()
        )));
    }
    let tst_der = econtent.value();
    let tst = TstInfo::from_der(tst_der).map_err(|e| malformed(format!("bad TSTInfo: {e}")))?;

    // imprint
    if tst.message_imprint.hash_algorithm.oid != SHA256 {
        return Err(TimestampError::Imprint(format!(
            "the token's imprint uses {}, not SHA-256",
            tst.message_imprint.hash_algorithm.oid
        )));
    }
    if tst.message_imprint.hashed_message.as_bytes() != imprint.as_slice() {
        return Err(TimestampError::Imprint(format!(
            "the token is for imprint 0x{}, expected {imprint} (a token for other bytes)",
            hex::encode(tst.message_imprint.hashed_message.as_bytes())
        )));
    }
    if let Some(want) = nonce {
        let got = tst.nonce.as_ref().map(Int::as_bytes);
        if got != Some(want) {
            return Err(TimestampError::Nonce(format!(
                "the token's nonce is {}, the request's was 0x{}",
                got.map_or_else(|| "absent".to_owned(), |g| format!("0x{}", hex::encode(g))),
                hex::encode(want)
            )));
        }
    }
    let gen_time = tst.gen_time.to_unix_duration().as_secs();

    // signature
    let [signer_info] = sd.signer_infos.0.as_slice() else {
        return Err(TimestampError::Signature(format!(
            "the token has {} signers; a timestamp token has exactly one",
            sd.signer_infos.0.len()
        )));
    };
    let certs: Vec<Certificate> = sd
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|c| match c {
            CertificateChoices::Certificate(c) => Some(c.clone()),
            CertificateChoices::Other(_) => None,
        })
        .collect();
    // The digest algorithms are outside the signature: still, they must name the
    // signer's (RFC 5652 section 5.1), so that no byte of a valid token is free.
    if !sd
        .digest_algorithms
        .iter()
        .any(|a| *a == signer_info.digest_alg)
    {
        return Err(malformed(format!(
            "SignedData.digestAlgorithms does not list the signer's digest algorithm {}",
            signer_info.digest_alg.oid
        )));
    }
    let signer = find_signer(signer_info, &certs, roots.certificates())?;
    check_signer_info(signer_info, signer, tst_der)?;
    check_timestamping_usage(signer)?;
    check_chain(signer, &certs, roots.certificates(), gen_time)?;

    Ok(VerifiedTime {
        gen_time,
        tsa_subject: signer.tbs_certificate.subject.to_string(),
        policy: tst.policy.to_string(),
        serial: hex::encode(tst.serial_number.as_bytes()),
    })
}

/// The certificate the SignerInfo names, from the token (or, when the TSA sent none,
/// from the configured roots: a root may be the TSA certificate itself).
fn find_signer<'a>(
    si: &SignerInfo,
    certs: &'a [Certificate],
    roots: &'a [Certificate],
) -> Result<&'a Certificate, TimestampError> {
    let matches = |c: &&Certificate| match &si.sid {
        SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer,
            serial_number,
        }) => {
            c.tbs_certificate.issuer == *issuer && c.tbs_certificate.serial_number == *serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => c
            .tbs_certificate
            .extensions
            .iter()
            .flatten()
            .find(|e| e.extn_id == EXT_SUBJECT_KEY_ID)
            .and_then(|e| SubjectKeyIdentifier::from_der(e.extn_value.as_bytes()).ok())
            .is_some_and(|k| k == *ski),
    };
    certs.iter().chain(roots).find(matches).ok_or_else(|| {
        TimestampError::Chain(
            "the token does not carry the TSA's certificate and no configured root is it (request with certReq)".into(),
        )
    })
}

/// Signed attributes: content-type TSTInfo, message-digest = digest of the TSTInfo;
/// then the signature over their DER (as a SET OF) with the signer's key.
fn check_signer_info(
    si: &SignerInfo,
    signer: &Certificate,
    tst_der: &[u8],
) -> Result<(), TimestampError> {
    let sig_err = TimestampError::Signature;
    let hash = Hash::from_alg(&si.digest_alg).map_err(sig_err)?;
    let attrs = si.signed_attrs.as_ref().ok_or_else(|| {
        sig_err("the SignerInfo has no signed attributes (RFC 3161 requires them)".into())
    })?;
    let single = |oid: Oid, name: &str| -> Result<Vec<u8>, TimestampError> {
        let attr = attrs
            .iter()
            .find(|a| a.oid == oid)
            .ok_or_else(|| sig_err(format!("no {name} signed attribute")))?;
        match attr.values.as_slice() {
            [v] => Ok(v.value().to_vec()),
            _ => Err(sig_err(format!(
                "the {name} attribute must have exactly one value"
            ))),
        }
    };
    let content_type = Oid::from_bytes(&single(ATTR_CONTENT_TYPE, "content-type")?)
        .map_err(|e| sig_err(format!("bad content-type attribute: {e}")))?;
    if content_type != CT_TST_INFO {
        return Err(sig_err(format!(
            "the content-type attribute is {content_type}, not TSTInfo"
        )));
    }
    let digest = single(ATTR_MESSAGE_DIGEST, "message-digest")?;
    if digest != hash.digest(tst_der) {
        return Err(sig_err("the message-digest attribute is not the digest of the TSTInfo (the TSTInfo was altered)".into()));
    }
    let signed = to_der(attrs, "the signed attributes").map_err(sig_err)?;
    verify_signature(
        &signer.tbs_certificate.subject_public_key_info,
        &si.signature_algorithm,
        Some(hash),
        &signed,
        si.signature.as_bytes(),
    )
    .map_err(|e| sig_err(format!("{e} (signer {})", signer.tbs_certificate.subject)))
}
