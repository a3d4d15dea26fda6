#!/usr/bin/env node
'use strict';
/*
 * Micro-benchmark and memory measurement of the stand-in over the wire (not a test).
 *   node tools/bench.js [--docs 10000] [--runs 30] [--rss-only] [--server PATH] [--node-flags "..."] [--only TEXT]
 * Starts its own stand-in (server.js, or --server) on a free port, creates marketd's
 * `listings` indexes, inserts demo-like listings (tools/demo-docs.js) in batches of 1000,
 * then times marketd's query shapes (median of --runs after 3 warm-up runs) and reports the server's RSS
 * (VmRSS of its process, total and per document).
 */
const fs = require('fs');
const path = require('path');
const { Int32, Long, Double } = require('bson');
const { WireClient } = require('./wireclient');
const { demoListings, LISTING_INDEXES } = require('./demo-docs');
const { toolOptions, startServer: start } = require('./standin-process');

const { args, opt, docs: N, only: ONLY, nodeFlags: NODE_FLAGS } = toolOptions();
const RUNS = Number(opt('--runs', 30));
const RSS_ONLY = args.includes('--rss-only');
const SERVER = path.resolve(opt('--server', path.join(__dirname, '..', 'server.js')));

const rssKb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

const startServer = () => start(SERVER, NODE_FLAGS);

