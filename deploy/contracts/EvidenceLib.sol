// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title EvidenceLib
/// @notice Canonical Evidence Bridge record ids and RFC 6962 / RFC 9162 Merkle proof
///         verification over SHA-256.
/// @dev Every function is `internal`, so it is inlined into the contract that uses it.
///      The record encoding and the tree hashing are shared byte for byte with the Rust
///      `schemas` crate; do not change either without bumping the record version.
library EvidenceLib {
    /// @notice Domain-separation constant, the first word of every v1 record encoding.
    bytes32 internal constant RECORD_DOMAIN = keccak256("EvidenceBridge.EvidenceRecord.v1");

    /// @notice `action` value of a record that anchors a digest.
    uint8 internal constant ACTION_ANCHOR = 1;
    /// @notice `action` value of a record that revokes an earlier anchor record.
    uint8 internal constant ACTION_REVOKE = 2;

    /// @notice `digestAlg` value for SHA-256.
    uint8 internal constant DIGEST_SHA256 = 1;
    /// @notice `digestAlg` value for Keccak-256.
    uint8 internal constant DIGEST_KECCAK256 = 2;
    /// @notice `digestAlg` value for SM3.
    uint8 internal constant DIGEST_SM3 = 3;

    /// @notice Evidence record v1 with its strings already reduced to keccak256 hashes.
    /// @dev All members are static, so `abi.encode(record)` is exactly 17 words (544 bytes)
    ///      and identical to `abi.encode` of the 17 values in this order.
    struct EvidenceRecordV1 {
        bytes32 domain; // RECORD_DOMAIN
        bytes32 chain; // keccak256(bytes(caip2 chain id))
        bytes32 adapter; // keccak256(bytes(adapter name))
        address origin; // contract that emitted the evidence event
        uint64 blockNumber;
        bytes32 blockHash;
        bytes32 txHash;
        uint64 txIndex;
        uint64 logIndex;
        uint64 blockTimestamp; // unix seconds
        uint8 action; // 1 = anchor, 2 = revoke
        bytes32 ref; // revoke: the record id it revokes; anchor: zero
        uint8 digestAlg; // 1 = sha256, 2 = keccak256, 3 = sm3
        bytes32 digest;
        bytes32 kind; // keccak256(bytes(kind label))
        address submitter;
        bytes32 metadata; // metadata commitment
    }

    /// @notice Evidence record v1 as it is read from a source chain, strings not yet hashed.
    /// @dev Same fields and order as `EvidenceRecordV1` without `domain`, which is implied.
    struct EvidenceRecordV1Input {
        string chain; // CAIP-2 chain id, e.g. "eip155:31337"
        string adapter; // adapter name, e.g. "registry"
        address origin;
        uint64 blockNumber;
        bytes32 blockHash;
        bytes32 txHash;
        uint64 txIndex;
        uint64 logIndex;
        uint64 blockTimestamp;
        uint8 action;
        bytes32 ref;
        uint8 digestAlg;
        bytes32 digest;
        string kind; // kind label, e.g. "iou"
        address submitter;
        bytes32 metadata;
    }

    // ---------------------------------------------------------------------------------
    // Record ids
    // ---------------------------------------------------------------------------------

    /// @notice Record id: `sha256(abi.encode(all 17 fields in order))`.
    /// @dev Hashes `r` as given, including `r.domain`; a v1 record carries `RECORD_DOMAIN`.
    function recordId(EvidenceRecordV1 memory r) internal pure returns (bytes32) {
        // A static tuple is encoded in place, so this is the 544-byte concatenation of
        // the 17 padded words, the same as abi.encode(r.domain, r.chain, ..., r.metadata).
        return sha256(abi.encode(r));
    }

    /// @notice Record id of a record given with its string fields; sets the v1 domain and
    ///         hashes `chain`, `adapter` and `kind` with keccak256.
    function recordId(EvidenceRecordV1Input memory input) internal pure returns (bytes32) {
        return recordId(toRecord(input));
    }

    /// @notice The hashed form of `input`, with `domain = RECORD_DOMAIN`.
    function toRecord(EvidenceRecordV1Input memory input) internal pure returns (EvidenceRecordV1 memory r) {
        r.domain = RECORD_DOMAIN;
        r.chain = keccak256(bytes(input.chain));
        r.adapter = keccak256(bytes(input.adapter));
        r.origin = input.origin;
        r.blockNumber = input.blockNumber;
        r.blockHash = input.blockHash;
        r.txHash = input.txHash;
        r.txIndex = input.txIndex;
        r.logIndex = input.logIndex;
        r.blockTimestamp = input.blockTimestamp;
        r.action = input.action;
        r.ref = input.ref;
        r.digestAlg = input.digestAlg;
        r.digest = input.digest;
        r.kind = keccak256(bytes(input.kind));
        r.submitter = input.submitter;
        r.metadata = input.metadata;
    }

    // ---------------------------------------------------------------------------------
    // Tree hashing
    // ---------------------------------------------------------------------------------

    /// @notice RFC 6962 leaf hash of a record id: `sha256(0x00 || recordId)`.
    function leafHash(bytes32 id) internal pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes1(0x00), id));
    }

    /// @notice RFC 6962 interior node hash: `sha256(0x01 || left || right)`.
    function nodeHash(bytes32 left, bytes32 right) internal pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes1(0x01), left, right));
    }

    // ---------------------------------------------------------------------------------
    // Canonical proof lengths
    // ---------------------------------------------------------------------------------

    /// @notice Length of the canonical inclusion proof for leaf `index` in a tree of `size`.
    /// @dev Returns 0 when `index >= size` (no proof exists), as it does for `size == 1`.
    function inclusionProofLength(uint256 index, uint256 size) internal pure returns (uint256) {
        if (index >= size) return 0;
        uint256 inner = _bitLength(index ^ (size - 1));
        return inner + _popCount(index >> inner);
    }

    /// @notice Length of the canonical consistency proof from a tree of `size1` to `size2`.
    /// @dev Returns 0 when `size1 == 0` or `size1 >= size2`: no proof elements are
    ///      expected (or no proof exists).
    function consistencyProofLength(uint256 size1, uint256 size2) internal pure returns (uint256) {
        if (size1 == 0 || size1 >= size2) return 0;
        uint256 index = size1 - 1;
        uint256 innerFull = _bitLength(index ^ (size2 - 1));
        uint256 shift = _trailingZeros(size1);
        // The root of the subtree of size 2^shift is the first proof element, unless that
        // subtree is the whole old tree (size1 a power of two), whose root the verifier has.
        uint256 seed = size1 == (uint256(1) << shift) ? 0 : 1;
        // innerFull > shift because size1 < size2.
        return seed + (innerFull - shift) + _popCount(index >> innerFull);
    }

    // ---------------------------------------------------------------------------------
    // Verification (RFC 9162 §2.1.3.2 and §2.1.4.2)
    // ---------------------------------------------------------------------------------

    /// @notice Whether `proof` proves that `leaf` is leaf `index` of the tree of `size`
    ///         leaves whose root is `root`. Never reverts.
    /// @dev False for `size == 0`, `index >= size`, a zero root, a proof that is not of
    ///      the canonical length, or a mismatch.
    function verifyInclusion(bytes32 leaf, uint256 index, uint256 size, bytes32[] memory proof, bytes32 root)
        internal
        pure
        returns (bool)
    {
        if (size == 0 || index >= size || root == bytes32(0)) return false;
        // No separate length check: the walk consumes exactly `inclusionProofLength`
        // elements (it fails if `sn` reaches 0 early or is not 0 at the end), so only a
        // proof of canonical length can succeed.
        return _pure(_verifyInclusion)(leaf, index, size, proof, root);
    }

    /// @notice Whether `proof` proves that the tree of `size1` leaves with root `root1` is
    ///         a prefix of the tree of `size2` leaves with root `root2`. Never reverts.
    /// @dev False for `size1 == 0`, `size1 > size2`, a zero root, `size1 == size2` with a
    ///      non-empty proof or different roots, a proof that is not of the canonical
    ///      length, or a mismatch.
    function verifyConsistency(uint256 size1, uint256 size2, bytes32 root1, bytes32 root2, bytes32[] memory proof)
        internal
        pure
        returns (bool)
    {
        if (size1 == 0 || size1 > size2) return false;
        if (root1 == bytes32(0) || root2 == bytes32(0)) return false;
        if (size1 == size2) return proof.length == 0 && root1 == root2;
        // Step 1. Like the inclusion walk, the consistency walk succeeds only for a proof
        // of length `consistencyProofLength(size1, size2)`, so there is no separate check.
        if (proof.length == 0) return false;
        return _pure(_verifyConsistency)(size1, size2, root1, root2, proof);
    }

    // ---------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------

    // The verifiers hash nodes by calling the SHA-256 precompile (address 2) directly from
    // assembly on a 65-byte scratch buffer past the free memory pointer: the `sha256`
    // builtin re-encodes its argument for every node and costs several times more. Solidity
    // classifies every `staticcall` as reading state, so these functions are `view`; the
    // precompile is a pure function of its input, so `_pure` re-types them for the `pure`
    // wrappers above (the same cast forge-std uses for console.log).

    /// @dev RFC 9162 §2.1.3.2, steps 2 to 5; the caller has done step 1.
    function _verifyInclusion(bytes32 leaf, uint256 index, uint256 size, bytes32[] memory proof, bytes32 root)
        private
        view
        returns (bool ok)
    {
        assembly ("memory-safe") {
            let buf := mload(0x40)
            mstore8(buf, 0x01)
            let fn := index
            let sn := sub(size, 1)
            let r := leaf
            ok := 1
            let p := add(proof, 0x20)
            for { let end := add(p, shl(5, mload(proof))) } lt(p, end) { p := add(p, 0x20) } {
                if iszero(sn) {
                    ok := 0
                    break
                }
                let c := mload(p)
                switch or(and(fn, 1), eq(fn, sn))
                case 0 {
                    mstore(add(buf, 0x01), r)
                    mstore(add(buf, 0x21), c)
                }
                default {
                    mstore(add(buf, 0x01), c)
                    mstore(add(buf, 0x21), r)
                    // Step 3.b.ii: fn == sn with LSB(fn) clear; skip the levels where
                    // this node has no right sibling.
                    for {} and(iszero(and(fn, 1)), iszero(iszero(fn))) {} {
                        fn := shr(1, fn)
                        sn := shr(1, sn)
                    }
                }
                if iszero(staticcall(gas(), 0x02, buf, 0x41, 0x00, 0x20)) { revert(0x00, 0x00) }
                r := mload(0x00)
                fn := shr(1, fn)
                sn := shr(1, sn)
            }
            ok := and(ok, and(iszero(sn), eq(r, root)))
        }
    }

    /// @dev RFC 9162 §2.1.4.2, steps 2 to 7; the caller has checked `0 < size1 < size2`
    ///      and that the proof is not empty (step 1).
    function _verifyConsistency(uint256 size1, uint256 size2, bytes32 root1, bytes32 root2, bytes32[] memory proof)
        private
        view
        returns (bool ok)
    {
        assembly ("memory-safe") {
            let buf := mload(0x40)
            mstore8(buf, 0x01)
            let p := add(proof, 0x20)
            let end := add(p, shl(5, mload(proof)))
            // Step 2: if size1 is a power of two, root1 is prepended to the path.
            // Step 5: fr and sr start as the first path element.
            let fr := root1
            if and(size1, sub(size1, 1)) {
                fr := mload(p)
                p := add(p, 0x20)
            }
            let sr := fr
            // Steps 3 and 4.
            let fn := sub(size1, 1)
            let sn := sub(size2, 1)
            for {} and(fn, 1) {} {
                fn := shr(1, fn)
                sn := shr(1, sn)
            }
            // Step 6.
            ok := 1
            for {} lt(p, end) { p := add(p, 0x20) } {
                if iszero(sn) {
                    ok := 0
                    break
                }
                let c := mload(p)
                switch or(and(fn, 1), eq(fn, sn))
                case 0 {
                    mstore(add(buf, 0x01), sr)
                    mstore(add(buf, 0x21), c)
                    if iszero(staticcall(gas(), 0x02, buf, 0x41, 0x00, 0x20)) { revert(0x00, 0x00) }
                    sr := mload(0x00)
                }
                default {
                    mstore(add(buf, 0x01), c)
                    mstore(add(buf, 0x21), fr)
                    if iszero(staticcall(gas(), 0x02, buf, 0x41, 0x00, 0x20)) { revert(0x00, 0x00) }
                    fr := mload(0x00)
                    mstore(add(buf, 0x21), sr)
                    if iszero(staticcall(gas(), 0x02, buf, 0x41, 0x00, 0x20)) { revert(0x00, 0x00) }
                    sr := mload(0x00)
                    for {} and(iszero(and(fn, 1)), iszero(iszero(fn))) {} {
                        fn := shr(1, fn)
                        sn := shr(1, sn)
                    }
                }
                fn := shr(1, fn)
                sn := shr(1, sn)
            }
            // Step 7.
            ok := and(ok, and(iszero(sn), and(eq(fr, root1), eq(sr, root2))))
        }
    }

    /// @dev Re-types a `view` verifier as `pure`; see the note above `_verifyInclusion`.
    function _pure(function(bytes32, uint256, uint256, bytes32[] memory, bytes32) view returns (bool) f)
        private
        pure
        returns (function(bytes32, uint256, uint256, bytes32[] memory, bytes32) pure returns (bool) g)
    {
        assembly ("memory-safe") {
            g := f
        }
    }

    /// @dev Re-types a `view` verifier as `pure`; see the note above `_verifyInclusion`.
    function _pure(function(uint256, uint256, bytes32, bytes32, bytes32[] memory) view returns (bool) f)
        private
        pure
        returns (function(uint256, uint256, bytes32, bytes32, bytes32[] memory) pure returns (bool) g)
    {
        assembly ("memory-safe") {
            g := f
        }
    }

    /// @dev Number of bits needed to represent `x` (0 for 0).
    function _bitLength(uint256 x) private pure returns (uint256 n) {
        assembly ("memory-safe") {
            for {} x {} {
                x := shr(1, x)
                n := add(n, 1)
            }
        }
    }

    /// @dev Number of set bits in `x`.
    function _popCount(uint256 x) private pure returns (uint256 n) {
        assembly ("memory-safe") {
            for {} x {} {
                x := and(x, sub(x, 1))
                n := add(n, 1)
            }
        }
    }

    /// @dev Number of trailing zero bits of `x` (256 for 0).
    function _trailingZeros(uint256 x) private pure returns (uint256 n) {
        if (x == 0) return 256;
        assembly ("memory-safe") {
            for {} iszero(and(x, 1)) {} {
                x := shr(1, x)
                n := add(n, 1)
            }
        }
    }
}
