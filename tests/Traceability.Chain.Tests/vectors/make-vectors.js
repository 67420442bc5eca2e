#!/usr/bin/env node
// Produces chain-vectors.json next to this file: known answers from ethers 6 and @openzeppelin/merkle-tree
// for the unit tests of the typed AnchorRegistry definition (Nethereum) and the address rule. Every vector says how
// it was produced ("producedBy").
// Run from the repository root after `npx hardhat compile`:
//   node tests/Traceability.Chain.Tests/vectors/make-vectors.js
// The output is deterministic (fixed keys and inputs); commit it.
"use strict";
const fs = require("fs");
const path = require("path");
const ethers = require("ethers");
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");

const root = path.resolve(__dirname, "../../..");
const artifactPath = path.join(root, "artifacts/contracts/AnchorRegistry.sol/AnchorRegistry.json");
const artifact = JSON.parse(fs.readFileSync(artifactPath, "utf8"));
const iface = new ethers.Interface(artifact.abi);

const hex = (bytes) => ethers.hexlify(bytes);
const b32 = (label) => ethers.keccak256(ethers.toUtf8Bytes(label));
const str = (v) => (typeof v === "bigint" ? v.toString() : v);

// Keys whose addresses the vectors use: Hardhat's default accounts #0 and #1 (public, well known) and a fixed one.
const keys = {
  hardhat0: "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  hardhat1: "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  fixedA: b32("traceability test key A"),
};

// ---- EIP-55 checksums
const checksums = [
  "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
  "0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359",
  "0xdbf03b407c01e7cd3cbea99509d93f8dddc8c6fb",
  "0xd1220a0cf47c7b9be7a2e6ba89f429762e7b9adb",
  "0x0000000000000000000000000000000000000000",
  "0xffffffffffffffffffffffffffffffffffffffff",
].map((input) => ({ name: input, producedBy: "ethers.getAddress(input)", input, expected: ethers.getAddress(input) }));