async function timeIt(fn) {
  for (let i = 0; i < 3; i++) await fn(RUNS + i); // warm-up, not timed
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint();
    await fn(i);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

async function main() {
  const { child, port } = await startServer();
  const c = await WireClient.connect(port);
  const db = 'bench';
  try {
    const rss0 = rssKb(child.pid);
    await c.run(db, { createIndexes: 'listings', indexes: LISTING_INDEXES });
    const { docs, sellerIds, categories, cities } = demoListings(N, { seed: 42 });
    const t0 = Date.now();
    for (let i = 0; i < docs.length; i += 1000) {
      await c.run(db, { insert: 'listings', documents: docs.slice(i, i + 1000) });
    }
    const insertMs = Date.now() - t0;
    await c.run(db, { ping: 1 });
    const rss1 = rssKb(child.pid);
    console.log(`server: ${[...NODE_FLAGS, SERVER].join(' ')}`);
    console.log(`inserted ${N} listings in ${insertMs} ms`);
    console.log(`RSS: ${(rss0 / 1024).toFixed(1)} MB empty, ${(rss1 / 1024).toFixed(1)} MB with ${N} listings: ` +
      `${((rss1 * 1024) / N).toFixed(0)} bytes per listing in total, ${(((rss1 - rss0) * 1024) / N).toFixed(0)} added per listing`);
    // V8 keeps the garbage of the bulk load until its memory reducer runs on an idle heap:
    // the settled figure is read after some idle time (polled, reported with the wait).
    let settled = rss1;
    let waited = 0;
    for (; waited < 30; waited += 3) {
      await new Promise((r) => setTimeout(r, 3000));
      settled = Math.min(settled, rssKb(child.pid));
    }
    console.log(`RSS settled (lowest over ${waited} s idle): ${(settled / 1024).toFixed(1)} MB: ` +
      `${((settled * 1024) / N).toFixed(0)} bytes per listing in total, ${(((settled - rss0) * 1024) / N).toFixed(0)} added per listing`);
    if (RSS_ONLY) return;
    const ids = docs.map((d) => d._id);
    const L = (n) => new Int32(n);
    const shapes = {
      'find by _id': (i) => ({ find: 'listings', filter: { _id: ids[(i * 7919) % N] }, limit: L(1), singleBatch: true }),
      'find seller listings (sort created_us, limit 21)': (i) => ({ find: 'listings', filter: { seller_id: sellerIds[i % sellerIds.length], status: 'active' }, sort: { created_us: L(-1), _id: L(-1) }, limit: L(21) }),
      'find status active (sort created_us, limit 21)': () => ({ find: 'listings', filter: { status: 'active' }, sort: { created_us: L(-1), _id: L(-1) }, limit: L(21) }),
      'count by seller + status': (i) => ({ count: 'listings', query: { seller_id: sellerIds[i % sellerIds.length], status: 'active' } }),
      'browse category newest (aggregate)': (i) => ({ aggregate: 'listings', pipeline: [{ $match: { status: 'active', category_path: categories[i % categories.length][1] } }, { $sort: { created_us: L(-1), _id: L(-1) } }, { $limit: L(21) }], cursor: {} }),
      'browse price range asc (aggregate)': (i) => ({ aggregate: 'listings', pipeline: [{ $match: { status: 'active', price_minor: { $gte: Long.fromNumber(1000 + i * 100), $lte: Long.fromNumber(50000) } } }, { $sort: { price_minor: L(1), _id: L(1) } }, { $limit: L(21) }], cursor: {} }),
      'browse words relevance (aggregate)': () => ({ aggregate: 'listings', pipeline: [{ $match: { status: 'active', keywords: { $all: ['vintage', 'oak'] } } }, { $addFields: { score: { $add: [{ $multiply: [{ $size: { $setIntersection: ['$title_words', ['vintage', 'oak']] } }, L(10)] }, { $size: { $setIntersection: ['$keywords', ['vintage', 'oak']] } }] } } }, { $sort: { score: L(-1), created_us: L(-1), _id: L(-1) } }, { $limit: L(21) }], cursor: {} }),
      // One word (the bench mix's q): before, every listing holding it scored and sorted; after,
      // the relevance tiers of browse.c, newest first from an index, until the page is full.
      'words relevance, 1 word, scored (before)': () => ({ aggregate: 'listings', pipeline: [{ $match: { status: 'active', keywords: { $all: ['oak'] } } }, { $addFields: { score: { $add: [{ $multiply: [{ $size: { $setIntersection: ['$title_words', ['oak']] } }, L(10)] }, { $size: { $setIntersection: ['$keywords', ['oak']] } }] } } }, { $sort: { score: L(-1), created_us: L(-1), _id: L(-1) } }, { $limit: L(21) }], cursor: {} }),
      'words relevance, 1 word, top tier (after)': () => ({ aggregate: 'listings', pipeline: [{ $match: { status: 'active', keywords: { $all: ['oak'] }, title_words: { $all: ['oak'] } } }, { $sort: { created_us: L(-1), _id: L(-1) } }, { $limit: L(21) }], cursor: {} }),
      'words relevance, 1 word, tier 0 (after)': () => ({ aggregate: 'listings', pipeline: [{ $match: { status: 'active', keywords: { $all: ['oak'] }, title_words: { $nin: ['oak'] } } }, { $sort: { created_us: L(-1), _id: L(-1) } }, { $limit: L(21) }], cursor: {} }),
      'words relevance, 2 words, tier 1 (after)': () => ({ aggregate: 'listings', pipeline: [{ $match: { status: 'active', keywords: { $all: ['vintage', 'oak'] }, $expr: { $eq: [{ $size: { $setIntersection: ['$title_words', ['vintage', 'oak']] } }, L(1)] } } }, { $sort: { created_us: L(-1), _id: L(-1) } }, { $limit: L(21) }], cursor: {} }),
      '$geoNear + a word, 25 km (limit 21)': (i) => ({ aggregate: 'listings', pipeline: [{ $geoNear: { near: { type: 'Point', coordinates: [new Double(cities[i % cities.length][3]), new Double(cities[i % cities.length][2])] }, distanceField: 'dist_m', maxDistance: new Double(25000), spherical: true, key: 'geo', query: { status: 'active', keywords: { $all: ['oak'] } } } }, { $sort: { dist_m: L(1), _id: L(1) } }, { $limit: L(21) }], cursor: {} }),
      '$geoNear with maxDistance 25 km (limit 21)': (i) => ({ aggregate: 'listings', pipeline: [{ $geoNear: { near: { type: 'Point', coordinates: [new Double(cities[i % cities.length][3]), new Double(cities[i % cities.length][2])] }, distanceField: 'dist_m', maxDistance: new Double(25000), spherical: true, key: 'geo', query: { status: 'active' } } }, { $sort: { dist_m: L(1), _id: L(1) } }, { $limit: L(21) }], cursor: {} }),
      '$geoNear without maxDistance (limit 21)': (i) => ({ aggregate: 'listings', pipeline: [{ $geoNear: { near: { type: 'Point', coordinates: [new Double(cities[i % cities.length][3]), new Double(cities[i % cities.length][2])] }, distanceField: 'dist_m', spherical: true, key: 'geo', query: { status: 'active' } } }, { $limit: L(21) }], cursor: {} }),
      'near + newest ($geoWithin, aggregate)': (i) => ({ aggregate: 'listings', pipeline: [{ $match: { status: 'active', geo: { $geoWithin: { $centerSphere: [[new Double(cities[i % cities.length][3]), new Double(cities[i % cities.length][2])], new Double(10 / 6378.1)] } } } }, { $sort: { created_us: L(-1), _id: L(-1) } }, { $limit: L(21) }], cursor: {} }),
      'updateMany seller rename': (i) => ({ update: 'listings', updates: [{ q: { seller_id: sellerIds[i % sellerIds.length] }, u: { $set: { 'seller.display_name': `Renamed ${i}` } }, multi: true }] }),
    };
    for (const [name, make] of Object.entries(shapes)) {
      if (ONLY && !name.includes(ONLY)) continue;
      const ms = await timeIt((i) => c.run(db, make(i)));
      // Keys and documents examined by one more run, from the profiler (system.profile).
      await c.run(db, { profile: 2 });
      await c.run(db, make(0));
      await c.run(db, { profile: 0 });
      const prof = await c.run(db, { find: 'system.profile', filter: { ns: `${db}.listings` }, sort: { ts: -1 }, limit: 1 });
      const e = prof.cursor.firstBatch[0];
      const examined = e ? `  keys ${Number(e.keysExamined)}, docs ${Number(e.docsExamined)}, ${e.planSummary}` : '';
      console.log(`${name.padEnd(52)} ${ms.toFixed(2).padStart(9)} ms (median of ${RUNS})${examined}`);
    }
    console.log(`RSS after the queries: ${(rssKb(child.pid) / 1024).toFixed(1)} MB`);
  } finally {
    c.close();
    child.kill('SIGTERM');
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
