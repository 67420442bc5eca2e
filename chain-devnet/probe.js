#!/usr/bin/env node
// Usage: node chain-devnet/probe.js URL [TIMEOUT_MS]
// Asks URL for eth_chainId over JSON-RPC. Prints the chain id (decimal) and exits 0 when it answers,
// exits 1 otherwise (refused, timed out, not JSON-RPC). No dependencies, so it starts in ~40 ms.
"use strict";

/** Resolves the chain id (BigInt) that `url` answers to eth_chainId; rejects on any failure or after timeoutMs. */
async function chainId(url, timeoutMs) {
  // A ref'd timer, not AbortSignal.timeout (unref'd): when a peer resets the connection, fetch can stay
  // pending with nothing keeping the event loop alive, and the process would exit 0 mid-await.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  let body;
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: controller.signal,
    });
    body = await response.json();
  } finally {
    clearTimeout(timer);
  }
  if (typeof body?.result !== "string" || !/^0x[0-9a-fA-F]+$/.test(body.result)) {
    throw new Error(`no chain id in the answer: ${JSON.stringify(body).slice(0, 200)}`);
  }
  return BigInt(body.result);
}

module.exports = { chainId };

if (require.main === module) {
  const [url, timeout] = process.argv.slice(2);
  if (!url) {
    console.error("usage: probe.js URL [TIMEOUT_MS]");
    process.exit(2);
  }
  process.exitCode = 1; // unless the chain answers
  chainId(url, Number(timeout ?? 1500)).then(
    (id) => {
      console.log(id.toString());
      process.exitCode = 0;
    },
    () => {},
  );
}
