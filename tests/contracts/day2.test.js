// The day-2 story on scripts/run, as a user lives it, on one temporary data folder and free ports:
//   day 1: capture, anchor, fetch a proof bundle, Ctrl-C;
//   day 2: scripts/run again: the anchors are still on the chain, scripts/verify passes on the bundle, the
//          self-audit is clean, and anchoring carries on (anchor 2);
//   a kill -9 of the devnet node: the next start loads the state saved within the last second;
//   the chain lost (the state file deleted, as every restart was with the old in-memory devnet): up deploys
//          afresh, /health answers 503 naming the lost anchors, the anchoring job refuses with the same reason,
//          the admin's POST /api/v1/anchors/reanchor writes them again, and the audit is clean, the bundles verify.
// Also: the data folder stays private (0700/0600) and api.log is appended to across the runs.
const { expect } = require("chai");
const { execFile } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { ethers } = require("ethers");
const { freePort, waitUntil, isAlive, scriptsEnv, startScriptsRun, ctrlC: stopScriptsRun, tearDownScriptsRun, callApi } = require("./support/processes");

const ROOT = path.resolve(__dirname, "..", "..");
const GTIN = "10614141073464";
const SGLN = "urn:epc:id:sgln:0614141.00777.0";

describe("day 2: scripts/run keeps the chain across restarts, and recovers a lost chain", function () {
  this.timeout(900_000);
  let dataDir, bundleDir, apiPort, chainPort, api, rpc, adminKey, makerKey;
  let run = null; // the running scripts/run: {child, output}
  const env = () => scriptsEnv({
    TRACE_PORT: String(apiPort), TRACE_CHAIN_PORT: String(chainPort), TRACE_DATA_DIR: dataDir,
    TRACE_AUDIT_SCHEDULE: "false", TRACE_ANCHOR_INTERVAL: "3600",
  });

  async function start() {
    run = await startScriptsRun(ROOT, env());
    adminKey = fs.readFileSync(path.join(dataDir, "admin-key"), "utf8").trim();
    return run.output;
  }

  async function ctrlC() {
    await stopScriptsRun(run, [apiPort, chainPort]);
    run = null;
  }

  const call = (method, url, key, body, headers) => callApi(api, method, url, key, body, headers);

  async function capture(serial) {
    const epc = `urn:epc:id:sgtin:0614141.107346.${serial}`;
    const doc = {
      "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
      type: "EPCISDocument", schemaVersion: "2.0", creationDate: "2026-11-01T08:00:00Z",
      epcisBody: { eventList: [{
        type: "ObjectEvent", action: "ADD", bizStep: "commissioning", disposition: "active",
        eventTime: "2026-11-01T08:00:00.000+08:00", eventTimeZoneOffset: "+08:00", epcList: [epc],
        readPoint: { id: SGLN }, bizLocation: { id: SGLN }, ilmd: { "cbvmda:lotNumber": "L1" },
      }] },
    };
    const r = await call("POST", "/api/v1/capture", makerKey, doc, { "Content-Type": "application/ld+json" });
    expect(r.status, r.text).to.be.oneOf([200, 201]);
    return r.json.receipts[0].sequence;
  }

  async function anchor() {
    const r = await call("POST", "/api/v1/anchors/run", adminKey);
    expect(r.status, r.text).to.equal(200);
    expect(r.json.status).to.equal("confirmed");
    return r.json;
  }

  async function bundle(sequence) {
    const r = await call("GET", `/api/v1/events/${sequence}/proof`, adminKey);
    expect(r.status, r.text).to.equal(200);
    const file = path.join(bundleDir, `bundle-${sequence}-${Date.now()}.json`);
    fs.writeFileSync(file, r.text);
    return file;
  }

  function verify(file) {
    return new Promise((resolve) => {
      execFile(path.join(ROOT, "scripts", "verify"), [file, "--rpc", rpc], { cwd: ROOT, env: env(), timeout: 240_000 },
        (error, stdout, stderr) => resolve({ code: error ? (error.code ?? 1) : 0, out: `${stdout}${stderr}` }));
    });
  }

  async function audit() {
    const r = await call("POST", "/api/v1/audit/run", adminKey);
    expect(r.status, r.text).to.equal(200);
    return r.json;
  }

  async function anchorCount() {
    const chain = (await call("GET", "/api/v1/chain")).json;
    const provider = new ethers.JsonRpcProvider(rpc, 31337, { staticNetwork: true });
    try {
      return await new ethers.Contract(chain.contract, ["function anchorCount() view returns (uint256)"], provider).anchorCount();
    } finally {
      provider.destroy();
    }
  }

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "trace-day2-"));
    bundleDir = fs.mkdtempSync(path.join(os.tmpdir(), "trace-day2-bundles-")); // the test's files, not the service's
    apiPort = await freePort();
    chainPort = await freePort();
    api = `http://127.0.0.1:${apiPort}`;
    rpc = `http://127.0.0.1:${chainPort}`;
  });

  after(async () => {
    await tearDownScriptsRun(ROOT, run, env());
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(bundleDir, { recursive: true, force: true });
  });

  let firstBundle;

  it("day 1: capture, anchor, a proof bundle that verifies, Ctrl-C", async () => {
    await start();
    makerKey = (await call("POST", "/api/v1/members", adminKey, { name: "Acme Dairy", role: "manufacturer", gln: "0614141000005" })).json.apiKey;
    expect((await call("POST", "/api/v1/products", makerKey, { gtin: GTIN, name: "UHT milk 1 L" })).status).to.equal(201);
    expect((await call("POST", "/api/v1/locations", makerKey, { id: SGLN, name: "Pudong plant", regionCode: "310115" })).status).to.equal(201);
    const sequence = await capture(1001);
    expect((await anchor()).sequence).to.equal(1);
    firstBundle = await bundle(sequence);
    const v = await verify(firstBundle);
    expect(v.code, v.out).to.equal(0);
    await ctrlC();
  });

  it("day 2: the anchors are still on the chain, the bundle verifies, the audit is clean, anchoring carries on", async () => {
    const output = await start();
    expect(output).to.match(/loading the chain state from .*chain-state\.json/);
    expect(output).to.match(/reusing AnchorRegistry/);
    const health = await call("GET", "/health");
    expect(health.status, health.text).to.equal(200);
    expect(await anchorCount()).to.equal(1n);
    const v = await verify(firstBundle);
    expect(v.code, v.out).to.equal(0);
    expect(v.out).to.match(/^VERIFIED event 1 /m);
    const a = await audit();
    expect(a.status, JSON.stringify(a)).to.equal("ok");
    await capture(1002);
    expect((await anchor()).sequence).to.equal(2);
  });

  it("a kill -9 of the devnet node loses at most the last second: the next start finds both anchors", async () => {
    await new Promise((r) => setTimeout(r, 2_000)); // the state is written every second
    const pid = Number(fs.readFileSync(path.join(dataDir, "anvil.pid"), "utf8").trim());
    process.kill(pid, "SIGKILL");
    await waitUntil(() => !isAlive(pid), 5_000, "anvil to die");
    await ctrlC();
    const output = await start();
    expect(output).to.match(/reusing AnchorRegistry/);
    expect(await anchorCount()).to.equal(2n);
    expect((await call("GET", "/health")).status).to.equal(200);
    const a = await audit();
    expect(a.status, JSON.stringify(a)).to.equal("ok");
    const v = await verify(await bundle(2));
    expect(v.code, v.out).to.equal(0);
  });

  it("a lost chain: /health and the anchoring job say so, the admin re-anchors, the audit is clean and the bundles verify", async () => {
    await ctrlC();
    for (const f of fs.readdirSync(dataDir).filter((f) => f.startsWith("chain-state.json"))) fs.rmSync(path.join(dataDir, f));
    const output = await start();
    expect(output).to.match(/deploying AnchorRegistry: /);
    expect(output).to.match(/the API is running but not healthy \(\/health answers 503\)/);
    expect(await anchorCount()).to.equal(0n);

    const health = await call("GET", "/health");
    expect(health.status, health.text).to.equal(503);
    expect(health.json.chain.detail).to.match(/holds 0 anchors, the ledger records anchors 1\.\.2 as confirmed .*POST \/api\/v1\/anchors\/reanchor/);
    await capture(1003);
    const job = await call("POST", "/api/v1/anchors/run", adminKey);
    expect(job.status, job.text).to.equal(503);
    expect(job.json.detail).to.equal(health.json.chain.detail);
    expect((await verify(firstBundle)).code).to.equal(1);

    const member = await call("POST", "/api/v1/anchors/reanchor", makerKey);
    expect(member.status).to.equal(403);
    const re = await call("POST", "/api/v1/anchors/reanchor", adminKey);
    expect(re.status, re.text).to.equal(200);
    expect(re.json.anchorsOnChainBefore).to.equal(0);
    expect(re.json.reanchored.map((a) => [a.sequence, a.firstEventSequence, a.lastEventSequence])).to.deep.equal([[1, 1, 1], [2, 2, 2]]);
    expect(await anchorCount()).to.equal(2n);
    const again = await call("POST", "/api/v1/anchors/reanchor", adminKey);
    expect(again.status, again.text).to.equal(409);
    expect(again.json.detail).to.match(/nothing to re-anchor/);

    expect((await call("GET", "/health")).status).to.equal(200);
    expect((await anchor()).sequence).to.equal(3); // anchoring carries on after the re-anchoring
    const alerts = await call("GET", "/api/v1/alerts?type=chain-reset", adminKey);
    expect(alerts.status, alerts.text).to.equal(200);
    expect(alerts.json.items.map((a) => a.detail.reanchored).filter(Boolean)).to.deep.equal([{ first: 1, last: 2 }]);
    expect(alerts.json.items.some((a) => /holds 0 anchors/.test(a.detail.problem ?? ""))).to.equal(true);

    const a = await audit();
    expect(a.status, JSON.stringify(a)).to.equal("ok");
    for (const file of [firstBundle, await bundle(1), await bundle(2), await bundle(3)]) {
      const v = await verify(file);
      expect(v.code, `${file}: ${v.out}`).to.equal(0);
    }
    expect(fs.readFileSync(path.join(dataDir, "api.log"), "utf8")).to.match(/Re-anchored anchors 1\.\.2/);
  });

  it("keeps the data folder private and appends api.log across the runs", async () => {
    await ctrlC();
    expect(fs.statSync(dataDir).mode & 0o777).to.equal(0o700);
    for (const f of fs.readdirSync(dataDir)) {
      expect(fs.statSync(path.join(dataDir, f)).mode & 0o077, f).to.equal(0);
    }
    const log = fs.readFileSync(path.join(dataDir, "api.log"), "utf8");
    expect(log.match(/^=== .* scripts\/run starts the API on /gm)).to.have.length(4);
  });
});
