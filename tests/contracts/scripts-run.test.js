// scripts/run end to end, as a new user runs it: it installs what it needs, starts the devnet, deploys, starts the
// API, prints the URLs and the admin key; /health answers 200 and /api/v1/chain names a contract whose code is on
// the chain; the README's tour (curl: capture, anchor, proof) runs as written and its proof bundle verifies with
// @openzeppelin/merkle-tree against the root on the chain; Ctrl-C (SIGINT) stops everything it started. Temporary
// data folder and free ports.
const { expect } = require("chai");
const { spawn } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { ethers } = require("ethers");
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");
const { freePort, waitUntil, portOpen } = require("./support/processes");

const ROOT = path.resolve(__dirname, "..", "..");



describe("scripts/run", function () {
  this.timeout(600_000);
  let child;
  let output = "";
  let dataDir;
  let apiPort;
  let chainPort;

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "trace-run-"));
    apiPort = await freePort();
    chainPort = await freePort();
    child = spawn(path.join(ROOT, "scripts", "run"), [], {
      cwd: ROOT,
      env: { ...process.env, TRACE_PORT: String(apiPort), TRACE_CHAIN_PORT: String(chainPort), TRACE_DATA_DIR: dataDir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    await waitUntil(async () => output.includes("Ctrl-C stops") || child.exitCode !== null, 420_000, "scripts/run to be ready");
    if (child.exitCode !== null) throw new Error(`scripts/run exited ${child.exitCode}:\n${output}`);
  });

  after(async () => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
    // belt and braces: never leave a node behind
    spawn(path.join(ROOT, "chain-devnet", "down"), [], { env: { ...process.env, TRACE_DATA_DIR: dataDir } });
  });

  it("prints the URLs and the admin key kept in the data folder", () => {
    const adminKey = fs.readFileSync(path.join(dataDir, "admin-key"), "utf8").trim();
    expect(output).to.include(`http://127.0.0.1:${apiPort}/swagger`);
    expect(output).to.include(`Admin key  ${adminKey}`);
  });

  it("answers /health with 200 and names a contract whose code is on the chain", async () => {
    const health = await fetch(`http://127.0.0.1:${apiPort}/health`);
    expect(health.status).to.equal(200);
    expect((await health.json()).status).to.equal("healthy");
    const info = await (await fetch(`http://127.0.0.1:${apiPort}/api/v1/chain`)).json();
    expect(info.chainId).to.equal(31337);
    const provider = new ethers.JsonRpcProvider(info.rpcUrl);
    const code = await provider.getCode(info.contract);
    expect(code.length).to.be.greaterThan(2);
    provider.destroy();
  });

  it("runs the README's tour as written", async () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const block = readme.split("<!-- tour:begin -->")[1].split("<!-- tour:end -->")[0]
      .replace(/^```bash\n/m, "").replace(/^```\s*$/m, "");
    const script = block
      .replace("API=http://127.0.0.1:5080", `API=http://127.0.0.1:${apiPort}`)
      .replace("ADMIN=$(cat data/admin-key)", `ADMIN=$(cat ${path.join(dataDir, "admin-key")})`);
    expect(script).to.include(`127.0.0.1:${apiPort}`);
    const bundle = path.join(ROOT, "bundle.json");
    const result = await new Promise((resolve) => {
      const bash = spawn("bash", ["-c", `set -euo pipefail\n${script}`], {
        cwd: ROOT,
        env: { ...process.env, TRACE_CHAIN_RPC: `http://127.0.0.1:${chainPort}` },
      });
      let out = "";
      bash.stdout.on("data", (d) => (out += d));
      bash.stderr.on("data", (d) => (out += d));
      bash.on("close", (code) => resolve({ code, out }));
    });
    const proof = fs.existsSync(bundle) ? JSON.parse(fs.readFileSync(bundle, "utf8")) : null;
    fs.rmSync(bundle, { force: true });
    expect(result.code, result.out).to.equal(0);

    // the bundle the tour fetched with curl verifies with @openzeppelin/merkle-tree, against the root on the chain
    expect(proof, "bundle.json").to.not.equal(null);
    expect(StandardMerkleTree.verify(proof.root, proof.leaf.encoding, proof.leaf.value, proof.proof)).to.equal(true);
    const provider = new ethers.JsonRpcProvider(`http://127.0.0.1:${chainPort}`);
    const registry = new ethers.Contract(proof.anchor.contract,
      ["function getAnchor(uint256) view returns (bytes32, uint256, uint256, uint256, address)"], provider);
    const [root, first, last] = await registry.getAnchor(proof.anchor.sequence);
    provider.destroy();
    expect(root).to.equal(proof.root);
    expect(BigInt(proof.sequence) >= first && BigInt(proof.sequence) <= last).to.equal(true);
    expect(result.out).to.match(/"receipts":\[\{"eventId":"ni:\/\/\/sha-256;[0-9a-f]{64}\?ver=CBV2\.0"/);
    expect(result.out, result.out).to.match(/VERIFIED event 1 \(ni:/);
    expect(result.out).to.include('"verified": true');
    expect(result.out).to.include("L1,UHT milk 1 L,10614141073464,1,each,Initial Packing,commissioning");
    expect(result.out).to.include('"type": "recall"');
    expect(result.out).to.include('"status": "ok"');
  });

  it("refuses a second start on a port still in use, and leaves the first one running", async () => {
    const secondData = fs.mkdtempSync(path.join(os.tmpdir(), "trace-run-second-"));
    const second = spawn(path.join(ROOT, "scripts", "run"), [], {
      cwd: ROOT,
      env: { ...process.env, TRACE_PORT: String(apiPort), TRACE_CHAIN_PORT: String(await freePort()), TRACE_DATA_DIR: secondData },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let secondOutput = "";
    second.stdout.on("data", (d) => (secondOutput += d));
    second.stderr.on("data", (d) => (secondOutput += d));
    const code = await new Promise((resolve) => second.once("exit", (c) => resolve(c)));
    expect(code, secondOutput).to.equal(1);
    expect(secondOutput).to.include(`port ${apiPort} is already in use`);
    expect(secondOutput).not.to.include("Traceability is running");
    const health = await fetch(`http://127.0.0.1:${apiPort}/health`);
    expect(health.status).to.equal(200);
    fs.rmSync(secondData, { recursive: true, force: true });
  });

  it("stops the API and the devnet on Ctrl-C", async () => {
    child.kill("SIGINT");
    await waitUntil(async () => child.exitCode !== null || child.signalCode !== null, 60_000, "scripts/run to exit");
    await waitUntil(async () => !(await portOpen(apiPort)) && !(await portOpen(chainPort)), 30_000, "both ports to close");
    expect(output).to.include("stopped");
  });
});
