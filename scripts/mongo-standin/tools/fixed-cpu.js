#!/usr/bin/env node
'use strict';
/*
 * The stand-in's fixed cost per query (parse, planning, reply), old and new tree in one
 * process, taking turns (not a test): the commands a replay-cpu.js capture recorded, with a
 * driver's lsid and $db, through each tree's server.js handleMessage against the first N
 * listings of the capture's dump and its indexes (a small store loads in seconds, where the
 * whole 100k dump takes minutes on a loaded machine; keys examined differ from the full data).
 *   node --expose-gc tools/fixed-cpu.js DIR N ROUNDS TREE_A TREE_B
 * Prints CPU µs per query (process.cpuUsage) per round for each tree, the min and median.
 * FIXED_ONLY=SHAPE: only the queries whose shape (replay-cpu.js shapeOf) holds SHAPE, e.g.
 * "category" (the cheapest shape, where the fixed cost is most of a query).
 */
const fs = require('fs');
const path = require('path');
const BSON = require('bson');

const DESER = { promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: false };
const [dir, n = '3000', r = '15', ...trees] = process.argv.slice(2);

function readDocs(file, max = Infinity) {
  const b = fs.readFileSync(file);
  const out = [];
  for (let at = 0; at < b.length && out.length < max;) {
    const len = b.readInt32LE(at);
    out.push(BSON.deserialize(b.subarray(at, at + len), DESER));
    at += len;
  }
  return out;
}

const docs = readDocs(path.join(dir, 'listings.bson'), Number(n));
const indexes = readDocs(path.join(dir, 'indexes.bson')).filter((i) => i.name !== '_id_').map(({ v, ns, ...spec }) => spec);
const lsid = { id: new BSON.Binary(Buffer.alloc(16, 1), 4) };
let rid = 1;
const msg = (cmd) => {
  const body = BSON.serialize({ ...cmd, $db: 'market', lsid });
  const head = Buffer.alloc(21);
  head.writeInt32LE(21 + body.length, 0);
  head.writeInt32LE(rid++, 4);
  head.writeInt32LE(2013, 12);
  return Buffer.concat([head, body]);
};
const only = process.env.FIXED_ONLY;
const { shapeOf } = require('./replay-cpu');
const bufs = readDocs(path.join(dir, 'queries.bson')).filter((q) => !only || shapeOf(q).includes(only)).map(msg);

function setup(tree) {
  const { handleMessage } = require(path.join(tree, 'server.js'));
  const { Store } = require(path.join(tree, 'lib/store'));
  const { CursorRegistry } = require(path.join(tree, 'lib/cursors'));
  const wire = require(path.join(tree, 'lib/wire'));
  const out = new wire.ReplyBuffers();
  const ctx = {
    store: new Store(), cursors: new CursorRegistry(), connections: new Set(), conn: { id: 1, remote: 'fixed' },
    log: () => {}, rawReplies: true, allocReply: out.alloc,
  };
  for (let i = 0; i < docs.length; i += 1000) handleMessage(ctx, msg({ insert: 'listings', documents: docs.slice(i, i + 1000) }));
  handleMessage(ctx, msg({ createIndexes: 'listings', indexes }));
  clearInterval(ctx.cursors.sweeper);
  return () => { for (const b of bufs) handleMessage(ctx, b); };
}

const names = trees.map((t) => path.resolve(t));
const runs = names.map(setup);
runs.forEach((run) => run()); // warm up
const res = names.map(() => []);
for (let k = 0; k < Number(r); k++) {
  const order = k % 2 ? [...runs.keys()].reverse() : [...runs.keys()];
  for (const i of order) {
    if (global.gc) global.gc();
    const t0 = process.cpuUsage();
    runs[i]();
    runs[i]();
    const t = process.cpuUsage(t0);
    res[i].push((t.user + t.system) / (2 * bufs.length));
  }
}
const load = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
names.forEach((name, i) => {
  const s = [...res[i]].sort((a, b) => a - b);
  console.log(`${name}: µs per query min ${s[0].toFixed(1)} median ${s[s.length >> 1].toFixed(1)}; rounds ${res[i].map((x) => x.toFixed(0)).join(' ')}`);
});
if (res.length === 2) {
  // Each round's two turns ran next to each other: their ratio is steadier than either figure.
  const q = res[1].map((x, k) => x / res[0][k]).sort((a, b) => a - b);
  const wins = res[1].filter((x, k) => x < res[0][k]).length;
  console.log(`second / first per round: median ${q[q.length >> 1].toFixed(3)} (${q.map((x) => x.toFixed(2)).join(' ')}); second cheaper in ${wins} of ${q.length}`);
}
console.log(`${bufs.length} queries, ${docs.length} listings, load average ${load()}`);
