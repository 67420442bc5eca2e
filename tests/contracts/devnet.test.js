// Tests of chain-devnet/up and chain-devnet/down against real nodes on free ports (the Anvil that up
// starts; a Hardhat node the test starts itself as "someone else's chain"), with temporary data
// folders. Every node started here (by up or by the test) is stopped in `after`.
const { expect } = require("chai");
const { execFile, spawn } = require("child_process");
const fs = require("fs");
const net = require("net");
const os = require("os");
const path = require("path");
const { ethers } = require("ethers");
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");
const hre = require("hardhat");
const { chainId: probeChainId } = require("../../chain-devnet/probe");
const { freePort, waitUntil } = require("./support/processes");

const ROOT = path.resolve(__dirname, "..", "..");
const UP = path.join(ROOT, "chain-devnet", "up");
const DOWN = path.join(ROOT, "chain-devnet", "down");
const HARDHAT = path.join(ROOT, "node_modules", ".bin", "hardhat");
const ACCOUNT_0_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const ACCOUNT_0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";


/** Runs a script; resolves {code, stdout, stderr} whatever the exit status. */
function run(script, env) {
  return new Promise((resolve) => {
    execFile(script, [], { cwd: os.tmpdir(), env, timeout: 90_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.code ?? 1) : 0, stdout, stderr, output: `${stdout}\n${stderr}` });
    });
  });
}

/** True while the process exists and is not a zombie. */
function isAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return true;
  }
}


const answers = (url) => probeChainId(url, 1000).then(() => true, () => false);

