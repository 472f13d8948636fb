// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title NotaryBook
/// @notice Test-only stand-in for a second, differently shaped evidence contract: a
///         numbered book of notarized documents whose event carries the document hash
///         and a metadata commitment as non-indexed fields, and the notary as a plain
///         (non-indexed) address.
contract NotaryBook {
    /// @notice Entry `id` notarizes `docHash` with metadata commitment `meta`.
    event Notarized(uint256 indexed id, address notary, bytes32 docHash, bytes32 meta);

    /// @notice Number of entries so far; the next entry's id.
    uint256 public entries;

    /// @notice Notarizes `docHash` with metadata commitment `meta`; returns the entry id.
    function notarize(bytes32 docHash, bytes32 meta) external returns (uint256 id) {
        id = entries;
        entries = id + 1;
        emit Notarized(id, msg.sender, docHash, meta);
    }
}
