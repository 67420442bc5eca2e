// Contract tests for AnchorRegistry (DESIGN.md, "The contract"), run with `./node_modules/.bin/hardhat test`
// on Hardhat's in-process network.
const { expect } = require("chai");
const { ethers } = require("hardhat");
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");

const ENCODING = ["uint256", "bytes32"];

/** A root that is not zero, distinct per `n`. */
function someRoot(n) {
  return ethers.keccak256(ethers.toUtf8Bytes(`root ${n}`));
}

/** Leaf values [eventSequence, digest] for events first..first+size-1, digests derived from the sequence. */
function leafValues(first, size) {
  return Array.from({ length: size }, (_, i) => {
    const sequence = first + i;
    return [sequence.toString(), ethers.sha256(ethers.toUtf8Bytes(`event ${sequence}`))];
  });
}

describe("AnchorRegistry", function () {
  let registry;
  let owner;
  let anchorer;
  let stranger;

  beforeEach(async function () {
    [owner, anchorer, stranger] = await ethers.getSigners();
    registry = await ethers.deployContract("AnchorRegistry", [], owner);
    await registry.waitForDeployment();
    await (await registry.setAnchorer(anchorer.address, true)).wait();
  });

  /** Anchors as `anchorer`: returns the transaction. */
  function anchorAs(signer, sequence, root, first, last) {
    return registry.connect(signer).anchor(sequence, root, first, last);
  }

  describe("deployment and authorisation", function () {
    it("makes the deployer the owner and starts with no anchor", async function () {
      expect(await registry.owner()).to.equal(owner.address);
      expect(await registry.anchorCount()).to.equal(0n);
      expect(await registry.isAnchorer(stranger.address)).to.equal(false);
      expect(await registry.isAnchorer(anchorer.address)).to.equal(true);
    });

    it("lets the owner authorise and deauthorise, emitting AnchorerChanged", async function () {
      await expect(registry.setAnchorer(stranger.address, true))
        .to.emit(registry, "AnchorerChanged")
        .withArgs(stranger.address, true);
      expect(await registry.isAnchorer(stranger.address)).to.equal(true);

      await expect(registry.setAnchorer(stranger.address, false))
        .to.emit(registry, "AnchorerChanged")
        .withArgs(stranger.address, false);
      expect(await registry.isAnchorer(stranger.address)).to.equal(false);
      await expect(anchorAs(stranger, 1, someRoot(1), 1, 1))
        .to.be.revertedWithCustomError(registry, "NotAuthorised")
        .withArgs(stranger.address);
    });

    it("reverts NotOwner when anyone but the owner authorises, even an anchorer", async function () {
      await expect(registry.connect(stranger).setAnchorer(stranger.address, true))
        .to.be.revertedWithCustomError(registry, "NotOwner")
        .withArgs(stranger.address);
      await expect(registry.connect(anchorer).setAnchorer(stranger.address, true))
        .to.be.revertedWithCustomError(registry, "NotOwner")
        .withArgs(anchorer.address);
      expect(await registry.isAnchorer(stranger.address)).to.equal(false);
    });
  });

  describe("anchor", function () {
    it("emits Anchored with every field and prints the gas used", async function () {
      const root = someRoot(1);
      const tx = await anchorAs(anchorer, 1, root, 1, 10);
      await expect(tx).to.emit(registry, "Anchored").withArgs(1n, root, 1n, 10n, anchorer.address);
      const receipt = await tx.wait();
      console.log(`      gas used by anchor(): ${receipt.gasUsed}`);

      const root2 = someRoot(2);
      const tx2 = await anchorAs(anchorer, 2, root2, 11, 11);
      await expect(tx2).to.emit(registry, "Anchored").withArgs(2n, root2, 11n, 11n, anchorer.address);
      console.log(`      gas used by anchor() (second anchor): ${(await tx2.wait()).gasUsed}`);
      expect(await registry.anchorCount()).to.equal(2n);
    });

    it("reverts NotAuthorised for a caller the owner did not authorise, the owner included", async function () {
      await expect(anchorAs(stranger, 1, someRoot(1), 1, 1))
        .to.be.revertedWithCustomError(registry, "NotAuthorised")
        .withArgs(stranger.address);
      await expect(anchorAs(owner, 1, someRoot(1), 1, 1))
        .to.be.revertedWithCustomError(registry, "NotAuthorised")
        .withArgs(owner.address);
    });

    it("reverts UnexpectedAnchorSequence for a gap", async function () {
      await expect(anchorAs(anchorer, 2, someRoot(1), 1, 1))
        .to.be.revertedWithCustomError(registry, "UnexpectedAnchorSequence")
        .withArgs(1n, 2n);
      await expect(anchorAs(anchorer, 0, someRoot(1), 1, 1))
        .to.be.revertedWithCustomError(registry, "UnexpectedAnchorSequence")
        .withArgs(1n, 0n);
      await anchorAs(anchorer, 1, someRoot(1), 1, 5);
      await expect(anchorAs(anchorer, 3, someRoot(3), 6, 6))
        .to.be.revertedWithCustomError(registry, "UnexpectedAnchorSequence")
        .withArgs(2n, 3n);
    });

    it("reverts UnexpectedAnchorSequence for a repeat of an existing sequence and keeps the original", async function () {
      const root = someRoot(1);
      await anchorAs(anchorer, 1, root, 1, 5);
      // the same call again (a re-run after a crash), and an attempt to overwrite it
      await expect(anchorAs(anchorer, 1, root, 1, 5))
        .to.be.revertedWithCustomError(registry, "UnexpectedAnchorSequence")
        .withArgs(2n, 1n);
      await expect(anchorAs(anchorer, 1, someRoot(99), 6, 9))
        .to.be.revertedWithCustomError(registry, "UnexpectedAnchorSequence")
        .withArgs(2n, 1n);
      const a = await registry.getAnchor(1);
      expect(a.root).to.equal(root);
      expect(a.lastEventSequence).to.equal(5n);
      expect(await registry.anchorCount()).to.equal(1n);
    });

    it("reverts ZeroRoot for a zero root", async function () {
      await expect(anchorAs(anchorer, 1, ethers.ZeroHash, 1, 1)).to.be.revertedWithCustomError(registry, "ZeroRoot");
    });

    it("reverts NonContiguousEvents when the first event does not follow the previous anchor", async function () {
      // the first anchor must start at event 1
      await expect(anchorAs(anchorer, 1, someRoot(1), 2, 5))
        .to.be.revertedWithCustomError(registry, "NonContiguousEvents")
        .withArgs(1n, 2n);
      await expect(anchorAs(anchorer, 1, someRoot(1), 0, 5))
        .to.be.revertedWithCustomError(registry, "NonContiguousEvents")
        .withArgs(1n, 0n);
      await anchorAs(anchorer, 1, someRoot(1), 1, 5);
      // a gap (event 6 left out) and an overlap (event 5 anchored twice)
      await expect(anchorAs(anchorer, 2, someRoot(2), 7, 9))
        .to.be.revertedWithCustomError(registry, "NonContiguousEvents")
        .withArgs(6n, 7n);
      await expect(anchorAs(anchorer, 2, someRoot(2), 5, 9))
        .to.be.revertedWithCustomError(registry, "NonContiguousEvents")
        .withArgs(6n, 5n);
    });

    it("reverts InvalidEventRange when the last event comes before the first", async function () {
      await expect(anchorAs(anchorer, 1, someRoot(1), 1, 0))
        .to.be.revertedWithCustomError(registry, "InvalidEventRange")
        .withArgs(1n, 0n);
      await anchorAs(anchorer, 1, someRoot(1), 1, 5);
      await expect(anchorAs(anchorer, 2, someRoot(2), 6, 5))
        .to.be.revertedWithCustomError(registry, "InvalidEventRange")
        .withArgs(6n, 5n);
    });
  });

  describe("getAnchor and anchorCount", function () {
    it("returns every field of each anchor and counts them", async function () {
      const root1 = someRoot(1);
      const tx1 = await anchorAs(anchorer, 1, root1, 1, 3);
      const block1 = await ethers.provider.getBlock((await tx1.wait()).blockNumber);
      expect(await registry.anchorCount()).to.equal(1n);

      await registry.setAnchorer(stranger.address, true);
      const root2 = someRoot(2);
      const tx2 = await anchorAs(stranger, 2, root2, 4, 4);
      const block2 = await ethers.provider.getBlock((await tx2.wait()).blockNumber);
      expect(await registry.anchorCount()).to.equal(2n);

      const a1 = await registry.getAnchor(1);
      expect(a1.root).to.equal(root1);
      expect(a1.firstEventSequence).to.equal(1n);
      expect(a1.lastEventSequence).to.equal(3n);
      expect(a1.timestamp).to.equal(BigInt(block1.timestamp));
      expect(a1.submitter).to.equal(anchorer.address);

      const a2 = await registry.getAnchor(2);
      expect([...a2]).to.deep.equal([root2, 4n, 4n, BigInt(block2.timestamp), stranger.address]);
    });

    it("reverts UnknownAnchor for 0 and for anchorCount() + 1", async function () {
      await expect(registry.getAnchor(0)).to.be.revertedWithCustomError(registry, "UnknownAnchor").withArgs(0n);
      await expect(registry.getAnchor(1)).to.be.revertedWithCustomError(registry, "UnknownAnchor").withArgs(1n);
      await anchorAs(anchorer, 1, someRoot(1), 1, 1);
      await expect(registry.getAnchor(0)).to.be.revertedWithCustomError(registry, "UnknownAnchor").withArgs(0n);
      await expect(registry.getAnchor(2)).to.be.revertedWithCustomError(registry, "UnknownAnchor").withArgs(2n);
      await expect(registry.getAnchor(ethers.MaxUint256))
        .to.be.revertedWithCustomError(registry, "UnknownAnchor")
        .withArgs(ethers.MaxUint256);
    });
  });

  describe("verify with @openzeppelin/merkle-tree StandardMerkleTree proofs", function () {
    const SIZES = [1, 2, 3, 7, 100];
    let trees; // trees[i] anchored as anchor i + 1

    beforeEach(async function () {
      trees = [];
      let first = 1;
      for (const [i, size] of SIZES.entries()) {
        const tree = StandardMerkleTree.of(leafValues(first, size), ENCODING);
        await anchorAs(anchorer, i + 1, tree.root, first, first + size - 1);
        trees.push(tree);
        first += size;
      }
    });

    it("hashes leaves as the contract expects: keccak256(bytes.concat(keccak256(abi.encode(seq, digest))))", function () {
      const value = trees[2].at(1);
      const inner = ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(ENCODING, value));
      expect(trees[2].leafHash(value)).to.equal(ethers.keccak256(inner));
    });

    for (const [i, size] of SIZES.entries()) {
      it(`is true for every leaf of a tree of ${size} leaves`, async function () {
        const tree = trees[i];
        const sequence = i + 1;
        let checked = 0;
        for (const [index, value] of tree.entries()) {
          const proof = tree.getProof(index);
          expect(await registry.verify(sequence, tree.leafHash(value), proof), `leaf ${index}`).to.equal(true);
          checked++;
        }
        expect(checked).to.equal(size);
      });
    }

    it("is false for a changed leaf", async function () {
      const tree = trees[3]; // 7 leaves
      const [index, value] = [...tree.entries()][4];
      const proof = tree.getProof(index);
      const changedDigest = [value[0], ethers.sha256(ethers.toUtf8Bytes("tampered"))];
      const changedSequence = [(BigInt(value[0]) + 1n).toString(), value[1]];
      expect(await registry.verify(4, tree.leafHash(changedDigest), proof)).to.equal(false);
      expect(await registry.verify(4, tree.leafHash(changedSequence), proof)).to.equal(false);
      expect(await registry.verify(4, tree.leafHash(value), proof)).to.equal(true);
    });

    it("is false for a proof checked against the wrong anchor sequence", async function () {
      const tree = trees[4]; // 100 leaves, anchor 5
      const [index, value] = [...tree.entries()][17];
      const proof = tree.getProof(index);
      for (const wrong of [1, 2, 3, 4]) {
        expect(await registry.verify(wrong, tree.leafHash(value), proof), `anchor ${wrong}`).to.equal(false);
      }
    });

    it("is false for an unknown anchor (0 and anchorCount() + 1)", async function () {
      const tree = trees[0];
      const value = tree.at(0);
      const leaf = tree.leafHash(value);
      // a one-leaf tree: the empty proof proves the leaf against its root
      expect(await registry.verify(1, leaf, [])).to.equal(true);
      expect(await registry.verify(0, leaf, [])).to.equal(false);
      expect(await registry.verify(SIZES.length + 1, leaf, [])).to.equal(false);
    });

    it("is false for a truncated proof", async function () {
      const tree = trees[4]; // 100 leaves
      for (const index of [0, 50, 99]) {
        const value = tree.at(index);
        const proof = tree.getProof(index);
        expect(proof.length).to.be.greaterThan(1);
        expect(await registry.verify(5, tree.leafHash(value), proof.slice(0, -1))).to.equal(false);
        expect(await registry.verify(5, tree.leafHash(value), proof.slice(1))).to.equal(false);
        expect(await registry.verify(5, tree.leafHash(value), [])).to.equal(false);
      }
    });
  });

  /** A member id: bytes32 of the member's name. */
  function memberId(name) {
    return ethers.encodeBytes32String(name);
  }

  /** Mines `n` empty blocks. */
  async function mine(n) {
    await ethers.provider.send("hardhat_mine", [ethers.toQuantity(n)]);
  }

  /** Sends `tx` and returns the number of the block that included it. */
  async function blockOf(tx) {
    return BigInt((await (await tx).wait()).blockNumber);
  }

  describe("membership", function () {
    let alice; // an address of member ACME
    let bob; // an address of member GLOBEX
    const ACME = memberId("ACME");
    const GLOBEX = memberId("GLOBEX");

    beforeEach(async function () {
      [, , , alice, bob] = await ethers.getSigners();
    });

    it("registers an address, emitting MemberRegistered, and memberOf shows the block it became valid; prints the gas used", async function () {
      const tx = await registry.registerMember(alice.address, ACME);
      await expect(tx).to.emit(registry, "MemberRegistered").withArgs(alice.address, ACME);
      const receipt = await tx.wait();
      console.log(`      gas used by registerMember(): ${receipt.gasUsed}`);
      expect([...(await registry.memberOf(alice.address))]).to.deep.equal([ACME, BigInt(receipt.blockNumber), 0n]);
    });

    it("returns zeros from memberOf for an address never registered", async function () {
      expect([...(await registry.memberOf(stranger.address))]).to.deep.equal([ethers.ZeroHash, 0n, 0n]);
    });

    it("keeps each address with its own member: another member's address is not this member's", async function () {
      const fromAlice = await blockOf(registry.registerMember(alice.address, ACME));
      const fromBob = await blockOf(registry.registerMember(bob.address, GLOBEX));
      expect([...(await registry.memberOf(alice.address))]).to.deep.equal([ACME, fromAlice, 0n]);
      expect([...(await registry.memberOf(bob.address))]).to.deep.equal([GLOBEX, fromBob, 0n]);
      expect(await registry.wasMemberAt(bob.address, ACME, fromBob)).to.equal(false);
      expect(await registry.wasMemberAt(alice.address, GLOBEX, fromBob)).to.equal(false);
      expect(await registry.wasMemberAt(bob.address, GLOBEX, fromBob)).to.equal(true);
    });

    it("reverts NotOwner when anyone but the owner registers or revokes, even an anchorer or the address itself", async function () {
      for (const caller of [stranger, anchorer, alice]) {
        await expect(registry.connect(caller).registerMember(alice.address, ACME))
          .to.be.revertedWithCustomError(registry, "NotOwner")
          .withArgs(caller.address);
      }
      await registry.registerMember(alice.address, ACME);
      for (const caller of [stranger, anchorer, alice]) {
        await expect(registry.connect(caller).revokeMember(alice.address))
          .to.be.revertedWithCustomError(registry, "NotOwner")
          .withArgs(caller.address);
      }
      expect((await registry.memberOf(alice.address)).validUntilBlock).to.equal(0n);
    });

    it("reverts ZeroAddress and ZeroMemberId", async function () {
      await expect(registry.registerMember(ethers.ZeroAddress, ACME)).to.be.revertedWithCustomError(registry, "ZeroAddress");
      await expect(registry.registerMember(alice.address, ethers.ZeroHash)).to.be.revertedWithCustomError(registry, "ZeroMemberId");
      expect((await registry.memberOf(alice.address)).memberId).to.equal(ethers.ZeroHash);
    });

    it("reverts AlreadyRegistered for an active address, to the same member or another, and keeps the first registration", async function () {
      const from = await blockOf(registry.registerMember(alice.address, ACME));
      await expect(registry.registerMember(alice.address, ACME))
        .to.be.revertedWithCustomError(registry, "AlreadyRegistered")
        .withArgs(alice.address);
      await expect(registry.registerMember(alice.address, GLOBEX))
        .to.be.revertedWithCustomError(registry, "AlreadyRegistered")
        .withArgs(alice.address);
      expect([...(await registry.memberOf(alice.address))]).to.deep.equal([ACME, from, 0n]);
    });

    it("revokes, emitting MemberRevoked, and memberOf shows the block the validity ended; prints the gas used", async function () {
      const from = await blockOf(registry.registerMember(alice.address, ACME));
      await mine(3);
      const tx = await registry.revokeMember(alice.address);
      await expect(tx).to.emit(registry, "MemberRevoked").withArgs(alice.address, ACME);
      const receipt = await tx.wait();
      console.log(`      gas used by revokeMember(): ${receipt.gasUsed}`);
      expect([...(await registry.memberOf(alice.address))]).to.deep.equal([ACME, from, BigInt(receipt.blockNumber)]);
    });

    it("reverts NotRegistered when revoking an address never registered", async function () {
      await expect(registry.revokeMember(stranger.address))
        .to.be.revertedWithCustomError(registry, "NotRegistered")
        .withArgs(stranger.address);
    });

    it("reverts AddressRevoked when revoking again or registering a revoked address, to any member, and keeps the history", async function () {
      const from = await blockOf(registry.registerMember(alice.address, ACME));
      const until = await blockOf(registry.revokeMember(alice.address));
      await expect(registry.revokeMember(alice.address))
        .to.be.revertedWithCustomError(registry, "AddressRevoked")
        .withArgs(alice.address, until);
      await expect(registry.registerMember(alice.address, GLOBEX))
        .to.be.revertedWithCustomError(registry, "AddressRevoked")
        .withArgs(alice.address, until);
      await expect(registry.registerMember(alice.address, ACME))
        .to.be.revertedWithCustomError(registry, "AddressRevoked")
        .withArgs(alice.address, until);
      expect([...(await registry.memberOf(alice.address))]).to.deep.equal([ACME, from, until]);
    });

    it("answers wasMemberAt before, during and after the validity: from its block included until the revocation's excluded", async function () {
      await mine(2);
      const from = await blockOf(registry.registerMember(alice.address, ACME));
      expect(await registry.wasMemberAt(alice.address, ACME, from - 1n), "before").to.equal(false);
      expect(await registry.wasMemberAt(alice.address, ACME, from), "registration block").to.equal(true);
      expect(await registry.wasMemberAt(alice.address, ACME, from + 1000n), "active: any later block").to.equal(true);
      await mine(5);
      const until = await blockOf(registry.revokeMember(alice.address));
      expect(await registry.wasMemberAt(alice.address, ACME, from - 1n), "before").to.equal(false);
      expect(await registry.wasMemberAt(alice.address, ACME, from), "registration block").to.equal(true);
      expect(await registry.wasMemberAt(alice.address, ACME, from + 3n), "during").to.equal(true);
      expect(await registry.wasMemberAt(alice.address, ACME, until - 1n), "last valid block").to.equal(true);
      expect(await registry.wasMemberAt(alice.address, ACME, until), "revocation block").to.equal(false);
      expect(await registry.wasMemberAt(alice.address, ACME, until + 10n), "after").to.equal(false);
      expect(await registry.wasMemberAt(alice.address, GLOBEX, from + 3n), "another member").to.equal(false);
    });

    it("answers wasMemberAt false for an address never registered and for member id 0", async function () {
      const block = BigInt(await ethers.provider.getBlockNumber());
      expect(await registry.wasMemberAt(stranger.address, ethers.ZeroHash, 0n)).to.equal(false);
      expect(await registry.wasMemberAt(stranger.address, ethers.ZeroHash, block)).to.equal(false);
      expect(await registry.wasMemberAt(stranger.address, ACME, block)).to.equal(false);
      await registry.registerMember(alice.address, ACME);
      expect(await registry.wasMemberAt(alice.address, ethers.ZeroHash, block + 1n)).to.equal(false);
    });

    it("answers wasMemberWhenAnchored for anchors written before, during and after the validity", async function () {
      await anchorAs(anchorer, 1, someRoot(1), 1, 1); // before the registration
      await registry.registerMember(alice.address, ACME);
      await anchorAs(anchorer, 2, someRoot(2), 2, 2); // while valid
      await registry.revokeMember(alice.address);
      await anchorAs(anchorer, 3, someRoot(3), 3, 3); // after the revocation
      expect(await registry.wasMemberWhenAnchored(alice.address, ACME, 1), "before").to.equal(false);
      expect(await registry.wasMemberWhenAnchored(alice.address, ACME, 2), "during").to.equal(true);
      expect(await registry.wasMemberWhenAnchored(alice.address, ACME, 3), "after").to.equal(false);
      expect(await registry.wasMemberWhenAnchored(alice.address, GLOBEX, 2), "another member").to.equal(false);
      expect(await registry.wasMemberWhenAnchored(alice.address, ethers.ZeroHash, 2), "member id 0").to.equal(false);
      expect(await registry.wasMemberWhenAnchored(stranger.address, ethers.ZeroHash, 2), "never registered").to.equal(false);
      expect(await registry.wasMemberWhenAnchored(alice.address, ACME, 0), "anchor 0").to.equal(false);
      expect(await registry.wasMemberWhenAnchored(alice.address, ACME, 4), "anchorCount() + 1").to.equal(false);
    });

    it("counts an anchor in the registration block as inside and one in the revocation block as outside, like wasMemberAt", async function () {
      // both transactions in one block, anchor first: block granularity, whatever the order inside the block
      await ethers.provider.send("evm_setAutomine", [false]);
      try {
        await anchorAs(anchorer, 1, someRoot(1), 1, 1);
        await registry.registerMember(alice.address, ACME);
        await mine(1);
        await anchorAs(anchorer, 2, someRoot(2), 2, 2);
        await registry.revokeMember(alice.address);
        await mine(1);
      } finally {
        await ethers.provider.send("evm_setAutomine", [true]);
      }
      const { validFromBlock, validUntilBlock } = await registry.memberOf(alice.address);
      expect(validUntilBlock).to.equal(validFromBlock + 1n);
      expect(await registry.wasMemberWhenAnchored(alice.address, ACME, 1)).to.equal(true);
      expect(await registry.wasMemberAt(alice.address, ACME, validFromBlock)).to.equal(true);
      expect(await registry.wasMemberWhenAnchored(alice.address, ACME, 2)).to.equal(false);
      expect(await registry.wasMemberAt(alice.address, ACME, validUntilBlock)).to.equal(false);
    });
  });

  describe("witnesses and threshold", function () {
    let w1;
    let w2;
    let w3;

    beforeEach(async function () {
      [, , , w1, w2, w3] = await ethers.getSigners();
    });

    it("starts with no witness and threshold 0", async function () {
      expect(await registry.witnessCount()).to.equal(0n);
      expect(await registry.witnessThreshold()).to.equal(0n);
      expect(await registry.isWitness(w1.address)).to.equal(false);
      expect(await registry.MAX_WITNESSES()).to.equal(64n);
    });

    it("lets the owner add and remove witnesses, emitting WitnessChanged, and counts them once each", async function () {
      await expect(registry.setWitness(w1.address, true)).to.emit(registry, "WitnessChanged").withArgs(w1.address, true);
      expect(await registry.isWitness(w1.address)).to.equal(true);
      expect(await registry.witnessCount()).to.equal(1n);
      // the same value again: the event, no change
      await expect(registry.setWitness(w1.address, true)).to.emit(registry, "WitnessChanged").withArgs(w1.address, true);
      expect(await registry.witnessCount()).to.equal(1n);
      await registry.setWitness(w2.address, true);
      expect(await registry.witnessCount()).to.equal(2n);

      await expect(registry.setWitness(w1.address, false)).to.emit(registry, "WitnessChanged").withArgs(w1.address, false);
      expect(await registry.isWitness(w1.address)).to.equal(false);
      expect(await registry.witnessCount()).to.equal(1n);
      await expect(registry.setWitness(w1.address, false)).to.emit(registry, "WitnessChanged").withArgs(w1.address, false);
      await expect(registry.setWitness(w3.address, false)).to.emit(registry, "WitnessChanged").withArgs(w3.address, false);
      expect(await registry.witnessCount()).to.equal(1n);
    });

    it("reverts NotOwner when anyone but the owner sets a witness or the threshold, even a witness", async function () {
      await registry.setWitness(w1.address, true);
      for (const caller of [stranger, anchorer, w1]) {
        await expect(registry.connect(caller).setWitness(w2.address, true))
          .to.be.revertedWithCustomError(registry, "NotOwner")
          .withArgs(caller.address);
        await expect(registry.connect(caller).setWitnessThreshold(1))
          .to.be.revertedWithCustomError(registry, "NotOwner")
          .withArgs(caller.address);
      }
      expect(await registry.isWitness(w2.address)).to.equal(false);
      expect(await registry.witnessThreshold()).to.equal(0n);
    });

    it("reverts ZeroAddress for the zero address as a witness", async function () {
      await expect(registry.setWitness(ethers.ZeroAddress, true)).to.be.revertedWithCustomError(registry, "ZeroAddress");
    });

    it("reverts TooManyWitnesses beyond MAX_WITNESSES, and accepts one again after a removal", async function () {
      const addresses = Array.from({ length: 64 }, (_, i) => ethers.getAddress(ethers.zeroPadValue(ethers.toBeHex(i + 1), 20)));
      for (const a of addresses) await registry.setWitness(a, true);
      expect(await registry.witnessCount()).to.equal(64n);
      await expect(registry.setWitness(w1.address, true))
        .to.be.revertedWithCustomError(registry, "TooManyWitnesses")
        .withArgs(64n);
      // re-adding an existing witness is not a new one
      await registry.setWitness(addresses[0], true);
      await registry.setWitness(addresses[0], false);
      await registry.setWitness(w1.address, true);
      expect(await registry.witnessCount()).to.equal(64n);
    });

    it("sets the threshold from 1 to witnessCount, emitting WitnessThresholdChanged with the previous one", async function () {
      for (const w of [w1, w2, w3]) await registry.setWitness(w.address, true);
      await expect(registry.setWitnessThreshold(2)).to.emit(registry, "WitnessThresholdChanged").withArgs(0n, 2n);
      expect(await registry.witnessThreshold()).to.equal(2n);
      await expect(registry.setWitnessThreshold(3)).to.emit(registry, "WitnessThresholdChanged").withArgs(2n, 3n);
      await expect(registry.setWitnessThreshold(1)).to.emit(registry, "WitnessThresholdChanged").withArgs(3n, 1n);
      expect(await registry.witnessThreshold()).to.equal(1n);
    });

    it("reverts InvalidWitnessThreshold for 0 and for more than the witnesses", async function () {
      await expect(registry.setWitnessThreshold(1))
        .to.be.revertedWithCustomError(registry, "InvalidWitnessThreshold")
        .withArgs(1n, 0n);
      for (const w of [w1, w2, w3]) await registry.setWitness(w.address, true);
      await expect(registry.setWitnessThreshold(0))
        .to.be.revertedWithCustomError(registry, "InvalidWitnessThreshold")
        .withArgs(0n, 3n);
      await expect(registry.setWitnessThreshold(4))
        .to.be.revertedWithCustomError(registry, "InvalidWitnessThreshold")
        .withArgs(4n, 3n);
      expect(await registry.witnessThreshold()).to.equal(0n);
    });

    it("reverts InvalidWitnessThreshold when removing a witness would leave fewer than the threshold; lowering it first works", async function () {
      for (const w of [w1, w2, w3]) await registry.setWitness(w.address, true);
      await registry.setWitnessThreshold(3);
      await expect(registry.setWitness(w3.address, false))
        .to.be.revertedWithCustomError(registry, "InvalidWitnessThreshold")
        .withArgs(3n, 2n);
      expect(await registry.isWitness(w3.address)).to.equal(true);
      await registry.setWitnessThreshold(2);
      await registry.setWitness(w3.address, false);
      expect(await registry.witnessCount()).to.equal(2n);
      await expect(registry.setWitness(w2.address, false))
        .to.be.revertedWithCustomError(registry, "InvalidWitnessThreshold")
        .withArgs(2n, 1n);
    });
  });

  describe("cosign and finality", function () {
    let w1;
    let w2;
    let w3;
    let root1;

    beforeEach(async function () {
      [, , , w1, w2, w3] = await ethers.getSigners();
      for (const w of [w1, w2, w3]) await registry.setWitness(w.address, true);
      await registry.setWitnessThreshold(2);
      root1 = someRoot(1);
      await anchorAs(anchorer, 1, root1, 1, 10);
      await anchorAs(anchorer, 2, someRoot(2), 11, 20);
    });

    it("with three witnesses and threshold 2, makes an anchor final at the second cosignature; prints the gas used", async function () {
      expect(await registry.isFinal(1)).to.equal(false);

      const tx1 = await registry.connect(w1).cosign(1, root1);
      await expect(tx1).to.emit(registry, "Cosigned").withArgs(1n, w1.address, root1);
      console.log(`      gas used by cosign() (first of an anchor): ${(await tx1.wait()).gasUsed}`);
      expect(await registry.cosignatureCount(1)).to.equal(1n);
      expect(await registry.hasCosigned(1, w1.address)).to.equal(true);
      expect(await registry.hasCosigned(1, w2.address)).to.equal(false);
      expect(await registry.isFinal(1)).to.equal(false);

      const tx2 = await registry.connect(w2).cosign(1, root1);
      await expect(tx2).to.emit(registry, "Cosigned").withArgs(1n, w2.address, root1);
      console.log(`      gas used by cosign() (second of an anchor): ${(await tx2.wait()).gasUsed}`);
      expect(await registry.cosignatureCount(1)).to.equal(2n);
      expect(await registry.isFinal(1)).to.equal(true);
      expect(await registry.cosignersOf(1)).to.deep.equal([w1.address, w2.address]);

      // the third still may cosign; the other anchor is untouched
      await registry.connect(w3).cosign(1, root1);
      expect(await registry.cosignersOf(1)).to.deep.equal([w1.address, w2.address, w3.address]);
      expect(await registry.cosignatureCount(2)).to.equal(0n);
      expect(await registry.hasCosigned(2, w1.address)).to.equal(false);
      expect(await registry.isFinal(2)).to.equal(false);
    });

    it("reverts RootMismatch for a root that differs from the anchor's, and records nothing", async function () {
      const wrong = someRoot(99);
      await expect(registry.connect(w1).cosign(1, wrong))
        .to.be.revertedWithCustomError(registry, "RootMismatch")
        .withArgs(1n, root1, wrong);
      // anchor 2's root offered for anchor 1
      await expect(registry.connect(w1).cosign(1, someRoot(2)))
        .to.be.revertedWithCustomError(registry, "RootMismatch")
        .withArgs(1n, root1, someRoot(2));
      expect(await registry.cosignatureCount(1)).to.equal(0n);
      expect(await registry.hasCosigned(1, w1.address)).to.equal(false);
    });

    it("reverts NotWitness for anyone not a witness: a stranger, the owner, the anchorer, a removed witness", async function () {
      await registry.setWitness(w3.address, false);
      for (const caller of [stranger, owner, anchorer, w3]) {
        await expect(registry.connect(caller).cosign(1, root1))
          .to.be.revertedWithCustomError(registry, "NotWitness")
          .withArgs(caller.address);
      }
      expect(await registry.cosignatureCount(1)).to.equal(0n);
    });

    it("reverts AlreadyCosigned for a second cosignature by the same witness", async function () {
      await registry.connect(w1).cosign(1, root1);
      await expect(registry.connect(w1).cosign(1, root1))
        .to.be.revertedWithCustomError(registry, "AlreadyCosigned")
        .withArgs(1n, w1.address);
      expect(await registry.cosignatureCount(1)).to.equal(1n);
      expect(await registry.isFinal(1)).to.equal(false);
    });

    it("reverts UnknownAnchor for 0 and anchorCount() + 1", async function () {
      await expect(registry.connect(w1).cosign(0, root1))
        .to.be.revertedWithCustomError(registry, "UnknownAnchor")
        .withArgs(0n);
      await expect(registry.connect(w1).cosign(3, root1))
        .to.be.revertedWithCustomError(registry, "UnknownAnchor")
        .withArgs(3n);
    });

    it("answers 0, empty and false for an unknown anchor", async function () {
      for (const sequence of [0n, 3n, ethers.MaxUint256]) {
        expect(await registry.cosignatureCount(sequence)).to.equal(0n);
        expect(await registry.cosignersOf(sequence)).to.deep.equal([]);
        expect(await registry.hasCosigned(sequence, w1.address)).to.equal(false);
        expect(await registry.isFinal(sequence)).to.equal(false);
      }
    });

    it("counts finality against the current threshold: raising it undoes finality until more cosign, lowering it grants it", async function () {
      await registry.connect(w1).cosign(1, root1);
      await registry.connect(w2).cosign(1, root1);
      expect(await registry.isFinal(1)).to.equal(true);
      await registry.setWitnessThreshold(3);
      expect(await registry.isFinal(1)).to.equal(false);
      await registry.connect(w3).cosign(1, root1);
      expect(await registry.isFinal(1)).to.equal(true);

      await registry.connect(w1).cosign(2, someRoot(2));
      expect(await registry.isFinal(2)).to.equal(false);
      await registry.setWitnessThreshold(1);
      expect(await registry.isFinal(2)).to.equal(true);
    });

    it("keeps counting the cosignature of a witness removed afterwards", async function () {
      await registry.connect(w1).cosign(1, root1);
      await registry.connect(w3).cosign(1, root1);
      await registry.setWitness(w3.address, false);
      expect(await registry.hasCosigned(1, w3.address)).to.equal(true);
      expect(await registry.cosignatureCount(1)).to.equal(2n);
      expect(await registry.isFinal(1)).to.equal(true);
    });

    it("is never final while no threshold is set, whatever the cosignatures", async function () {
      const fresh = await ethers.deployContract("AnchorRegistry", [], owner);
      await fresh.setAnchorer(anchorer.address, true);
      await fresh.setWitness(w1.address, true);
      await fresh.connect(anchorer).anchor(1, root1, 1, 1);
      await fresh.connect(w1).cosign(1, root1);
      expect(await fresh.cosignatureCount(1)).to.equal(1n);
      expect(await fresh.isFinal(1)).to.equal(false);
    });

    it("leaves anchor() as expensive as on a fresh registry: the anchoring path does not read the new state", async function () {
      const fresh = await ethers.deployContract("AnchorRegistry", [], owner);
      await fresh.setAnchorer(anchorer.address, true);
      const busy = await ethers.deployContract("AnchorRegistry", [], owner);
      await busy.setAnchorer(anchorer.address, true);
      await busy.registerMember(anchorer.address, memberId("ACME"));
      for (const w of [w1, w2, w3]) await busy.setWitness(w.address, true);
      await busy.setWitnessThreshold(2);

      const gas = async (r) => (await (await r.connect(anchorer).anchor(1, root1, 1, 10)).wait()).gasUsed;
      expect(await gas(busy)).to.equal(await gas(fresh));
    });
  });
});
