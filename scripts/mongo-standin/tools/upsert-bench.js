'use strict';
// The projector's write path in process: versioned upserts ({_id, version: {$lt}}, $set,
// $setOnInsert, upsert: true) of N demo listings (tools/demo-docs.js), in unordered update
// commands of BATCH statements, into a collection with marketd's listings indexes; no
// sockets. Prints CPU ms per 1000 upserts and upserts per CPU-second for each 20,000.
//   node --max-semi-space-size=2 tools/upsert-bench.js [N] [BATCH]
// NOIDX=1: insert without indexes, then time createIndexes on the full collection.

const { Long } = require('bson');
const { Store } = require('../lib/store');
const { CursorRegistry } = require('../lib/cursors');
const { runCommand } = require('../lib/commands');
const { demoListings, LISTING_INDEXES } = require('./demo-docs');

const n = +(process.argv[2] || 20000);
const batch = +(process.argv[3] || 500);
const ctx = { store: new Store(), cursors: new CursorRegistry(), connections: new Set(), startedAt: Date.now(), log: console.log };
const run = (cmd) => {
  const r = runCommand(ctx, cmd, 'market');
  if (r.ok !== undefined && +r.ok !== 1) throw new Error(JSON.stringify(r));
  return r;
};
const cpuMs = (u) => (u.user + u.system) / 1000;

if (process.env.NOIDX !== '1') run({ createIndexes: 'listings', indexes: LISTING_INDEXES });
const { docs } = demoListings(n, { seed: 7, sellers: 200 });
const slice = Math.min(20000, n);
let t = process.cpuUsage();
let errors = 0;
for (let i = 0; i < n; i += batch) {
  const updates = docs.slice(i, i + batch).map((d, k) => {
    const { _id, favorites, views, ...fields } = d; // favorites, views: $setOnInsert's, as in listing.c
    fields.version = Long.fromNumber(1);
    fields.seq = Long.fromNumber(i + k + 1);
    return { q: { _id, version: { $lt: Long.fromNumber(1) } }, u: { $set: fields, $setOnInsert: { favorites: Long.fromNumber(0), views: Long.fromNumber(0) } }, upsert: true };
  });
  const r = run({ update: 'listings', updates, ordered: false });
  if (r.writeErrors) errors += r.writeErrors.length;
  if ((i + batch) % slice === 0) {
    const ms = cpuMs(process.cpuUsage(t));
    console.log(`${i + batch}: ${(ms / slice * 1000).toFixed(0)} cpu-ms per 1000 upserts, ${(slice / (ms / 1000)).toFixed(0)} per cpu-s; write errors ${errors}`);
    t = process.cpuUsage();
  }
}
if (process.env.NOIDX === '1') {
  const t0 = process.cpuUsage();
  run({ createIndexes: 'listings', indexes: LISTING_INDEXES });
  console.log(`createIndexes after the load: ${cpuMs(process.cpuUsage(t0)).toFixed(0)} cpu-ms`);
}
console.log(`rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`);
