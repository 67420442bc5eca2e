#!/usr/bin/env node
// Known answers for MemberSignatures, made with ethers (what a member's wallet or script uses):
//
//   node tests/Traceability.Chain.Tests/vectors/make-signature-vectors.js
//
// Deterministic (RFC 6979 signatures): running it again leaves `git status` clean.
"use strict";
const fs = require("fs");
const path = require("path");
const { Wallet, TypedDataEncoder, encodeBytes32String, getAddress } = require("ethers");

const key = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"; // Hardhat's account #1
const wallet = new Wallet(key);
const contract = getAddress("0x5fbdb2315678afecb367f032d93f642f64180aa3");
const types = { EventsSigned: [{ name: "eventsRoot", type: "bytes32" }, { name: "eventCount", type: "uint256" }] };

(async () => {
  const eventsSigned = [];
  for (const [chainId, root, count] of [
    [31337, "0x" + "11".repeat(32), 1],
    [31337, "0x3ae7a1c0e6e2b1c4d0f5a7e9b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4", 1000],
    [1, "0x" + "ab".repeat(32), 7],
  ]) {
    const domain = { name: "Traceability", version: "1", chainId, verifyingContract: contract };
    const message = { eventsRoot: root, eventCount: count };
    eventsSigned.push({ chainId, contract, eventsRoot: root, eventCount: count,
      digest: TypedDataEncoder.hash(domain, types, message), signature: await wallet.signTypedData(domain, types, message) });
  }
  const memberId = "m_0123456789abcdef";
  const text = `Traceability: member ${memberId} uses address ${wallet.address}`;
  fs.writeFileSync(path.join(__dirname, "signature-vectors.json"), JSON.stringify({
    producedBy: "node tests/Traceability.Chain.Tests/vectors/make-signature-vectors.js",
    library: "ethers " + require("ethers").version,
    key, address: wallet.address,
    eventsSigned,
    addressClaim: { memberId, text, signature: await wallet.signMessage(text), memberIdBytes32: encodeBytes32String(memberId) },
  }, null, 1) + "\n");
})();
