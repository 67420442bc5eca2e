// A client written from the GS1 EPCIS 2.0 REST binding alone, against the service as scripts/run starts it. The client
// reads the binding's OpenAPI (../shared/conformance/epcis-spec/openapi.yaml) and uses only what it declares: the
// operations (path and method), their query parameters (pipe-delimited where the binding says so), the request bodies'
// fields, the status codes each operation may answer, the Location and Link headers. It never looks at this project's
// own documentation: the only things it is told are the base URL (/epcis), the API key header, and that GS1-Signature
// is an HMAC-SHA256 (the binding leaves the scheme to the implementation). Setting up the member whose key it uses is
// done through the service's own API, before the client starts.
//
// It makes a named query, subscribes to it with a webhook to a local receiver (each delivery's GS1-Signature checked
// on the raw body), captures a document as a capture job followed to completion through its Location, then queries
// with several parameters at once, paging through Link / nextPageToken, and checks every page boundary: each matching
// event exactly once, none that does not match. Without ../shared the file is skipped; under CI=true it fails.
const { expect } = require("chai");
const { spawn } = require("child_process");
const crypto = require("crypto");
const fs = require("fs");
const http = require("http");
const os = require("os");
const path = require("path");
const yaml = require("js-yaml");
const { freePort, waitUntil } = require("./support/processes");

const ROOT = path.resolve(__dirname, "..", "..");
const OPENAPI = path.resolve(ROOT, "..", "shared", "conformance", "epcis-spec", "openapi.yaml");

/** The binding as its OpenAPI declares it: operations, their parameters, the fields of the schemas. */
class Binding {
  constructor(spec) {
    this.spec = spec;
  }

  resolve(node) {
    let n = node;
    while (n && n.$ref) {
      if (!n.$ref.startsWith("#/")) throw new Error(`the client follows only local references, not ${n.$ref}`);
      n = n.$ref.slice(2).split("/").reduce((o, k) => o[k], this.spec);
    }
    return n;
  }

  operation(template, method) {
    const item = this.spec.paths[template];
    const op = item && item[method];
    if (!op) throw new Error(`the binding has no ${method.toUpperCase()} ${template}`);
    const params = [...(item.parameters || []), ...(op.parameters || [])].map((p) => this.resolve(p));
    return { op, params, responses: Object.keys(op.responses || {}) };
  }

  /** The property names of a schema, with those of its allOf parts and their oneOf alternatives. */
  fields(schemaName) {
    const names = new Set();
    const collect = (schema) => {
      const s = this.resolve(schema);
      for (const k of Object.keys(s.properties || {})) names.add(k);
      for (const part of [...(s.allOf || []), ...(s.oneOf || [])]) collect(part);
    };
    collect({ $ref: `#/components/schemas/${schemaName}` });
    return names;
  }
}

/** An HTTP client of the binding: every request is an operation the binding declares, every answer a status it allows. */
class EpcisClient {
  constructor(binding, base, headers) {
    this.binding = binding;
    this.base = new URL(base);
    this.headers = headers;
  }

  url(template, values = {}, query = {}) {
    const pathPart = template.replace(/\{(\w+)\}/g, (_, name) => encodeURIComponent(values[name]));
    const url = new URL(this.base.pathname.replace(/\/$/, "") + pathPart, this.base);
    if (Object.keys(query).length === 0) return url;
    const { params } = this.binding.operation(template, "get");
    const declared = new Map(params.filter((p) => p.in === "query").map((p) => [p.name, p]));
    for (const [name, value] of Object.entries(query)) {
      const p = declared.get(name);
      if (!p) throw new Error(`GET ${template} declares no query parameter ${name}`);
      // style pipeDelimited, explode false: one parameter, the values joined with |
      url.searchParams.set(name, Array.isArray(value) ? value.join(p.style === "pipeDelimited" ? "|" : ",") : String(value));
    }
    return url;
  }

