#!/usr/bin/env node
'use strict';
/*
 * The stand-in's CPU per query on a running stack's own read model and queries (not a test):
 * the listings and indexes are copied out of a running stand-in, the queries the query pool
 * sent are taken from its profiler during a benchmark, and both are replayed in process,
 * through server.js handleMessage (wire parse, command, the reply's bytes as for a socket),
 * against one or more stand-in trees, each in a child process of its own, taking turns
 * round by round (A/B on the same data and the same queries).
 *
 *   node tools/replay-cpu.js dump PORT DB DIR
 *       DIR/listings.bson (every document of DB.listings) and DIR/indexes.bson (listIndexes)
 *   node tools/replay-cpu.js capture PORT DB DIR SECONDS
 *       profile level 2 on DB for SECONDS (run scripts/bench-cpu meanwhile), then every
 *       aggregate/find on DB.listings it recorded, in order, to DIR/queries.bson; the profile
 *       is turned off and system.profile dropped
 *   node tools/replay-cpu.js replay DIR [--rounds 3] [--passes 1] [--node-flags "..."]
 *        [--standin TREE[::ENV=V,...]]... [--cpu-prof PROFDIR (the rounds' profile per tree)] [--only SHAPE] [--indexes A,B]
 *       loads DIR into each tree's stand-in (inserts, then createIndexes as the projector's
 *       rebuild does), runs the queries once to warm up, then `rounds` rounds of `passes`
 *       passes over them per tree, in turn; prints CPU ms per query (process.cpuUsage of
 *       the child: user + system) overall and per shape, keys and documents examined per
 *       shape (a profiled pass after the rounds), and the reply cache's counters.
 *       ENV=V pairs are set in that child's environment (STANDIN_REPLY_CACHE_MB=0, ...;
 *       REPLAY_DIR=OTHER: that tree loads OTHER, e.g. the same listings and queries with
 *       another indexes.bson).
 *       --only: the queries of the shapes whose name holds SHAPE; --indexes: only these
 *       indexes are built (a faster load for one shape's plan).
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const { fork } = require('child_process');

const BSON = require('bson');
const { STANDIN_NODE_FLAGS } = require('./standin-process');

const DESER = { promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: false };

/** The shape of a captured browse command (scripts/bench's mix, as browse.c sends it). */
function shapeOf(cmd) {
  const p = cmd.pipeline;
  if (!Array.isArray(p)) return cmd.find ? 'find' : 'other';
  const first = p[0] || {};
  if (first.$geoNear) return 'words near, by distance';
  const m = first.$match || {};
  const sort = (p.find((s) => s.$sort) || {}).$sort || {};
  if (m.keywords && (m.title_words || m.$expr)) return `relevance tier${m.title_words && m.title_words.$all ? ' (all in title)' : m.$expr ? ' (some in title)' : ' (none in title)'}`;
  if (m.seller_id) return "a seller's listings";
  if (Object.keys(m).some((k) => k.startsWith('attributes.'))) return 'attribute filter';
  if ('price_minor' in sort) return 'price range by price';
  if (m.category_path) return 'category + newest';
  return 'other';
}

function writeDocs(file, docs) {
  const fd = fs.openSync(file, 'w');
  for (const d of docs) fs.writeSync(fd, BSON.serialize(d));
  fs.closeSync(fd);
}

function readDocs(file) {
  const buf = fs.readFileSync(file);
  const out = [];
  for (let at = 0; at < buf.length;) {
    const n = buf.readInt32LE(at);
    out.push(BSON.deserialize(buf.subarray(at, at + n), DESER));
    at += n;
  }
  return out;
}

async function dump(port, db, dir) {
  const { WireClient } = require('./wireclient');
  const c = await WireClient.connect(Number(port));
  fs.mkdirSync(dir, { recursive: true });
  const idx = await c.run(db, { listIndexes: 'listings' });
  writeDocs(path.join(dir, 'indexes.bson'), idx.cursor.firstBatch);
  const fd = fs.openSync(path.join(dir, 'listings.bson'), 'w');
  let n = 0;
  let r = await c.run(db, { find: 'listings', filter: {}, batchSize: 5000 });
  for (;;) {
    const batch = r.cursor.firstBatch || r.cursor.nextBatch;
    for (const d of batch) fs.writeSync(fd, BSON.serialize(d));
    n += batch.length;
    if (r.cursor.id.isZero()) break;
    r = await c.run(db, { getMore: r.cursor.id, collection: 'listings', batchSize: 5000 });
  }
  fs.closeSync(fd);
  c.close();
  console.log(`${n} listings, ${idx.cursor.firstBatch.length} indexes written to ${dir}`);
}

