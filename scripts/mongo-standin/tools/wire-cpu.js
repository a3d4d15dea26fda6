#!/usr/bin/env node
'use strict';
/*
 * The stand-in's CPU per query over the wire (not a test): the search mix's commands as
 * src/query/browse.c sends them, one at a time, against one or more stand-in processes
 * loaded alike; CPU from /proc/PID/stat (utime + stime) around each round.
 *   node tools/wire-cpu.js [--docs 10000] [--queries 2000] [--rounds 3] [--only TEXT]
 *        [--server "PATH [NODE FLAGS] [-- SERVER ARGS]"]... [--node-flags "..."] [--cpu-prof DIR]
 *        [--project 0,1,...]
 * Every --server (default this tree's server.js) gets the same documents and, round after
 * round, the same commands, the servers taking turns (so a loaded machine weighs on each
 * alike). --cpu-prof DIR starts the servers under node --cpu-prof (profiles in DIR, written
 * at exit). --project: per server (in --server order), 1 to end every pipeline with browse's
 * $project of the shown fields (src/query/browse.c since the plan cache pass), 0 without (as
 * browse sent them before). Prints, per server and round, the mix's CPU ms per query and per
 * shape, then each server's reply cache counters (serverStatus standinReplyCache, when it has
 * one). SERVER ARGS after `--` go to server.js (`-- --reply-cache-mb 0`: without the cache).
 */
const { toolOptions, startServer: start } = require('./standin-process');
const { WireClient } = require('./wireclient');
const { demoListings, LISTING_INDEXES } = require('./demo-docs');
const { Int32, Long, Double } = require('bson');
const fs = require('fs');
const os = require('os');
const path = require('path');

const { args, opt, docs: N, only: ONLY, nodeFlags: NODE_FLAGS } = toolOptions();
const QUERIES = Number(opt('--queries', 2000));
const ROUNDS = Number(opt('--rounds', 3));
const PROF = opt('--cpu-prof', '');
// --server "PATH [node flags...] [-- server args]": flags added to --node-flags for that server.
const servers = args.flatMap((a, i) => (a === '--server' ? [args[i + 1].split(' ').filter(Boolean)] : []))
  .map(([file, ...rest]) => {
    const cut = rest.indexOf('--');
    return { file: path.resolve(file), flags: cut < 0 ? rest : rest.slice(0, cut), serverArgs: cut < 0 ? [] : rest.slice(cut + 1) };
  });
if (!servers.length) servers.push({ file: path.join(__dirname, '..', 'server.js'), flags: [], serverArgs: [] });
const PROJECT = opt('--project', '').split(',').map((x) => x === '1');
const TICK_MS = 1000 / 100; // USER_HZ

const statTicks = (pid) => fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
const cpuMs = (pid) => {
  const f = statTicks(pid);
  return (Number(f[11]) + Number(f[12])) * TICK_MS; // utime, stime (fields 14, 15)
};
const sysMs = (pid) => Number(statTicks(pid)[12]) * TICK_MS; // the kernel's share (the socket)

const startServer = ({ file, flags, serverArgs }) => start(file, [...NODE_FLAGS, ...flags, ...(PROF ? ['--cpu-prof', '--cpu-prof-dir', PROF] : [])], serverArgs);

const L = (n) => new Int32(n);
// The listing fields browse shows and its cursor keys (src/query/readmodel.c LISTING_FIELDS).
const BROWSE_PROJECT = Object.fromEntries(['id', 'seller_id', 'title', 'description', 'category', 'condition',
  'price_minor', 'currency', 'location', 'attributes', 'images', 'status', 'version', 'created_at', 'updated_at',
  'seller', 'favorites', 'views', 'created_us', 'dist_m'].map((k) => [k, new Int32(1)]));
const projected = (cmd) => ({ ...cmd, pipeline: [...cmd.pipeline, { $project: BROWSE_PROJECT }] });
const NEWEST = { created_us: L(-1), _id: L(-1) };

