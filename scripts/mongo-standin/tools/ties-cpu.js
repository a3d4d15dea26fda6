#!/usr/bin/env node
'use strict';
/*
 * CPU per query of browse.c's "words near a place, by distance" on a catalogue where many
 * active listings share one point (tests/bench/market_lag writes every listing at Berlin's
 * centre, 13.405 / 52.52), in process — no sockets (issue 19, the read side):
 *   node [--cpu-prof] tools/ties-cpu.js [STANDIN_DIR] [DEMO] [TIES] [RUNS]
 * DEMO (default 20,000) demo listings over eight cities, TIES (default 4,000) active listings
 * with the lag bench's words ("Lag bench lamp N", "A brass desk lamp, working, slot N") at
 * exactly one point. Shapes: the first page (limit 21) of q=lamp near Berlin by distance,
 * the next page (its keyset $match on dist_m / _id), and q=oak (demo listings only). Prints
 * CPU ms per request (process.cpuUsage; the least of five batches of RUNS) and keys /
 * documents examined (the profiler).
 * STANDIN_DIR: a stand-in tree (default this one; an older checkout to compare). Not a test.
 */
const path = require('path');
const dir = path.resolve(process.argv[2] || path.join(__dirname, '..'));
const DEMO = Number(process.argv[3] || 20000);
const TIES = Number(process.argv[4] || 4000);
const RUNS = Number(process.argv[5] || 20);
const { newServer } = require(`${dir}/test/helpers.js`);
const { measure } = require('./shape-cpu'); // this tree's: it only runs commands
const { demoListings, LISTING_INDEXES } = require(`${dir}/tools/demo-docs.js`);
const { Int32, Double } = require(`${dir}/node_modules/bson`);

const L = (n) => new Int32(n);
const D = (x) => new Double(x);
const srv = newServer();
const DB = 't';
srv.ok(DB, { createIndexes: 'listings', indexes: LISTING_INDEXES });
const demo = demoListings(DEMO, { seed: 42 }).docs;
const lag = demoListings(TIES, { seed: 44 }).docs.map((d, i) => ({
  ...d,
  title: `Lag bench lamp ${i}`,
  description: `A brass desk lamp, working, slot ${i}`,
  status: 'active',
  title_words: ['lag', 'bench', 'lamp', String(i)],
  keywords: ['lag', 'bench', 'lamp', String(i), 'brass', 'desk', 'working', 'slot'],
  location: { city: 'Berlin', country: 'DE', lat: D(52.52), lon: D(13.405) },
  geo: { type: 'Point', coordinates: [D(13.405), D(52.52)] },
}));
const docs = [];
for (let i = 0; i < Math.max(demo.length, lag.length); i++) { // interleaved, as a live catalogue
  if (i < demo.length) docs.push(demo[i]);
  if (i < lag.length) docs.push(lag[i]);
}
const t0 = Date.now();
for (let i = 0; i < docs.length; i += 1000) srv.ok(DB, { insert: 'listings', documents: docs.slice(i, i + 1000) });
console.log(`${dir}: ${DEMO} demo + ${TIES} listings at one point inserted in ${Date.now() - t0} ms`);

let k = 7;
const rnd = () => { k = (k * 1103515245 + 12345) % 2147483648; return k / 2147483648; };
const agg = (pipeline) => srv.all(DB, { aggregate: 'listings', pipeline, cursor: {} });
const BERLIN = [D(13.405), D(52.52)];
const near = (words, after) => agg([
  { $geoNear: { near: { type: 'Point', coordinates: BERLIN }, distanceField: 'dist_m', maxDistance: D(50000), spherical: true, key: 'geo', query: { status: 'active', keywords: { $all: words } } } },
  ...(after ? [{ $match: { $or: [{ dist_m: { $gt: after[0] } }, { dist_m: after[0], _id: { $gt: after[1] } }] } }] : []),
  { $sort: { dist_m: L(1), _id: L(1) } }, { $limit: L(21) }]);
const first = near(['lamp']).docs;
const cursor = [first[19].dist_m, first[19]._id];
const shapes = {
  'q=lamp near, 50 km, by distance': () => near(['lamp']),
  'q=lamp near, by distance, page 2': () => near(['lamp'], cursor),
  'q=oak near, 50 km, by distance': () => near(['oak']),
};
for (const [name, fn] of Object.entries(shapes)) {
  // The least of five batches of RUNS: the machine is shared, and other load only adds.
  const batches = Array.from({ length: 5 }, () => measure(srv, DB, fn, RUNS, rnd));
  const m = batches.reduce((a, b) => (b.ms < a.ms ? b : a));
  console.log(`${name.padEnd(34)} ${m.ms.toFixed(2).padStart(8)} ms CPU/query  keys ${m.keys.toFixed(0).padStart(6)}  docs ${m.docs.toFixed(0).padStart(6)}  results ${m.results.toFixed(1).padStart(5)}  ${m.plan}`);
}
