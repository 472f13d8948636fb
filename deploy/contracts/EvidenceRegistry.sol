// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title EvidenceRegistry
/// @notice Anchors evidence digests on this chain. Any account may anchor or revoke; each
///         event records the sender. The registry adapter reads these events.
/// @dev Both event kinds share one sequence number, starting at 1 and increasing by one
///      per event, so an indexer can tell when it missed one. The counter is the only
///      storage: the registry keeps no record of what was anchored (the relayer checks
///      `ref` off chain).
contract EvidenceRegistry {
    /// @notice Largest accepted length of a kind label, in bytes.
    uint256 public constant MAX_KIND_LENGTH = 64;

    /// @dev Sequence number of the last event; 0 before the first.
    uint64 private _lastSeq;

    /// @notice A digest was anchored.
    /// @param seq Sequence number of this event in this registry (first event is 1).
    /// @param digest The anchored digest.
    /// @param submitter The account that called `anchor`.
    /// @param digestAlg Digest algorithm: 1 = sha256, 2 = keccak256, 3 = sm3.
    /// @param kind Short label of the kind of evidence, at most 64 bytes.
    /// @param metadata Commitment to off-chain metadata (may be zero).
    event Anchored(
        uint64 indexed seq,
        bytes32 indexed digest,
        address indexed submitter,
        uint8 digestAlg,
        string kind,
        bytes32 metadata
    );

    /// @notice An earlier anchor was revoked.
    /// @param seq Sequence number of this event in this registry.
    /// @param digest The digest being revoked.
    /// @param submitter The account that called `revoke`.
    /// @param digestAlg Digest algorithm: 1 = sha256, 2 = keccak256, 3 = sm3.
    /// @param ref Record id of the anchor record being revoked.
    /// @param kind Short label of the kind of evidence, at most 64 bytes.
    event Revoked(
        uint64 indexed seq,
        bytes32 indexed digest,
        address indexed submitter,
        uint8 digestAlg,
        bytes32 ref,
        string kind
    );

    /// @notice The digest algorithm is not 1 (sha256), 2 (keccak256) or 3 (sm3).
    /// @param digestAlg The rejected value.
    error UnknownDigestAlgorithm(uint8 digestAlg);

    /// @notice The digest is zero.
    error ZeroDigest();

    /// @notice The kind label is longer than `MAX_KIND_LENGTH` bytes.
    /// @param length The length of the rejected label, in bytes.
    error KindTooLong(uint256 length);

    /// @notice A revoke must name the record id it revokes.
    error ZeroRef();

    /// @notice Anchors `digest`; emits `Anchored`.
    /// @param digestAlg Digest algorithm: 1 = sha256, 2 = keccak256, 3 = sm3.
    /// @param digest The digest to anchor; nonzero.
    /// @param kind Short label of the kind of evidence, at most 64 bytes.
    /// @param metadata Commitment to off-chain metadata (may be zero).
    /// @return seq Sequence number of the emitted event.
    function anchor(uint8 digestAlg, bytes32 digest, string calldata kind, bytes32 metadata)
        external
        returns (uint64 seq)
    {
        _validate(digestAlg, digest, kind);
        seq = _nextSeq();
        emit Anchored(seq, digest, msg.sender, digestAlg, kind, metadata);
    }

    /// @notice Revokes an earlier anchor; emits `Revoked`.
    /// @param digestAlg Digest algorithm: 1 = sha256, 2 = keccak256, 3 = sm3.
    /// @param digest The digest being revoked; nonzero.
    /// @param ref Record id of the anchor record being revoked, computed off chain; nonzero.
    /// @param kind Short label of the kind of evidence, at most 64 bytes.
    /// @return seq Sequence number of the emitted event.
    function revoke(uint8 digestAlg, bytes32 digest, bytes32 ref, string calldata kind)
        external
        returns (uint64 seq)
    {
        _validate(digestAlg, digest, kind);
        if (ref == bytes32(0)) revert ZeroRef();
        seq = _nextSeq();
        emit Revoked(seq, digest, msg.sender, digestAlg, ref, kind);
    }

    /// @notice The sequence number the next event will get.
    /// @return The next sequence number (1 before any event).
    function nextSeq() external view returns (uint64) {
        return _lastSeq + 1;
    }

    function _validate(uint8 digestAlg, bytes32 digest, string calldata kind) private pure {
        if (digestAlg == 0 || digestAlg > 3) revert UnknownDigestAlgorithm(digestAlg);
        if (digest == bytes32(0)) revert ZeroDigest();
        if (bytes(kind).length > MAX_KIND_LENGTH) revert KindTooLong(bytes(kind).length);
    }

    function _nextSeq() private returns (uint64 seq) {
        seq = _lastSeq + 1;
        _lastSeq = seq;
    }
}
