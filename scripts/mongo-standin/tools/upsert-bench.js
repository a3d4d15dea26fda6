'use strict';
// The projector's write path in process: versioned upserts ({_id, version: {$lt}}, $set,
// $setOnInsert, upsert: true) of N demo listings (tools/demo-docs.js), in unordered update
// commands of BATCH statements, into a collection with marketd's listings indexes
// (LISTING_INDEXES, the nine of src/projector/listing.c); no sockets. Prints CPU ms per 1000
// upserts and upserts per CPU-second for each 20,000, then (with --expose-gc) the heap and
// RSS per listing after a full GC.
//   node --max-semi-space-size=2 --expose-gc tools/upsert-bench.js [N] [BATCH]
// INDEXES=all (default): every listing index from the start.
// INDEXES=rebuild: only the indexes a rebuild keeps (REBUILD_INDEXES: seller_status_created, status_geo),
//   then createIndexes of the rest on the full collection (timed), as the projector's rebuild does.
// INDEXES=none: no index during the load, then createIndexes of all of them (timed).
// AFTER=M: then M more new listings upserted into the indexed collection (a burst into a live
//   read model), timed on their own.
// ONLY=name,name: only these of the listing indexes (what one index's upkeep costs).
// AB=R (with AFTER=M): instead of one burst, R rounds of two bursts of M each into the same
//   collection, taking turns: "old" (a batch's 2dsphere entries record by record, every leaf
//   searched for ties, as before issue 19's seventh pass) and "new" (GeoIndex.addMany and
//   PointCounts); CPU-ms per upsert of each (a paired comparison on one heap and one load).
//   AB_VARIANTS=old,counts,new: also "counts" (PointCounts without addMany).
// PROFILE=file.cpuprofile: a CPU profile of the AFTER burst alone (node:inspector), for
//   Chrome's DevTools or tools/prof-top.js.

const { Long } = require('bson');
const { Store } = require('../lib/store');
const { CursorRegistry } = require('../lib/cursors');
const { runCommand } = require('../lib/commands');
const { demoListings, LISTING_INDEXES, REBUILD_INDEXES } = require('./demo-docs');

const n = +(process.argv[2] || 20000);
const batch = +(process.argv[3] || 500);
const mode = process.env.INDEXES || (process.env.NOIDX === '1' ? 'none' : 'all');
const ctx = { store: new Store(), cursors: new CursorRegistry(), connections: new Set(), startedAt: Date.now(), log: console.log };
const run = (cmd) => {
  const r = runCommand(ctx, cmd, 'market');
  if (r.ok !== undefined && +r.ok !== 1) throw new Error(JSON.stringify(r));
  return r;
};
/** A CPU profile from now until stop(file) (synchronous: node:inspector's session posts on this thread). */
function profiler() {
  const inspector = require('node:inspector');
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 200 });
  session.post('Profiler.start');
  return {
    stop(file) {
      session.post('Profiler.stop', (err, r) => {
        if (err) throw err;
        require('node:fs').writeFileSync(file, JSON.stringify(r.profile));
      });
      session.disconnect();
    },
  };
}
const cpuMs = (u) => (u.user + u.system) / 1000;

