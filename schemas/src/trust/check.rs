//! Reading a trust root strictly, and checking a bundle's signers against it.

use std::collections::HashSet;

use alloy_primitives::Address;

use super::{
    TRUST_ROOT_MEDIA_TYPE, TRUST_ROOT_VERSION, TrustRoot, TrustedMirror, TrustedSet, TrustedSource,
};
use crate::{
    attestor_set::{SetAuthorization, SetUpdate, verify_update_signatures},
    bundle::{ProofBundle, check_attestor_set, strict_eip155_id},
    chain::ChainId,
    checkpoint::{MirrorDomain, SignatureError},
    strict_json::{DocumentError, from_str_strict},
};

/// A trust-root file that cannot be used: not JSON, not a trust root, or internally
/// inconsistent. (`bridge verify` exits 2.)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrustFileError {
    /// Not JSON, a key twice in an object, an unknown or missing field.
    #[error("{0}")]
    Document(#[from] DocumentError),
    /// Another kind of document.
    #[error("media_type is {got:?}; a trust root's is {TRUST_ROOT_MEDIA_TYPE:?}")]
    MediaType {
        /// The media type found.
        got: String,
    },
    /// A format version this build does not read.
    #[error("trust-root version {got}: this build reads version {TRUST_ROOT_VERSION}")]
    Version {
        /// The version found.
        got: u64,
    },
    /// The file lists no mirror, so it trusts nothing.
    #[error(
        "the trust root lists no mirror: it trusts nothing (export one with `bridge trust export`)"
    )]
    Empty,
    /// A `tsa_roots` entry holds no usable certificate.
    #[error("tsa_roots entry {name:?}: {reason}")]
    Tsa {
        /// The entry's name.
        name: String,
        /// What is wrong with its certificate.
        reason: String,
    },
    /// A mirror entry that is wrong in itself or repeated.
    #[error("mirror {chain} {mirror}: {reason}")]
    Mirror {
        /// The mirror's chain.
        chain: ChainId,
        /// The mirror's address.
        mirror: Address,
        /// What is wrong.
        reason: String,
    },
    /// A source entry that is empty or repeated.
    #[error("mirror {chain} {mirror}, source {source_chain}: {reason}")]
    Source {
        /// The mirror's chain.
        chain: ChainId,
        /// The mirror's address.
        mirror: Address,
        /// The source chain.
        source_chain: ChainId,
        /// What is wrong.
        reason: String,
    },
    /// A set version that is wrong in itself or out of sequence.
    #[error("mirror {chain} {mirror}, source {source_chain}, set version {version}: {reason}")]
    Set {
        /// The mirror's chain.
        chain: ChainId,
        /// The mirror's address.
        mirror: Address,
        /// The source chain.
        source_chain: ChainId,
        /// The set version.
        version: u64,
        /// What is wrong.
        reason: String,
    },
}

