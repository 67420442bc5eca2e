#!/usr/bin/env node
// Known answers for the service's signed receipts (ServiceReceipts), made with ethers and @openzeppelin/merkle-tree,
// what a member checking its receipts in JavaScript would use:
//
//   node tests/Traceability.Chain.Tests/vectors/make-receipt-vectors.js
//
// For each batch (one capture request's receipts): each receipt's EIP-712 struct hash of
// Receipt(bytes32 digest, uint256 sequence, uint64 recordTime, uint64 anchorDeadline), the StandardMerkleTree over those
// hashes as leaves ["bytes32"] (root, each receipt's proof), and the signature of Receipts(bytes32 receiptsRoot,
// uint256 receiptCount) under the Traceability domain. Deterministic (RFC 6979 signatures): running it again leaves
// `git status` clean.
"use strict";
const fs = require("fs");
const path = require("path");
const { Wallet, TypedDataEncoder, getAddress, keccak256, toUtf8Bytes, verifyTypedData } = require("ethers");
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");

const key = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"; // Hardhat's account #1
const wallet = new Wallet(key);
const contract = getAddress("0x5fbdb2315678afecb367f032d93f642f64180aa3");
const receiptType = {
  Receipt: [
    { name: "digest", type: "bytes32" }, { name: "sequence", type: "uint256" },
    { name: "recordTime", type: "uint64" }, { name: "anchorDeadline", type: "uint64" },
  ],
};
const receiptsType = { Receipts: [{ name: "receiptsRoot", type: "bytes32" }, { name: "receiptCount", type: "uint256" }] };

// A batch: `count` receipts from `first` on, digests keccak256("event <sequence>"), one second apart, deadline + 600 s.
const batch = (chainId, first, count) => Array.from({ length: count }, (_, i) => {
  const sequence = first + i;
  const recordTime = 1764576000 + i;
  return { digest: keccak256(toUtf8Bytes(`event ${sequence}`)), sequence, recordTime, anchorDeadline: recordTime + 600 };
});

const merkleTreeVersion = () =>
  JSON.parse(fs.readFileSync(path.resolve(__dirname, "../../../node_modules/@openzeppelin/merkle-tree/package.json"), "utf8")).version;

(async () => {
  const batches = [];
  for (const [chainId, first, count] of [[31337, 1, 1], [31337, 42, 3], [31337, 1000, 7], [1, 9007199254740000, 2]]) {
    const domain = { name: "Traceability", version: "1", chainId, verifyingContract: contract };
    const receipts = batch(chainId, first, count);
    const structHashes = receipts.map((r) => TypedDataEncoder.hashStruct("Receipt", receiptType, r));
    const tree = StandardMerkleTree.of(structHashes.map((h) => [h]), ["bytes32"]);
    const message = { receiptsRoot: tree.root, receiptCount: count };
    const signature = await wallet.signTypedData(domain, receiptsType, message);
    // The check docs/consortium.md shows a member, on every receipt.
    structHashes.forEach((h, i) => {
      if (!StandardMerkleTree.verify(tree.root, ["bytes32"], [h], tree.getProof(i))) throw new Error(`receipt ${i} is not in its root`);
    });
    if (verifyTypedData(domain, receiptsType, message, signature) !== wallet.address) throw new Error("the signature does not recover");
    batches.push({
      chainId, contract,
      receipts: receipts.map((r, i) => ({ ...r, structHash: structHashes[i], proof: tree.getProof(i) })),
      receiptsRoot: tree.root,
      receiptCount: count,
      digest: TypedDataEncoder.hash(domain, receiptsType, message),
      signature,
    });
  }
  fs.writeFileSync(path.join(__dirname, "receipt-vectors.json"), JSON.stringify({
    producedBy: "node tests/Traceability.Chain.Tests/vectors/make-receipt-vectors.js",
    library: `ethers ${require("ethers").version}, @openzeppelin/merkle-tree ${merkleTreeVersion()}`,
    key, address: wallet.address,
    batches,
  }, null, 1) + "\n");
})();
