// Independent check of the service's output with @openzeppelin/merkle-tree 1.0.8 (the JS reference).
// Usage: node verify-with-openzeppelin.js INPUT.json
// INPUT: { "bundles": [proof bundles as served], "anchors": [{ "sequence", "root" (from the chain), "leaves": {encoding, values} }] }
// Prints: { "bundles": [{ "sequence", "verified" }], "anchors": [{ "sequence", "rebuiltRoot", "matches" }] }
const fs = require("fs");
const path = require("path");
const { StandardMerkleTree } = require(require.resolve("@openzeppelin/merkle-tree", { paths: [process.env.TRACE_REPO_ROOT || process.cwd()] }));

const input = JSON.parse(fs.readFileSync(path.resolve(process.argv[2]), "utf8"));
const out = { bundles: [], anchors: [] };
for (const b of input.bundles || []) {
  let verified = false;
  try {
    verified = StandardMerkleTree.verify(b.root, b.leaf.encoding, b.leaf.value, b.proof);
  } catch (e) {
    verified = false;
  }
  out.bundles.push({ sequence: b.sequence, verified });
}
for (const a of input.anchors || []) {
  const tree = StandardMerkleTree.of(a.leaves.values, a.leaves.encoding);
  out.anchors.push({ sequence: a.sequence, rebuiltRoot: tree.root, matches: tree.root.toLowerCase() === a.root.toLowerCase() });
}
process.stdout.write(JSON.stringify(out));
