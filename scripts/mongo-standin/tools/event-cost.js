'use strict';
// The projector's steady state in process (not a test): one listing created per event, applied
// as the projector applies a batch of one (src/projector: the versioned upsert, the seller's
// document read back, the seller's active listings recounted and set, the checkpoint), plus the
// two finds by _id a watcher of scripts/bench-projector's lag run makes per write. Each command
// goes through server.js handleMessage (wire parse, command, reply) against a store filled with
// N demo listings and marketd's nine listing indexes. The command shapes are the ones the live
// projector sent (captured from a stand-in's inspector during a lag run).
//
// Prints CPU-µs and allocated KB per event (allocation: a sampling heap profile with the
// garbage counted, node:inspector), by command, and the top allocating functions. Allocation
// matters beyond its own cost: while V8 marks the old generation, its allocation observers
// take marking steps inside a request's allocations (1.4–28 ms each on the two busy cores of
// the README's fourteenth pass).
//   node --max-semi-space-size=2 --expose-gc tools/event-cost.js [--docs N] [--events E] [--top K] [--cpu-only]
// --cpu-only: no heap sampling (it slows every allocation): CPU per event alone.
// DETAIL=name (a part of a command's name, e.g. update_listings) also prints that command's
// allocating call stacks, DEPTH frames deep (default 8).
const BSON = require('bson');
const { Long, Int32, Double } = BSON;
const { Store } = require('../lib/store');
const { CursorRegistry } = require('../lib/cursors');
const wire = require('../lib/wire');
const { handleMessage } = require('../server');
const { demoListings, versionedUpsert, LISTING_INDEXES } = require('./demo-docs');
const { toolOptions, opMsg } = require('./standin-process');

const { opt, docs: N } = toolOptions();
const EVENTS = Number(opt('--events', 3000));
const TOP = Number(opt('--top', 25));
const CPU_ONLY = process.argv.includes('--cpu-only');

const replies = new wire.ReplyBuffers();
const ctx = {
  store: new Store(), cursors: new CursorRegistry(), connections: new Set(), startedAt: Date.now(), log: console.log,
  conn: { id: 1, remote: 'harness' }, rawReplies: true, allocReply: replies.alloc,
};

const check = (reply) => {
  const r = BSON.deserialize(reply.subarray(21));
  if (r.ok !== 1 || r.writeErrors) throw new Error(JSON.stringify(r).slice(0, 500));
  return r;
};
const send = (msg) => check(handleMessage(ctx, msg));

