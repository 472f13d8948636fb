// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title HashStore
/// @notice Test-only stand-in for a third-party evidence contract: stores document hashes
///         and emits `Stored` with the hash and owner indexed and the kind as a string.
///         Read by the bridge's `mapped` adapter through configuration only.
contract HashStore {
    /// @notice A document hash was stored.
    event Stored(bytes32 indexed hash, address indexed owner, uint256 time, string kind);

    /// @notice When each hash was first stored (0 when never).
    mapping(bytes32 => uint256) public storedAt;

    /// @notice Stores `hash` as evidence of kind `kind`, owned by the caller.
    function store(bytes32 hash, string calldata kind) external {
        if (storedAt[hash] == 0) storedAt[hash] = block.timestamp;
        emit Stored(hash, msg.sender, block.timestamp, kind);
    }

    /// @notice Emits a raw log with the given topics (0 to 4) and data, so tests can
    ///         produce malformed logs that share `Stored`'s topic0.
    function emitRaw(bytes32[] calldata topics, bytes calldata data) external {
        bytes memory d = data;
        uint256 n = topics.length;
        require(n <= 4, "at most 4 topics");
        bytes32 t0 = n > 0 ? topics[0] : bytes32(0);
        bytes32 t1 = n > 1 ? topics[1] : bytes32(0);
        bytes32 t2 = n > 2 ? topics[2] : bytes32(0);
        bytes32 t3 = n > 3 ? topics[3] : bytes32(0);
        assembly {
            let p := add(d, 32)
            let len := mload(d)
            switch n
            case 0 { log0(p, len) }
            case 1 { log1(p, len, t0) }
            case 2 { log2(p, len, t0, t1) }
            case 3 { log3(p, len, t0, t1, t2) }
            default { log4(p, len, t0, t1, t2, t3) }
        }
    }
}