/** The mix's commands, a deterministic function of the query number. */
function mix(data) {
  const { sellerIds, categories, cities, words } = data;
  const agg = (pipeline) => ({ aggregate: 'listings', pipeline, cursor: {} });
  const minp = (i) => ({ $gte: Long.fromNumber(1 + (i * 37) % 99) });
  const lim = (i) => L(11 + (i * 13) % 20);
  return {
    'category + newest': (i) => agg([{ $match: { status: 'active', category_path: categories[i % categories.length][0], price_minor: minp(i) } }, { $sort: NEWEST }, { $limit: lim(i) }]),
    'one word, top tier': (i) => { const w = words[(i * 7) % words.length]; return agg([{ $match: { status: 'active', keywords: { $all: [w] }, price_minor: minp(i), title_words: { $all: [w] } } }, { $sort: NEWEST }, { $limit: lim(i) }]); },
    'price range by price': (i) => { const lo = 1000 + (i * 7919) % 49000; return agg([{ $match: { status: 'active', price_minor: { $gte: Long.fromNumber(lo), $lte: Long.fromNumber(lo + 1000 + (i * 104729) % 99000) } } }, { $sort: { price_minor: L(1), _id: L(1) } }, { $limit: lim(i) }]); },
    'near a city, by distance': (i) => { const c = cities[i % cities.length]; return agg([{ $geoNear: { near: { type: 'Point', coordinates: [new Double(c[3] + ((i % 11) - 5) * 0.02), new Double(c[2] + ((i % 7) - 3) * 0.02)] }, distanceField: 'dist_m', maxDistance: new Double(1000 * (5 + (i * 31) % 195)), spherical: true, key: 'geo', query: { status: 'active', keywords: { $all: [words[(i * 3) % words.length]] }, price_minor: minp(i) } } }, { $sort: { dist_m: L(1), _id: L(1) } }, { $limit: lim(i) }]); },
    "a seller's listings": (i) => agg([{ $match: { status: 'active', seller_id: sellerIds[(i * 7919) % sellerIds.length], price_minor: minp(i) } }, { $sort: NEWEST }, { $limit: lim(i) }]),
    'attribute filter': (i) => agg([{ $match: { status: 'active', category_path: categories[i % categories.length][1], 'attributes.colour': ['red', 'blue'][i % 2], price_minor: minp(i) } }, { $sort: NEWEST }, { $limit: lim(i) }]),
  };
}

async function load(srv, docs) {
  const c = await WireClient.connect(srv.port);
  await c.run('bench', { createIndexes: 'listings', indexes: LISTING_INDEXES });
  for (let i = 0; i < docs.length; i += 1000) await c.run('bench', { insert: 'listings', documents: docs.slice(i, i + 1000) });
  srv.client = c;
}

async function main() {
  const data = demoListings(N, { seed: 42 });
  const shapes = Object.entries(mix(data)).filter(([name]) => !ONLY || name.includes(ONLY));
  const started = [];
  try {
    for (const srv of servers) {
      const s = await startServer(srv);
      const project = PROJECT[started.length] === true;
      const shown = [srv.file, ...srv.flags, ...(srv.serverArgs.length ? ['--', ...srv.serverArgs] : [])].join(' ');
      started.push(Object.assign(s, { file: shown + (project ? ' ($project)' : ''), project }));
    }
    for (const srv of started) await load(srv, data.docs);
    // Warm-up (JIT) and a settled heap before the first round.
    const cmdOf = (srv, make, i) => (srv.project ? projected(make(i)) : make(i));
    for (const srv of started) for (let i = 0; i < 200; i++) for (const [, make] of shapes) await srv.client.run('bench', cmdOf(srv, make, i));
    console.log(`${N} listings, ${QUERIES} queries a round (the shapes in turn), load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    const totals = started.map(() => []);
    for (let r = 0; r < ROUNDS; r++) {
      for (const [s, srv] of started.entries()) {
        const per = shapes.map(() => 0);
        let returned = 0;
        const t0 = cpuMs(srv.child.pid);
        const s0 = sysMs(srv.child.pid);
        for (let q = 0; q < QUERIES; q++) {
          const k = q % shapes.length;
          const c0 = cpuMs(srv.child.pid); // 10 ms ticks: the per-shape split is an average over many
          const reply = await srv.client.run('bench', cmdOf(srv, shapes[k][1], r * QUERIES + q));
          returned += reply.cursor.firstBatch.length;
          per[k] += cpuMs(srv.child.pid) - c0;
        }
        const ms = (cpuMs(srv.child.pid) - t0) / QUERIES;
        const sys = (sysMs(srv.child.pid) - s0) / QUERIES;
        totals[s].push(ms);
        const detail = shapes.map(([name], k) => `${name} ${(per[k] / (QUERIES / shapes.length)).toFixed(2)}`).join(', ');
        console.log(`round ${r + 1} ${srv.file}: ${ms.toFixed(3)} ms CPU per query, ${sys.toFixed(3)} of it system (${(returned / QUERIES).toFixed(1)} documents a reply; ${detail})`);
      }
    }
    for (const [s, srv] of started.entries()) {
      const t = [...totals[s]].sort((a, b) => a - b);
      console.log(`${srv.file}: ${t.map((x) => x.toFixed(3)).join(' ')} ms per query (median ${t[Math.floor(t.length / 2)].toFixed(3)})`);
    }
    for (const srv of started) {
      const rc = (await srv.client.run('admin', { serverStatus: 1 })).standinReplyCache;
      if (!rc) continue;
      const n = (k) => Number(rc[k]);
      const rate = n('hits') / Math.max(1, n('hits') + n('misses'));
      console.log(`${srv.file}: reply cache ${(100 * rate).toFixed(1)} % hits (${n('hits')} of ${n('hits') + n('misses')} documents), ${n('liveEntries')} entries, ${(n('liveBytes') / 1048576).toFixed(1)} of ${(n('maxBytes') / 1048576).toFixed(0)} MB, ${n('evicted')} evicted`);
    }
    console.log(`load average at the end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  } finally {
    for (const srv of started) {
      if (srv.client) srv.client.close();
      srv.child.kill('SIGTERM');
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
