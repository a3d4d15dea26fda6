'use strict';
// A burst of the projector's upserts as they arrive over the wire, in process (not a test):
// OP_MSG messages built as libmongoc sends an unordered bulk (a body {update, ordered: false,
// $db} and the statements in an `updates` document sequence), each through server.js
// handleMessage (parse, command, reply), into a collection with marketd's listing indexes
// loaded with N demo listings (insert messages of 1,000). Then R rounds of bursts of M new
// listings, the variants taking turns on the same heap (A/B of the wire path):
//   eager: every statement of a message decoded by parseMessage (before issue 19's eighth pass)
//   lazy:  statements decoded when the command reaches them (wire.js SequenceDoc)
// Prints CPU-ms per upsert and the main thread's GC time per upsert (perf_hooks) per variant.
//   node --max-semi-space-size=2 --expose-gc tools/burst-wire.js [N] [M] [R] [BATCH]
const { PerformanceObserver } = require('node:perf_hooks');
const BSON = require('bson');
const { Long } = BSON;
const { Store } = require('../lib/store');
const { CursorRegistry } = require('../lib/cursors');
const wire = require('../lib/wire');
const { handleMessage } = require('../server');
const { demoListings, LISTING_INDEXES } = require('./demo-docs');

const n = +(process.argv[2] || 50000);
const burst = +(process.argv[3] || 2000);
const rounds = +(process.argv[4] || 3);
const batch = +(process.argv[5] || 500);
const variants = (process.env.VARIANTS || 'eager,lazy').split(',');

const replies = new wire.ReplyBuffers();
const ctx = {
  store: new Store(), cursors: new CursorRegistry(), connections: new Set(), startedAt: Date.now(), log: console.log,
  conn: { id: 1, remote: 'harness' }, rawReplies: true, allocReply: replies.alloc,
};

let requestId = 1;
/** An OP_MSG: body (kind 0) and one document sequence (kind 1) named `id`. */
function opMsg(body, id, docs) {
  const b = BSON.serialize(body);
  const ds = docs.map((d) => BSON.serialize(d));
  const idBytes = Buffer.from(`${id}\u0000`, 'utf8');
  const seqLen = 4 + idBytes.length + ds.reduce((a, d) => a + d.length, 0);
  const total = 16 + 4 + 1 + b.length + 1 + seqLen;
  const buf = Buffer.alloc(total);
  buf.writeInt32LE(total, 0);
  buf.writeInt32LE(requestId++, 4);
  buf.writeInt32LE(2013, 12);
  let p = 20;
  buf[p++] = 0;
  p += b.copy(buf, p);
  buf[p++] = 1;
  buf.writeInt32LE(seqLen, p);
  p += 4;
  p += idBytes.copy(buf, p);
  for (const d of ds) p += d.copy(buf, p);
  return buf;
}

const send = (msg) => {
  const reply = handleMessage(ctx, msg);
  const r = BSON.deserialize(reply.subarray(21));
  if (r.ok !== 1 || r.writeErrors) throw new Error(JSON.stringify(r).slice(0, 500));
};

const total = n + burst * rounds * variants.length;
const { docs } = demoListings(total, { seed: 11, sellers: 200 });
/** A body-only OP_MSG. */
function opMsgBody(body) {
  const b = BSON.serialize(body);
  const buf = Buffer.alloc(21 + b.length);
  buf.writeInt32LE(buf.length, 0);
  buf.writeInt32LE(requestId++, 4);
  buf.writeInt32LE(2013, 12);
  b.copy(buf, 21);
  return buf;
}
send(opMsgBody({ createIndexes: 'listings', indexes: LISTING_INDEXES, $db: 'market' }));

const t0 = process.cpuUsage();
for (let i = 0; i < n; i += 1000) {
  send(opMsg({ insert: 'listings', ordered: true, $db: 'market' }, 'documents', docs.slice(i, Math.min(n, i + 1000))));
}
const loadMs = (process.cpuUsage(t0).user + process.cpuUsage(t0).system) / 1000;
console.log(`loaded ${n} listings: ${(loadMs / n).toFixed(3)} cpu-ms per listing`);

/** The projector's versioned upserts of docs[from, to) (src/projector/projections.c). */
function updateMessages(from, to) {
  const out = [];
  for (let i = from; i < to; i += batch) {
    const stmts = docs.slice(i, Math.min(to, i + batch)).map((d, k) => {
      const { _id, favorites, views, ...fields } = d;
      fields.version = Long.fromNumber(1);
      fields.seq = Long.fromNumber(i + k + 1);
      return {
        q: { _id, version: { $lt: Long.fromNumber(1) } },
        u: { $set: fields, $setOnInsert: { favorites: Long.fromNumber(0), views: Long.fromNumber(0) } },
        upsert: true,
      };
    });
    out.push(opMsg({ update: 'listings', ordered: false, $db: 'market' }, 'updates', stmts));
  }
  return out;
}

let gcMs = 0;
new PerformanceObserver((list) => { for (const e of list.getEntries()) gcMs += e.duration; }).observe({ entryTypes: ['gc'] });
const tick = () => new Promise((r) => setTimeout(r, 20)); // the observer's entries arrive on a later turn

(async () => {
  const sums = Object.fromEntries(variants.map((v) => [v, { cpu: 0, gc: 0 }]));
  let at = n;
  for (let round = 0; round < rounds; round++) {
    for (const v of round % 2 ? [...variants].reverse() : variants) {
      const msgs = updateMessages(at, at + burst);
      at += burst;
      if (global.gc) global.gc();
      await tick();
      wire.options.lazySequences = v === 'lazy';
      const gc0 = gcMs;
      const c0 = process.cpuUsage();
      for (const m of msgs) send(m);
      const c = process.cpuUsage(c0);
      await tick();
      const ms = (c.user + c.system) / 1000;
      sums[v].cpu += ms;
      sums[v].gc += gcMs - gc0;
      console.log(`round ${round} ${v}: ${(ms / burst).toFixed(3)} cpu-ms per upsert, GC ${((gcMs - gc0) / burst).toFixed(3)} ms per upsert`);
    }
  }
  wire.options.lazySequences = true;
  const per = (x) => (x / (rounds * burst)).toFixed(3);
  console.log(`in all (${rounds} rounds of ${burst} after ${n}): ` +
    `${variants.map((v) => `${v} ${per(sums[v].cpu)} cpu-ms (GC ${per(sums[v].gc)})`).join(', ')} per upsert; ` +
    `load ${require('os').loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  process.exit(0);
})();
