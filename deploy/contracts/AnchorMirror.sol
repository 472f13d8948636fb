// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {EvidenceLib} from "./EvidenceLib.sol";

/// @title AnchorMirror
/// @notice Mirrors the Merkle roots of source-chain evidence logs, accepted only when a
///         threshold of the source chain's attestors signed them (EIP-712), and lets any
///         contract check a record's inclusion against an accepted root.
/// @dev Source chains are keyed by `keccak256(bytes(caip2 chain id))`. Every accepted root
///      is kept by size; each new checkpoint must be larger than the last and proven
///      consistent with it (RFC 9162).
///
///      Attestor sets: the owner installs only the FIRST set of a source. Every later set
///      is either signed by the threshold of the current set (`rotateAttestors`, an
///      EIP-712 `AttestorSetUpdate`, submitted by anyone), or proposed by the owner and
///      executed after `ownerRotationDelay` seconds, fixed at deployment
///      (`proposeOwnerRotation` → `executeOwnerRotation`), which the current set's
///      threshold can cancel (`cancelOwnerRotation`). No single key can change a set at
///      once, so no single key can make a false record verify.
contract AnchorMirror {
    /// @notice A checkpoint of a source chain's evidence log.
    /// @param sourceChain keccak256 of the source chain's CAIP-2 id.
    /// @param size Number of records in the log.
    /// @param root RFC 6962 root of the log's first `size` records.
    /// @param sourceBlockNumber Source block up to which the log was computed.
    /// @param sourceBlockHash Hash of that source block.
    struct Checkpoint {
        bytes32 sourceChain;
        uint64 size;
        bytes32 root;
        uint64 sourceBlockNumber;
        bytes32 sourceBlockHash;
    }

    /// @dev Everything `submitCheckpoint` reads and writes about a source, in one slot.
    struct SourceState {
        uint64 setVersion; // 0: no attestor set yet
        uint8 threshold;
        uint64 latestSize; // 0: no checkpoint accepted yet
        uint64 latestSourceBlockNumber;
    }

    /// @notice How an attestor set was installed (`AttestorSetChanged.authorization`).
    enum SetAuthorization {
        FirstSetByOwner, // 0: the first set of a source, installed by the owner
        SignedByPreviousSet, // 1: signed by the threshold of the previous version
        OwnerAfterTimelock // 2: proposed by the owner, executed after the delay
    }

    /// @dev An owner-proposed attestor set waiting for its timelock.
    struct PendingRotation {
        uint64 version; // the version it would become (0: nothing pending)
        uint64 executableAt; // unix time from which it may be executed
        uint8 threshold;
        address[] attestors;
    }

    /// @notice EIP-712 type hash of `Checkpoint`.
    bytes32 public constant CHECKPOINT_TYPEHASH = keccak256(
        "Checkpoint(bytes32 sourceChain,uint64 size,bytes32 root,uint64 sourceBlockNumber,bytes32 sourceBlockHash)"
    );

    /// @notice EIP-712 type hash of an attestor-set update signed by the current set.
    bytes32 public constant ATTESTOR_SET_UPDATE_TYPEHASH =
        keccak256("AttestorSetUpdate(bytes32 sourceChain,uint64 newVersion,address[] attestors,uint8 threshold)");

    /// @notice EIP-712 type hash of the current set's cancellation of an owner proposal.
    bytes32 public constant OWNER_ROTATION_CANCEL_TYPEHASH = keccak256(
        "OwnerRotationCancel(bytes32 sourceChain,uint64 newVersion,address[] attestors,uint8 threshold)"
    );

    bytes32 private constant _DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 private constant _NAME_HASH = keccak256("EvidenceBridge AnchorMirror");
    bytes32 private constant _VERSION_HASH = keccak256("1");

    /// @dev secp256k1n / 2: signatures with a larger `s` are malleable copies (EIP-2).
    uint256 private constant _HALF_CURVE_ORDER =
        0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    uint256 private immutable _cachedChainId;
    address private immutable _cachedThis;
    bytes32 private immutable _cachedDomainSeparator;

    /// @dev Seconds between an owner's proposal and its execution; fixed at deployment.
    uint64 private immutable _ownerRotationDelay;

    address private _owner;
    address private _pendingOwner;

    mapping(bytes32 sourceChain => SourceState) private _sources;
    mapping(bytes32 sourceChain => mapping(uint64 version => address[])) private _attestors;
    /// @dev An address is an attestor of a source iff its entry equals the set version.
    mapping(bytes32 sourceChain => mapping(address attestor => uint64 version)) private _memberVersion;
    mapping(bytes32 sourceChain => mapping(uint64 size => bytes32 root)) private _roots;
    mapping(bytes32 sourceChain => mapping(uint64 version => uint8 threshold)) private _thresholds;
    mapping(bytes32 sourceChain => PendingRotation) private _pending;

    /// @notice An ownership transfer was started; `newOwner` must call `acceptOwnership`.
    /// @param previousOwner The current owner.
    /// @param newOwner The pending owner (zero cancels a pending transfer).
    event OwnershipTransferStarted(address indexed previousOwner, address indexed newOwner);

    /// @notice Ownership changed.
    /// @param previousOwner The former owner (zero at deployment).
    /// @param newOwner The new owner.
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    /// @notice The attestor set of a source chain was replaced.
    /// @param sourceChain keccak256 of the source chain's CAIP-2 id.
    /// @param version The new set version (1 for the first set of a source).
    /// @param attestors The new attestors, in the order given.
    /// @param threshold Number of attestor signatures a checkpoint needs.
    /// @param authorization How it was installed (`SetAuthorization`).
    /// @param signatures For `SignedByPreviousSet`: the previous set's signatures over
    ///        the `AttestorSetUpdate`, sorted by signer (empty otherwise), so anyone can
    ///        check the rotation from the event alone.
    event AttestorSetChanged(
        bytes32 indexed sourceChain,
        uint64 indexed version,
        address[] attestors,
        uint8 threshold,
        SetAuthorization authorization,
        bytes[] signatures
    );

    /// @notice The owner proposed a new attestor set; it can be executed from
    ///         `executableAt`, unless the current set's threshold cancels it first.
    /// @param sourceChain keccak256 of the source chain's CAIP-2 id.
    /// @param version The version the set would become.
    /// @param attestors The proposed attestors.
    /// @param threshold The proposed threshold.
    /// @param executableAt Unix time from which `executeOwnerRotation` succeeds.
    event OwnerRotationProposed(
        bytes32 indexed sourceChain, uint64 indexed version, address[] attestors, uint8 threshold, uint64 executableAt
    );

    /// @notice A pending owner proposal was cancelled.
    /// @param sourceChain keccak256 of the source chain's CAIP-2 id.
    /// @param version The version the proposal would have become.
    /// @param byAttestors True when the current set's threshold cancelled it, false when
    ///        a signed rotation made it stale or the owner withdrew it.
    event OwnerRotationCancelled(bytes32 indexed sourceChain, uint64 indexed version, bool byAttestors);

    /// @notice A checkpoint was accepted.
    /// @param sourceChain keccak256 of the source chain's CAIP-2 id.
    /// @param size Number of records in the log.
    /// @param root The log's root at `size`.
    /// @param sourceBlockNumber Source block up to which the log was computed.
    /// @param sourceBlockHash Hash of that source block.
    /// @param attestorSetVersion Version of the attestor set that signed it.
    event CheckpointAccepted(
        bytes32 indexed sourceChain,
        uint64 indexed size,
        bytes32 root,
        uint64 sourceBlockNumber,
        bytes32 sourceBlockHash,
        uint64 attestorSetVersion
    );

    /// @notice The caller is not the owner.
    /// @param caller The caller.
    error NotOwner(address caller);

    /// @notice The caller is not the pending owner.
    /// @param caller The caller.
    error NotPendingOwner(address caller);

    /// @notice The initial owner is the zero address.
    /// @param owner The rejected owner.
    error InvalidOwner(address owner);

    /// @notice The attestor set is empty.
    error EmptyAttestorSet();

    /// @notice The attestor set has more than 255 members.
    /// @param setSize The rejected set's size.
    error AttestorSetTooLarge(uint256 setSize);

    /// @notice The attestor set contains the zero address.
    /// @param index Position of the zero address in the given set.
    error ZeroAttestor(uint256 index);

    /// @notice The attestor set contains an address twice.
    /// @param attestor The repeated address.
    error DuplicateAttestor(address attestor);

    /// @notice The threshold is zero or larger than the set.
    /// @param threshold The rejected threshold.
    /// @param setSize The size of the given set.
    error InvalidThreshold(uint8 threshold, uint256 setSize);

    /// @notice The source chain has no attestor set.
    /// @param sourceChain The unknown source chain.
    error UnknownSourceChain(bytes32 sourceChain);

    /// @notice The source already has an attestor set; only its threshold (or the
    ///         owner's timelock) can change it.
    /// @param sourceChain The source chain.
    /// @param version Its current set version.
    error AttestorSetAlreadyInstalled(bytes32 sourceChain, uint64 version);

    /// @notice The update is not for the next set version (a replay, or out of order).
    /// @param expected The next version (current + 1).
    /// @param got The update's version.
    error UnexpectedSetVersion(uint64 expected, uint64 got);

    /// @notice An owner proposal is already pending for this source.
    /// @param version The pending proposal's version.
    /// @param executableAt When it becomes executable.
    error OwnerRotationPending(uint64 version, uint64 executableAt);

    /// @notice No owner proposal is pending for this source.
    /// @param sourceChain The source chain.
    error NoOwnerRotationPending(bytes32 sourceChain);

    /// @notice The proposal's timelock has not expired.
    /// @param executableAt When it becomes executable.
    /// @param now_ The current block time.
    error TimelockNotExpired(uint64 executableAt, uint64 now_);

    /// @notice The checkpoint's source block is older than the latest accepted one.
    /// @param sourceBlockNumber The checkpoint's source block.
    /// @param latest The latest accepted checkpoint's source block.
    error SourceBlockDecreasing(uint64 sourceBlockNumber, uint64 latest);

    /// @notice The checkpoint's root is zero.
    error ZeroRoot();

    /// @notice This exact checkpoint (same size, same root) was already accepted.
    /// @param sourceChain The source chain.
    /// @param size The checkpoint's size.
    error CheckpointAlreadyAccepted(bytes32 sourceChain, uint64 size);

    /// @notice The checkpoint is not larger than the latest accepted one.
    /// @param size The checkpoint's size.
    /// @param latest The latest accepted size (0 if none).
    error SizeNotIncreasing(uint64 size, uint64 latest);

    /// @notice Fewer signatures than the threshold were given.
    /// @param got Number of signatures given.
    /// @param threshold The source's threshold.
    error BelowThreshold(uint256 got, uint8 threshold);

    /// @notice A signature is malformed: not 65 bytes, high `s`, `v` not 27 or 28, or it
    ///         recovers to no address.
    /// @param index Position of the signature in the given array.
    error InvalidSignature(uint256 index);

    /// @notice A signature recovers to an address outside the source's attestor set (a
    ///         forgery, or a signature for another checkpoint, chain id or mirror).
    /// @param signer The recovered address.
    error NotAttestor(address signer);

    /// @notice Two signatures recover to the same attestor.
    /// @param signer The repeated attestor.
    error DuplicateSigner(address signer);

    /// @notice Signatures must be ordered by strictly increasing signer address.
    /// @param previous The previous signer.
    /// @param signer The signer that sorts before it.
    error SignersNotSorted(address previous, address signer);

    /// @notice A consistency proof was given for the first checkpoint of a source.
    error UnexpectedProof();

    /// @notice The consistency proof does not have the canonical length.
    /// @param expected The canonical length.
    /// @param got The given length.
    error NonCanonicalProofLength(uint256 expected, uint256 got);

    /// @notice The consistency proof does not link the latest accepted root to this one.
    error InvalidConsistencyProof();

    modifier onlyOwner() {
        if (msg.sender != _owner) revert NotOwner(msg.sender);
        _;
    }

    /// @param initialOwner The account that installs first sets and may propose later
    ///        ones through the timelock (a multisig contract is recommended).
    /// @param ownerRotationDelay_ Seconds between an owner proposal and its execution.
    constructor(address initialOwner, uint64 ownerRotationDelay_) {
        if (initialOwner == address(0)) revert InvalidOwner(address(0));
        _owner = initialOwner;
        _ownerRotationDelay = ownerRotationDelay_;
        emit OwnershipTransferred(address(0), initialOwner);
        _cachedChainId = block.chainid;
        _cachedThis = address(this);
        _cachedDomainSeparator = _buildDomainSeparator();
    }

    // ---------------------------------------------------------------------------------
    // Ownership (two-step)
    // ---------------------------------------------------------------------------------

    /// @notice The current owner.
    /// @return The owner's address.
    function owner() external view returns (address) {
        return _owner;
    }

    /// @notice The account that may accept ownership (zero if none).
    /// @return The pending owner's address.
    function pendingOwner() external view returns (address) {
        return _pendingOwner;
    }

    /// @notice Starts transferring ownership to `newOwner`, who must then call
    ///         `acceptOwnership`. Passing zero cancels a pending transfer. Only the owner.
    /// @param newOwner The proposed owner.
    function transferOwnership(address newOwner) external onlyOwner {
        _pendingOwner = newOwner;
        emit OwnershipTransferStarted(msg.sender, newOwner);
    }

    /// @notice Completes a transfer started by `transferOwnership`. Only the pending owner.
    function acceptOwnership() external {
        if (msg.sender != _pendingOwner) revert NotPendingOwner(msg.sender);
        address previous = _owner;
        _owner = msg.sender;
        delete _pendingOwner;
        emit OwnershipTransferred(previous, msg.sender);
    }

    // ---------------------------------------------------------------------------------
    // Attestor sets
    // ---------------------------------------------------------------------------------

    /// @notice Installs the FIRST attestor set of `sourceChain`. Only the owner, and only
    ///         once per source: later sets come from `rotateAttestors` or the timelock.
    /// @param sourceChain keccak256 of the source chain's CAIP-2 id.
    /// @param attestors The set: 1 to 255 distinct nonzero addresses, in any order.
    /// @param threshold Signatures a checkpoint needs, 1 to `attestors.length`.
    function setAttestors(bytes32 sourceChain, address[] calldata attestors, uint8 threshold) external onlyOwner {
        uint64 current = _sources[sourceChain].setVersion;
        if (current != 0) revert AttestorSetAlreadyInstalled(sourceChain, current);
        _install(sourceChain, 1, attestors, threshold, SetAuthorization.FirstSetByOwner, new bytes[](0));
    }

    /// @notice Replaces the attestor set of `sourceChain` with one signed by at least the
    ///         threshold of the current set. Anyone may submit it.
    /// @param sourceChain keccak256 of the source chain's CAIP-2 id.
    /// @param newVersion Must be the current version + 1.
    /// @param attestors The new set: 1 to 255 distinct nonzero addresses.
    /// @param threshold The new threshold, 1 to `attestors.length`.
    /// @param signatures Current attestors' signatures over
    ///        `attestorSetUpdateDigest(...)`, sorted by signer address.
    function rotateAttestors(
        bytes32 sourceChain,
        uint64 newVersion,
        address[] calldata attestors,
        uint8 threshold,
        bytes[] calldata signatures
    ) external {
        SourceState memory state = _sources[sourceChain];
        if (state.setVersion == 0) revert UnknownSourceChain(sourceChain);
        if (newVersion != state.setVersion + 1) revert UnexpectedSetVersion(state.setVersion + 1, newVersion);
        if (signatures.length < state.threshold) revert BelowThreshold(signatures.length, state.threshold);
        bytes32 digest = attestorSetUpdateDigest(sourceChain, newVersion, attestors, threshold);
        _checkSignatures(sourceChain, state.setVersion, digest, signatures);
        PendingRotation storage pending = _pending[sourceChain];
        if (pending.version != 0) {
            emit OwnerRotationCancelled(sourceChain, pending.version, false);
            delete _pending[sourceChain];
        }
        _install(sourceChain, newVersion, attestors, threshold, SetAuthorization.SignedByPreviousSet, signatures);
    }

    /// @notice Proposes a new attestor set for `sourceChain` (key loss, emergency). It
    ///         can be executed after `ownerRotationDelay()` seconds unless the current
    ///         set's threshold cancels it. Only the owner; one proposal at a time.
    /// @param sourceChain keccak256 of the source chain's CAIP-2 id.
    /// @param attestors The proposed set: 1 to 255 distinct nonzero addresses.
    /// @param threshold The proposed threshold, 1 to `attestors.length`.
    function proposeOwnerRotation(bytes32 sourceChain, address[] calldata attestors, uint8 threshold)
        external
        onlyOwner
    {
        uint64 current = _sources[sourceChain].setVersion;
        if (current == 0) revert UnknownSourceChain(sourceChain);
        PendingRotation storage pending = _pending[sourceChain];
        if (pending.version != 0) revert OwnerRotationPending(pending.version, pending.executableAt);
        _checkSet(attestors, threshold);
        uint64 executableAt = uint64(block.timestamp) + _ownerRotationDelay;
        pending.version = current + 1;
        pending.executableAt = executableAt;
        pending.threshold = threshold;
        pending.attestors = attestors;
        emit OwnerRotationProposed(sourceChain, current + 1, attestors, threshold, executableAt);
    }

    /// @notice Installs the owner's pending proposal once its timelock expired. Only the
    ///         owner.
    /// @param sourceChain keccak256 of the source chain's CAIP-2 id.
    function executeOwnerRotation(bytes32 sourceChain) external onlyOwner {
        PendingRotation memory pending = _pending[sourceChain];
        if (pending.version == 0) revert NoOwnerRotationPending(sourceChain);
        if (block.timestamp < pending.executableAt) {
            revert TimelockNotExpired(pending.executableAt, uint64(block.timestamp));
        }
        delete _pending[sourceChain];
        _install(
            sourceChain,
            pending.version,
            pending.attestors,
            pending.threshold,
            SetAuthorization.OwnerAfterTimelock,
            new bytes[](0)
        );
    }

    /// @notice Cancels the owner's pending proposal: by the owner (no signatures), or by
    ///         anyone with at least the threshold of the current set's signatures over
    ///         `ownerRotationCancelDigest(sourceChain)`.
    /// @param sourceChain keccak256 of the source chain's CAIP-2 id.
    /// @param signatures Current attestors' signatures, sorted by signer (empty: owner).
    function cancelOwnerRotation(bytes32 sourceChain, bytes[] calldata signatures) external {
        PendingRotation storage pending = _pending[sourceChain];
        uint64 version = pending.version;
        if (version == 0) revert NoOwnerRotationPending(sourceChain);
        bool byAttestors = signatures.length != 0 || msg.sender != _owner;
        if (byAttestors) {
            SourceState memory state = _sources[sourceChain];
            if (signatures.length < state.threshold) revert BelowThreshold(signatures.length, state.threshold);
            _checkSignatures(sourceChain, state.setVersion, ownerRotationCancelDigest(sourceChain), signatures);
        }
        delete _pending[sourceChain];
        emit OwnerRotationCancelled(sourceChain, version, byAttestors);
    }

    /// @notice Seconds between an owner proposal and its execution (fixed at deployment).
    /// @return The delay.
    function ownerRotationDelay() external view returns (uint64) {
        return _ownerRotationDelay;
    }

    /// @notice The owner's pending proposal for `sourceChain` (version 0 if none).
    /// @param sourceChain keccak256 of the source chain's CAIP-2 id.
    /// @return version The version it would become.
    /// @return attestors The proposed attestors.
    /// @return threshold The proposed threshold.
    /// @return executableAt Unix time from which it may be executed.
    function pendingOwnerRotation(bytes32 sourceChain)
        external
        view
        returns (uint64 version, address[] memory attestors, uint8 threshold, uint64 executableAt)
    {
        PendingRotation storage p = _pending[sourceChain];
        return (p.version, p.attestors, p.threshold, p.executableAt);
    }

    /// @notice Attestor set `version` of `sourceChain`, current or past (empty, 0 if none).
    /// @param sourceChain keccak256 of the source chain's CAIP-2 id.
    /// @param version The set version.
    /// @return attestors The attestors, in the order they were set.
    /// @return threshold Signatures a checkpoint needed under that set.
    function attestorSetAt(bytes32 sourceChain, uint64 version)
        external
        view
        returns (address[] memory attestors, uint8 threshold)
    {
        return (_attestors[sourceChain][version], _thresholds[sourceChain][version]);
    }

    /// @notice The current attestor set of `sourceChain` (empty, 0, 0 if none).
    /// @param sourceChain keccak256 of the source chain's CAIP-2 id.
    /// @return attestors The attestors, in the order they were set.
    /// @return threshold Signatures a checkpoint needs.
    /// @return version The set version (0 if no set).
    function attestorSet(bytes32 sourceChain)
        external
        view
        returns (address[] memory attestors, uint8 threshold, uint64 version)
    {
        SourceState memory state = _sources[sourceChain];
        return (_attestors[sourceChain][state.setVersion], state.threshold, state.setVersion);
    }

    /// @notice Whether `account` is in the current attestor set of `sourceChain`.
    /// @param sourceChain keccak256 of the source chain's CAIP-2 id.
    /// @param account The address to check.
    /// @return True if it is a current attestor.
    function isAttestor(bytes32 sourceChain, address account) external view returns (bool) {
        uint64 version = _sources[sourceChain].setVersion;
        return version != 0 && _memberVersion[sourceChain][account] == version;
    }

    // ---------------------------------------------------------------------------------
    // EIP-712
    // ---------------------------------------------------------------------------------

    /// @notice The EIP-712 domain separator: name "EvidenceBridge AnchorMirror", version
    ///         "1", this chain's id and this contract's address.
    /// @return The domain separator.
    function domainSeparator() public view returns (bytes32) {
        if (block.chainid == _cachedChainId && address(this) == _cachedThis) return _cachedDomainSeparator;
        return _buildDomainSeparator();
    }

    /// @notice The EIP-712 digest an attestor signs for `cp` on this mirror.
    /// @param cp The checkpoint.
    /// @return The digest `keccak256(0x1901 || domainSeparator || hashStruct(cp))`.
    function checkpointDigest(Checkpoint calldata cp) public view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(CHECKPOINT_TYPEHASH, cp.sourceChain, cp.size, cp.root, cp.sourceBlockNumber, cp.sourceBlockHash)
        );
        return keccak256(abi.encodePacked(hex"1901", domainSeparator(), structHash));
    }

    /// @notice The EIP-712 digest the current set signs to install the next set.
    /// @param sourceChain keccak256 of the source chain's CAIP-2 id.
    /// @param newVersion The version the set becomes.
    /// @param attestors The new attestors (order matters: it is the signed order).
    /// @param threshold The new threshold.
    /// @return `keccak256(0x1901 || domainSeparator || hashStruct(AttestorSetUpdate))`.
    function attestorSetUpdateDigest(
        bytes32 sourceChain,
        uint64 newVersion,
        address[] calldata attestors,
        uint8 threshold
    ) public view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                ATTESTOR_SET_UPDATE_TYPEHASH, sourceChain, newVersion, keccak256(abi.encodePacked(attestors)), threshold
            )
        );
        return keccak256(abi.encodePacked(hex"1901", domainSeparator(), structHash));
    }

    /// @notice The EIP-712 digest the current set signs to cancel the pending owner
    ///         proposal of `sourceChain` (zero if none is pending).
    /// @param sourceChain keccak256 of the source chain's CAIP-2 id.
    /// @return The digest, bound to the proposal's version, attestors and threshold.
    function ownerRotationCancelDigest(bytes32 sourceChain) public view returns (bytes32) {
        PendingRotation storage p = _pending[sourceChain];
        if (p.version == 0) return bytes32(0);
        bytes32 structHash = keccak256(
            abi.encode(
                OWNER_ROTATION_CANCEL_TYPEHASH,
                sourceChain,
                p.version,
                keccak256(abi.encodePacked(p.attestors)),
                p.threshold
            )
        );
        return keccak256(abi.encodePacked(hex"1901", domainSeparator(), structHash));
    }

    // ---------------------------------------------------------------------------------
    // Checkpoints
    // ---------------------------------------------------------------------------------

    /// @notice Accepts a checkpoint signed by at least the threshold of the source's
    ///         attestors and consistent with the latest accepted checkpoint.
    /// @dev Every given signature must be a valid signature of a distinct current attestor,
    ///      ordered by increasing signer address. The first checkpoint of a source takes an
    ///      empty consistency proof.
    /// @param cp The checkpoint.
    /// @param consistencyProof RFC 9162 consistency proof from the latest accepted size.
    /// @param signatures 65-byte `r || s || v` signatures over `checkpointDigest(cp)`.
    function submitCheckpoint(
        Checkpoint calldata cp,
        bytes32[] calldata consistencyProof,
        bytes[] calldata signatures
    ) external {
        bytes32 sourceChain = cp.sourceChain;
        SourceState memory state = _sources[sourceChain];
        if (state.setVersion == 0) revert UnknownSourceChain(sourceChain);
        if (cp.root == bytes32(0)) revert ZeroRoot();
        if (cp.size <= state.latestSize) {
            if (_roots[sourceChain][cp.size] == cp.root) revert CheckpointAlreadyAccepted(sourceChain, cp.size);
            revert SizeNotIncreasing(cp.size, state.latestSize);
        }
        if (cp.sourceBlockNumber < state.latestSourceBlockNumber) {
            revert SourceBlockDecreasing(cp.sourceBlockNumber, state.latestSourceBlockNumber);
        }
        if (signatures.length < state.threshold) revert BelowThreshold(signatures.length, state.threshold);

        _checkSignatures(sourceChain, state.setVersion, checkpointDigest(cp), signatures);

        if (state.latestSize == 0) {
            if (consistencyProof.length != 0) revert UnexpectedProof();
        } else {
            uint256 expected = EvidenceLib.consistencyProofLength(state.latestSize, cp.size);
            if (consistencyProof.length != expected) {
                revert NonCanonicalProofLength(expected, consistencyProof.length);
            }
            bytes32 latestRoot = _roots[sourceChain][state.latestSize];
            if (!EvidenceLib.verifyConsistency(state.latestSize, cp.size, latestRoot, cp.root, consistencyProof)) {
                revert InvalidConsistencyProof();
            }
        }

        _roots[sourceChain][cp.size] = cp.root;
        state.latestSize = cp.size;
        state.latestSourceBlockNumber = cp.sourceBlockNumber;
        _sources[sourceChain] = state;
        emit CheckpointAccepted(
            sourceChain, cp.size, cp.root, cp.sourceBlockNumber, cp.sourceBlockHash, state.setVersion
        );
    }

    /// @notice The latest accepted checkpoint of `sourceChain` (zeros if none).
    /// @param sourceChain keccak256 of the source chain's CAIP-2 id.
    /// @return size Number of records in the log.
    /// @return root The log's root at `size`.
    /// @return sourceBlockNumber Source block up to which the log was computed.
    function latestCheckpoint(bytes32 sourceChain)
        external
        view
        returns (uint64 size, bytes32 root, uint64 sourceBlockNumber)
    {
        SourceState memory state = _sources[sourceChain];
        size = state.latestSize;
        sourceBlockNumber = state.latestSourceBlockNumber;
        if (size != 0) root = _roots[sourceChain][size];
    }

    /// @notice The accepted root of `sourceChain`'s log at `size` (zero if none).
    /// @param sourceChain keccak256 of the source chain's CAIP-2 id.
    /// @param size The log size.
    /// @return The root, or zero.
    function rootAt(bytes32 sourceChain, uint64 size) external view returns (bytes32) {
        return _roots[sourceChain][size];
    }

    /// @notice Whether record `recordId` is leaf `index` of `sourceChain`'s log at the
    ///         accepted checkpoint of `size`.
    /// @param sourceChain keccak256 of the source chain's CAIP-2 id.
    /// @param size Size of an accepted checkpoint.
    /// @param recordId The record id (the leaf hash is computed here).
    /// @param index The record's position in the log.
    /// @param proof RFC 9162 inclusion proof of canonical length.
    /// @return False when no root is stored at `size` or the proof fails.
    function verifyRecord(bytes32 sourceChain, uint64 size, bytes32 recordId, uint64 index, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        // A size without an accepted root reads as zero, which verifyRecordInclusion
        // rejects; the proof is read from calldata in place.
        return EvidenceLib.verifyRecordInclusion(recordId, index, size, proof, _roots[sourceChain][size]);
    }

    // ---------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------

    /// @dev Checks a set as every installer must: 1..255 members, 1 <= threshold <= n.
    ///      (Zero and repeated members are caught by `_install`.)
    function _checkSet(address[] memory attestors, uint8 threshold) private pure {
        uint256 n = attestors.length;
        if (n == 0) revert EmptyAttestorSet();
        if (n > type(uint8).max) revert AttestorSetTooLarge(n);
        if (threshold == 0 || threshold > n) revert InvalidThreshold(threshold, n);
        for (uint256 i = 0; i < n; ++i) {
            if (attestors[i] == address(0)) revert ZeroAttestor(i);
            for (uint256 j = 0; j < i; ++j) {
                if (attestors[j] == attestors[i]) revert DuplicateAttestor(attestors[i]);
            }
        }
    }

    function _install(
        bytes32 sourceChain,
        uint64 version,
        address[] memory attestors,
        uint8 threshold,
        SetAuthorization authorization,
        bytes[] memory signatures
    ) private {
        uint256 n = attestors.length;
        if (n == 0) revert EmptyAttestorSet();
        if (n > type(uint8).max) revert AttestorSetTooLarge(n);
        if (threshold == 0 || threshold > n) revert InvalidThreshold(threshold, n);
        mapping(address => uint64) storage member = _memberVersion[sourceChain];
        for (uint256 i = 0; i < n; ++i) {
            address a = attestors[i];
            if (a == address(0)) revert ZeroAttestor(i);
            if (member[a] == version) revert DuplicateAttestor(a);
            member[a] = version;
        }
        _attestors[sourceChain][version] = attestors;
        _thresholds[sourceChain][version] = threshold;
        SourceState storage state = _sources[sourceChain];
        state.setVersion = version;
        state.threshold = threshold;
        emit AttestorSetChanged(sourceChain, version, attestors, threshold, authorization, signatures);
    }

    function _buildDomainSeparator() private view returns (bytes32) {
        return keccak256(abi.encode(_DOMAIN_TYPEHASH, _NAME_HASH, _VERSION_HASH, block.chainid, address(this)));
    }

    function _checkSignatures(bytes32 sourceChain, uint64 version, bytes32 digest, bytes[] calldata signatures)
        private
        view
    {
        mapping(address => uint64) storage member = _memberVersion[sourceChain];
        address previous = address(0);
        for (uint256 i = 0; i < signatures.length; ++i) {
            address signer = _recover(digest, signatures[i]);
            if (signer == address(0)) revert InvalidSignature(i);
            if (member[signer] != version) revert NotAttestor(signer);
            if (signer == previous) revert DuplicateSigner(signer);
            if (signer < previous) revert SignersNotSorted(previous, signer);
            previous = signer;
        }
    }

    /// @dev ECDSA recovery of a 65-byte `r || s || v` signature; zero for any malformed
    ///      signature (wrong length, `s` above half the curve order, `v` not 27 or 28).
    function _recover(bytes32 digest, bytes calldata sig) private pure returns (address) {
        if (sig.length != 65) return address(0);
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly ("memory-safe") {
            r := calldataload(sig.offset)
            s := calldataload(add(sig.offset, 0x20))
            v := byte(0, calldataload(add(sig.offset, 0x40)))
        }
        if (uint256(s) > _HALF_CURVE_ORDER) return address(0);
        if (v != 27 && v != 28) return address(0);
        return ecrecover(digest, v, r, s);
    }
}
