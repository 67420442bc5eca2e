#!/usr/bin/env node
// Usage: node chain-devnet/deploy.js --rpc URL --data-dir DIR   (normally run by chain-devnet/up)
//
// Makes sure that, on the chain at URL:
//   - the service's chain key exists (TRACE_CHAIN_KEY, or DIR/chain-key, generated once, mode 0600);
//   - AnchorRegistry is deployed: the record DIR/chain.json is reused when its contract has code on
//     this chain, its chainId matches and the chain's block at deployBlock still has deployBlockHash
//     (so a fresh chain that put code at the same address is not mistaken for the old one);
//     otherwise the contract is deployed again by the owner key (TRACE_CHAIN_OWNER_KEY, default
//     Hardhat's account #0);
//   - the service's address holds at least MIN_BALANCE (else the owner sends it FUNDING) and is an
//     authorised anchorer;
// then writes DIR/chain.json atomically. One line per step on stdout; errors on stderr, exit 1.
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const { ethers } = require("ethers");
const { chainId: probeChainId } = require("./probe");

const HARDHAT_ACCOUNT_0_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const ARTIFACT = path.join(__dirname, "..", "artifacts", "contracts", "AnchorRegistry.sol", "AnchorRegistry.json");
const MIN_BALANCE = ethers.parseEther("100");
const FUNDING = ethers.parseEther("1000");
const SECP256K1_N = BigInt("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");

const say = (line) => console.log(`chain-devnet: ${line}`);

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i += 2) {
    const [name, value] = [argv[i], argv[i + 1]];
    if (!["--rpc", "--data-dir"].includes(name) || value === undefined) {
      throw new Error(`usage: deploy.js --rpc URL --data-dir DIR (bad argument '${name}')`);
    }
    args[name.slice(2)] = value;
  }
  if (!args.rpc || !args["data-dir"]) throw new Error("usage: deploy.js --rpc URL --data-dir DIR");
  return { rpcUrl: args.rpc, dataDir: path.resolve(args["data-dir"]) };
}

function isValidPrivateKey(text) {
  if (!/^0x[0-9a-fA-F]{64}$/.test(text)) return false;
  const k = BigInt(text);
  return k > 0n && k < SECP256K1_N;
}

