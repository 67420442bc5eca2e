// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title AnchorRegistry
/// @notice Keeps the Merkle roots of consecutive batches of traceability events. Anchors are numbered
///         from 1 with no gap and never overwritten; the event ranges they cover are contiguous from
///         event 1, so no event can be left out between two anchors. It also keeps which address
///         belongs to which consortium member, and from and until which block, and the witnesses'
///         cosignatures of each anchor's root.
/// @dev Leaves are OpenZeppelin StandardMerkleTree leaves over ["uint256","bytes32"]:
///      keccak256(bytes.concat(keccak256(abi.encode(eventSequence, digest)))).
contract AnchorRegistry {
    /// @notice One anchored batch.
    struct Anchor {
        bytes32 root;
        uint256 firstEventSequence;
        uint256 lastEventSequence;
        uint256 timestamp;
        address submitter;
    }

    /// @notice One address's membership: the member it belongs to and the blocks (and their timestamps)
    ///         from which and until which it was valid, 0 while it still is. One storage slot besides the id.
    struct Membership {
        bytes32 memberId;
        uint64 validFromBlock;
        uint64 validUntilBlock;
        uint64 validFromTime;
        uint64 validUntilTime;
    }

    /// @notice The most witnesses there may be at once, which bounds the cosigners listed per anchor.
    uint256 public constant MAX_WITNESSES = 64;

    /// @notice The account that may authorise anchorers, register and revoke member addresses and set witnesses.
    address public immutable owner;

    /// @notice Accounts allowed to call `anchor`.
    mapping(address => bool) public isAnchorer;

    mapping(uint256 => Anchor) private _anchors;
    uint256 private _anchorCount;

    // Declared after the anchoring state so that the slots anchor() reads and writes stay where they were.

    mapping(address => Membership) private _memberships;

    /// @notice Accounts allowed to call `cosign`.
    mapping(address => bool) public isWitness;

    /// @notice The number of accounts for which isWitness is true.
    uint256 public witnessCount;

    /// @notice How many witnesses must cosign an anchor for it to be final; 0 until the owner sets it.
    uint256 public witnessThreshold;

    /// @notice Whether `witness` cosigned anchor `sequence` (false for an unknown anchor).
    mapping(uint256 => mapping(address => bool)) public hasCosigned;

    mapping(uint256 => address[]) private _cosigners;

    /// @notice An anchor was recorded.
    event Anchored(
        uint256 indexed sequence,
        bytes32 root,
        uint256 firstEventSequence,
        uint256 lastEventSequence,
        address indexed submitter
    );

    /// @notice The owner authorised or deauthorised an anchorer.
    event AnchorerChanged(address indexed account, bool authorised);

    /// @notice The owner registered `account` as an address of member `memberId`, valid from this block.
    event MemberRegistered(address indexed account, bytes32 indexed memberId);

    /// @notice The owner revoked `account`, an address of member `memberId`, valid until this block.
    event MemberRevoked(address indexed account, bytes32 indexed memberId);

    /// @notice The owner made `account` a witness or stopped it being one.
    event WitnessChanged(address indexed account, bool isWitness);

    /// @notice The owner changed how many witnesses must cosign an anchor for it to be final.
    event WitnessThresholdChanged(uint256 previousThreshold, uint256 threshold);

    /// @notice `witness` confirmed that anchor `sequence` has root `root`.
    event Cosigned(uint256 indexed sequence, address indexed witness, bytes32 root);

    /// @notice The caller is not the owner.
    error NotOwner(address caller);
    /// @notice The caller is not an authorised anchorer.
    error NotAuthorised(address caller);
    /// @notice The anchor sequence is not anchorCount() + 1.
    error UnexpectedAnchorSequence(uint256 expected, uint256 actual);
    /// @notice The first event of the range does not follow the last event of the previous anchor.
    error NonContiguousEvents(uint256 expectedFirst, uint256 actualFirst);
    /// @notice The range ends before it starts.
    error InvalidEventRange(uint256 firstEventSequence, uint256 lastEventSequence);
    /// @notice The root is zero.
    error ZeroRoot();
    /// @notice No anchor has this sequence.
    error UnknownAnchor(uint256 sequence);
    /// @notice The address is the zero address, which a failed signature recovery returns.
    error ZeroAddress();
    /// @notice The member id is zero, which memberOf returns for an address never registered.
    error ZeroMemberId();
    /// @notice The address is already an active address of a member.
    error AlreadyRegistered(address account);
    /// @notice The address was never registered.
    error NotRegistered(address account);
    /// @notice The address was revoked in block `validUntilBlock`; an address is registered once, ever.
    error AddressRevoked(address account, uint256 validUntilBlock);
    /// @notice The caller is not a witness.
    error NotWitness(address caller);
    /// @notice The root given differs from the one anchor `sequence` recorded.
    error RootMismatch(uint256 sequence, bytes32 expected, bytes32 given);
    /// @notice The witness already cosigned anchor `sequence`.
    error AlreadyCosigned(uint256 sequence, address witness);
    /// @notice The threshold would be 0, or more than the `witnessCount` witnesses there would be.
    error InvalidWitnessThreshold(uint256 threshold, uint256 witnessCount);
    /// @notice There are already MAX_WITNESSES witnesses.
    error TooManyWitnesses(uint256 max);

    /// @notice Deploys the registry; the deployer becomes the owner.
    constructor() {
        owner = msg.sender;
    }

    /// @notice Allows or forbids `account` to anchor.
    /// @param account The anchorer's address.
    /// @param authorised True to allow, false to forbid.
    function setAnchorer(address account, bool authorised) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        isAnchorer[account] = authorised;
        emit AnchorerChanged(account, authorised);
    }

    /// @notice Records the Merkle root of events firstEventSequence..lastEventSequence as anchor `sequence`.
    /// @param sequence Must equal anchorCount() + 1.
    /// @param root The StandardMerkleTree root of the range; not zero.
    /// @param firstEventSequence Must equal the previous anchor's lastEventSequence + 1 (1 for the first anchor).
    /// @param lastEventSequence The last event of the range; at least firstEventSequence.
    function anchor(uint256 sequence, bytes32 root, uint256 firstEventSequence, uint256 lastEventSequence) external {
        if (!isAnchorer[msg.sender]) revert NotAuthorised(msg.sender);
        uint256 count = _anchorCount;
        if (sequence != count + 1) revert UnexpectedAnchorSequence(count + 1, sequence);
        uint256 expectedFirst = count == 0 ? 1 : _anchors[count].lastEventSequence + 1;
        if (firstEventSequence != expectedFirst) revert NonContiguousEvents(expectedFirst, firstEventSequence);
        if (lastEventSequence < firstEventSequence) revert InvalidEventRange(firstEventSequence, lastEventSequence);
        if (root == bytes32(0)) revert ZeroRoot();

        _anchors[sequence] = Anchor(root, firstEventSequence, lastEventSequence, block.timestamp, msg.sender);
        _anchorCount = sequence;
        emit Anchored(sequence, root, firstEventSequence, lastEventSequence, msg.sender);
    }

    /// @notice Returns anchor `sequence`; reverts with UnknownAnchor when it does not exist.
    /// @param sequence The anchor's sequence number, from 1.
    function getAnchor(uint256 sequence)
        external
        view
        returns (bytes32 root, uint256 firstEventSequence, uint256 lastEventSequence, uint256 timestamp, address submitter)
    {
        if (sequence == 0 || sequence > _anchorCount) revert UnknownAnchor(sequence);
        Anchor storage a = _anchors[sequence];
        return (a.root, a.firstEventSequence, a.lastEventSequence, a.timestamp, a.submitter);
    }

    /// @notice The number of anchors recorded, which is also the sequence of the latest one.
    function anchorCount() external view returns (uint256) {
        return _anchorCount;
    }

    /// @notice True when `leaf` is in the tree whose root anchor `sequence` recorded.
    /// @param sequence The anchor's sequence number; an unknown anchor gives false.
    /// @param leaf The StandardMerkleTree leaf hash (double keccak of the ABI-encoded values).
    /// @param proof The sibling hashes from the leaf up to the root.
    function verify(uint256 sequence, bytes32 leaf, bytes32[] calldata proof) external view returns (bool) {
        if (sequence == 0 || sequence > _anchorCount) return false;
        return MerkleProof.verifyCalldata(proof, _anchors[sequence].root, leaf);
    }

    /// @notice Registers `account` as an address of member `memberId`, valid from this block until revoked.
    /// @dev An address belongs to one member once: an active address and a revoked one are both refused, so
    ///      memberOf never rewrites the history a verifier relies on. A member that changes keys registers
    ///      a new address.
    /// @param account The member's address; not zero.
    /// @param memberId The member's identifier; not zero.
    function registerMember(address account, bytes32 memberId) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        if (account == address(0)) revert ZeroAddress();
        if (memberId == bytes32(0)) revert ZeroMemberId();
        Membership storage m = _memberships[account];
        if (m.validUntilBlock != 0) revert AddressRevoked(account, m.validUntilBlock);
        if (m.memberId != bytes32(0)) revert AlreadyRegistered(account);

        m.memberId = memberId;
        m.validFromBlock = uint64(block.number);
        m.validFromTime = uint64(block.timestamp);
        emit MemberRegistered(account, memberId);
    }

    /// @notice Ends the validity of `account` at this block; what it signed before stays attributed to its member.
    /// @param account An active address of a member.
    function revokeMember(address account) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        Membership storage m = _memberships[account];
        if (m.memberId == bytes32(0)) revert NotRegistered(account);
        if (m.validUntilBlock != 0) revert AddressRevoked(account, m.validUntilBlock);

        m.validUntilBlock = uint64(block.number);
        m.validUntilTime = uint64(block.timestamp);
        emit MemberRevoked(account, m.memberId);
    }

    /// @notice The member `account` belongs to and the blocks of its validity: from `validFromBlock`
    ///         included until `validUntilBlock` excluded, 0 while it is active. All zero for an address
    ///         never registered.
    /// @param account The address to look up.
    function memberOf(address account)
        external
        view
        returns (bytes32 memberId, uint256 validFromBlock, uint256 validUntilBlock)
    {
        Membership storage m = _memberships[account];
        return (m.memberId, m.validFromBlock, m.validUntilBlock);
    }

    /// @notice True when `account` was an address of member `memberId` in block `blockNumber`:
    ///         validFromBlock <= blockNumber and, once revoked, blockNumber < validUntilBlock.
    /// @dev Block granularity: a block that both registers (or revokes) and anchors counts as inside
    ///      (or outside) whatever the order of its transactions. For a block still to come the answer is
    ///      whether the address is active now.
    /// @param account The signer's address.
    /// @param memberId The member the signer claims to belong to; 0 gives false.
    /// @param blockNumber The block to ask about, e.g. the one that wrote an anchor.
    function wasMemberAt(address account, bytes32 memberId, uint256 blockNumber) external view returns (bool) {
        Membership storage m = _memberships[account];
        if (memberId == bytes32(0) || m.memberId != memberId) return false;
        return blockNumber >= m.validFromBlock && (m.validUntilBlock == 0 || blockNumber < m.validUntilBlock);
    }

    /// @notice True when `account` was an address of member `memberId` when anchor `sequence` was written,
    ///         judged by the anchor's timestamp against those of the registration and the revocation.
    /// @dev The same answer as wasMemberAt with the anchor's block on chains whose block timestamps strictly
    ///      increase (Ethereum, Hardhat); the anchor's block number is not stored, its timestamp is.
    /// @param account The signer's address.
    /// @param memberId The member the signer claims to belong to; 0 gives false.
    /// @param sequence The anchor's sequence number; an unknown anchor gives false.
    function wasMemberWhenAnchored(address account, bytes32 memberId, uint256 sequence) external view returns (bool) {
        if (sequence == 0 || sequence > _anchorCount) return false;
        Membership storage m = _memberships[account];
        if (memberId == bytes32(0) || m.memberId != memberId) return false;
        uint256 time = _anchors[sequence].timestamp;
        return time >= m.validFromTime && (m.validUntilTime == 0 || time < m.validUntilTime);
    }

    /// @notice Makes `account` a witness or stops it being one; setting the current value again changes nothing
    ///         but the event.
    /// @dev Removing a witness is refused when fewer witnesses than the threshold would remain (lower the
    ///      threshold first). Cosignatures it already gave keep counting: they confirmed a root that cannot change.
    /// @param account The witness's address; not zero.
    /// @param witness True to make it a witness, false to stop.
    function setWitness(address account, bool witness) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        if (account == address(0)) revert ZeroAddress();
        if (witness != isWitness[account]) {
            uint256 count = witnessCount;
            if (witness) {
                if (count == MAX_WITNESSES) revert TooManyWitnesses(MAX_WITNESSES);
                witnessCount = count + 1;
            } else {
                if (witnessThreshold > count - 1) revert InvalidWitnessThreshold(witnessThreshold, count - 1);
                witnessCount = count - 1;
            }
            isWitness[account] = witness;
        }
        emit WitnessChanged(account, witness);
    }

    /// @notice Sets how many witnesses must cosign an anchor for isFinal to be true.
    /// @dev Finality is counted against the current threshold: raising it can make a final anchor not final
    ///      until more witnesses cosign, lowering it can make anchors final at once.
    /// @param threshold At least 1 and at most witnessCount.
    function setWitnessThreshold(uint256 threshold) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        if (threshold == 0 || threshold > witnessCount) revert InvalidWitnessThreshold(threshold, witnessCount);
        emit WitnessThresholdChanged(witnessThreshold, threshold);
        witnessThreshold = threshold;
    }

    /// @notice Records that the calling witness rebuilt anchor `sequence` from its leaves and found `root`,
    ///         the root the anchor recorded.
    /// @dev The witness passes the root it computed rather than only the sequence, so a cosignature can only
    ///      confirm the root the witness saw: a different one is refused instead of silently cosigned.
    /// @param sequence An existing anchor's sequence number.
    /// @param root The root the witness computed; must equal the anchor's.
    function cosign(uint256 sequence, bytes32 root) external {
        if (!isWitness[msg.sender]) revert NotWitness(msg.sender);
        if (sequence == 0 || sequence > _anchorCount) revert UnknownAnchor(sequence);
        bytes32 expected = _anchors[sequence].root;
        if (root != expected) revert RootMismatch(sequence, expected, root);
        if (hasCosigned[sequence][msg.sender]) revert AlreadyCosigned(sequence, msg.sender);

        hasCosigned[sequence][msg.sender] = true;
        _cosigners[sequence].push(msg.sender);
        emit Cosigned(sequence, msg.sender, root);
    }

    /// @notice The number of witnesses that cosigned anchor `sequence`, 0 for an unknown anchor.
    /// @param sequence The anchor's sequence number.
    function cosignatureCount(uint256 sequence) external view returns (uint256) {
        return _cosigners[sequence].length;
    }

    /// @notice The witnesses that cosigned anchor `sequence`, in the order they did; empty for an unknown anchor.
    /// @param sequence The anchor's sequence number.
    function cosignersOf(uint256 sequence) external view returns (address[] memory) {
        return _cosigners[sequence];
    }

    /// @notice True once at least witnessThreshold witnesses cosigned anchor `sequence`; false while no threshold
    ///         is set and for an unknown anchor.
    /// @param sequence The anchor's sequence number.
    function isFinal(uint256 sequence) external view returns (bool) {
        uint256 threshold = witnessThreshold;
        return threshold != 0 && _cosigners[sequence].length >= threshold;
    }
}
