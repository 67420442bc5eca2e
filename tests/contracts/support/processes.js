// Helpers shared by the mocha tests that start processes (devnet, scripts/run).
const { spawn, execFile } = require("child_process");
const fs = require("fs");
const net = require("net");
const path = require("path");

/**
 * The ports the kernel hands out for port 0 and for every outgoing connection (Linux: ip_local_port_range). A port taken
 * from there, released and given to a child process later may meanwhile be the local port of some other connection;
 * ports below that range are only ever taken by name.
 */
function ephemeralRange() {
  try {
    const [low, high] = fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (low > 1024 && high >= low) return { low, high };
  } catch {
    // not Linux: the IANA dynamic range
  }
  return { low: 49152, high: 65535 };
}

const handedOut = new Set();

/** Is anybody listening on 127.0.0.1:port? Resolves true when it could bind it (and let it go). */
function canBind(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/**
 * A port nobody listens on right now, for a child process to bind later: drawn at random below the ephemeral range (so
 * no outgoing connection takes it in between), never the same one twice in this test run.
 */
async function freePort() {
  const { low } = ephemeralRange();
  const from = Math.max(10_000, low - 20_000);
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = from + Math.floor(Math.random() * (low - from));
    if (handedOut.has(port)) continue;
    if (await canBind(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port found between ${from} and ${low - 1}`);
}

async function waitUntil(condition, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Does anything accept connections on 127.0.0.1:port? */
function portOpen(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => { socket.destroy(); resolve(true); });
    socket.once("error", () => resolve(false));
  });
}

/** A process is alive when it exists and is not a zombie (nothing may reap it in a container). */
function isAlive(pid) {
  try { process.kill(pid, 0); } catch { return false; }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch { return true; }
}

/** The environment for scripts/run and the other scripts in a test: this process's without its TRACE_ settings, and these. */
function scriptsEnv(settings) {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("TRACE_"))), ...settings };
}

/**
 * Starts scripts/run in root with env; resolves {child, output} (output grows with what it prints) once it prints its
 * banner, and rejects with what it printed if it exits or is not ready in time (the first start may run npm ci and
 * build the service on a busy machine).
 */
async function startScriptsRun(root, env, timeoutMs = 420_000) {
  const child = spawn(path.join(root, "scripts", "run"), [], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  const run = { child, output: "" };
  child.stdout.on("data", (d) => (run.output += d));
  child.stderr.on("data", (d) => (run.output += d));
  try {
    await waitUntil(async () => run.output.includes("Ctrl-C stops") || child.exitCode !== null, timeoutMs, "scripts/run to be ready");
  } catch (e) {
    child.kill("SIGINT");
    throw new Error(`${e.message}:\n${run.output}`);
  }
  if (child.exitCode !== null) throw new Error(`scripts/run exited ${child.exitCode}:\n${run.output}`);
  return run;
}

/** Ctrl-C to a scripts/run: SIGINT, then until it has exited and nothing listens on its ports any more. */
async function ctrlC(run, ports) {
  run.child.kill("SIGINT");
  await waitUntil(async () => run.child.exitCode !== null || run.child.signalCode !== null, 60_000, "scripts/run to exit");
  await waitUntil(async () => !(await Promise.all(ports.map(portOpen))).some(Boolean), 30_000, "its ports to close");
}

/** After the tests: a scripts/run still running is stopped (SIGINT, SIGKILL after 30 s) and its devnet brought down. */
async function tearDownScriptsRun(root, run, env) {
  if (run && run.child.exitCode === null) {
    run.child.kill("SIGINT");
    await waitUntil(async () => run.child.exitCode !== null || run.child.signalCode !== null, 30_000, "scripts/run to exit").catch(() => run.child.kill("SIGKILL"));
  }
  await new Promise((resolve) => execFile(path.join(root, "chain-devnet", "down"), [], { env }, () => resolve()));
}

/** An API call: {status, json (null when the answer is not JSON), text}; a body is sent as JSON unless headers say otherwise. */
async function callApi(base, method, url, key, body, headers = {}) {
  const response = await fetch(`${base}${url}`, {
    method,
    headers: { ...(key ? { "X-Api-Key": key } : {}), ...(body ? { "Content-Type": "application/json" } : {}), ...headers },
    body: body ? (typeof body === "string" ? body : JSON.stringify(body)) : undefined,
  });
  const text = await response.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: response.status, json, text };
}

module.exports = { freePort, waitUntil, portOpen, isAlive, scriptsEnv, startScriptsRun, ctrlC, tearDownScriptsRun, callApi };
