//! What a certificate says, independent of how it is drawn: built from the proof
//! bundles of a record (one per destination it is provable on) and its record view.

use alloy::primitives::{Address, B256};
use evidence_relayer::query::RecordView;
use evidence_schemas::{ChainId, ProofBundle};

/// One evidence certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Certificate {
    /// The record.
    pub(crate) record_id: B256,
    /// The document's digest.
    pub(crate) digest: B256,
    /// Its algorithm, as shown (`SHA-256`, `Keccak-256`, `SM3`).
    pub(crate) digest_alg: String,
    /// The record's kind label (`iou`, …), possibly empty.
    pub(crate) kind: String,
    /// Where and when it was anchored.
    pub(crate) anchored: Anchored,
    /// Every chain it is provable on; the embedded bundle's destination first.
    pub(crate) provable: Vec<Provable>,
    /// Revocation status.
    pub(crate) revocation: RevocationStatus,
    /// RFC 3161 trusted times of the embedded bundle's checkpoint: (TSA name, time as
    /// RFC 3339), filled by the caller from the bundle's verified tokens; empty when the
    /// bundle carries none.
    pub(crate) timestamps: Vec<TsaTime>,
    /// The lookup page on this digest (the QR code's target).
    pub(crate) lookup_url: String,
    /// When the certificate was made (RFC 3339, UTC).
    pub(crate) issued_at: String,
}

/// An RFC 3161 time of the checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TsaTime {
    /// The TSA's name (its certificate subject, or the configured name).
    pub(crate) tsa: String,
    /// The token's genTime, RFC 3339.
    pub(crate) time: String,
}

/// The anchoring on the source chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Anchored {
    /// Configured chain name.
    pub(crate) chain_name: String,
    /// CAIP-2 id.
    pub(crate) chain_id: ChainId,
    /// Block number.
    pub(crate) block: u64,
    /// Block time, RFC 3339.
    pub(crate) time: String,
    /// Transaction.
    pub(crate) tx: B256,
    /// Submitter.
    pub(crate) submitter: Address,
    /// The source adapter (`registry`, `eas`, …).
    pub(crate) adapter: String,
}

/// A chain the record is provable on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Provable {
    /// Configured chain name.
    pub(crate) chain_name: String,
    /// CAIP-2 id.
    pub(crate) chain_id: ChainId,
    /// Log size of the checkpoint that proves it there.
    pub(crate) checkpoint_size: u64,
    /// Its root.
    pub(crate) checkpoint_root: Option<B256>,
    /// The mirror transaction that accepted the checkpoint, and its block.
    pub(crate) mirror_tx: Option<(B256, Option<u64>)>,
    /// The attestor set that signed it, when a bundle for this chain was built.
    pub(crate) set: Option<AttestorSet>,
    /// Why the set is not shown (no bundle could be built for this chain).
    pub(crate) note: Option<String>,
    /// This chain's bundle is the one attached to the PDF.
    pub(crate) embedded: bool,
}

/// The attestor set of a checkpoint and who of it signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AttestorSet {
    /// Set version on the mirror.
    pub(crate) version: u64,
    /// Signatures needed.
    pub(crate) threshold: u8,
    /// Members.
    pub(crate) members: Vec<Address>,
    /// Members whose signatures the bundle carries (verified).
    pub(crate) signers: Vec<Address>,
}

/// Whether the record is revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RevocationStatus {
    /// Not revoked (as far as this node has indexed).
    NotRevoked,
    /// Revoked by `by`; `proven` when the embedded bundle carries the proof of it.
    Revoked { by: B256, proven: bool },
}

/// The bundle of one destination, or why there is none.
pub(crate) type DestinationBundle = Result<ProofBundle, String>;

