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
});