// The load: N demo listings by 200 sellers, all nine indexes.
send(opMsg({ createIndexes: 'listings', indexes: LISTING_INDEXES, $db: 'market' }));
const { docs } = demoListings(N, { seed: 5, sellers: 200 });
for (let i = 0; i < N; i += 500) {
  send(opMsg({ update: 'listings', ordered: false, $db: 'market' }, 'updates',
    docs.slice(i, i + 500).map((d, k) => versionedUpsert(d, i + k + 1))));
}
const lsid = { id: new BSON.Binary(Buffer.alloc(16, 7), 4) };
const SELLERS = Array.from({ length: 10 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
for (const s of SELLERS) {
  send(opMsg({ update: 'sellers', ordered: true, $db: 'market', lsid }, 'updates', [{
    q: { _id: s, version: { $lt: Long.fromNumber(1) } },
    u: { $set: { display_name: 'Lag Bench', bio: '', avatar_url: null, member_since: '2026-11-29T20:10:55Z', version: Long.fromNumber(1), seq: Long.fromNumber(1) },
      $setOnInsert: { rating: { average: null, count: Long.fromNumber(0) }, active_listings: Long.fromNumber(0) } },
    upsert: true,
  }]));
}
send(opMsg({ update: 'projector_state', ordered: true, $db: 'market', lsid }, 'updates', [{
  q: { _id: 'checkpoint' }, u: { $set: { generation: Long.fromNumber(2), txid: '1', seq: Long.fromNumber(1), rebuilding: false } }, upsert: true,
}]));

/** Event k's messages, named by command (built before the measurement: their bytes are the client's). */
function eventMessages(k) {
  const id = `10000000-0000-4000-8000-${String(k).padStart(12, '0')}`;
  const seller = SELLERS[k % SELLERS.length];
  const seq = Long.fromNumber(N + 100 + k);
  const now = '2026-11-29T20:11:24Z';
  const listing = {
    id, seller_id: seller, title: `Lag bench lamp ${k}`, description: `A brass desk lamp, working, slot ${k}`,
    category: 'furniture', category_path: ['furniture'], condition: 'good', price_minor: new Int32(1000), currency: 'EUR',
    location: { lat: new Double(52.52), lon: new Double(13.405), city: 'Berlin', country: 'DE' }, attributes: {},
    status: 'active', created_at: now, updated_at: now, created_us: Long.fromNumber(1795983084902429 + k), images: [],
    sold_us: null, title_words: ['lag', 'bench', 'lamp'], keywords: ['lag', 'bench', 'lamp', 'brass', 'desk', 'working', 'slot'],
    geo: { type: 'Point', coordinates: [new Double(13.405), new Double(52.52)] },
    seller: { id: seller, display_name: 'Lag Bench', rating: { average: null, count: Long.fromNumber(0) } },
    version: Long.fromNumber(1), seq,
  };
  const findById = () => opMsg({ find: 'listings', filter: { _id: id }, projection: { _id: new Int32(1) }, $db: 'market', lsid });
  return [
    ['update listings', opMsg({ update: 'listings', ordered: false, $db: 'market', lsid }, 'updates', [{
      q: { _id: id, version: { $lt: Long.fromNumber(1) } },
      u: { $set: listing, $setOnInsert: { favorites: Long.fromNumber(0), views: Long.fromNumber(0) } }, upsert: true, multi: false,
    }])],
    ['find sellers', opMsg({ find: 'sellers', filter: { _id: { $in: [seller] } }, $db: 'market', lsid })],
    ['aggregate recount', opMsg({ aggregate: 'listings', pipeline: [
      { $match: { seller_id: { $in: [seller] }, status: 'active' } },
      { $group: { _id: '$seller_id', n: { $sum: new Int32(1) } } }], cursor: {}, $db: 'market', lsid })],
    ['update sellers', opMsg({ update: 'sellers', ordered: true, $db: 'market', lsid }, 'updates', [{
      q: { _id: seller }, u: { $set: { active_listings: Long.fromNumber(1 + Math.floor(k / SELLERS.length)) } } }])],
    ['update checkpoint', opMsg({ update: 'projector_state', ordered: true, $db: 'market', lsid }, 'updates', [{
      q: { _id: 'checkpoint', generation: Long.fromNumber(2) },
      u: { $set: { txid: String(1000 + k), seq, rebuilding: false, updated_at: new Date(1795983055000 + k) } } }])],
    ['find by _id (watcher)', findById()],
    ['find by _id (watcher)', findById()],
  ];
}

const warm = Math.min(500, EVENTS);
const all = Array.from({ length: warm + EVENTS }, (_, k) => eventMessages(k));
for (let k = 0; k < warm; k++) for (const [, m] of all[k]) send(m);
if (global.gc) global.gc();

const session = CPU_ONLY ? null : new (require('node:inspector').Session)();
if (session) {
  session.connect();
  session.post('HeapProfiler.enable');
  session.post('HeapProfiler.startSampling', {
    samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true,
  });
}
const cpu = new Map();
const cpuNow = () => { const u = process.cpuUsage(); return u.user + u.system; };
// The sampled allocations are attributed to a command by the stack's marker function.
const markers = {};
for (const [name] of all[0]) {
  const key = `cmd_${name.replace(/\W+/g, '_')}`;
  // eslint-disable-next-line no-new-func
  if (!markers[name]) markers[name] = new Function('handle', `return function ${key}(m) { return handle(m); }`)((m) => handleMessage(ctx, m));
}
const t0 = cpuNow();
for (let k = warm; k < warm + EVENTS; k++) {
  for (const [name, m] of all[k]) {
    const c = cpuNow();
    const reply = markers[name](m);
    cpu.set(name, (cpu.get(name) || 0) + cpuNow() - c);
    check(reply); // the client's decoding: neither timed nor counted
  }
}
const total = cpuNow() - t0;
if (CPU_ONLY) {
  console.log(`${N} listings, ${EVENTS} events: ${(total / EVENTS).toFixed(0)} cpu-µs per event`);
  for (const [name] of Object.entries(markers)) console.log(`  ${name.padEnd(24)} ${((cpu.get(name) || 0) / EVENTS).toFixed(0).padStart(6)} µs`);
  process.exit(0);
}
session.post('HeapProfiler.stopSampling', (err, r) => {
  if (err) throw err;
  const byCmd = new Map();
  const self = new Map();
  let sum = 0;
  const detail = new Map();
  const parents = new Map();
  const stackOf = (n) => { const out = []; for (let x = n; x && out.length < Number(process.env.DEPTH || 8); x = parents.get(x)) out.push(`${x.callFrame.functionName || '(anon)'}:${x.callFrame.lineNumber + 1}`); return out.join(' < '); };
  const walk = (n, cmd) => {
    for (const ch of n.children) parents.set(ch, n);
    const f = n.callFrame.functionName;
    const c = f.startsWith('cmd_') ? f : cmd;
    if (c) {
      byCmd.set(c, (byCmd.get(c) || 0) + n.selfSize);
      const k = `${f || '(anon)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber + 1}`;
      self.set(k, (self.get(k) || 0) + n.selfSize);
      if (process.env.DETAIL && c.includes(process.env.DETAIL)) detail.set(stackOf(n), (detail.get(stackOf(n)) || 0) + n.selfSize);
      sum += n.selfSize;
    }
    for (const ch of n.children) walk(ch, c);
  };
  walk(r.profile.head, null);
  console.log(`${N} listings, ${EVENTS} events: ${(total / EVENTS).toFixed(0)} cpu-µs and ${(sum / EVENTS / 1024).toFixed(1)} KB allocated per event`);
  for (const [name] of Object.entries(markers)) {
    const key = `cmd_${name.replace(/\W+/g, '_')}`;
    console.log(`  ${name.padEnd(24)} ${((cpu.get(name) || 0) / EVENTS).toFixed(0).padStart(6)} µs ${((byCmd.get(key) || 0) / EVENTS / 1024).toFixed(1).padStart(7)} KB`);
  }
  console.log('top allocating functions (KB per event):');
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`  ${(v / EVENTS / 1024).toFixed(2).padStart(7)} ${k}`);
  if (process.env.DETAIL) for (const [k, v] of [...detail].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`  ${(v / EVENTS / 1024).toFixed(2).padStart(7)} ${k}`);
  session.disconnect();
});
