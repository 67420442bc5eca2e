// Helpers shared by the mocha tests that start processes (devnet, scripts/run).
const fs = require("fs");
const net = require("net");

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

module.exports = { freePort, waitUntil, portOpen, isAlive };
