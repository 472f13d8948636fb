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
        uint256 inner = _bitLength(index ^ (size - 1));
        if (proof.length != inner + _popCount(index >> inner)) return false;
        return _pure(_verifyInclusion)(leaf, index, inner, proof, root);
    }

    /// @notice Whether `proof` proves that record `id` is leaf `index` of the tree of
    ///         `size` leaves whose root is `root`: `verifyInclusion(leafHash(id), index,
    ///         size, proof, root)` for a proof in calldata, which is read in place rather
    ///         than copied to memory. Never reverts on invalid input.
    /// @dev False for `size == 0`, `index >= size`, a zero root, a proof that is not of
    ///      the canonical length, or a mismatch. `view` only because it calls the SHA-256
    ///      precompile with `staticcall` (see the note above `_verifyInclusion`); like the
    ///      memory verifiers, it reverts if a precompile call fails (out of gas), so a
    ///      failed call can never make it return true. The walk is the one of
    ///      `_verifyInclusion` with both phases folded into one loop (direction bits set
    ///      for the border levels), unrolled four levels at a time, which is what keeps
    ///      `AnchorMirror.verifyRecord` under 10,000 gas of execution for a 2^20 log.
    ///      `uint64` arguments keep every shift and sum below in range.
    function verifyRecordInclusion(bytes32 id, uint64 index, uint64 size, bytes32[] calldata proof, bytes32 root)
        internal
        view
        returns (bool ok)
    {
        assembly ("memory-safe") {
            // index < size also excludes size == 0.
            if and(lt(index, size), iszero(iszero(root))) {
                // inner = bitLength(index ^ (size - 1)): branch-free binary search on a
                // value below 2^64 (floor(log2 x), plus 1 unless x == 0).
                let x := xor(index, sub(size, 1))
                let inner := shl(5, lt(0xffffffff, x))
                inner := or(inner, shl(4, lt(0xffff, shr(inner, x))))
                inner := or(inner, shl(3, lt(0xff, shr(inner, x))))
                inner := or(inner, shl(2, lt(0xf, shr(inner, x))))
                inner := or(inner, shl(1, lt(0x3, shr(inner, x))))
                inner := add(or(inner, lt(0x1, shr(inner, x))), iszero(iszero(x)))
                // border = popcount(index >> inner), SWAR on 64 bits; the byte sums are
                // at most 64, so the top byte of the low 64 bits of the product is the sum.
                let y := shr(inner, index)
                y := sub(y, and(shr(1, y), 0x5555555555555555))
                y := add(and(y, 0x3333333333333333), and(shr(2, y), 0x3333333333333333))
                y := and(add(y, shr(4, y)), 0x0f0f0f0f0f0f0f0f)
                // Step 1: canonical length.
                let n := proof.length
                if eq(n, add(inner, byte(24, mul(y, 0x0101010101010101)))) {
                    // Direction bits, lowest level first: bit k is set iff the node is the
                    // right child at level k. The `inner` levels take the bits of `index`;
                    // at every border level the node is the right child, so all bits from
                    // `inner` up are set. Bit n is set too, so the root lands in the right
                    // slot. m holds bit k at bit 5 (0x20) after k levels: the offset of the
                    // node's slot from `left` (n <= 128, so no needed bit is shifted out).
                    // The unrolled loop reads bits k+1..k+3 as shr(j, m) and shifts once.
                    let m := shl(5, or(index, shl(inner, not(0))))
                    // buf: 0x00 or 0x01 || left || right, scratch past the free memory pointer.
                    let buf := mload(0x40)
                    let left := add(buf, 0x01)
                    // o: the node's slot, left or left + 0x20; the sibling's is lr - o.
                    let o := add(left, and(m, 0x20))
                    let lr := add(add(left, left), 0x20)
                    // Leaf hash sha256(0x00 || id), written into the node's slot.
                    mstore(buf, 0)
                    mstore(left, id)
                    if iszero(staticcall(gas(), 0x02, buf, 0x21, o, 0x20)) { revert(0x00, 0x00) }
                    mstore8(buf, 0x01)
                    // One level: the sibling goes on the other side of the node, and the
                    // parent is written into the node's slot of the next level.
                    let p := proof.offset
                    for { let e := add(p, shl(5, and(n, 3))) } lt(p, e) { p := add(p, 0x20) } {
                        mstore(sub(lr, o), calldataload(p))
                        m := shr(1, m)
                        o := add(left, and(m, 0x20))
                        if iszero(staticcall(gas(), 0x02, buf, 0x41, o, 0x20)) { revert(0x00, 0x00) }
                    }
                    // The remaining levels, four at a time; every call's success is checked.
                    for { let e := add(proof.offset, shl(5, n)) } lt(p, e) { p := add(p, 0x80) } {
                        mstore(sub(lr, o), calldataload(p))
                        o := add(left, and(shr(1, m), 0x20))
                        let s0 := staticcall(gas(), 0x02, buf, 0x41, o, 0x20)
                        mstore(sub(lr, o), calldataload(add(p, 0x20)))
                        o := add(left, and(shr(2, m), 0x20))
                        let s1 := staticcall(gas(), 0x02, buf, 0x41, o, 0x20)
                        mstore(sub(lr, o), calldataload(add(p, 0x40)))
                        o := add(left, and(shr(3, m), 0x20))
                        let s2 := staticcall(gas(), 0x02, buf, 0x41, o, 0x20)
                        mstore(sub(lr, o), calldataload(add(p, 0x60)))
                        m := shr(4, m)
                        o := add(left, and(m, 0x20))
                        let s3 := staticcall(gas(), 0x02, buf, 0x41, o, 0x20)
                        if iszero(and(and(s0, s1), and(s2, s3))) { revert(0x00, 0x00) }
                    }
                    // Bit n of the direction bits is set: the root is in the right slot.
                    ok := eq(mload(o), root)
                }
            }
        }
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
        // Step 1. The RFC walk below consumes exactly `consistencyProofLength(size1, size2)`
        // elements (it fails when sn reaches 0 early or is not 0 at the end), so a proof of
        // any other length fails without a separate check.
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

    /// @dev RFC 9162 §2.1.3.2 for `index < size` and a proof of canonical length
    ///      `inner + popcount(index >> inner)`, `inner = bitLength(index ^ (size - 1))`.
    ///      The RFC walk splits in two at the first level where `fn == sn`:
    ///      - the first `inner` levels have `fn != sn`, so step 3.a cannot fire nor 3.b.ii
    ///        apply, and the sibling is on the left exactly when LSB(fn) is set;
    ///      - from then on `fn == sn`, the sibling is always on the left, and each step
    ///        clears the lowest set bit of `fn` (3.b.ii, 3.c) until `sn` is 0 (step 4).
    ///      This loop does the same hashes in the same order (as transparency-dev/merkle
    ///      does), writing each result straight into the buffer slot it is used from next.
    function _verifyInclusion(bytes32 leaf, uint256 index, uint256 inner, bytes32[] memory proof, bytes32 root)
        private
        view
        returns (bool ok)
    {
        assembly ("memory-safe") {
            // buf: 0x01 || left || right, scratch past the free memory pointer.
            let buf := mload(0x40)
            mstore8(buf, 0x01)
            let fn := index
            mstore(add(buf, add(0x01, shl(5, and(fn, 1)))), leaf)
            let p := add(proof, 0x20)
            for { let end := add(p, shl(5, inner)) } lt(p, end) { p := add(p, 0x20) } {
                // The sibling is on the left iff LSB(fn) is set; the node is on the other side.
                mstore(add(buf, sub(0x21, shl(5, and(fn, 1)))), mload(p))
                fn := shr(1, fn)
                let out := add(buf, add(0x01, shl(5, and(fn, 1))))
                if iszero(staticcall(gas(), 0x02, buf, 0x41, out, 0x20)) { revert(0x00, 0x00) }
            }
            // Border levels: the node is always the right child.
            if iszero(and(fn, 1)) { mstore(add(buf, 0x21), mload(add(buf, 0x01))) }
            for { let end := add(add(proof, 0x20), shl(5, mload(proof))) } lt(p, end) { p := add(p, 0x20) } {
                mstore(add(buf, 0x01), mload(p))
                if iszero(staticcall(gas(), 0x02, buf, 0x41, add(buf, 0x21), 0x20)) { revert(0x00, 0x00) }
            }
            ok := eq(mload(add(buf, 0x21)), root)
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
            // Step 6; step 6.a (sn == 0 with elements left) ends the loop early and fails
            // the `eq(p, end)` test below.
            for {} mul(lt(p, end), sn) { p := add(p, 0x20) } {
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
            ok := and(eq(p, end), and(iszero(sn), and(eq(fr, root1), eq(sr, root2))))
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

    /// @dev Number of bits needed to represent `x` (0 for 0): a branch-free binary search.
    function _bitLength(uint256 x) private pure returns (uint256 n) {
        assembly ("memory-safe") {
            if x {
                n := shl(7, lt(0xffffffffffffffffffffffffffffffff, x))
                n := or(n, shl(6, lt(0xffffffffffffffff, shr(n, x))))
                n := or(n, shl(5, lt(0xffffffff, shr(n, x))))
                n := or(n, shl(4, lt(0xffff, shr(n, x))))
                n := or(n, shl(3, lt(0xff, shr(n, x))))
                n := or(n, shl(2, lt(0xf, shr(n, x))))
                n := or(n, shl(1, lt(0x3, shr(n, x))))
                n := add(or(n, lt(0x1, shr(n, x))), 1)
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
