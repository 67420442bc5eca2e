#!/usr/bin/env node
// Produces chain-vectors.json next to this file: known answers from ethers 6 and @openzeppelin/merkle-tree
// for the C# chain client's unit tests. Every vector says how it was produced ("producedBy").
// Run from the repository root after `npx hardhat compile`:
//   node tests/Traceability.Chain.Tests/vectors/make-vectors.js
// The output is deterministic (fixed keys and inputs, RFC 6979 signatures); commit it.
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
const pattern = (n, seed) => hex(Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));
const b32 = (label) => ethers.keccak256(ethers.toUtf8Bytes(label));
const str = (v) => (typeof v === "bigint" ? v.toString() : v);

// Keys: Hardhat's default accounts #0 and #1 (public, well known), small and large scalars, and a few fixed ones.
const keys = {
  hardhat0: "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  hardhat1: "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  one: "0x0000000000000000000000000000000000000000000000000000000000000001",
  nMinus1: "0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140",
  fixedA: b32("traceability test key A"),
  fixedB: b32("traceability test key B"),
};

// ---- keccak-256
const keccak = [
  ["empty", "0x"],
  ["abc", hex(ethers.toUtf8Bytes("abc"))],
  ["135 bytes (rate - 1)", pattern(135, 1)],
  ["136 bytes (one rate block)", pattern(136, 2)],
  ["300 bytes (three blocks)", pattern(300, 3)],
].map(([name, input]) => ({ name, producedBy: "ethers.keccak256(input)", input, expected: ethers.keccak256(input) }));

// ---- RLP
const rlpItems = [
  ["empty string", "0x"],
  ["single byte 0x00", "0x00"],
  ["single byte 0x7f (below 0x80: itself)", "0x7f"],
  ["single byte 0x80 (needs a prefix)", "0x80"],
  ["string 'dog'", hex(ethers.toUtf8Bytes("dog"))],
  ["55-byte string (longest short form)", pattern(55, 4)],
  ["56-byte string (first long form)", pattern(56, 5)],
  ["1024-byte string (two length bytes)", pattern(1024, 6)],
  ["empty list", []],
  ["list of two strings", ["0x636174", "0x646f67"]],
  ["nested lists (set-theoretic three)", [[], [[]], [[], [[]]]]],
  ["list with a 60-byte payload (long list form)", [pattern(30, 7), pattern(28, 8)]],
  ["mixed nesting", ["0x01", ["0x", "0x7f", ["0x80"]], pattern(56, 9)]],
].map(([name, input]) => ({ name, kind: "item", producedBy: "ethers.encodeRlp(input)", input, expected: ethers.encodeRlp(input) }));
const rlpIntegers = [0n, 1n, 127n, 128n, 255n, 256n, 1024n, 2n ** 64n, 2n ** 256n - 1n].map((n) => ({
  name: `integer ${n}`,
  kind: "integer",
  producedBy: "ethers.encodeRlp(ethers.toBeArray(input))",
  input: n.toString(),
  expected: ethers.encodeRlp(ethers.toBeArray(n)),
}));

// ---- addresses from keys, EIP-55
const addresses = Object.entries(keys).map(([name, privateKey]) => {
  const w = new ethers.Wallet(privateKey);
  return { name, producedBy: "new ethers.Wallet(privateKey).address / .signingKey.publicKey", privateKey, publicKey: w.signingKey.publicKey, expected: w.address };
});
const checksums = [
  "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
  "0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359",
  "0xdbf03b407c01e7cd3cbea99509d93f8dddc8c6fb",
  "0xd1220a0cf47c7b9be7a2e6ba89f429762e7b9adb",
  "0x0000000000000000000000000000000000000000",
  "0xffffffffffffffffffffffffffffffffffffffff",
].map((input) => ({ name: input, producedBy: "ethers.getAddress(input)", input, expected: ethers.getAddress(input) }));

// ---- raw digest signatures (RFC 6979, low s)
const signatures = [
  ["hardhat0", b32("digest 1")],
  ["hardhat0", b32("digest 2")],
  ["hardhat1", b32("digest 1")],
  ["fixedA", b32("digest 3")],
  ["fixedB", b32("digest 4")],
  ["one", b32("digest 5")],
  ["nMinus1", b32("digest 6")],
].map(([keyName, digest]) => {
  const sig = new ethers.SigningKey(keys[keyName]).sign(digest);
  return { name: `${keyName} signs ${digest.slice(0, 10)}`, producedBy: "new ethers.SigningKey(privateKey).sign(digest)", privateKey: keys[keyName], digest, r: sig.r, s: sig.s, yParity: sig.yParity };
});

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

