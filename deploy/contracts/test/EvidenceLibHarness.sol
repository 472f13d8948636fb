// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {EvidenceLib} from "../EvidenceLib.sol";

/// @title EvidenceLibHarness
/// @notice Test-only contract exposing `EvidenceLib` as external functions, so the Rust
///         tests can compare it with the Rust implementation on a dev node.
/// @dev Not meant for production deployment.
contract EvidenceLibHarness {
    /// @notice The v1 record domain constant.
    /// @return `keccak256("EvidenceBridge.EvidenceRecord.v1")`.
    function recordDomain() external pure returns (bytes32) {
        return EvidenceLib.RECORD_DOMAIN;
    }

    /// @notice `EvidenceLib.recordId` of a record whose strings are already hashed.
    /// @param r The record (hashed as given, including `domain`).
    /// @return The record id.
    function recordId(EvidenceLib.EvidenceRecordV1 calldata r) external pure returns (bytes32) {
        return EvidenceLib.recordId(r);
    }

    /// @notice `EvidenceLib.recordId` of a record given with its string fields.
    /// @param input The record; `chain`, `adapter` and `kind` are hashed here.
    /// @return The record id.
    function recordIdFromStrings(EvidenceLib.EvidenceRecordV1Input calldata input) external pure returns (bytes32) {
        return EvidenceLib.recordId(input);
    }

    /// @notice The canonical 544-byte encoding of a record given with its string fields.
    /// @param input The record; `chain`, `adapter` and `kind` are hashed here.
    /// @return The bytes whose sha256 is the record id.
    function encodeRecord(EvidenceLib.EvidenceRecordV1Input calldata input) external pure returns (bytes memory) {
        return abi.encode(EvidenceLib.toRecord(input));
    }

    /// @notice `EvidenceLib.leafHash`.
    /// @param id A record id.
    /// @return `sha256(0x00 || id)`.
    function leafHash(bytes32 id) external pure returns (bytes32) {
        return EvidenceLib.leafHash(id);
    }

    /// @notice `EvidenceLib.nodeHash`.
    /// @param left Left child hash.
    /// @param right Right child hash.
    /// @return `sha256(0x01 || left || right)`.
    function nodeHash(bytes32 left, bytes32 right) external pure returns (bytes32) {
        return EvidenceLib.nodeHash(left, right);
    }

    /// @notice `EvidenceLib.inclusionProofLength`.
    /// @param index Leaf index.
    /// @param size Tree size.
    /// @return Canonical inclusion proof length (0 if `index >= size`).
    function inclusionProofLength(uint256 index, uint256 size) external pure returns (uint256) {
        return EvidenceLib.inclusionProofLength(index, size);
    }

    /// @notice `EvidenceLib.consistencyProofLength`.
    /// @param size1 Old tree size.
    /// @param size2 New tree size.
    /// @return Canonical consistency proof length (0 if `size1 == 0` or `size1 >= size2`).
    function consistencyProofLength(uint256 size1, uint256 size2) external pure returns (uint256) {
        return EvidenceLib.consistencyProofLength(size1, size2);
    }

    /// @notice `EvidenceLib.verifyInclusion`.
    /// @param leaf The leaf hash (already `sha256(0x00 || data)`).
    /// @param index Leaf index.
    /// @param size Tree size.
    /// @param proof Inclusion proof.
    /// @param root Tree root.
    /// @return Whether the proof is valid.
    function verifyInclusion(bytes32 leaf, uint256 index, uint256 size, bytes32[] calldata proof, bytes32 root)
        external
        pure
        returns (bool)
    {
        return EvidenceLib.verifyInclusion(leaf, index, size, proof, root);
    }

    /// @notice `EvidenceLib.verifyConsistency`.
    /// @param size1 Old tree size.
    /// @param size2 New tree size.
    /// @param root1 Old tree root.
    /// @param root2 New tree root.
    /// @param proof Consistency proof.
    /// @return Whether the proof is valid.
    function verifyConsistency(uint256 size1, uint256 size2, bytes32 root1, bytes32 root2, bytes32[] calldata proof)
        external
        pure
        returns (bool)
    {
        return EvidenceLib.verifyConsistency(size1, size2, root1, root2, proof);
    }
}