  async call(method, template, { values = {}, query, body, headers = {}, url } = {}) {
    const { responses } = this.binding.operation(template, method.toLowerCase());
    const target = url || (method === "GET" ? this.url(template, values, query) : this.url(template, values));
    const response = await fetch(target, {
      method,
      headers: { ...this.headers, ...(body === undefined ? {} : { "Content-Type": "application/json" }), ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      redirect: "manual",
    });
    const text = await response.text();
    expect(responses, `${method} ${template} answered ${response.status}: ${text}`).to.include(String(response.status));
    const type = response.headers.get("content-type") || "";
    return { status: response.status, headers: response.headers, body: type.includes("json") && text ? JSON.parse(text) : text };
  }

  /** Every event of a query, following Link rel="next" (the URL carries nextPageToken) until there is none. */
  async allPages(template, values, query) {
    const pages = [];
    let url = this.url(template, values, query);
    while (url) {
      const { body, headers } = await this.call("GET", template, { url });
      expect(body.type).to.equal("EPCISQueryDocument");
      pages.push(body.epcisBody.queryResults.resultsBody.eventList);
      const link = headers.get("link");
      const next = link && /<([^>]+)>\s*;\s*rel="next"/.exec(link);
      url = next ? new URL(next[1], this.base) : null;
      if (url) expect(url.searchParams.get("nextPageToken"), link).to.be.a("string").and.not.equal("");
    }
    return pages;
  }
}

/** A webhook receiver on loopback: keeps each delivery's raw body and whether its GS1-Signature is the HMAC of it. */
async function startReceiver(token) {
  const deliveries = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const expected = Buffer.from("sha256=" + crypto.createHmac("sha256", token).update(raw).digest("hex"));
      const given = Buffer.from(req.headers["gs1-signature"] || "");
      const signed = given.length === expected.length && crypto.timingSafeEqual(given, expected);
      deliveries.push({ signed, body: JSON.parse(raw.toString("utf8")) });
      res.writeHead(signed ? 204 : 401).end();
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { deliveries, url: `http://127.0.0.1:${server.address().port}/hook`, close: () => new Promise((r) => server.close(r)) };
}

const GTIN_URN = "urn:epc:id:sgtin:0614141.107346";
const PLACE = "urn:epc:id:sgln:0614141.00777.0";

function event(serial, minute, bizStep, disposition, action) {
  return {
    type: "ObjectEvent",
    eventTime: `2026-11-20T08:${String(minute).padStart(2, "0")}:00.000+08:00`,
    eventTimeZoneOffset: "+08:00",
    epcList: [`${GTIN_URN}.${serial}`],
    action,
    bizStep,
    disposition,
    readPoint: { id: PLACE },
    bizLocation: { id: PLACE },
  };
}

describe("an EPCIS 2.0 client written from the binding alone, against scripts/run", function () {
  this.timeout(600_000);
  let child;
  let output = "";
  let dataDir;
  let apiPort;
  let client;
  let receiver;
  let binding;
  const run = crypto.randomBytes(4).toString("hex");
  const serials = Array.from({ length: 8 }, (_, i) => `${parseInt(run, 16)}${i}`);
  // four commissioned (ADD, active) at 08:00-08:03, then the same four shipped (OBSERVE, in_transit) at 08:04-08:07
  const events = [
    ...serials.slice(0, 4).map((s, i) => event(s, i, "commissioning", "active", "ADD")),
    ...serials.slice(0, 4).map((s, i) => event(s, 4 + i, "shipping", "in_transit", "OBSERVE")),
  ];
  const digitalLink = (s) => `https://id.gs1.org/01/10614141073464/21/${s}`;

  before(async function () {
    if (!fs.existsSync(OPENAPI)) {
      if (process.env.CI === "true") throw new Error(`${OPENAPI} is missing: CI must run the EPCIS client`);
      this.skip();
    }
    binding = new Binding(yaml.load(fs.readFileSync(OPENAPI, "utf8")));
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "trace-epcis-client-"));
    apiPort = await freePort();
    child = spawn(path.join(ROOT, "scripts", "run"), [], {
      cwd: ROOT,
      env: {
        ...process.env, TRACE_PORT: String(apiPort), TRACE_CHAIN_PORT: String(await freePort()), TRACE_DATA_DIR: dataDir,
        TRACE_SUBSCRIPTION_ALLOW_LOOPBACK: "on", // the receiver is on loopback
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    await waitUntil(async () => output.includes("Ctrl-C stops") || child.exitCode !== null, 420_000, "scripts/run to be ready");
    if (child.exitCode !== null) throw new Error(`scripts/run exited ${child.exitCode}:\n${output}`);

    // the service's own API, before the client: a member and its key
    const admin = fs.readFileSync(path.join(dataDir, "admin-key"), "utf8").trim();
    const member = await fetch(`http://127.0.0.1:${apiPort}/api/v1/members`, {
      method: "POST",
      headers: { "X-Api-Key": admin, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "Binding Client Co.", role: "manufacturer", gln: "0614141000005" }),
    });
    expect(member.status).to.equal(201);
    const { apiKey } = await member.json();
    client = new EpcisClient(binding, `http://127.0.0.1:${apiPort}/epcis`, { "X-Api-Key": apiKey });
    receiver = await startReceiver(`token-${run}`);
  });

  after(async () => {
    if (receiver) await receiver.close();
    if (child && child.exitCode === null) {
      child.kill("SIGINT");
      await waitUntil(async () => child.exitCode !== null || child.signalCode !== null, 60_000, "scripts/run to stop").catch(() => child.kill("SIGKILL"));
    }
    if (dataDir) {
      // never leave a node behind, nor the data folder
      await new Promise((resolve) => spawn(path.join(ROOT, "chain-devnet", "down"), [], { env: { ...process.env, TRACE_DATA_DIR: dataDir } }).on("close", resolve));
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("makes a named query and a webhook subscription to it with the binding's fields", async () => {
    const definition = { name: `shipped-${run}`, query: { eventType: ["ObjectEvent"], EQ_bizStep: ["shipping"] } };
    expect([...binding.fields("QueryDefinition")]).to.include.members(Object.keys(definition));
    const created = await client.call("POST", "/queries", { body: definition });
    expect(created.status).to.equal(201);
    expect(created.headers.get("location")).to.match(new RegExp(`/queries/shipped-${run}$`));

    const subscription = { dest: receiver.url, signatureToken: `token-${run}`, stream: true };
    const allowed = new Set([...binding.fields("AbstractQuerySubscription"), ...binding.fields("QueryStreamSubscription")]);
    for (const field of Object.keys(subscription)) expect(allowed.has(field), field).to.equal(true);
    const subscribed = await client.call("POST", "/queries/{queryName}/subscriptions", { values: { queryName: definition.name }, body: subscription });
    expect(subscribed.status).to.equal(201);
    for (const field of binding.resolve({ $ref: "#/components/schemas/AbstractQuerySubscriptionResponse" }).required) {
      expect(subscribed.body, field).to.have.property(field);
    }
    expect(subscribed.body).to.not.have.property("signatureToken");
  });

  it("captures a document as a capture job and follows it through its Location to completion", async () => {
    const limit = await client.call("OPTIONS", "/capture");
    expect(Number(limit.headers.get("gs1-epcis-capture-limit"))).to.be.at.least(events.length);
    const document = {
      "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
      type: "EPCISDocument",
      schemaVersion: "2.0",
      creationDate: new Date().toISOString(),
      epcisBody: { eventList: events },
    };
    const accepted = await client.call("POST", "/capture", { body: document, headers: { "GS1-Capture-Error-Behaviour": "rollback" } });
    expect(accepted.status).to.equal(202);
    const location = new URL(accepted.headers.get("location"), client.base);
    const id = decodeURIComponent(location.pathname.split("/").pop());
    let job;
    await waitUntil(async () => {
      job = (await client.call("GET", "/capture/{captureID}", { values: { captureID: id }, url: location })).body;
      return job.running === false;
    }, 30_000, "the capture job to finish");
    for (const field of ["captureID", "running", "success", "captureErrorBehaviour", "createdAt", "finishedAt", "errors"]) {
      expect(binding.fields("CaptureJob").has(field), field).to.equal(true);
      expect(job, field).to.have.property(field);
    }
    expect(job.success, JSON.stringify(job.errors)).to.equal(true);
    expect(job.captureID).to.equal(id);
    expect(job.captureErrorBehaviour).to.equal("rollback");
    expect(job.errors).to.deep.equal([]);
  });

  it("gets every shipping event at the webhook exactly once, each delivery signed", async () => {
    const shipped = new Set(events.filter((e) => e.bizStep === "shipping").map((e) => e.epcList[0].split(".").pop()));
    const seen = () => receiver.deliveries.flatMap((d) => d.body.epcisBody.queryResults.resultsBody.eventList);
    await waitUntil(async () => seen().length >= shipped.size, 30_000, "the deliveries");
    await new Promise((r) => setTimeout(r, 300)); // nothing more should come
    expect(receiver.deliveries.every((d) => d.signed), "GS1-Signature is the HMAC-SHA256 of each body").to.equal(true);
    for (const d of receiver.deliveries) {
      expect(d.body.type).to.equal("EPCISQueryDocument");
      expect(d.body.epcisBody.queryResults.queryName).to.equal(`shipped-${run}`);
    }
    const received = seen();
    expect(received.map((e) => e.bizStep)).to.satisfy((steps) => steps.every((s) => /shipping$/.test(s)));
    expect(new Set(received.map((e) => e.eventID)).size).to.equal(received.length);
    expect(new Set(received.map((e) => e.epcList[0].split("/").pop()))).to.deep.equal(shipped);
  });

  it("queries with several parameters at once, paging through Link and nextPageToken: each match once, nothing else", async () => {
    // shipping ObjectEvents from 08:00 to before 08:07 at that place: 08:04, 08:05, 08:06 (08:07 and the commissioning excluded)
    const pages = await client.allPages("/events", {}, {
      eventType: ["ObjectEvent"], EQ_bizStep: ["shipping"], EQ_bizLocation: [PLACE],
      GE_eventTime: "2026-11-20T08:00:00.000+08:00", LT_eventTime: "2026-11-20T08:07:00.000+08:00", perPage: 2,
    });
    expect(pages.map((p) => p.length)).to.deep.equal([2, 1]);
    const times = pages.flat().map((e) => new Date(e.eventTime).toISOString());
    expect(times.sort()).to.deep.equal(["04", "05", "06"].map((m) => `2026-11-20T00:${m}:00.000Z`));

    // the EPC pattern of the GTIN with a disposition and an action: the four commissioning events, three to a page
    const commissioned = await client.allPages("/events", {}, {
      MATCH_epc: [`urn:epc:idpat:sgtin:0614141.107346.*`], EQ_disposition: ["active"], EQ_action: ["ADD"], perPage: 3,
      orderBy: "eventTime", orderDirection: "ASC",
    });
    expect(commissioned.map((p) => p.length)).to.deep.equal([3, 1]);
    expect(commissioned.flat().map((e) => e.epcList[0])).to.deep.equal(serials.slice(0, 4).map(digitalLink));

    // one EPC through its own resource, and the named query's events
    const one = await client.allPages("/epcs/{epc}/events", { epc: `${GTIN_URN}.${serials[2]}` }, { perPage: 1 });
    expect(one.map((p) => p.length)).to.deep.equal([1, 1]);
    const named = await client.allPages("/queries/{queryName}/events", { queryName: `shipped-${run}` }, { perPage: 3 });
    expect(named.flat().map((e) => e.epcList[0]).sort()).to.deep.equal(serials.slice(0, 4).map(digitalLink).sort());
  });

  it("unsubscribes and deletes the query", async () => {
    const name = `shipped-${run}`;
    const list = await client.call("GET", "/queries/{queryName}/subscriptions", { values: { queryName: name } });
    expect(list.body).to.have.length(1);
    const id = list.body[0].subscriptionID;
    const gone = await client.call("DELETE", "/queries/{queryName}/subscriptions/{subscriptionID}", { values: { queryName: name, subscriptionID: id } });
    expect(gone.status).to.equal(204);
    const deleted = await client.call("DELETE", "/queries/{queryName}", { values: { queryName: name } });
    expect(deleted.status).to.equal(204);
    const after = await client.call("GET", "/queries/{queryName}", { values: { queryName: name } });
    expect(after.status).to.equal(404);
  });
});
