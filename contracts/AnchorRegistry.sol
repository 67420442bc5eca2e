// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title AnchorRegistry
/// @notice Keeps the Merkle roots of consecutive batches of traceability events. Anchors are numbered
///         from 1 with no gap and never overwritten; the event ranges they cover are contiguous from
///         event 1, so no event can be left out between two anchors.
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

    /// @notice The account that may authorise and deauthorise anchorers.
    address public immutable owner;

    /// @notice Accounts allowed to call `anchor`.
    mapping(address => bool) public isAnchorer;

    mapping(uint256 => Anchor) private _anchors;
    uint256 private _anchorCount;

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
}
