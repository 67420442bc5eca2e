#!/usr/bin/env node
// Known-answer vectors for SignedEventsTree (the tree a member signs over a capture document's events), produced by
// the JavaScript library it must match:
//
//   node tests/Traceability.Ledger.Tests/Merkle/vectors/make-signed-vectors.js
//
// (from the repository root, with node_modules installed). Deterministic: running it again leaves `git status` clean.
// Leaf encoding ["bytes32"], one value per event in document order: digest_i = sha256(utf8("signed-events:<size>:<i>")),
// except that size 5 repeats digest 1 at index 3 (an event named twice in one document). For each size: the root
// and every value's proof (getProof(i), in document order).
"use strict";
const fs = require("fs");
const path = require("path");
const crypto = require("crypto");
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");

const SIZES = [1, 2, 3, 5, 7, 16, 33, 100];
const digest = (size, i) => "0x" + crypto.createHash("sha256").update(`signed-events:${size}:${i}`).digest("hex");

const cases = SIZES.map((size) => {
  const digests = [];
  for (let i = 0; i < size; i++) digests.push(size === 5 && i === 3 ? digest(size, 1) : digest(size, i));
  const tree = StandardMerkleTree.of(digests.map((d) => [d]), ["bytes32"]);
  return { size, root: tree.root, digests, proofs: digests.map((_, i) => tree.getProof(i)) };
});

fs.writeFileSync(path.join(__dirname, "signed-events.json"), JSON.stringify({
  producedBy: "node tests/Traceability.Ledger.Tests/Merkle/vectors/make-signed-vectors.js",
  library: "@openzeppelin/merkle-tree " + require("@openzeppelin/merkle-tree/package.json").version,
  leafEncoding: ["bytes32"],
  cases,
}, null, 1) + "\n");