// ---- signed EIP-1559 transactions
const contractAddress = ethers.getCreateAddress({ from: new ethers.Wallet(keys.hardhat0).address, nonce: 0 });
const txCases = [
  ["transfer on hardhat", "hardhat0", { chainId: 31337n, nonce: 0, maxPriorityFeePerGas: 1000000000n, maxFeePerGas: 3000000000n, gasLimit: 21000n, to: anchorerAddress, value: 10n ** 18n, data: "0x" }],
  ["anchor call", "hardhat1", { chainId: 31337n, nonce: 7, maxPriorityFeePerGas: 1000000000n, maxFeePerGas: 2875000000n, gasLimit: 120000n, to: contractAddress, value: 0n, data: iface.encodeFunctionData("anchor", [8n, someRoot, 101n, 200n]) }],
  ["setAnchorer call", "hardhat0", { chainId: 31337n, nonce: 1, maxPriorityFeePerGas: 1n, maxFeePerGas: 2n, gasLimit: 60000n, to: contractAddress, value: 0n, data: iface.encodeFunctionData("setAnchorer", [anchorerAddress, true]) }],
  ["contract creation (to null)", "hardhat0", { chainId: 31337n, nonce: 0, maxPriorityFeePerGas: 1000000000n, maxFeePerGas: 2000000000n, gasLimit: 500000n, to: null, value: 0n, data: "0x6080604052348015600e575f80fd5b50603e80601a5f395ff3fe60806040525f80fdfea164736f6c634300081c000a" }],
  ["all-zero fees and value", "fixedA", { chainId: 1n, nonce: 0, maxPriorityFeePerGas: 0n, maxFeePerGas: 0n, gasLimit: 21000n, to: anchorerAddress, value: 0n, data: "0x" }],
  ["large nonce, fees and value", "fixedB", { chainId: 11155111n, nonce: 1234567, maxPriorityFeePerGas: 2n ** 40n, maxFeePerGas: 2n ** 64n + 5n, gasLimit: 30000000n, to: "0xffffffffffffffffffffffffffffffffffffffff", value: 2n ** 255n, data: pattern(100, 10) }],
  ["key one, mainnet chain id", "one", { chainId: 1n, nonce: 127, maxPriorityFeePerGas: 128n, maxFeePerGas: 255n, gasLimit: 21000n, to: "0x0000000000000000000000000000000000000001", value: 1n, data: "0x00" }],
];
const transactions = txCases.map(([name, keyName, fields]) => {
  const tx = ethers.Transaction.from({ type: 2, accessList: [], ...fields });
  tx.signature = new ethers.SigningKey(keys[keyName]).sign(tx.unsignedHash);
  return {
    name,
    producedBy: "ethers.Transaction.from({type: 2, accessList: [], ...fields}); tx.signature = new ethers.SigningKey(privateKey).sign(tx.unsignedHash); tx.serialized",
    privateKey: keys[keyName],
    chainId: fields.chainId.toString(), nonce: fields.nonce, maxPriorityFeePerGas: fields.maxPriorityFeePerGas.toString(), maxFeePerGas: fields.maxFeePerGas.toString(),
    gasLimit: fields.gasLimit.toString(), to: fields.to, value: fields.value.toString(), data: fields.data,
    unsignedHash: tx.unsignedHash, hash: tx.hash, from: tx.from, expected: tx.serialized,
  };
});
const createAddresses = [0, 1, 127, 128, 70000].map((nonce) => ({
  name: `hardhat0 nonce ${nonce}`, producedBy: "ethers.getCreateAddress({from, nonce})", from: new ethers.Wallet(keys.hardhat0).address, nonce, expected: ethers.getCreateAddress({ from: new ethers.Wallet(keys.hardhat0).address, nonce }),
}));

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
  vectors: { keccak, rlp: [...rlpItems, ...rlpIntegers], addresses, checksums, createAddresses, signatures, calls, results, errors, events, transactions, merkle },
};
const outPath = path.join(__dirname, "chain-vectors.json");
fs.writeFileSync(outPath, JSON.stringify(output, null, 2) + "\n");
const total = Object.values(output.vectors).reduce((n, list) => n + list.length, 0);
console.log(`wrote ${path.relative(root, outPath)}: ${total} vectors`);