// ---- ABI: function calls, results, errors, events (from ethers.Interface over the compiled artifact)
const someRoot = b32("root");
const anchorerAddress = new ethers.Wallet(keys.hardhat1).address;
const calls = [
  ["anchor", [1n, someRoot, 1n, 10n]],
  ["anchor", [2n ** 64n, b32("other root"), 12345678901234567890n, 2n ** 256n - 1n]],
  ["getAnchor", [7n]],
  ["anchorCount", []],
  ["verify", [3n, b32("leaf"), []]],
  ["verify", [3n, b32("leaf"), [b32("p1")]]],
  ["verify", [1n, b32("leaf"), [b32("p1"), b32("p2"), b32("p3")]]],
  ["setAnchorer", [anchorerAddress, true]],
  ["setAnchorer", [anchorerAddress, false]],
  ["isAnchorer", [anchorerAddress]],
  ["owner", []],
].map(([fn, args]) => ({
  name: `${fn}(${args.map((a) => (Array.isArray(a) ? `[${a.length}]` : String(a).slice(0, 12))).join(",")})`,
  producedBy: "new ethers.Interface(artifact.abi).encodeFunctionData(function, args)",
  function: fn,
  signature: iface.getFunction(fn).format("sighash"),
  selector: iface.getFunction(fn).selector,
  args: args.map((a) => (Array.isArray(a) ? a.map(str) : str(a))),
  expected: iface.encodeFunctionData(fn, args),
}));
const results = [
  ["getAnchor", [someRoot, 1n, 10n, 1732233600n, anchorerAddress]],
  ["anchorCount", [42n]],
  ["verify", [true]],
  ["verify", [false]],
  ["isAnchorer", [true]],
  ["owner", [new ethers.Wallet(keys.hardhat0).address]],
].map(([fn, values]) => ({
  name: `${fn} returns ${values.map((v) => String(v).slice(0, 12)).join(",")}`,
  producedBy: "new ethers.Interface(artifact.abi).encodeFunctionResult(function, values)",
  function: fn,
  values: values.map(str),
  encoded: iface.encodeFunctionResult(fn, values),
}));
const errors = [
  ["NotOwner", [anchorerAddress]],
  ["NotAuthorised", [anchorerAddress]],
  ["UnexpectedAnchorSequence", [3n, 5n]],
  ["NonContiguousEvents", [11n, 13n]],
  ["InvalidEventRange", [20n, 19n]],
  ["ZeroRoot", []],
  ["UnknownAnchor", [99n]],
].map(([name, args]) => ({
  name,
  producedBy: "new ethers.Interface(artifact.abi).encodeErrorResult(name, args)",
  error: name,
  signature: iface.getError(name).format("sighash"),
  selector: iface.getError(name).selector,
  args: args.map(str),
  expected: iface.encodeErrorResult(name, args),
}));
const coder = ethers.AbiCoder.defaultAbiCoder();
const builtinError = (sig, types, args) => ethers.concat([ethers.id(sig).slice(0, 10), coder.encode(types, args)]);
errors.push(
  { name: "Error(string) short", producedBy: "ethers.id('Error(string)')[0..4] || AbiCoder.encode(['string'], args)", error: "Error", signature: "Error(string)", selector: ethers.id("Error(string)").slice(0, 10), args: ["not allowed"], expected: builtinError("Error(string)", ["string"], ["not allowed"]) },
  { name: "Error(string) long unicode", producedBy: "ethers.id('Error(string)')[0..4] || AbiCoder.encode(['string'], args)", error: "Error", signature: "Error(string)", selector: ethers.id("Error(string)").slice(0, 10), args: ["溯源 — a reason longer than thirty-two bytes, to need two words"], expected: builtinError("Error(string)", ["string"], ["溯源 — a reason longer than thirty-two bytes, to need two words"]) },
  { name: "Panic(uint256) overflow", producedBy: "ethers.id('Panic(uint256)')[0..4] || AbiCoder.encode(['uint256'], args)", error: "Panic", signature: "Panic(uint256)", selector: ethers.id("Panic(uint256)").slice(0, 10), args: ["17"], expected: builtinError("Panic(uint256)", ["uint256"], [17n]) },
);
const events = [
  ["Anchored", [3n, someRoot, 21n, 30n, anchorerAddress]],
  ["Anchored", [2n ** 70n, b32("x"), 1n, 2n ** 200n, new ethers.Wallet(keys.fixedA).address]],
  ["AnchorerChanged", [anchorerAddress, true]],
  ["AnchorerChanged", [anchorerAddress, false]],
].map(([name, args]) => {
  const log = iface.encodeEventLog(name, args);
  return { name: `${name}(${args.map((a) => String(a).slice(0, 12)).join(",")})`, producedBy: "new ethers.Interface(artifact.abi).encodeEventLog(event, args)", event: name, signature: iface.getEvent(name).format("sighash"), topic0: iface.getEvent(name).topicHash, args: args.map(str), topics: log.topics, data: log.data };
});

// ---- StandardMerkleTree over ["uint256","bytes32"] (for the live verify() test)
const merkleLeaves = [[1n, ethers.sha256(ethers.toUtf8Bytes("event 1"))], [2n, ethers.sha256(ethers.toUtf8Bytes("event 2"))], [3n, ethers.sha256(ethers.toUtf8Bytes("event 3"))]];
const merkle = [2, 3].map((count) => {
  const values = merkleLeaves.slice(0, count);
  const tree = StandardMerkleTree.of(values, ["uint256", "bytes32"]);
  return {
    name: `${count} leaves`,
    producedBy: "StandardMerkleTree.of(values, ['uint256','bytes32']); tree.root, tree.leafHash(value), tree.getProof(i)",
    encoding: ["uint256", "bytes32"],
    root: tree.root,
    leaves: values.map((v, i) => ({ value: [v[0].toString(), v[1]], leafHash: tree.leafHash(v), proof: tree.getProof(i) })),
  };
});

const output = {
  description: "Known answers for tests/Traceability.Chain.Tests, produced by make-vectors.js (see each vector's producedBy).",
  generator: "node tests/Traceability.Chain.Tests/vectors/make-vectors.js",
  ethers: ethers.version,
  merkleTree: require("@openzeppelin/merkle-tree/package.json").version,
  solc: require("solc/package.json").version,
  vectors: { checksums, calls, results, errors, events, merkle },
};
const outPath = path.join(__dirname, "chain-vectors.json");
fs.writeFileSync(outPath, JSON.stringify(output, null, 2) + "\n");
const total = Object.values(output.vectors).reduce((n, list) => n + list.length, 0);
console.log(`wrote ${path.relative(root, outPath)}: ${total} vectors`);