/// Why a bundle's attestor set is not trusted by a trust root. Each names the check
/// (`trust_mirror`, `trust_source`, `trust_version`, `trust_members`, `trust_chain`)
/// and what differed. (`bridge verify` exits 1.)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    /// The bundle's destination mirror is not in the file.
    #[error(
        "check `trust_mirror` failed: the trust root does not list mirror {mirror} on {chain} (it lists: {listed}); the bundle's signers are not pinned"
    )]
    UnknownMirror {
        /// The bundle's destination chain.
        chain: ChainId,
        /// The bundle's mirror.
        mirror: Address,
        /// The mirrors the file lists, as `chain mirror`.
        listed: String,
    },
    /// The mirror is listed, but not for the record's source chain.
    #[error(
        "check `trust_source` failed: the trust root lists mirror {mirror} on {chain} for source(s) {listed}, not for {source_chain}"
    )]
    UnknownSource {
        /// The destination chain.
        chain: ChainId,
        /// The mirror.
        mirror: Address,
        /// The record's source chain.
        source_chain: ChainId,
        /// The sources listed for the mirror.
        listed: String,
    },
    /// The bundle's attestor-set version is not listed.
    #[error(
        "check `trust_version` failed: the bundle's attestor set version {version} of {source_chain} is not in the trust root (it lists versions {first} to {last}); export a newer trust root if the mirror rotated since"
    )]
    UnknownVersion {
        /// The source chain.
        source_chain: ChainId,
        /// The bundle's set version.
        version: u64,
        /// First listed version.
        first: u64,
        /// Last listed version.
        last: u64,
    },
    /// The bundle's members are not the trusted set's members.
    #[error(
        "check `trust_members` failed: attestor set version {version}: {}{}",
        list("in the bundle but not in the trust root", only_in_bundle),
        list("; in the trust root but not in the bundle", only_in_trust)
    )]
    MembersDiffer {
        /// The set version.
        version: u64,
        /// Members the bundle names that the trust root does not.
        only_in_bundle: Vec<Address>,
        /// Members the trust root names that the bundle does not.
        only_in_trust: Vec<Address>,
    },
    /// The bundle's threshold is not the trusted set's.
    #[error(
        "check `trust_members` failed: attestor set version {version} has threshold {trusted} in the trust root, the bundle says {bundle}"
    )]
    ThresholdDiffers {
        /// The set version.
        version: u64,
        /// The bundle's threshold.
        bundle: u8,
        /// The trust root's threshold.
        trusted: u8,
    },
    /// The chain of trust ends at a version the owner alone installed, unpinned.
    #[error("check `trust_chain` failed: set version {version} was installed by {} and is not pinned in the trust root; trust it only after checking it out of band, by setting `\"pinned\": true` on it", describe(*authorization))]
    NotPinned {
        /// The version the chain stopped at.
        version: u64,
        /// How it was installed.
        authorization: SetAuthorization,
    },
    /// A signed rotation whose previous version is not in the file.
    #[error("check `trust_chain` failed: set version {version} was signed by version {}, which the trust root does not list, and is not pinned itself", version.saturating_sub(1))]
    MissingPrevious {
        /// The signed version.
        version: u64,
    },
    /// The previous set's signatures over a rotation do not verify.
    #[error("check `trust_chain` failed: the rotation to set version {version} is not signed by the threshold of version {}: {reason}", version.saturating_sub(1))]
    RotationSignatures {
        /// The rotated-to version.
        version: u64,
        /// What is wrong with the signatures.
        reason: SignatureError,
    },
}

impl TrustError {
    /// The short name of the failed check.
    pub fn check(&self) -> &'static str {
        match self {
            Self::UnknownMirror { .. } => "trust_mirror",
            Self::UnknownSource { .. } => "trust_source",
            Self::UnknownVersion { .. } => "trust_version",
            Self::MembersDiffer { .. } | Self::ThresholdDiffers { .. } => "trust_members",
            Self::NotPinned { .. }
            | Self::MissingPrevious { .. }
            | Self::RotationSignatures { .. } => "trust_chain",
        }
    }
}

fn list(what: &str, addresses: &[Address]) -> String {
    if addresses.is_empty() {
        return String::new();
    }
    let shown: Vec<String> = addresses.iter().map(ToString::to_string).collect();
    format!("{what}: {}", shown.join(", "))
}

fn describe(authorization: SetAuthorization) -> &'static str {
    match authorization {
        SetAuthorization::FirstSet => "the mirror's owner as the first set",
        SetAuthorization::SignedRotation => "a signed rotation",
        SetAuthorization::OwnerTimelock => "the mirror's owner after the timelock",
    }
}

/// How a bundle's signers came to be trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedSigners {
    /// The destination chain.
    pub chain: ChainId,
    /// The mirror.
    pub mirror: Address,
    /// The source chain.
    pub source_chain: ChainId,
    /// The bundle's attestor-set version.
    pub version: u64,
    /// The pinned version the chain of trust starts from (`<= version`).
    pub pinned_version: u64,
}

impl TrustedSigners {
    /// Words for a person: "set version 3 of eip155:1 on eip155:10 0x…, pinned" or
    /// "…, reached from pinned version 1 through 2 signed rotations".
    pub fn describe(&self) -> String {
        let how = if self.pinned_version == self.version {
            "pinned".to_owned()
        } else {
            format!(
                "reached from pinned version {} through {} signed rotation(s)",
                self.pinned_version,
                self.version - self.pinned_version
            )
        };
        format!(
            "set version {} of {} on {} {}, {how}",
            self.version, self.source_chain, self.chain, self.mirror
        )
    }
}

impl TrustRoot {
    /// Reads a trust root strictly: no key twice, no unknown field, the media type and
    /// version of this format, every mirror a canonical `eip155` chain with a nonzero
    /// address listed once (it may list no source: it then trusts nothing there), every
    /// source listed once with at least one set, set versions consecutive from the first
    /// listed one with non-decreasing `effective_block`, every set 1–255 distinct nonzero members with
    /// `1 <= threshold <= members`, `first_set` only as version 1, `signed_rotation`
    /// only after version 1 and with 65-byte signatures, signatures on no other set.
    pub fn parse(text: &str) -> Result<Self, TrustFileError> {
        let root: Self = from_str_strict(text, "trust root")?;
        root.validate()?;
        Ok(root)
    }

