// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {EvidenceRegistry} from "../EvidenceRegistry.sol";

/// @title BulkAnchorer
/// @notice Benchmark-only: anchors many digests in one transaction through the real
///         `EvidenceRegistry`, so a dev chain can hold millions of genuine `Anchored`
///         events (the `run_rss` benchmark). The registry records this contract as the
///         submitter of each.
contract BulkAnchorer {
    /// @notice Anchors `count` sha256-labelled digests `keccak256(seed, first + i)`.
    /// @param registry The `EvidenceRegistry` to anchor in.
    /// @param seed Separates runs.
    /// @param first Index of the first digest.
    /// @param count How many to anchor.
    function anchorMany(address registry, bytes32 seed, uint256 first, uint256 count) external {
        EvidenceRegistry target = EvidenceRegistry(registry);
        for (uint256 i = 0; i < count; i++) {
            target.anchor(1, keccak256(abi.encode(seed, first + i)), "bulk", bytes32(0));
        }
    }
}
