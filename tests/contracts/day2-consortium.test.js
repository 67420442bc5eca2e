// The day-2 story with the consortium features, on scripts/run, one temporary data folder and free ports:
//   day 1: a member registers two signing addresses (EIP-191 claims, signed with ethers) and revokes one; captures a
//          document signed with Trace-Signature (scripts/sign) and keeps the answer (its signed receipts); the admin names
//          two witnesses and threshold 2; the anchor is written and both witnesses (scripts/verify witness --once) cosign
//          it; Ctrl-C.
//   day 2 (after Ctrl-C), and again after a kill -9 of the API and of the Anvil binary: the address is still active
//          (a new signed capture is accepted; the same document signed, with ethers, by the revoked address is refused),
//          the day-1 bundle verifies with --require-signature --min-witnesses 2, the day-1 receipt is kept (--receipt),
//          a new anchor is cosigned by the witnesses again, /health answers 200 and the self-audit is clean.
const { expect } = require("chai");
const { execFile } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { ethers } = require("ethers");
const { freePort, waitUntil, portOpen, isAlive, scriptsEnv, startScriptsRun, ctrlC: stopScriptsRun, tearDownScriptsRun, callApi } = require("./support/processes");

const ROOT = path.resolve(__dirname, "..", "..");
const GTIN = "10614141073464";
const SGLN = "urn:epc:id:sgln:0614141.00777.0";
// Anvil's (and Hardhat's) funded test accounts: the witnesses pay for their cosignatures.
const MNEMONIC = "test test test test test test test test test test test junk";
const account = (i) => ethers.HDNodeWallet.fromPhrase(MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`);

describe("day 2 with the consortium: signing addresses, signed receipts and witnesses survive a stop and a kill -9", function () {
  this.timeout(900_000);
  let dataDir, fileDir, apiPort, chainPort, api, rpc, adminKey, makerKey, makerId, chain;
  let run = null; // the running scripts/run: {child, output}
  const signer = ethers.Wallet.createRandom(); // the member's signing key: it signs, it pays nothing
  const revoked = ethers.Wallet.createRandom(); // an address of the member revoked on day 1
  const witnesses = [account(3), account(4)];
  let serial = 2000;
  let firstBundle, firstReceipt;
  const env = () => scriptsEnv({
    TRACE_PORT: String(apiPort), TRACE_CHAIN_PORT: String(chainPort), TRACE_DATA_DIR: dataDir,
    TRACE_AUDIT_SCHEDULE: "false", TRACE_ANCHOR_INTERVAL: "3600",
  });

  async function start() {
    run = await startScriptsRun(ROOT, env());
    adminKey = fs.readFileSync(path.join(dataDir, "admin-key"), "utf8").trim();
    chain = (await call("GET", "/api/v1/chain")).json;
    return run.output;
  }

  async function ctrlC() {
    await stopScriptsRun(run, [apiPort, chainPort]);
    run = null;
  }

  /** The API's process (dotnet Traceability.Api.dll on this test's port), found by its command line. */
  function apiPid() {
    for (const entry of fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
      let args;
      try { args = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0"); } catch { continue; }
      if (args.some((a) => a.endsWith("Traceability.Api.dll")) && args.includes(`http://127.0.0.1:${apiPort}`)) return Number(entry);
    }
    return null;
  }

  const call = (method, url, key, body, headers) => callApi(api, method, url, key, body, headers);

  function script(name, args) {
    return new Promise((resolve) => {
      execFile(path.join(ROOT, "scripts", name), args, { cwd: ROOT, env: env(), timeout: 240_000 },
        (error, stdout, stderr) => resolve({ code: error ? (error.code ?? 1) : 0, out: `${stdout}${stderr}` }));
    });
  }

  function document(count) {
    const eventList = [];
    for (let i = 0; i < count; i++) {
      eventList.push({
        type: "ObjectEvent", action: "ADD", bizStep: "commissioning", disposition: "active",
        eventTime: "2026-11-01T08:00:00.000+08:00", eventTimeZoneOffset: "+08:00", epcList: [`urn:epc:id:sgtin:0614141.107346.${serial++}`],
        readPoint: { id: SGLN }, bizLocation: { id: SGLN }, ilmd: { "cbvmda:lotNumber": "L1" },
      });
    }
    const file = path.join(fileDir, `doc-${serial}.json`);
    fs.writeFileSync(file, JSON.stringify({
      "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
      type: "EPCISDocument", schemaVersion: "2.0", creationDate: "2026-11-01T08:00:00Z", epcisBody: { eventList },
    }));
    return file;
  }

  /** A new document, signed by the member's key with scripts/sign (--json: the signature, and the root it signed). */
  async function signedDocument(events = 1) {
    const file = document(events);
    const sign = await script("sign", [file, "--key", signer.privateKey, "--api", api, "--json"]);
    expect(sign.code, sign.out).to.equal(0);
    return { file, signed: JSON.parse(sign.out) };
  }

  /** The same EventsSigned signature made with ethers (the README's way), by another key. */
  function ethersSignature(wallet, signed) {
    return wallet.signTypedData({ name: "Traceability", version: "1", chainId: signed.chainId, verifyingContract: signed.contract },
      { EventsSigned: [{ name: "eventsRoot", type: "bytes32" }, { name: "eventCount", type: "uint256" }] },
      { eventsRoot: signed.eventsRoot, eventCount: signed.eventCount });
  }

  function capture(file, signature) {
    return call("POST", "/api/v1/capture", makerKey, fs.readFileSync(file, "utf8"),
      { "Content-Type": "application/ld+json", "Trace-Signature": signature });
  }

  async function addAddress(wallet) {
    const signature = await wallet.signMessage(`Traceability: member ${makerId} uses address ${wallet.address}`);
    return call("POST", `/api/v1/members/${makerId}/addresses`, makerKey, { address: wallet.address, signature });
  }

  async function anchor() {
    const r = await call("POST", "/api/v1/anchors/run", adminKey);
    expect(r.status, r.text).to.equal(200);
    expect(r.json.status).to.equal("confirmed");
    return r.json.sequence;
  }

  /** Both witnesses, one pass each (one after the other: scripts/verify builds the verifier first). */
  async function witness() {
    const runs = [];
    for (const w of witnesses) {
      const r = await script("verify", ["witness", "--api", api, "--api-key", makerKey, "--rpc", rpc, "--key", w.privateKey, "--once"]);
      expect(r.code, r.out).to.equal(0);
      runs.push(r);
    }
    return runs;
  }

  async function bundle(sequence) {
    const r = await call("GET", `/api/v1/events/${sequence}/proof`, adminKey);
    expect(r.status, r.text).to.equal(200);
    const file = path.join(fileDir, `bundle-${sequence}-${Date.now()}.json`);
    fs.writeFileSync(file, r.text);
    return file;
  }

  async function verifyStrict(file, ...more) {
    const v = await script("verify", [file, "--rpc", rpc, "--require-signature", "--min-witnesses", "2", ...more]);
    expect(v.code, `${file}: ${v.out}`).to.equal(0);
    // exit 0 with --require-signature: the signature held (in the signed tree, recovering to an address the chain says was the member's)
    expect(v.out, v.out).to.match(/WITNESSED: anchor \d+ is cosigned by 2 of 2 witnesses .*threshold 2, final/);
    return v.out;
  }

  async function healthyAndAudited() {
    const health = await call("GET", "/health");
    expect(health.status, health.text).to.equal(200);
    const audit = await call("POST", "/api/v1/audit/run", adminKey);
    expect(audit.status, audit.text).to.equal(200);
    expect(audit.json.status, audit.text).to.equal("ok");
  }

  /** What must hold on every day after the first: see the top of the file. */
  async function theNextDay() {
    const addresses = await call("GET", `/api/v1/members/${makerId}/addresses`, makerKey);
    expect(addresses.status, addresses.text).to.equal(200);
    const state = Object.fromEntries(addresses.json.items.map((a) => [a.address, a.active]));
    expect(state).to.deep.equal({ [signer.address]: true, [revoked.address]: false });

    const { file, signed } = await signedDocument();
    const refused = await capture(file, await ethersSignature(revoked, signed));
    expect(refused.status, refused.text).to.equal(422);
    expect(refused.text).to.include("signature-not-member");

    const accepted = await capture(file, signed.signature); // the same document, now signed by the active address
    expect(accepted.status, accepted.text).to.equal(201);
    const sequence = accepted.json.receipts[0].sequence;
    const receiptFile = path.join(fileDir, `receipt-${sequence}.json`);
    fs.writeFileSync(receiptFile, accepted.text);

    const old = await verifyStrict(firstBundle, "--receipt", firstReceipt);
    expect(old).to.match(/RECEIPT KEPT: event 1 was promised by 0x/);

    const anchorSequence = await anchor();
    const cosigned = await witness();
    for (const r of cosigned) expect(r.out).to.include(`COSIGNED anchor ${anchorSequence} `);
    const a = await call("GET", `/api/v1/anchors/${anchorSequence}`, adminKey);
    expect(a.status, a.text).to.equal(200);
    expect(a.json.witnesses).to.include({ threshold: 2, witnesses: 2, final: true });
    expect(await verifyStrict(await bundle(sequence), "--receipt", receiptFile)).to.match(/RECEIPT KEPT/);
    await healthyAndAudited();
  }

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "trace-day2c-"));
    fileDir = fs.mkdtempSync(path.join(os.tmpdir(), "trace-day2c-files-")); // the test's files, not the service's
    apiPort = await freePort();
    chainPort = await freePort();
    api = `http://127.0.0.1:${apiPort}`;
    rpc = `http://127.0.0.1:${chainPort}`;
  });

  after(async () => {
    const pid = apiPid(); // an API left by the kill -9 test
    if (pid) process.kill(pid, "SIGKILL");
    await tearDownScriptsRun(ROOT, run, env());
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(fileDir, { recursive: true, force: true });
  });

  it("day 1: a signing address, a signed capture with its receipt, two witnesses of threshold 2 cosign the anchor; Ctrl-C", async () => {
    await start();
    const maker = await call("POST", "/api/v1/members", adminKey, { name: "Acme Dairy", role: "manufacturer", gln: "0614141000005" });
    expect(maker.status, maker.text).to.equal(201);
    ({ apiKey: makerKey, id: makerId } = maker.json);
    expect((await call("POST", "/api/v1/products", makerKey, { gtin: GTIN, name: "UHT milk 1 L" })).status).to.equal(201);
    expect((await call("POST", "/api/v1/locations", makerKey, { id: SGLN, name: "Pudong plant", regionCode: "310115" })).status).to.equal(201);

    for (const wallet of [signer, revoked]) {
      const added = await addAddress(wallet);
      expect(added.status, added.text).to.equal(201);
    }
    const revoke = await call("DELETE", `/api/v1/members/${makerId}/addresses/${revoked.address}`, makerKey);
    expect(revoke.status, revoke.text).to.equal(200);

    for (const w of witnesses) {
      const r = await call("POST", "/api/v1/consortium/witnesses", adminKey, { address: w.address });
      expect(r.status, r.text).to.equal(200);
    }
    const k = await call("PUT", "/api/v1/consortium/threshold", adminKey, { k: 2 });
    expect(k.status, k.text).to.equal(200);

    const { file, signed } = await signedDocument(2);
    expect(signed.signer.toLowerCase()).to.equal(signer.address.toLowerCase());
    const captured = await capture(file, signed.signature);
    expect(captured.status, captured.text).to.equal(201);
    expect(captured.json.receipts.map((r) => r.sequence)).to.deep.equal([1, 2]);
    expect(captured.json.receipts[0].receiptSignature).to.match(/^0x[0-9a-f]{130}$/);
    firstReceipt = path.join(fileDir, "receipt-day1.json");
    fs.writeFileSync(firstReceipt, captured.text);

    expect(await anchor()).to.equal(1);
    const cosigned = await witness();
    for (const r of cosigned) expect(r.out).to.include("COSIGNED anchor 1 ");
    firstBundle = await bundle(1);
    const day1 = JSON.parse(fs.readFileSync(firstBundle, "utf8"));
    expect(day1.witnesses).to.include({ final: true, threshold: 2 });
    expect(day1.signature.signer.toLowerCase()).to.equal(signer.address.toLowerCase());
    await ctrlC();
  });

  it("day 2 after Ctrl-C: the address signs, the revoked one does not, the old bundle and receipt verify, the witnesses cosign again", async () => {
    const output = await start();
    expect(output).to.match(/reusing AnchorRegistry/);
    await theNextDay();
  });

  it("after a kill -9 of the API and of the Anvil binary: the same holds on the next start", async () => {
    await new Promise((r) => setTimeout(r, 2_000)); // Anvil writes its state every second
    const anvil = Number(fs.readFileSync(path.join(dataDir, "anvil.pid"), "utf8").trim());
    const dotnet = apiPid();
    expect(dotnet, "the API's process").to.be.a("number");
    process.kill(anvil, "SIGKILL");
    process.kill(dotnet, "SIGKILL");
    await waitUntil(() => !isAlive(anvil) && !isAlive(dotnet), 10_000, "the API and anvil to die");
    // scripts/run notices its API is gone and exits; nothing was stopped cleanly
    await waitUntil(async () => run.child.exitCode !== null || run.child.signalCode !== null, 60_000, "scripts/run to exit");
    await waitUntil(async () => !(await portOpen(apiPort)) && !(await portOpen(chainPort)), 30_000, "both ports to close");
    run = null;

    const output = await start();
    expect(output).to.match(/reusing AnchorRegistry/);
    await theNextDay();
    await ctrlC();
  });
});