    /// The rules of [`Self::parse`] that the types alone cannot express.
    pub fn validate(&self) -> Result<(), TrustFileError> {
        if self.media_type != TRUST_ROOT_MEDIA_TYPE {
            return Err(TrustFileError::MediaType {
                got: crate::error::clip(&self.media_type),
            });
        }
        if self.version != TRUST_ROOT_VERSION {
            return Err(TrustFileError::Version { got: self.version });
        }
        if self.mirrors.is_empty() {
            return Err(TrustFileError::Empty);
        }
        for t in &self.tsa_roots {
            crate::timestamp::TsaRoots::from_pem(&t.certificate_pem).map_err(|e| {
                TrustFileError::Tsa {
                    name: crate::error::clip(&t.name),
                    reason: e.to_string(),
                }
            })?;
        }
        let mut mirrors = HashSet::new();
        for m in &self.mirrors {
            let bad = |reason: String| TrustFileError::Mirror {
                chain: m.chain.clone(),
                mirror: m.mirror,
                reason,
            };
            strict_eip155_id(&m.chain).map_err(bad)?;
            if m.mirror.is_zero() {
                return Err(bad("the mirror address is zero".into()));
            }
            if !mirrors.insert((&m.chain, m.mirror)) {
                return Err(bad("listed twice; merge the two entries".into()));
            }
            let mut sources = HashSet::new();
            for s in &m.sources {
                if !sources.insert(&s.source_chain) {
                    return Err(source_error(
                        m,
                        s,
                        "listed twice for this mirror; merge the two entries".into(),
                    ));
                }
                validate_source(m, s)?;
            }
        }
        Ok(())
    }

