// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {SubtreeLib} from "../SubtreeLib.sol";

/// @title SubtreeLibHarness
/// @notice Test-only contract exposing `SubtreeLib` as external functions, so the Rust
///         tests can run the published subtree vectors against it on a dev node.
/// @dev Not meant for production deployment.
contract SubtreeLibHarness {
    /// @notice `SubtreeLib.isValidSubtree`.
    /// @param start First leaf of the subtree.
    /// @param end One past the last leaf.
    /// @return Whether `[start, end)` is a valid subtree.
    function isValidSubtree(uint256 start, uint256 end) external pure returns (bool) {
        return SubtreeLib.isValidSubtree(start, end);
    }

    /// @notice `SubtreeLib.subtreeConsistencyProofLength`.
    /// @param start First leaf of the subtree.
    /// @param end One past the last leaf.
    /// @param size Tree size.
    /// @return Canonical proof length (0 if no proof exists).
    function subtreeConsistencyProofLength(uint256 start, uint256 end, uint256 size)
        external
        pure
        returns (uint256)
    {
        return SubtreeLib.subtreeConsistencyProofLength(start, end, size);
    }

    /// @notice `SubtreeLib.verifySubtreeInclusion`.
    /// @param leaf The leaf hash.
    /// @param index Leaf index (absolute, in `[start, end)`).
    /// @param start First leaf of the subtree.
    /// @param end One past the last leaf.
    /// @param proof Inclusion proof within the subtree.
    /// @param subtreeHash The subtree hash.
    /// @return Whether the proof is valid.
    function verifySubtreeInclusion(
        bytes32 leaf,
        uint256 index,
        uint256 start,
        uint256 end,
        bytes32[] calldata proof,
        bytes32 subtreeHash
    ) external pure returns (bool) {
        return SubtreeLib.verifySubtreeInclusion(leaf, index, start, end, proof, subtreeHash);
    }

    /// @notice `SubtreeLib.verifySubtreeConsistency`.
    /// @param start First leaf of the subtree.
    /// @param end One past the last leaf.
    /// @param size Tree size.
    /// @param subtreeHash The subtree hash.
    /// @param root The tree root.
    /// @param proof Subtree consistency proof.
    /// @return Whether the proof is valid.
    function verifySubtreeConsistency(
        uint256 start,
        uint256 end,
        uint256 size,
        bytes32 subtreeHash,
        bytes32 root,
        bytes32[] calldata proof
    ) external pure returns (bool) {
        return SubtreeLib.verifySubtreeConsistency(start, end, size, subtreeHash, root, proof);
    }
}