impl Certificate {
    /// The certificate of `view`'s record. `primary` is the bundle attached to the PDF
    /// (it must verify offline); `others` are the bundles (or failures) of the other
    /// chains in `view.mirrored_on`, by CAIP-2 id. `name` names a chain;
    /// `lookup_base` is the lookup page's URL (the node's public URL).
    pub(crate) fn new(
        view: &RecordView,
        primary: &ProofBundle,
        others: &[(ChainId, DestinationBundle)],
        name: &dyn Fn(&ChainId) -> String,
        lookup_base: &str,
        issued_at: String,
    ) -> Result<Self, String> {
        let r = &primary.record;
        let set_of = |b: &ProofBundle| -> Result<AttestorSet, String> {
            let signers = b.verify_offline().map_err(|e| {
                format!(
                    "the bundle for {} does not verify: {e}",
                    b.destination.chain
                )
            })?;
            Ok(AttestorSet {
                version: b.destination.attestor_set_version,
                threshold: b.destination.threshold,
                members: b.destination.attestors.clone(),
                signers,
            })
        };
        let from_bundle = |b: &ProofBundle, embedded: bool| -> Result<Provable, String> {
            Ok(Provable {
                chain_name: name(&b.destination.chain),
                chain_id: b.destination.chain.clone(),
                checkpoint_size: b.checkpoint.size,
                checkpoint_root: Some(b.checkpoint.root),
                mirror_tx: b
                    .destination
                    .mirror_tx
                    .map(|t| (t, b.destination.mirror_block)),
                set: Some(set_of(b)?),
                note: None,
                embedded,
            })
        };
        let mut provable = vec![from_bundle(primary, true)?];
        for m in &view.mirrored_on {
            if m.destination_chain == primary.destination.chain {
                continue;
            }
            let bundle = others
                .iter()
                .find(|(c, _)| c == &m.destination_chain)
                .map(|(_, b)| b);
            let built = match bundle {
                Some(Ok(b)) => from_bundle(b, false),
                Some(Err(e)) => Err(e.clone()),
                None => Err("no bundle was built for this chain".to_owned()),
            };
            provable.push(built.unwrap_or_else(|note| Provable {
                chain_name: name(&m.destination_chain),
                chain_id: m.destination_chain.clone(),
                checkpoint_size: m.checkpoint_size,
                checkpoint_root: m.checkpoint_root,
                mirror_tx: m.tx_hash.map(|t| (t, m.block)),
                set: None,
                note: Some(note),
                embedded: false,
            }));
        }
        let revocation = match (&primary.revocation, view.revoked_by) {
            (Some(rev), _) => RevocationStatus::Revoked {
                by: rev.record_id,
                proven: true,
            },
            (None, Some(by)) => RevocationStatus::Revoked { by, proven: false },
            (None, None) => RevocationStatus::NotRevoked,
        };
        Ok(Self {
            record_id: primary.record_id,
            digest: r.evidence.digest,
            digest_alg: alg_name(&r.evidence.digest_alg.to_string()),
            kind: r.evidence.kind.to_string(),
            anchored: Anchored {
                chain_name: name(&r.source.chain),
                chain_id: r.source.chain.clone(),
                block: r.source.block_number,
                time: r.block_time_rfc3339(),
                tx: r.source.tx_hash,
                submitter: r.evidence.submitter,
                adapter: r.source.adapter.to_string(),
            },
            provable,
            revocation,
            timestamps: Vec::new(),
            lookup_url: lookup_url(lookup_base, r.evidence.digest),
            issued_at,
        })
    }
}

/// The lookup page on `digest`: `BASE/?digest=0x…` (the page looks it up on load).
pub(crate) fn lookup_url(base: &str, digest: B256) -> String {
    format!("{}/?digest={digest}", base.trim_end_matches('/'))
}

/// The algorithm as people write it.
fn alg_name(alg: &str) -> String {
    match alg {
        "sha256" => "SHA-256".into(),
        "keccak256" => "Keccak-256".into(),
        "sm3" => "SM3".into(),
        other => other.to_owned(),
    }
}

/// Now, RFC 3339 UTC to the second.
pub(crate) fn now_rfc3339() -> String {
    let now = jiff::Timestamp::now().as_second();
    jiff::Timestamp::from_second(now).map_or_else(|_| String::new(), |t| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lookup_url_carries_the_digest_whatever_the_base_ends_with() {
        let d = B256::repeat_byte(0xab);
        for base in [
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080/",
            "https://evidence.example.org/",
        ] {
            let url = lookup_url(base, d);
            assert!(url.ends_with(&format!("/?digest={d}")), "{url}");
            assert!(!url.contains("//?"), "{url}");
        }
        assert_eq!(alg_name("sha256"), "SHA-256");
        assert_eq!(alg_name("sm3"), "SM3");
    }
}
