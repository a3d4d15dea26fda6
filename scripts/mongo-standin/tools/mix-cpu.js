#!/usr/bin/env node
'use strict';
/*
 * CPU per query of the bench mix's MongoDB shapes (scripts/bench's uncached mix, as
 * src/query/browse.c sends them), in process — no sockets — on demo-like listings:
 *   node tools/mix-cpu.js [STANDIN_DIR] [N] [before|after] [RUNS]
 * STANDIN_DIR: a stand-in tree (default this one; an older checkout to compare); "before"
 * sends words + relevance as the one scored pipeline of commit 75a29d0, "after" as the
 * relevance tiers. Prints CPU ms per request (process.cpuUsage) and keys / documents examined
 * (the profiler) per shape. Not a test.
 */
const path = require('path');
const dir = path.resolve(process.argv[2] || path.join(__dirname, '..'));
const N = Number(process.argv[3] || 10000);
const mode = process.argv[4] || 'after';
const { newServer } = require(`${dir}/test/helpers.js`);
const { measure } = require('./shape-cpu');
const { demoListings, LISTING_INDEXES } = require(`${dir}/tools/demo-docs.js`);
const { Int32, Long, Double } = require(`${dir}/node_modules/bson`);
const L = (n) => new Int32(n);
const srv = newServer();
const DB = 'b';
srv.ok(DB, { createIndexes: 'listings', indexes: LISTING_INDEXES });
const { docs, sellerIds, categories, cities, words } = demoListings(N, { seed: 42 });
const t0 = Date.now();
for (let i = 0; i < docs.length; i += 1000) srv.ok(DB, { insert: 'listings', documents: docs.slice(i, i + 1000) });
console.log(`${mode} ${dir}: ${N} listings inserted in ${Date.now() - t0} ms`);
let k = 0;
const rnd = () => { k = (k * 1103515245 + 12345) % 2147483648; return k / 2147483648; };
const pick = (a) => a[Math.floor(rnd() * a.length)];
const NEWEST = { created_us: L(-1), _id: L(-1) };
const agg = (pipeline) => srv.all(DB, { aggregate: 'listings', pipeline, cursor: {} });
const minp = () => ({ $gte: Long.fromNumber(1 + Math.floor(rnd() * 99)) });
function relevance(q, limit) {
  const m = { status: 'active', keywords: { $all: q }, price_minor: minp() };
  if (mode === 'before') {
    return agg([{ $match: m }, { $addFields: { score: { $add: [{ $multiply: [{ $size: { $setIntersection: ['$title_words', q] } }, L(10)] }, { $size: { $setIntersection: ['$keywords', q] } }] } } },
      { $sort: { score: L(-1), created_us: L(-1), _id: L(-1) } }, { $limit: L(limit + 1) }]);
  }
  let got = 0;
  for (let t = q.length; t >= 0 && got < limit + 1; t--) {
    const tm = { ...m };
    if (t === q.length) tm.title_words = { $all: q };
    else if (t === 0) tm.title_words = { $nin: q };
    else tm.$expr = { $eq: [{ $size: { $setIntersection: ['$title_words', q] } }, L(t)] };
    got += agg([{ $match: tm }, { $sort: NEWEST }, { $limit: L(limit + 1 - got) }]).docs.length;
  }
  return got;
}
const shapes = {
  'category + newest': (lim) => agg([{ $match: { status: 'active', category_path: pick(categories)[0], price_minor: minp() } }, { $sort: NEWEST }, { $limit: L(lim + 1) }]),
  'one word, relevance': (lim) => relevance([pick(words)], lim),
  'price range by price': (lim) => { const lo = 1000 + Math.floor(rnd() * 49000); return agg([{ $match: { status: 'active', price_minor: { $gte: Long.fromNumber(lo), $lte: Long.fromNumber(lo + 1000 + Math.floor(rnd() * 99000)) } } }, { $sort: { price_minor: L(1), _id: L(1) } }, { $limit: L(lim + 1) }]); },
  'one word near a city, by distance': (lim) => { const c = pick(cities); return agg([{ $geoNear: { near: { type: 'Point', coordinates: [new Double(c[3] + (rnd() - 0.5) * 0.2), new Double(c[2] + (rnd() - 0.5) * 0.2)] }, distanceField: 'dist_m', maxDistance: new Double(1000 * (5 + Math.floor(rnd() * 195))), spherical: true, key: 'geo', query: { status: 'active', keywords: { $all: [pick(words)] }, price_minor: minp() } } }, { $sort: { dist_m: L(1), _id: L(1) } }, { $limit: L(lim + 1) }]); },
  "a seller's listings": (lim) => agg([{ $match: { status: 'active', seller_id: pick(sellerIds), price_minor: minp() } }, { $sort: NEWEST }, { $limit: L(lim + 1) }]),
  'attribute filter': (lim) => agg([{ $match: { status: 'active', category_path: pick(categories)[1], 'attributes.colour': pick(['red', 'blue']), price_minor: minp() } }, { $sort: NEWEST }, { $limit: L(lim + 1) }]),
};
const RUNS = Number(process.argv[5] || 30);
let total = 0;
for (const [name, fn] of Object.entries(shapes)) {
  const m = measure(srv, DB, fn, RUNS, rnd);
  total += m.ms;
  console.log(`${name.padEnd(36)} ${m.ms.toFixed(2).padStart(8)} ms CPU per request   keys ${m.keys.toFixed(0).padStart(6)}  docs ${m.docs.toFixed(0).padStart(6)}  (${m.queries} queries)`);
}
console.log(`${'mix (mean of the six)'.padEnd(36)} ${(total / 6).toFixed(2).padStart(8)} ms CPU per request`);
