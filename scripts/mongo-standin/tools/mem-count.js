#!/usr/bin/env node
'use strict';
/*
 * Where the stand-in's heap goes per listing, in process (issue 19, 4 KB per listing):
 *   node --expose-gc [--max-semi-space-size=2] tools/mem-count.js [N] [build|insert]
 * N demo listings (tools/demo-docs.js, seed 42) into a collection with marketd's nine listing
 * indexes (LISTING_INDEXES), either by `insert` commands of 1000 into the indexed collection
 * ("insert": as a live read model grows) or loaded first and then indexed by one createIndexes
 * ("build": as a rebuild's index build). Prints heap used and RSS after a full GC, per listing,
 * then drops the indexes one by one and prints what each held (the heap freed by its drop).
 * Not a test.
 */
const { Store } = require('../lib/store');
const { CursorRegistry } = require('../lib/cursors');
const { runCommand } = require('../lib/commands');
const { demoListings, LISTING_INDEXES } = require('./demo-docs');

const n = +(process.argv[2] || 20000);
const mode = process.argv[3] || 'insert';
if (!global.gc) throw new Error('run with --expose-gc');
const gc = () => { global.gc(); global.gc(); };
const heap = () => { gc(); return process.memoryUsage().heapUsed; };
const ctx = { store: new Store(), cursors: new CursorRegistry(), connections: new Set(), startedAt: Date.now(), log: () => {} };
const run = (cmd) => {
  const r = runCommand(ctx, cmd, 'market');
  if (r.ok !== undefined && +r.ok !== 1) throw new Error(JSON.stringify(r));
  return r;
};
const base = heap();
let docs = demoListings(n, { seed: 42 }).docs;
const t0 = process.cpuUsage();
if (mode === 'insert') run({ createIndexes: 'listings', indexes: LISTING_INDEXES });
for (let i = 0; i < n; i += 1000) run({ insert: 'listings', documents: docs.slice(i, i + 1000) });
if (mode === 'build') run({ createIndexes: 'listings', indexes: LISTING_INDEXES });
const u = process.cpuUsage(t0);
docs = null;
const all = heap();
const m = process.memoryUsage();
const kb = (b) => (b / n).toFixed(0).padStart(6);
console.log(`${n} listings (${mode}): ${((u.user + u.system) / 1000 / n).toFixed(3)} CPU-ms each; heap ${(all / 1e6).toFixed(1)} MB, ` +
  `${kb(all - base)} bytes per listing above the empty process; rss ${(m.rss / 1e6).toFixed(1)} MB (${kb(m.rss)} per listing)`);
let prev = all;
for (const { name } of LISTING_INDEXES) {
  run({ dropIndexes: 'listings', index: name });
  const h = heap();
  console.log(`  ${name.padEnd(26)} ${kb(prev - h)} bytes per listing`);
  prev = h;
}
console.log(`  ${'records (views, _id map)'.padEnd(26)} ${kb(prev - base)} bytes per listing`);