    /// Decides whether the attestor set of `bundle` (already checked offline with
    /// [`ProofBundle::verify_offline`]) is trusted by this root; see the module doc for
    /// the checks, in order.
    pub fn check_bundle(&self, bundle: &ProofBundle) -> Result<TrustedSigners, TrustError> {
        let d = &bundle.destination;
        let source_chain = &bundle.checkpoint.source_chain;
        let mirror = self
            .mirrors
            .iter()
            .find(|m| m.chain == d.chain && m.mirror == d.mirror)
            .ok_or_else(|| TrustError::UnknownMirror {
                chain: d.chain.clone(),
                mirror: d.mirror,
                listed: self
                    .mirrors
                    .iter()
                    .map(|m| format!("{} {}", m.chain, m.mirror))
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        let source = mirror
            .sources
            .iter()
            .find(|s| &s.source_chain == source_chain)
            .ok_or_else(|| TrustError::UnknownSource {
                chain: d.chain.clone(),
                mirror: d.mirror,
                source_chain: source_chain.clone(),
                listed: mirror
                    .sources
                    .iter()
                    .map(|s| s.source_chain.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        let version = d.attestor_set_version;
        let set = source
            .set(version)
            .ok_or_else(|| TrustError::UnknownVersion {
                source_chain: source_chain.clone(),
                version,
                first: source.sets.first().map_or(0, |s| s.version),
                last: source.sets.last().map_or(0, |s| s.version),
            })?;
        let ours: HashSet<Address> = d.attestors.iter().copied().collect();
        let theirs: HashSet<Address> = set.attestors.iter().copied().collect();
        if ours != theirs {
            let mut only_in_bundle: Vec<Address> = ours.difference(&theirs).copied().collect();
            let mut only_in_trust: Vec<Address> = theirs.difference(&ours).copied().collect();
            only_in_bundle.sort();
            only_in_trust.sort();
            return Err(TrustError::MembersDiffer {
                version,
                only_in_bundle,
                only_in_trust,
            });
        }
        if set.threshold != d.threshold {
            return Err(TrustError::ThresholdDiffers {
                version,
                bundle: d.threshold,
                trusted: set.threshold,
            });
        }
        let pinned_version = source.trust_chain(mirror, version)?;
        Ok(TrustedSigners {
            chain: d.chain.clone(),
            mirror: d.mirror,
            source_chain: source_chain.clone(),
            version,
            pinned_version,
        })
    }
}

impl TrustedSource {
    /// The listed set of `version`.
    pub fn set(&self, version: u64) -> Option<&TrustedSet> {
        let first = self.sets.first()?.version;
        let index = usize::try_from(version.checked_sub(first)?).ok()?;
        self.sets.get(index).filter(|s| s.version == version)
    }

    /// Walks from `version` down to a pinned version, checking every signed rotation on
    /// the way against the version before it; returns the pinned version.
    fn trust_chain(&self, mirror: &TrustedMirror, version: u64) -> Result<u64, TrustError> {
        let domain = match strict_eip155_id(&mirror.chain) {
            Ok(chain_id) => MirrorDomain {
                chain_id,
                mirror: mirror.mirror,
            },
            // `parse` rejects such a mirror; a hand-built root lands here.
            Err(_) => {
                return Err(TrustError::NotPinned {
                    version,
                    authorization: SetAuthorization::FirstSet,
                });
            }
        };
        let mut v = version;
        loop {
            let Some(set) = self.set(v) else {
                return Err(TrustError::MissingPrevious { version: v + 1 });
            };
            if set.pinned {
                return Ok(v);
            }
            if set.authorization != SetAuthorization::SignedRotation {
                return Err(TrustError::NotPinned {
                    version: v,
                    authorization: set.authorization,
                });
            }
            let Some(previous) = v.checked_sub(1).and_then(|p| self.set(p)) else {
                return Err(TrustError::MissingPrevious { version: v });
            };
            let update = SetUpdate {
                source_chain: self.source_chain.clone(),
                new_version: v,
                attestors: set.attestors.clone(),
                threshold: set.threshold,
            };
            verify_update_signatures(
                &update.signing_hash(&domain),
                &set.signatures,
                &previous.attestors,
                previous.threshold,
            )
            .map_err(|reason| TrustError::RotationSignatures { version: v, reason })?;
            v -= 1;
        }
    }
}

fn source_error(m: &TrustedMirror, s: &TrustedSource, reason: String) -> TrustFileError {
    TrustFileError::Source {
        chain: m.chain.clone(),
        mirror: m.mirror,
        source_chain: s.source_chain.clone(),
        reason,
    }
}

fn validate_source(m: &TrustedMirror, s: &TrustedSource) -> Result<(), TrustFileError> {
    let Some(first) = s.sets.first() else {
        return Err(source_error(m, s, "lists no attestor set".into()));
    };
    let mut previous: Option<&TrustedSet> = None;
    for (i, set) in s.sets.iter().enumerate() {
        let bad = |reason: String| TrustFileError::Set {
            chain: m.chain.clone(),
            mirror: m.mirror,
            source_chain: s.source_chain.clone(),
            version: set.version,
            reason,
        };
        let expected = u64::try_from(i)
            .ok()
            .and_then(|i| first.version.checked_add(i));
        if set.version == 0 {
            return Err(bad("versions start at 1".into()));
        }
        if Some(set.version) != expected {
            return Err(bad(format!(
                "versions must be consecutive from the first listed ({}): expected {} here",
                first.version,
                expected.map_or_else(|| "none".to_owned(), |e| e.to_string())
            )));
        }
        if let Some(p) = previous
            && set.effective_block < p.effective_block
        {
            return Err(bad(format!(
                "effective_block {} is before version {}'s {}",
                set.effective_block, p.version, p.effective_block
            )));
        }
        check_attestor_set(&set.attestors, set.threshold).map_err(bad)?;
        match set.authorization {
            SetAuthorization::FirstSet if set.version != 1 => {
                return Err(bad("a first set is version 1".into()));
            }
            SetAuthorization::SignedRotation if set.version == 1 => {
                return Err(bad(
                    "version 1 is a first set, never a signed rotation".into()
                ));
            }
            SetAuthorization::SignedRotation if set.signatures.is_empty() => {
                return Err(bad(
                    "a signed rotation lists the previous set's signatures; none are given".into(),
                ));
            }
            SetAuthorization::SignedRotation => {
                if let Some((index, sig)) = set
                    .signatures
                    .iter()
                    .enumerate()
                    .find(|(_, sig)| sig.len() != 65)
                {
                    return Err(bad(format!(
                        "signature #{index} is {} bytes, expected 65 (r ‖ s ‖ v)",
                        sig.len()
                    )));
                }
            }
            _ if !set.signatures.is_empty() => {
                return Err(bad(format!(
                    "only a signed_rotation carries signatures; this set is {}",
                    describe(set.authorization)
                )));
            }
            _ => {}
        }
        previous = Some(set);
    }
    Ok(())
}