describe("chain-devnet/up and down", function () {
  this.timeout(90_000);

  const tmpDirs = [];
  const knownPids = new Set(); // every node pid seen, stopped in `after`
  let port;
  let rpcUrl;
  let dataDir;
  let baseEnv;
  let artifact;

  function tmpDir() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "trace-devnet-test-"));
    tmpDirs.push(dir);
    return dir;
  }

  function pidFromFile(dir) {
    const file = path.join(dir, "anvil.pid");
    if (!fs.existsSync(file)) return null;
    const pid = Number(fs.readFileSync(file, "utf8").trim());
    knownPids.add(pid);
    return pid;
  }

  const record = (dir = dataDir) => JSON.parse(fs.readFileSync(path.join(dir, "chain.json"), "utf8"));

  async function up(env = {}) {
    const result = await run(UP, { ...baseEnv, TRACE_CHAIN_PORT: String(port), TRACE_DATA_DIR: dataDir, ...env });
    pidFromFile(env.TRACE_DATA_DIR ?? dataDir);
    return result;
  }

  /** Starts a Hardhat node as the test's own child, as someone else would; returns its process. */
  async function startOwnNode(onPort) {
    const log = fs.openSync(path.join(tmpDir(), "own-node.log"), "w");
    const child = spawn(HARDHAT, ["node", "--hostname", "127.0.0.1", "--port", String(onPort)], {
      cwd: ROOT,
      env: baseEnv,
      stdio: ["ignore", log, log],
    });
    fs.closeSync(log);
    knownPids.add(child.pid);
    await waitUntil(() => answers(`http://127.0.0.1:${onPort}`), 60_000, `the test's node on port ${onPort}`);
    return child;
  }

  async function stop(pid) {
    if (!isAlive(pid)) return;
    process.kill(pid, "SIGTERM");
    try {
      await waitUntil(() => !isAlive(pid), 10_000, `pid ${pid} to exit`);
    } catch {
      process.kill(pid, "SIGKILL");
      await waitUntil(() => !isAlive(pid), 5_000, `pid ${pid} to die`);
    }
  }

  before(async function () {
    baseEnv = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith("TRACE_") && !k.startsWith("HARDHAT_")),
    );
    await hre.run("compile", { quiet: true });
    artifact = await hre.artifacts.readArtifact("AnchorRegistry");
    port = await freePort();
    rpcUrl = `http://127.0.0.1:${port}`;
    dataDir = tmpDir();
  });

  after(async function () {
    for (const dir of tmpDirs) pidFromFile(dir);
    for (const pid of knownPids) await stop(pid);
    for (const pid of knownPids) expect(isAlive(pid), `node pid ${pid} left running`).to.equal(false);
    for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Anvil's anchorCount on the recorded contract. */
  async function anchorCount(r = record()) {
    const provider = new ethers.JsonRpcProvider(rpcUrl, 31337, { staticNetwork: true });
    try {
      return await new ethers.Contract(r.contract, artifact.abi, provider).anchorCount();
    } finally {
      provider.destroy();
    }
  }

  it("starts a node, creates the chain key, deploys, funds and authorises, and writes chain.json", async function () {
    const result = await up();
    expect(result.code, result.output).to.equal(0);
    expect(result.stdout).to.match(/starting anvil on 127\.0\.0\.1:\d+ \(state .*chain-state\.json/);
    expect(result.stdout).to.match(/deployed AnchorRegistry at 0x[0-9a-fA-F]{40}/);

    const pid = pidFromFile(dataDir);
    expect(pid, "pid file").to.be.a("number");
    expect(isAlive(pid)).to.equal(true);
    expect(fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")).to.include.members(
      ["--port", String(port), "--state", path.join(dataDir, "chain-state.json"), "--state-interval", "1"]);
    expect(fs.statSync(path.join(dataDir, "anvil.log")).size).to.be.greaterThan(0);

    const keyFile = path.join(dataDir, "chain-key");
    expect(fs.statSync(keyFile).mode & 0o777).to.equal(0o600);
    const key = fs.readFileSync(keyFile, "utf8").trim();
    expect(key).to.match(/^0x[0-9a-f]{64}$/);
    const service = new ethers.Wallet(key);

    const r = record();
    expect(Object.keys(r)).to.have.members([
      "rpcUrl", "chainId", "contract", "deployBlock", "deployBlockHash", "owner", "anchorer", "deployedAt",
    ]);
    expect(r.rpcUrl).to.equal(rpcUrl);
    expect(r.chainId).to.equal(31337);
    expect(r.owner).to.equal(ACCOUNT_0);
    expect(r.anchorer).to.equal(service.address);
    expect(Number.isNaN(Date.parse(r.deployedAt))).to.equal(false);
    expect(fs.readdirSync(dataDir).filter((f) => f.includes(".tmp"))).to.deep.equal([]);

    const provider = new ethers.JsonRpcProvider(rpcUrl, 31337, { staticNetwork: true });
    try {
      expect(await provider.getCode(r.contract)).to.not.equal("0x");
      expect((await provider.getBlock(r.deployBlock)).hash).to.equal(r.deployBlockHash);
      expect(await provider.getBalance(service.address)).to.be.gte(ethers.parseEther("1000"));
      // the service's key can anchor with what up set up
      const registry = new ethers.Contract(r.contract, artifact.abi, service.connect(provider));
      expect(await registry.owner()).to.equal(ACCOUNT_0);
      expect(await registry.isAnchorer(service.address)).to.equal(true);
      const tree = StandardMerkleTree.of([["1", ethers.sha256("0x01")]], ["uint256", "bytes32"]);
      await (await registry.anchor(1, tree.root, 1, 1)).wait();
      expect(await registry.anchorCount()).to.equal(1n);
    } finally {
      provider.destroy();
    }
  });

  it("reuses the node and the deployment on a second run, sending no transaction", async function () {
    const before = record();
    const pidBefore = pidFromFile(dataDir);
    const provider = new ethers.JsonRpcProvider(rpcUrl, 31337, { staticNetwork: true });
    try {
      const blockBefore = await provider.getBlockNumber();
      const result = await up();
      expect(result.code, result.output).to.equal(0);
      expect(result.stdout).to.match(/already answers/);
      expect(result.stdout).to.match(/reusing AnchorRegistry/);
      expect(result.stdout).to.not.match(/deployed AnchorRegistry|funded|authorised anchorer 0x/);
      expect(record()).to.deep.equal(before);
      expect(pidFromFile(dataDir)).to.equal(pidBefore);
      expect(await provider.getBlockNumber()).to.equal(blockBefore);
      const registry = new ethers.Contract(before.contract, artifact.abi, provider);
      expect(await registry.anchorCount()).to.equal(1n);
    } finally {
      provider.destroy();
    }
  });

  it("down stops the node it started and removes the pid file", async function () {
    const pid = pidFromFile(dataDir);
    const result = await run(DOWN, { ...baseEnv, TRACE_DATA_DIR: dataDir });
    expect(result.code, result.output).to.equal(0);
    expect(result.stdout).to.match(new RegExp(`stopped the anvil node \\(pid ${pid}\\)`));
    expect(isAlive(pid)).to.equal(false);
    expect(fs.existsSync(path.join(dataDir, "anvil.pid"))).to.equal(false);
    expect(await answers(rpcUrl)).to.equal(false);
    const again = await run(DOWN, { ...baseEnv, TRACE_DATA_DIR: dataDir });
    expect(again.code, again.output).to.equal(0);
    expect(again.stdout).to.match(/no node started/);
  });

  it("up after down loads the saved chain: the same deployment, its anchor still there, no transaction sent", async function () {
    const before = record();
    const result = await up();
    expect(result.code, result.output).to.equal(0);
    expect(result.stdout).to.match(/loading the chain state from .*chain-state\.json/);
    expect(result.stdout).to.match(/reusing AnchorRegistry/);
    expect(result.stdout).to.not.match(/deploying AnchorRegistry|funded|authorised anchorer 0x/);
    expect(record()).to.deep.equal(before);
    expect(await anchorCount()).to.equal(1n);
  });

  it("after a kill -9 of anvil, up loads the state saved within the last second", async function () {
    const before = record();
    const provider = new ethers.JsonRpcProvider(rpcUrl, 31337, { staticNetwork: true });
    try {
      const service = new ethers.Wallet(fs.readFileSync(path.join(dataDir, "chain-key"), "utf8").trim(), provider);
      const registry = new ethers.Contract(before.contract, artifact.abi, service);
      const tree = StandardMerkleTree.of([["2", ethers.sha256("0x02")]], ["uint256", "bytes32"]);
      await (await registry.anchor(2, tree.root, 2, 2)).wait();
    } finally {
      provider.destroy();
    }
    await new Promise((r) => setTimeout(r, 2_000)); // the state is written every second
    const pid = pidFromFile(dataDir);
    process.kill(pid, "SIGKILL");
    await waitUntil(() => !isAlive(pid), 5_000, `anvil pid ${pid} to die`);

    const result = await up();
    expect(result.code, result.output).to.equal(0);
    expect(result.stdout).to.match(/removing the stale pid file/);
    expect(result.stdout).to.match(/reusing AnchorRegistry/);
    expect(record()).to.deep.equal(before);
    expect(await anchorCount()).to.equal(2n);
  });

  it("a damaged state file (a kill -9 during the rewrite) is moved aside and the last good copy is loaded", async function () {
    const before = record();
    expect((await run(DOWN, { ...baseEnv, TRACE_DATA_DIR: dataDir })).code).to.equal(0);
    const state = path.join(dataDir, "chain-state.json");
    fs.writeFileSync(state, fs.readFileSync(state, "utf8").slice(0, 100));
    const result = await up();
    expect(result.code, result.output).to.equal(0);
    expect(result.stdout).to.match(/chain-state\.json did not parse \(moved to .*chain-state\.json\.damaged-\d{8}T\d{6}Z\); starting from the last good copy/);
    expect(result.stdout).to.match(/reusing AnchorRegistry/);
    expect(record()).to.deep.equal(before);
    expect(await anchorCount()).to.equal(2n); // the copy up kept when it loaded the state after the kill -9
    expect(fs.readdirSync(dataDir).filter((f) => f.includes(".damaged-"))).to.have.length(1);
    expect((await run(DOWN, { ...baseEnv, TRACE_DATA_DIR: dataDir })).code).to.equal(0);
  });

  it("keeps the data folder private (0700, files 0600) and appends to anvil.log across runs", async function () {
    expect(fs.statSync(dataDir).mode & 0o777).to.equal(0o700);
    for (const f of fs.readdirSync(dataDir)) {
      expect(fs.statSync(path.join(dataDir, f)).mode & 0o077, f).to.equal(0);
    }
    const log = fs.readFileSync(path.join(dataDir, "anvil.log"), "utf8");
    expect(log.match(/^=== .* chain-devnet\/up starts anvil on port \d+$/gm)).to.have.length(4); // first, after down, after kill -9, damaged

    // a folder made before, readable by others: up makes it private
    const dir = tmpDir();
    fs.chmodSync(dir, 0o755);
    fs.writeFileSync(path.join(dir, "old.log"), "x", { mode: 0o644 });
    fs.chmodSync(path.join(dir, "old.log"), 0o644);
    const result = await up({ TRACE_DATA_DIR: dir, TRACE_CHAIN_RPC: "http://127.0.0.1:1", TRACE_CHAIN_WAIT_SECONDS: "0" });
    expect(result.code).to.not.equal(0); // no chain there; the folder is made private first
    expect(fs.statSync(dir).mode & 0o777).to.equal(0o700);
    expect(fs.statSync(path.join(dir, "old.log")).mode & 0o777).to.equal(0o600);
  });

  it("down leaves alone a process that is not an anvil node (a reused pid) and drops the stale pid file", async function () {
    const dir = tmpDir();
    const sleeper = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      fs.writeFileSync(path.join(dir, "anvil.pid"), `${sleeper.pid}\n`);
      const result = await run(DOWN, { ...baseEnv, TRACE_DATA_DIR: dir });
      expect(result.code, result.output).to.equal(0);
      expect(result.stdout).to.match(/not an anvil node/);
      expect(isAlive(sleeper.pid)).to.equal(true);
      expect(fs.existsSync(path.join(dir, "anvil.pid"))).to.equal(false);
    } finally {
      sleeper.kill("SIGKILL");
    }
  });

  it("redeploys on a fresh node on the same port, even when code sits at the recorded address", async function () {
    const old = record();
    const own = await startOwnNode(port);
    const provider = new ethers.JsonRpcProvider(rpcUrl, 31337, { staticNetwork: true });
    try {
      // account #0's first deployment on a fresh chain lands at the recorded address: only the
      // deploy block's hash tells the chains apart
      const decoy = await new ethers.ContractFactory(artifact.abi, artifact.bytecode, new ethers.Wallet(ACCOUNT_0_KEY, provider)).deploy();
      await decoy.waitForDeployment();
      expect(await decoy.getAddress()).to.equal(old.contract);
      expect((await provider.getBlock(old.deployBlock)).hash).to.not.equal(old.deployBlockHash);

      const result = await up();
      expect(result.code, result.output).to.equal(0);
      expect(result.stdout).to.match(/already answers/);
      expect(result.stdout).to.match(/deploying AnchorRegistry: block 1 is 0x[0-9a-f]+ on this chain.*a different chain/);
      expect(fs.existsSync(path.join(dataDir, "anvil.pid")), "up started no node, so wrote no pid file").to.equal(false);

      const r = record();
      expect(r.contract).to.not.equal(old.contract);
      expect(r.deployBlockHash).to.not.equal(old.deployBlockHash);
      expect(r.anchorer).to.equal(old.anchorer); // same key file
      expect((await provider.getBlock(r.deployBlock)).hash).to.equal(r.deployBlockHash);
      expect(await provider.getCode(r.contract)).to.not.equal("0x");
      const registry = new ethers.Contract(r.contract, artifact.abi, provider);
      expect(await registry.isAnchorer(r.anchorer)).to.equal(true);
      expect(await registry.anchorCount()).to.equal(0n);
    } finally {
      provider.destroy();
      await stop(own.pid);
    }
  });

  it("redeploys when up starts anvil without the saved state (the chain is lost)", async function () {
    for (const f of fs.readdirSync(dataDir).filter((f) => f.startsWith("chain-state.json"))) fs.rmSync(path.join(dataDir, f));
    const old = record();
    const result = await up();
    expect(result.code, result.output).to.equal(0);
    expect(result.stdout).to.match(/no .*chain-state\.json yet: a new chain/);
    expect(result.stdout).to.match(/deploying AnchorRegistry: /);
    const r = record();
    expect(r.deployBlockHash).to.not.equal(old.deployBlockHash);
    expect(r.deployedAt).to.not.equal(old.deployedAt);
    const pid = pidFromFile(dataDir);
    expect(isAlive(pid)).to.equal(true);
    const down = await run(DOWN, { ...baseEnv, TRACE_DATA_DIR: dataDir });
    expect(down.code, down.output).to.equal(0);
    expect(isAlive(pid)).to.equal(false);
  });

  it("uses TRACE_CHAIN_RPC and TRACE_CHAIN_KEY without starting a node or writing a key file", async function () {
    const otherPort = await freePort();
    const own = await startOwnNode(otherPort);
    try {
      const dir = tmpDir();
      const key = ethers.Wallet.createRandom().privateKey;
      const url = `http://127.0.0.1:${otherPort}`;
      const result = await up({ TRACE_DATA_DIR: dir, TRACE_CHAIN_RPC: url, TRACE_CHAIN_KEY: key });
      expect(result.code, result.output).to.equal(0);
      expect(result.stdout).to.match(/TRACE_CHAIN_RPC/);
      expect(fs.readdirSync(dir).sort()).to.deep.equal(["chain.json"]);
      const r = record(dir);
      expect(r.rpcUrl).to.equal(url);
      expect(r.anchorer).to.equal(new ethers.Wallet(key).address);
      expect(await answers(rpcUrl), "nothing started on TRACE_CHAIN_PORT").to.equal(false);
    } finally {
      await stop(own.pid);
    }
  });

  it("fails clearly, and leaves no node, when the chain does not answer or the port is taken", async function () {
    const closedPort = await freePort();
    const dir = tmpDir();
    const noChain = await up({ TRACE_DATA_DIR: dir, TRACE_CHAIN_RPC: `http://127.0.0.1:${closedPort}`, TRACE_CHAIN_WAIT_SECONDS: "1" });
    expect(noChain.code).to.not.equal(0);
    expect(noChain.stderr).to.match(/did not answer eth_chainId within 1 s/);

    // a port held by something that is not a JSON-RPC server: the node cannot listen and exits
    const blocker = net.createServer((socket) => socket.destroy());
    await new Promise((resolve) => blocker.listen(closedPort, "127.0.0.1", resolve));
    try {
      const taken = await up({ TRACE_DATA_DIR: dir, TRACE_CHAIN_PORT: String(closedPort) });
      expect(taken.code).to.not.equal(0);
      expect(taken.stderr).to.match(/exited before answering/);
      expect(taken.stderr).to.match(/Address already in use/);
      const pid = Number(/anvil \(pid (\d+)\) exited/.exec(taken.stderr)[1]);
      knownPids.add(pid);
      expect(isAlive(pid)).to.equal(false);
      expect(fs.existsSync(path.join(dir, "anvil.pid"))).to.equal(false);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