const only = process.env.ONLY ? process.env.ONLY.split(',') : null;
const indexes = only ? LISTING_INDEXES.filter((i) => only.includes(i.name)) : LISTING_INDEXES;
const early = mode === 'all' ? indexes : mode === 'rebuild' ? indexes.filter((i) => REBUILD_INDEXES.includes(i.name)) : [];
if (early.length) run({ createIndexes: 'listings', indexes: early });
const after = +(process.env.AFTER || 0);
const abRuns = process.env.AB ? (process.env.AB_VARIANTS || 'old,new').split(',').length * +process.env.AB : 1;
let { docs } = demoListings(n + after * abRuns, { seed: 7, sellers: 200 });
const slice = Math.min(20000, n);
const t00 = process.cpuUsage();
let t = process.cpuUsage();
let errors = 0;
const upsertBatch = (i, end) => {
  const updates = docs.slice(i, Math.min(i + batch, end)).map((d, k) => {
    const { _id, favorites, views, ...fields } = d; // favorites, views: $setOnInsert's, as in listing.c
    fields.version = Long.fromNumber(1);
    fields.seq = Long.fromNumber(i + k + 1);
    return { q: { _id, version: { $lt: Long.fromNumber(1) } }, u: { $set: fields, $setOnInsert: { favorites: Long.fromNumber(0), views: Long.fromNumber(0) } }, upsert: true };
  });
  const r = run({ update: 'listings', updates, ordered: false });
  if (r.writeErrors) errors += r.writeErrors.length;
};
for (let i = 0; i < n; i += batch) {
  upsertBatch(i, n);
  if ((i + batch) % slice === 0) {
    const ms = cpuMs(process.cpuUsage(t));
    console.log(`${i + batch}: ${(ms / slice * 1000).toFixed(0)} cpu-ms per 1000 upserts, ${(slice / (ms / 1000)).toFixed(0)} per cpu-s; write errors ${errors}`);
    t = process.cpuUsage();
  }
}
const loadMs = cpuMs(process.cpuUsage(t00));
let buildMs = 0;
if (mode !== 'all') {
  const t0 = process.cpuUsage();
  run({ createIndexes: 'listings', indexes });
  buildMs = cpuMs(process.cpuUsage(t0));
  console.log(`createIndexes after the load: ${buildMs.toFixed(0)} cpu-ms`);
}
console.log(`in all (${mode}): ${((loadMs + buildMs) / 1000).toFixed(1)} cpu-s, ${(n / ((loadMs + buildMs) / 1000)).toFixed(0)} upserts per cpu-s`);
if (after && process.env.AB) {
  const { GeoIndex, PointCounts } = require('../lib/indexes');
  const { addMany, batchKeys } = GeoIndex.prototype;
  const { get } = PointCounts.prototype;
  const variant = (v) => {
    GeoIndex.prototype.addMany = v === 'new' ? addMany : undefined;
    GeoIndex.prototype.batchKeys = v === 'new' ? batchKeys : undefined;
    PointCounts.prototype.get = v !== 'old' ? get : () => 2;
  };
  let at = n;
  const variants = (process.env.AB_VARIANTS || 'old,new').split(',');
  const sums = Object.fromEntries(variants.map((v) => [v, 0]));
  for (let round = 0; round < +process.env.AB; round++) {
    for (const v of round % 2 ? [...variants].reverse() : variants) {
      variant(v);
      const t0 = process.cpuUsage();
      for (let i = at; i < at + after; i += batch) upsertBatch(i, at + after);
      const ms = cpuMs(process.cpuUsage(t0));
      sums[v] += ms;
      at += after;
      console.log(`round ${round} ${v}: ${after} upserts, ${(ms / after).toFixed(3)} cpu-ms per upsert`);
    }
  }
  variant('new');
  const rounds = +process.env.AB * after;
  console.log(`in all: ${variants.map((v) => `${v} ${(sums[v] / rounds).toFixed(3)}`).join(', ')} cpu-ms per upsert; write errors ${errors}`);
} else if (after) {
  const prof = process.env.PROFILE ? profiler() : null;
  const t0 = process.cpuUsage();
  for (let i = n; i < n + after; i += batch) upsertBatch(i, n + after);
  const ms = cpuMs(process.cpuUsage(t0));
  if (prof) prof.stop(process.env.PROFILE);
  console.log(`${after} more into the indexed collection: ${(ms / after).toFixed(2)} cpu-ms per upsert, ${(after / (ms / 1000)).toFixed(0)} per cpu-s; write errors ${errors}`);
}
docs = null;
if (global.gc) {
  global.gc();
  global.gc();
}
const m = process.memoryUsage();
console.log(`${global.gc ? 'after a full GC: ' : ''}heap ${(m.heapUsed / 1e6).toFixed(0)} MB (${(m.heapUsed / n).toFixed(0)} bytes per listing), ` +
  `rss ${(m.rss / 1e6).toFixed(0)} MB (${(m.rss / n).toFixed(0)} bytes per listing)`);
if (process.env.SNAPSHOT) require('v8').writeHeapSnapshot(process.env.SNAPSHOT);