const TRANSIENT = new Set(['$db', 'lsid', '$clusterTime', '$readPreference', 'txnNumber', 'apiVersion']);

async function capture(port, db, dir, seconds) {
  const { WireClient } = require('./wireclient');
  const c = await WireClient.connect(Number(port));
  await c.run(db, { profile: 0 });
  await c.command(db, { drop: 'system.profile' });
  await c.run(db, { profile: 2 });
  console.log(`profiling ${db} for ${seconds} s`);
  await new Promise((r) => setTimeout(r, Number(seconds) * 1000));
  await c.run(db, { profile: 0 });
  const all = [];
  let r = await c.run(db, { find: 'system.profile', filter: { ns: `${db}.listings` }, batchSize: 5000 });
  for (;;) {
    all.push(...(r.cursor.firstBatch || r.cursor.nextBatch));
    if (r.cursor.id.isZero()) break;
    r = await c.run(db, { getMore: r.cursor.id, collection: 'system.profile', batchSize: 5000 });
  }
  await c.command(db, { drop: 'system.profile' });
  c.close();
  const cmds = all.filter((e) => e.command && (e.command.aggregate || e.command.find)).map((e) => {
    const cmd = {};
    for (const k of Object.keys(e.command)) if (!TRANSIENT.has(k)) cmd[k] = e.command[k];
    return cmd;
  });
  fs.mkdirSync(dir, { recursive: true });
  writeDocs(path.join(dir, 'queries.bson'), cmds);
  const counts = {};
  for (const q of cmds) counts[shapeOf(q)] = (counts[shapeOf(q)] || 0) + 1;
  console.log(`${cmds.length} queries of ${all.length} profiled operations written to ${dir}:`, counts);
}

// ---- the child: one stand-in tree, driven over IPC -------------------------------------------

