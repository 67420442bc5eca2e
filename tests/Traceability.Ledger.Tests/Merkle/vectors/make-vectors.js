#!/usr/bin/env node
// Known-answer vectors for the C# StandardMerkleTree, produced by the JavaScript library it must match.
//
//   node tests/Traceability.Ledger.Tests/Merkle/vectors/make-vectors.js
//
// (run from the repository root, with node_modules installed: @openzeppelin/merkle-tree 1.0.8, ethers 6.15.0).
// The output is deterministic: running it again must leave `git status` clean.
//
// Inputs: leaf encoding ["uint256","bytes32"], values [sequence, digest] where
//   digest_i   = keccak256(utf8("traceability-merkle-vectors:<size>:<i>"))      i = 0..size-1
//   sequence_i = size * 1000 + i + 1, except size 7, which uses 2^64 - 7 + i (up to ulong.MaxValue)
// Files:
//   tree-<size>.json      sizes 1..64 and 1000: every leaf hash, the whole tree array, every proof
//   tree-10000.json       10,000 leaves: root, keccak256 of the concatenated tree array and of the
//                         concatenated leaf hashes (input order), and the proofs of every 97th value
//   proof-cases.json      good and bad proofs as data, each with what the JS library's verify says
"use strict";
const fs = require("fs");
const path = require("path");
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");
const { keccak256, toUtf8Bytes, concat } = require("ethers");

const ENCODING = ["uint256", "bytes32"];
const SEED = "traceability-merkle-vectors";
const OUT = __dirname;
const PRODUCED_BY = "node tests/Traceability.Ledger.Tests/Merkle/vectors/make-vectors.js";
const LIBRARY = "@openzeppelin/merkle-tree " + require("@openzeppelin/merkle-tree/package.json").version
  + ", ethers " + require("ethers").version;

function makeValues(size) {
  const values = [];
  for (let i = 0; i < size; i++) {
    const sequence = size === 7 ? (2n ** 64n) - 7n + BigInt(i) : BigInt(size) * 1000n + BigInt(i) + 1n;
    values.push([sequence.toString(), keccak256(toUtf8Bytes(`${SEED}:${size}:${i}`))]);
  }
  return values;
}

function write(name, data) {
  fs.writeFileSync(path.join(OUT, name), JSON.stringify(data, null, 1) + "\n");
}

function header(size) {
  return {
    producedBy: PRODUCED_BY,
    library: LIBRARY,
    description: `StandardMerkleTree.of(values, ["uint256","bytes32"]) with default options (sortLeaves: true), ${size} leaves`,
    leafEncoding: ENCODING,
    size,
  };
}

function full(size) {
  const values = makeValues(size);
  const tree = StandardMerkleTree.of(values, ENCODING);
  const dump = tree.dump();
  write(`tree-${size}.json`, {
    ...header(size),
    root: tree.root,
    values,
    treeIndices: dump.values.map(v => v.treeIndex),
    leafHashes: values.map(v => tree.leafHash(v)),
    tree: dump.tree,
    proofs: values.map((_, i) => tree.getProof(i)),
  });
  return { values, tree };
}

function sampled(size, every) {
  const values = makeValues(size);
  const tree = StandardMerkleTree.of(values, ENCODING);
  const dump = tree.dump();
  const sampleProofs = [];
  for (let i = 0; i < size; i += every) sampleProofs.push({ valueIndex: i, proof: tree.getProof(i) });
  write(`tree-${size}.json`, {
    ...header(size),
    root: tree.root,
    treeHash: keccak256(concat(dump.tree)),
    leafHashesHash: keccak256(concat(values.map(v => tree.leafHash(v)))),
    treeIndicesHash: keccak256(toUtf8Bytes(dump.values.map(v => v.treeIndex).join(","))),
    notes: "values are not stored: regenerate them as described in make-vectors.js; treeHash = keccak256(concat(tree)), "
      + "leafHashesHash = keccak256(concat(leaf hash of each value, input order)), "
      + "treeIndicesHash = keccak256(utf8(treeIndex of each value, input order, joined by ',')))",
    sampleEvery: every,
    proofs: sampleProofs,
  });
}

const built = {};
for (let size = 1; size <= 64; size++) built[size] = full(size);
built[1000] = full(1000);
sampled(10000, 97);

// Good and bad proofs as data. "jsVerify" is StandardMerkleTree.verify(root, encoding, leaf, proof).
const cases = [];
function addCase(size, name, root, leaf, proof) {
  cases.push({ size, name, root, leaf, proof, jsVerify: StandardMerkleTree.verify(root, ENCODING, leaf, proof) });
}
for (const size of [1, 2, 3, 5, 7, 8, 13, 64, 1000]) {
  const { values, tree } = built[size];
  for (const i of [...new Set([0, Math.floor(size / 2), size - 1])]) {
    const leaf = values[i];
    const proof = tree.getProof(i);
    const tag = `${size}/value-${i}`;
    addCase(size, `${tag}/happy-path`, tree.root, leaf, proof);
    addCase(size, `${tag}/wrong-leaf-digest`, tree.root, [leaf[0], keccak256(toUtf8Bytes("not in the tree"))], proof);
    addCase(size, `${tag}/wrong-leaf-sequence`, tree.root, [(BigInt(leaf[0]) ^ 1n).toString(), leaf[1]], proof);
    if (size > 1) addCase(size, `${tag}/other-leafs-proof`, tree.root, leaf, tree.getProof((i + 1) % size));
    addCase(size, `${tag}/wrong-root`, keccak256(toUtf8Bytes("wrong root")), leaf, proof);
    if (proof.length > 0) addCase(size, `${tag}/truncated-proof`, tree.root, leaf, proof.slice(0, -1));
    if (proof.length > 0) addCase(size, `${tag}/truncated-proof-first`, tree.root, leaf, proof.slice(1));
    if (proof.length > 1) {
      const reordered = [...proof];
      [reordered[0], reordered[1]] = [reordered[1], reordered[0]];
      addCase(size, `${tag}/reordered-proof`, tree.root, leaf, reordered);
      addCase(size, `${tag}/reversed-proof`, tree.root, leaf, [...proof].reverse());
    }
    addCase(size, `${tag}/extended-proof`, tree.root, leaf, [...proof, keccak256(toUtf8Bytes("extra"))]);
  }
}
write("proof-cases.json", {
  producedBy: PRODUCED_BY,
  library: LIBRARY,
  description: "Good and bad proofs over the trees of tree-<size>.json. jsVerify is what StandardMerkleTree.verify returns.",
  leafEncoding: ENCODING,
  cases,
});
console.log(`wrote ${Object.keys(built).length + 1} tree files and ${cases.length} proof cases to ${OUT}`);