/** Writes `content` to `file` through a temporary file in the same folder and a rename. */
function writeAtomically(file, content, mode) {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, "w", mode);
  try {
    fs.writeFileSync(fd, content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/** The service's key: TRACE_CHAIN_KEY, or DIR/chain-key, created once from the OS's secure RNG. */
function serviceKey(dataDir) {
  const fromEnv = process.env.TRACE_CHAIN_KEY;
  if (fromEnv) {
    if (!isValidPrivateKey(fromEnv.trim())) throw new Error("TRACE_CHAIN_KEY is not a 0x-prefixed 32-byte secp256k1 private key");
    return { key: fromEnv.trim(), source: "TRACE_CHAIN_KEY" };
  }
  const file = path.join(dataDir, "chain-key");
  if (!fs.existsSync(file)) {
    let key;
    do key = `0x${crypto.randomBytes(32).toString("hex")}`;
    while (!isValidPrivateKey(key)); // out of range with probability ~2^-128
    // Create-if-absent without a window: write a private temp file, then link it into place
    // (link fails if another `up` created the key meanwhile; that key then wins).
    const tmp = `${file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, `${key}\n`, { mode: 0o600, flag: "wx" });
    try {
      fs.linkSync(tmp, file);
      say(`generated a new chain key in ${file} (mode 0600)`);
    } catch (e) {
      if (e.code !== "EEXIST") throw e;
    } finally {
      fs.unlinkSync(tmp);
    }
  }
  const key = fs.readFileSync(file, "utf8").trim();
  if (!isValidPrivateKey(key)) throw new Error(`${file} does not hold a 0x-prefixed 32-byte secp256k1 private key`);
  const mode = fs.statSync(file).mode & 0o777;
  if (mode !== 0o600) {
    fs.chmodSync(file, 0o600);
    say(`${file} had mode 0${mode.toString(8)}; set it to 0600`);
  }
  return { key, source: file };
}

function readRecord(file) {
  if (!fs.existsSync(file)) return { record: null, why: `no deployment record at ${file}` };
  try {
    return { record: JSON.parse(fs.readFileSync(file, "utf8")) };
  } catch (e) {
    return { record: null, why: `unreadable deployment record ${file} (${e.message})` };
  }
}

/** Returns null when `record` describes a deployment that exists on this chain, else the reason it does not. */
async function whyRecordIsStale(provider, chainId, record) {
  if (Number(record.chainId) !== chainId) return `the record is for chainId ${record.chainId}, this chain is ${chainId}`;
  if (!ethers.isAddress(record.contract)) return `the record's contract '${record.contract}' is not an address`;
  if ((await provider.getCode(record.contract)) === "0x") return `no code at ${record.contract} on this chain`;
  if (!Number.isSafeInteger(record.deployBlock)) return `the record's deployBlock '${record.deployBlock}' is not a block number`;
  const block = await provider.getBlock(record.deployBlock);
  if (!block) return `this chain has no block ${record.deployBlock} yet`;
  if (block.hash !== record.deployBlockHash) {
    return `block ${record.deployBlock} is ${block.hash} on this chain, the record says ${record.deployBlockHash}: a different chain`;
  }
  return null;
}

async function main() {
  const { rpcUrl, dataDir } = parseArgs(process.argv.slice(2));
  fs.mkdirSync(dataDir, { recursive: true });
  const recordFile = path.join(dataDir, "chain.json");

  const chainId = Number(await probeChainId(rpcUrl, 5000).catch((e) => {
    throw new Error(`the chain at ${rpcUrl} does not answer eth_chainId (${e.message})`);
  }));
  const provider = new ethers.JsonRpcProvider(rpcUrl, chainId, { staticNetwork: true, pollingInterval: 250 });
  try {
    const ownerKey = process.env.TRACE_CHAIN_OWNER_KEY || HARDHAT_ACCOUNT_0_KEY;
    const owner = new ethers.NonceManager(new ethers.Wallet(ownerKey, provider));
    const ownerAddress = await owner.getAddress();
    const { key, source } = serviceKey(dataDir);
    const anchorer = new ethers.Wallet(key).address;
    say(`service chain key from ${source}: anchorer ${anchorer}`);

    const artifact = JSON.parse(fs.readFileSync(ARTIFACT, "utf8"));
    const { record, why } = readRecord(recordFile);
    const stale = record ? await whyRecordIsStale(provider, chainId, record) : why;

    let deployment;
    if (!stale) {
      deployment = {
        contract: ethers.getAddress(record.contract),
        deployBlock: record.deployBlock,
        deployBlockHash: record.deployBlockHash,
        owner: record.owner,
        deployedAt: record.deployedAt,
      };
      say(`reusing AnchorRegistry at ${deployment.contract} (chainId ${chainId}, deployed in block ${record.deployBlock})`);
    } else {
      say(`deploying AnchorRegistry: ${stale}`);
      const factory = new ethers.ContractFactory(artifact.abi, artifact.bytecode, owner);
      const contract = await factory.deploy();
      const receipt = await contract.deploymentTransaction().wait();
      if (receipt.status !== 1) throw new Error(`the deployment transaction ${receipt.hash} failed`);
      const block = await provider.getBlock(receipt.blockNumber);
      deployment = {
        contract: await contract.getAddress(),
        deployBlock: receipt.blockNumber,
        deployBlockHash: block.hash,
        owner: ownerAddress,
        deployedAt: new Date().toISOString(),
      };
      say(`deployed AnchorRegistry at ${deployment.contract} in block ${receipt.blockNumber} (tx ${receipt.hash}, gas ${receipt.gasUsed})`);
    }

    const registry = new ethers.Contract(deployment.contract, artifact.abi, owner);

    const balance = await provider.getBalance(anchorer);
    if (anchorer === ownerAddress) {
      say(`anchorer is the owner account; balance ${ethers.formatEther(balance)} ETH`);
    } else if (balance < MIN_BALANCE) {
      const tx = await owner.sendTransaction({ to: anchorer, value: FUNDING });
      await tx.wait();
      say(`funded anchorer ${anchorer} with ${ethers.formatEther(FUNDING)} ETH (balance was ${ethers.formatEther(balance)} ETH)`);
    } else {
      say(`anchorer balance ${ethers.formatEther(balance)} ETH: no funding needed`);
    }

    if (await registry.isAnchorer(anchorer)) {
      say(`anchorer ${anchorer} is already authorised`);
    } else {
      const contractOwner = await registry.owner();
      if (contractOwner !== ownerAddress) {
        throw new Error(`cannot authorise ${anchorer}: AnchorRegistry at ${deployment.contract} is owned by ${contractOwner}, not by the owner key's ${ownerAddress}`);
      }
      const tx = await registry.setAnchorer(anchorer, true);
      await tx.wait();
      say(`authorised anchorer ${anchorer} (setAnchorer)`);
    }

    const out = {
      rpcUrl,
      chainId,
      contract: deployment.contract,
      deployBlock: deployment.deployBlock,
      deployBlockHash: deployment.deployBlockHash,
      owner: deployment.owner,
      anchorer,
      deployedAt: deployment.deployedAt,
    };
    writeAtomically(recordFile, `${JSON.stringify(out, null, 2)}\n`, 0o644);
    say(`wrote ${recordFile}`);
  } finally {
    provider.destroy();
  }
}

process.exitCode = 1; // unless main() completes: an await left pending must not look like success
main().then(
  () => {
    process.exitCode = 0;
  },
  (e) => {
    console.error(`chain-devnet: error: ${e.shortMessage ?? e.message}`);
    process.exit(1);
  },
);
