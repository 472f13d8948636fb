// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {EvidenceLib} from "./EvidenceLib.sol";

/// @title SubtreeLib
/// @notice Verification of proofs about a subtree `[start, end)` of an RFC 6962 tree over
///         SHA-256: subtree inclusion and subtree consistency proofs, as defined by the
///         Merkle Tree Certificates draft (draft-ietf-plants-merkle-tree-certs §4.1,
///         §4.3, §4.4) and tested by the published transparency-dev/merkle vectors.
/// @dev Every function is `internal` and uses `EvidenceLib`'s hashing, so the two agree
///      byte for byte; nothing in `EvidenceLib`, `AnchorMirror` or `EvidenceRegistry`
///      uses this library. The rules match the Rust `evidence_schemas::log::subtree`
///      module: a subtree must be valid and fit in the tree, hashes must not be zero,
///      and a proof must have exactly the canonical length. Verifiers never revert on
///      any input.
library SubtreeLib {
    /// @notice Whether `[start, end)` is a valid subtree: `start < end` and `start` a
    ///         multiple of the smallest power of two `>= end - start`.
    function isValidSubtree(uint256 start, uint256 end) internal pure returns (bool) {
        if (start >= end) return false;
        // The smallest power of two >= len is 2^bitLength(len - 1).
        uint256 bits = _bitLength(end - start - 1);
        if (bits == 256) return start == 0;
        return start & ((uint256(1) << bits) - 1) == 0;
    }

    /// @notice Whether `proof` proves that `leaf` (a leaf hash) is leaf `index` of the
    ///         subtree `[start, end)` whose hash is `subtreeHash`. Never reverts.
    /// @dev The subtree hash is the MTH of its own leaves, so this is
    ///      `EvidenceLib.verifyInclusion` of leaf `index - start` in a tree of
    ///      `end - start` leaves. False for an invalid subtree, an index outside it, a
    ///      zero subtree hash, a proof not of the canonical length, or a mismatch.
    function verifySubtreeInclusion(
        bytes32 leaf,
        uint256 index,
        uint256 start,
        uint256 end,
        bytes32[] memory proof,
        bytes32 subtreeHash
    ) internal pure returns (bool) {
        if (!isValidSubtree(start, end) || index < start || index >= end) return false;
        return EvidenceLib.verifyInclusion(leaf, index - start, end - start, proof, subtreeHash);
    }

    /// @notice Length of the canonical consistency proof of the subtree `[start, end)`
    ///         with the tree of `size` leaves.
    /// @dev Returns 0 for an invalid subtree or `end > size` (no proof exists), as for a
    ///      subtree that is the whole tree. See the Rust `subtree_consistency_proof_len`
    ///      for the derivation.
    function subtreeConsistencyProofLength(uint256 start, uint256 end, uint256 size) internal pure returns (uint256) {
        if (!isValidSubtree(start, end) || end > size) return 0;
        if (end == size) {
            // A node on the right border, at height h: one left sibling per level above
            // it where it is a right child.
            return _popCount(start >> _bitLength(start ^ (end - 1)));
        }
        uint256 len = end - start;
        uint256 inner = _bitLength((end - 1) ^ (size - 1));
        uint256 shift = _trailingZeros(len);
        // The largest perfect subtree ending at `end` is the first element, unless it is
        // the whole subtree, whose hash the verifier has. inner > shift since end < size.
        uint256 seed = len == (uint256(1) << shift) ? 0 : 1;
        return seed + (inner - shift) + _popCount((end - 1) >> inner);
    }

    /// @notice Whether `proof` proves that the subtree `[start, end)` with hash
    ///         `subtreeHash` is part of the tree of `size` leaves with root `root`.
    ///         Never reverts.
    /// @dev The draft's §4.4.3 walk. False for an invalid subtree, `end > size`, a zero
    ///      hash, a proof not of the canonical length, a whole-tree subtree
    ///      (`start == 0`, `end == size`) whose hash is not the root, or a mismatch of
    ///      either the rebuilt subtree hash or the rebuilt root.
    function verifySubtreeConsistency(
        uint256 start,
        uint256 end,
        uint256 size,
        bytes32 subtreeHash,
        bytes32 root,
        bytes32[] memory proof
    ) internal pure returns (bool) {
        if (!isValidSubtree(start, end) || end > size) return false;
        if (subtreeHash == bytes32(0) || root == bytes32(0)) return false;
        if (proof.length != subtreeConsistencyProofLength(start, end, size)) return false;
        if (start == 0 && end == size) return subtreeHash == root;

        // Cursors on the subtree's first and last leaf and the tree's last leaf; a right
        // shift climbs one level. first == last: at or above the subtree's own node.
        uint256 first = start;
        uint256 last = end - 1;
        uint256 tree = size - 1;
        if (last == tree) {
            while (first != last) {
                (first, last, tree) = (first >> 1, last >> 1, tree >> 1);
            }
        } else {
            while (first != last && last & 1 == 1) {
                (first, last, tree) = (first >> 1, last >> 1, tree >> 1);
            }
        }
        uint256 i;
        bytes32 seed = subtreeHash;
        if (first != last) {
            if (proof.length == 0) return false;
            seed = proof[0];
            i = 1;
        }
        bytes32 sub = seed; // rebuilds the subtree hash
        bytes32 top = seed; // rebuilds the root
        for (; i < proof.length; ++i) {
            if (tree == 0) return false;
            bytes32 sibling = proof[i];
            if (last & 1 == 1 || last == tree) {
                // A left sibling, inside the subtree while below the subtree's node.
                if (first < last) sub = EvidenceLib.nodeHash(sibling, sub);
                top = EvidenceLib.nodeHash(sibling, top);
                while (last & 1 == 0 && last != 0) {
                    (first, last, tree) = (first >> 1, last >> 1, tree >> 1);
                }
            } else {
                top = EvidenceLib.nodeHash(top, sibling);
            }
            (first, last, tree) = (first >> 1, last >> 1, tree >> 1);
        }
        return tree == 0 && sub == subtreeHash && top == root;
    }

    /// @dev Number of bits needed to represent `x` (0 for 0).
    function _bitLength(uint256 x) private pure returns (uint256 n) {
        while (x != 0) {
            x >>= 1;
            ++n;
        }
    }

    /// @dev Number of set bits in `x`.
    function _popCount(uint256 x) private pure returns (uint256 n) {
        while (x != 0) {
            x &= x - 1;
            ++n;
        }
    }

    /// @dev Number of trailing zero bits of `x` (256 for 0).
    function _trailingZeros(uint256 x) private pure returns (uint256 n) {
        if (x == 0) return 256;
        while (x & 1 == 0) {
            x >>= 1;
            ++n;
        }
    }
}