function child(tree, dirArg) {
  const dir = process.env.REPLAY_DIR || dirArg; // --standin TREE::REPLAY_DIR=...: another index set
  const { handleMessage } = require(path.join(tree, 'server.js'));
  const { Store } = require(path.join(tree, 'lib/store'));
  const { CursorRegistry } = require(path.join(tree, 'lib/cursors'));
  const wire = require(path.join(tree, 'lib/wire'));
  const replyCache = require(path.join(tree, 'lib/replycache'));
  const out = new wire.ReplyBuffers();
  const ctx = {
    store: new Store(), cursors: new CursorRegistry(), connections: new Set(), conn: { id: 1, remote: 'replay' },
    log: (m) => process.stderr.write(`${m}\n`), rawReplies: true, allocReply: out.alloc,
  };
  let rid = 1;
  const msg = (db, cmd) => {
    const body = BSON.serialize({ ...cmd, $db: db });
    const head = Buffer.alloc(21);
    head.writeInt32LE(21 + body.length, 0);
    head.writeInt32LE(rid++, 4);
    head.writeInt32LE(2013, 12);
    return Buffer.concat([head, body]);
  };
  const reply = (buf) => BSON.deserialize(buf.subarray(21), DESER);
  const run = (db, cmd) => {
    const r = reply(handleMessage(ctx, msg(db, cmd)));
    if (!r.ok || r.ok.valueOf() !== 1) throw new Error(`${Object.keys(cmd)[0]} failed: ${r.errmsg}`);
    return r;
  };
  const DB = 'market';
  const t0 = Date.now();
  const docs = readDocs(path.join(dir, 'listings.bson'));
  for (let i = 0; i < docs.length; i += 1000) run(DB, { insert: 'listings', documents: docs.slice(i, i + 1000) });
  docs.length = 0;
  const wanted = (process.env.REPLAY_INDEXES || '').split(',').filter(Boolean);
  const indexes = readDocs(path.join(dir, 'indexes.bson')).filter((i) => i.name !== '_id_' && (!wanted.length || wanted.includes(i.name))).map((i) => {
    const { v, ns, ...spec } = i;
    return spec;
  });
  run(DB, { createIndexes: 'listings', indexes });
  const queries = readDocs(path.join(dir, 'queries.bson'));
  const only = process.env.REPLAY_ONLY || '';
  const picked = queries.map((q) => ({ shape: shapeOf(q), q })).filter(({ shape }) => !only || shape.includes(only));
  const bufs = picked.map(({ q }) => msg(DB, q));
  const shapes = [...new Set(picked.map((p) => p.shape))].sort();
  const shapeNo = picked.map((p) => shapes.indexOf(p.shape));
  if (global.gc) global.gc();
  process.send({ ready: true, loadMs: Date.now() - t0, queries: bufs.length, shapes, heapMB: process.memoryUsage().heapUsed / 1048576 });
  const pass = () => {
    const per = new Float64Array(shapes.length);
    const n = new Float64Array(shapes.length);
    // One getrusage per query (exact to the microsecond on Linux), charged to its shape.
    let t0 = process.cpuUsage();
    for (let i = 0; i < bufs.length; i++) {
      handleMessage(ctx, bufs[i]);
      const t = process.cpuUsage();
      per[shapeNo[i]] += (t.user + t.system - t0.user - t0.system) / 1000;
      n[shapeNo[i]]++;
      t0 = t;
    }
    return { per: [...per], n: [...n] };
  };
  // --cpu-prof: the rounds only (not the load), through the inspector, written at exit.
  let session = null;
  const profStart = () => {
    if (!process.env.REPLAY_PROF || session) return;
    session = new (require('inspector').Session)();
    session.connect();
    session.post('Profiler.enable');
    session.post('Profiler.setSamplingInterval', { interval: 200 });
    session.post('Profiler.start');
  };
  const profStop = (done) => {
    if (!session) { done(); return; }
    session.post('Profiler.stop', (err, { profile }) => {
      if (!err) fs.writeFileSync(process.env.REPLAY_PROF, JSON.stringify(profile));
      done();
    });
  };
  process.on('message', (m) => {
    if (m.warm) {
      pass();
      process.send({ warmed: true });
    } else if (m.round) {
      profStart();
      const c0 = process.cpuUsage();
      const per = new Array(shapes.length).fill(0);
      const n = new Array(shapes.length).fill(0);
      for (let p = 0; p < m.passes; p++) {
        const r = pass();
        r.per.forEach((x, k) => { per[k] += x; n[k] += r.n[k]; });
      }
      const c = process.cpuUsage(c0);
      process.send({ ms: (c.user + c.system) / 1000 / (bufs.length * m.passes), per, n });
    } else if (m.profile) {
      if (session) {
        profStop(() => {});
        session = null;
      }
      run(DB, { profile: 2 });
      for (const b of bufs) handleMessage(ctx, b);
      run(DB, { profile: 0 });
      const prof = [];
      let r = run(DB, { find: 'system.profile', filter: { ns: `${DB}.listings` }, batchSize: 20000 });
      prof.push(...r.cursor.firstBatch);
      while (!r.cursor.id.isZero()) {
        r = run(DB, { getMore: r.cursor.id, collection: 'system.profile', batchSize: 20000 });
        prof.push(...r.cursor.nextBatch);
      }
      run(DB, { drop: 'system.profile' });
      const keys = new Array(shapes.length).fill(0);
      const docsX = new Array(shapes.length).fill(0);
      const ret = new Array(shapes.length).fill(0);
      const cnt = new Array(shapes.length).fill(0);
      for (const e of prof) {
        const k = shapes.indexOf(shapeOf(e.command));
        if (k < 0) continue;
        keys[k] += Number(e.keysExamined);
        docsX[k] += Number(e.docsExamined);
        ret[k] += Number(e.nreturned || 0);
        cnt[k]++;
      }
      const rc = replyCache.cache.status ? replyCache.cache.status() : null;
      process.send({ keys, docs: docsX, ret, cnt, rc: rc && Object.fromEntries(Object.entries(rc).map(([k, v]) => [k, Number(v)])) });
    } else if (m.exit) {
      process.exit(0);
    }
  });
}

// ---- the parent ------------------------------------------------------------------------------

function opts(args) {
  const o = { trees: [], rounds: 3, passes: 1, nodeFlags: [...STANDIN_NODE_FLAGS, '--expose-gc'], prof: '', only: '' };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--standin') o.trees.push(args[++i]);
    else if (a === '--rounds') o.rounds = Number(args[++i]);
    else if (a === '--passes') o.passes = Number(args[++i]);
    else if (a === '--node-flags') o.nodeFlags = args[++i].split(' ').filter(Boolean);
    else if (a === '--cpu-prof') o.prof = args[++i];
    else if (a === '--only') o.only = args[++i];
    else if (a === '--indexes') o.indexes = args[++i];
    else throw new Error(`unknown option ${a}`);
  }
  if (!o.trees.length) o.trees.push(path.join(__dirname, '..'));
  return o;
}

