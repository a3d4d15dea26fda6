'use strict';
// A burst of the projector's upserts as libmongoc sends them, in process (not a test): OP_MSG
// messages of an unordered `update` (a body {update, ordered: false, $db} and the statements in
// an `updates` document sequence), each through server.js handleMessage (parse, command,
// reply), into a collection filled as a projector's rebuild fills it (the rebuild's two listing
// indexes, N versioned upserts in messages of 500, then createIndexes of the other seven).
// Then R rounds of a burst of M new listings per variant, the variants taking turns on the
// same heap (the wire's A/B; the index entries' batch path is this tree's in both):
//   eager: every document of a sequence decoded when the message is parsed and kept until the
//          command ends (before issue 19's tenth pass)
//   lazy:  decoded to be checked, then again when the command reads it (wire.js sequenceOf)
// HEAP_PROFILE=prefix: a sampling heap profile of each variant's last burst (prefix.VARIANT.heapprofile,
// Chrome's DevTools), of the allocations that survived the scavenges (promoted: what the old
// generation's marking then walks).
// Prints per burst: CPU-ms per upsert (the process: V8's concurrent marking threads included),
// the GC pauses per upsert (perf_hooks: wall time, inflated on a loaded machine), the major GCs, and the old generation's
// growth per upsert (heap used after the burst less before it; with --gc-between a full GC
// runs before each burst, untimed, so that growth is what the burst promoted: live data and
// promoted garbage, while no major GC falls in the burst).
//   node --max-semi-space-size=2 --expose-gc tools/burst-wire.js [--docs N] [--burst M]
//        [--rounds R] [--gc-between] [--variants eager,lazy]
const { PerformanceObserver, constants } = require('node:perf_hooks');
const BSON = require('bson');
const { Store } = require('../lib/store');
const { CursorRegistry } = require('../lib/cursors');
const wire = require('../lib/wire');
const { handleMessage } = require('../server');
const { demoListings, versionedUpsert, LISTING_INDEXES, REBUILD_INDEXES } = require('./demo-docs');
const { toolOptions, opMsg } = require('./standin-process');

const { args, opt, docs: N } = toolOptions();
const BURST = Number(opt('--burst', 2000));
const ROUNDS = Number(opt('--rounds', 3));
const GC_BETWEEN = args.includes('--gc-between');
const VARIANTS = opt('--variants', 'eager,lazy').split(',');
const BATCH = 500;

const replies = new wire.ReplyBuffers();
const ctx = {
  store: new Store(), cursors: new CursorRegistry(), connections: new Set(), startedAt: Date.now(), log: console.log,
  conn: { id: 1, remote: 'harness' }, rawReplies: true, allocReply: replies.alloc,
};


const send = (msg) => {
  const r = BSON.deserialize(handleMessage(ctx, msg).subarray(21));
  if (r.ok !== 1 || r.writeErrors) throw new Error(JSON.stringify(r).slice(0, 500));
};

/** The projector's versioned upserts of docs[from, to) (src/projector/projections.c) as messages of BATCH. */
function upsertMessages(docs, from, to) {
  const out = [];
  for (let i = from; i < to; i += BATCH) {
    const updates = docs.slice(i, Math.min(i + BATCH, to)).map((d, k) => versionedUpsert(d, i + k + 1));
    out.push(opMsg({ update: 'listings', ordered: false, $db: 'market' }, 'updates', updates));
  }
  return out;
}

const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
let gcMs = 0;
let majors = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcMs += e.duration;
    if (e.detail && e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++;
  }
}).observe({ entryTypes: ['gc'] });

const rebuild = LISTING_INDEXES.filter((i) => REBUILD_INDEXES.includes(i.name));
send(opMsg({ createIndexes: 'listings', indexes: rebuild, $db: 'market' }));
let { docs } = demoListings(N + BURST * ROUNDS * VARIANTS.length, { seed: 11, sellers: 200 });
// The bursts' messages are built before the load (their bytes are outside the heap), the
// documents dropped: neither is part of what a burst's GCs walk.
const bursts = [];
for (let k = 0; k < ROUNDS * VARIANTS.length; k++) bursts.push(upsertMessages(docs, N + k * BURST, N + (k + 1) * BURST));
let t = cpuMs();
for (let i = 0; i < N; i += 20 * BATCH) {
  for (const m of upsertMessages(docs, i, Math.min(N, i + 20 * BATCH))) send(m);
}
docs = null;
send(opMsg({ createIndexes: 'listings', indexes: LISTING_INDEXES.filter((i) => !REBUILD_INDEXES.includes(i.name)), $db: 'market' }));
console.log(`loaded ${N} listings: ${((cpuMs() - t) / 1000).toFixed(1)} cpu-s`);
if (global.gc) global.gc();
const heapUsed = () => process.memoryUsage().heapUsed;
console.log(`heap after a full GC: ${(heapUsed() / 1e6).toFixed(0)} MB`);

const tick = () => new Promise((r) => setTimeout(r, 0)); // perf_hooks delivers GC entries from the event loop
/** A sampling heap profile of what a burst allocated and its scavenges did not free (HEAP_PROFILE=file). */
function heapSampler() {
  const session = new (require('node:inspector').Session)();
  session.connect();
  session.post('HeapProfiler.enable');
  session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true });
  return (file) => session.post('HeapProfiler.stopSampling', (err, r) => {
    if (err) throw err;
    require('node:fs').writeFileSync(file, JSON.stringify(r.profile));
    session.disconnect();
  });
}

async function rounds() {
const sums = Object.fromEntries(VARIANTS.map((v) => [v, { cpu: 0, gc: 0, majors: 0, n: 0 }]));
let k = 0;
for (let round = 0; round < ROUNDS; round++) {
  for (const v of round % 2 ? [...VARIANTS].reverse() : VARIANTS) {
    wire.sequenceOptions.lazySequences = v === 'lazy';
    if (GC_BETWEEN && global.gc) global.gc();
    await tick();
    await tick();
    const h0 = heapUsed();
    const g0 = gcMs;
    const m0 = majors;
    const sampler = process.env.HEAP_PROFILE && round === ROUNDS - 1 ? heapSampler() : null;
    t = cpuMs();
    for (const m of bursts[k]) send(m);
    const cpu = cpuMs() - t;
    if (sampler) sampler(`${process.env.HEAP_PROFILE}.${v}.heapprofile`);
    bursts[k++] = null;
    const h1 = heapUsed();
    await tick();
    await tick();
    const gcs = gcMs - g0;
    const mgcs = majors - m0;
    let live = '';
    if (GC_BETWEEN && global.gc) {
      global.gc();
      live = `, ${((heapUsed() - h0) / BURST / 1024).toFixed(1)} KB live`;
    }
    const s = sums[v];
    s.cpu += cpu; s.gc += gcs; s.majors += mgcs; s.n += BURST;
    console.log(`round ${round} ${v.padEnd(5)}: ${(cpu / BURST).toFixed(3)} cpu-ms per upsert, GC pauses ${(gcs / BURST).toFixed(3)} ms (wall) per upsert, ` +
      `${mgcs} major GCs, heap ${((h1 - h0) / BURST / 1024).toFixed(1)} KB per upsert${live}`);
  }
}
wire.sequenceOptions.lazySequences = true;
console.log(`in all: ${VARIANTS.map((v) => `${v} ${(sums[v].cpu / sums[v].n).toFixed(3)} cpu-ms (GC pauses ${(sums[v].gc / sums[v].n).toFixed(3)} ms wall, ${sums[v].majors} major GCs)`).join('; ')} per upsert`);
}
rounds();