const once = (ch, key) => new Promise((resolve, reject) => {
  const on = (m) => { if (m[key] !== undefined) { ch.off('message', on); resolve(m); } };
  ch.on('message', on);
  ch.once('exit', (code) => reject(new Error(`child exited ${code}`)));
});

async function replay(dir, args) {
  const o = opts(args);
  const kids = [];
  try {
    for (const spec of o.trees) {
      const [tree, envText] = spec.split('::');
      const env = { ...process.env, REPLAY_ONLY: o.only, REPLAY_INDEXES: o.indexes || '' };
      for (const kv of (envText || '').split(',').filter(Boolean)) {
        const [k, v] = kv.split('=');
        env[k] = v;
      }
      if (o.prof) env.REPLAY_PROF = path.join(path.resolve(o.prof), `${kids.length}-${path.basename(path.resolve(tree, '..', '..'))}.cpuprofile`);
      const flags = o.nodeFlags;
      const ch = fork(__filename, ['child', path.resolve(tree), path.resolve(dir)], { execArgv: flags, env });
      const ready = await once(ch, 'ready');
      console.log(`${spec}: loaded in ${(ready.loadMs / 1000).toFixed(1)} s, heap ${ready.heapMB.toFixed(0)} MB, ${ready.queries} queries`);
      kids.push({ spec, ch, shapes: ready.shapes, totals: [] });
    }
    for (const k of kids) {
      k.ch.send({ warm: true });
      await once(k.ch, 'warmed');
    }
    const la = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
    console.log(`load average ${la()}`);
    for (let r = 0; r < o.rounds; r++) {
      for (const k of kids) {
        k.ch.send({ round: true, passes: o.passes });
        const m = await once(k.ch, 'ms');
        k.totals.push(m.ms);
        const detail = k.shapes.map((s, i) => `${s} ${(m.per[i] / Math.max(1, m.n[i])).toFixed(3)}`).join(', ');
        console.log(`round ${r + 1} ${k.spec}: ${m.ms.toFixed(3)} ms CPU per query (${detail})`);
      }
    }
    for (const k of kids) {
      const t = [...k.totals].sort((a, b) => a - b);
      console.log(`${k.spec}: ${t.map((x) => x.toFixed(3)).join(' ')} ms per query (median ${t[Math.floor(t.length / 2)].toFixed(3)})`);
      k.ch.send({ profile: true });
      const p = await once(k.ch, 'keys');
      for (const [i, s] of k.shapes.entries()) {
        const c = Math.max(1, p.cnt[i]);
        console.log(`  ${s.padEnd(36)} ${String(p.cnt[i]).padStart(6)} queries  keys ${(p.keys[i] / c).toFixed(1).padStart(8)}  docs ${(p.docs[i] / c).toFixed(1).padStart(8)}  returned ${(p.ret[i] / c).toFixed(1).padStart(6)}`);
      }
      if (p.rc) {
        const hits = p.rc.hits / Math.max(1, p.rc.hits + p.rc.misses);
        console.log(`  reply cache: ${(100 * hits).toFixed(1)} % hits (${p.rc.hits} of ${p.rc.hits + p.rc.misses}), ${p.rc.liveEntries} entries, ${(p.rc.liveBytes / 1048576).toFixed(1)} MB, ${p.rc.evicted} evicted`);
      }
    }
    console.log(`load average at the end ${la()}`);
  } finally {
    for (const k of kids) k.ch.send({ exit: true });
  }
}

function main() {
  const [mode, ...rest] = process.argv.slice(2);
  const run = {
    dump: () => dump(...rest),
    capture: () => capture(...rest),
    replay: () => replay(rest[0], rest.slice(1)),
    child: () => child(rest[0], rest[1]),
  }[mode];
  if (!run) {
    console.error('usage: replay-cpu.js dump PORT DB DIR | capture PORT DB DIR SECONDS | replay DIR [options]');
    process.exit(2);
  }
  Promise.resolve(run()).catch((e) => {
    console.error(e);
    process.exit(1);
  });
}

if (require.main === module) main(); // fixed-cpu.js takes shapeOf from here

module.exports = { shapeOf };
