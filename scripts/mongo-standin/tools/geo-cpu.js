#!/usr/bin/env node
'use strict';
/*
 * CPU per query of browse.c's near shapes on a catalogue with many sold and many active
 * listings around one point (issue 19: a rare word near a busy place), in process — no sockets:
 *   node tools/geo-cpu.js [STANDIN_DIR] [SOLD] [ACTIVE] [RUNS]
 * SOLD listings (default 40,000) sold within 20 km of Berlin's centre, all with the word
 * "bench"; one active "bench" among them; ACTIVE (default 10,000) demo listings over eight
 * cities (about 1,250 around Berlin). The indexes are STANDIN_DIR's tools/demo-docs.js
 * LISTING_INDEXES (what src/projector/listing.c declared with that tree): run it on an older
 * checkout of the stand-in to compare. Prints CPU ms per request (process.cpuUsage) and keys /
 * documents examined (the profiler) with the plan, per shape. Not a test.
 */
const path = require('path');
const dir = path.resolve(process.argv[2] || path.join(__dirname, '..'));
const SOLD = Number(process.argv[3] || 40000);
const ACTIVE = Number(process.argv[4] || 10000);
const RUNS = Number(process.argv[5] || 30);
const { newServer } = require(`${dir}/test/helpers.js`);
const { measure } = require('./shape-cpu'); // this tree's: it only runs commands
const { demoListings, LISTING_INDEXES, rng } = require(`${dir}/tools/demo-docs.js`);
const { Int32, Double } = require(`${dir}/node_modules/bson`);
const L = (n) => new Int32(n);
const D = (x) => new Double(x);
const srv = newServer();
const DB = 'g';
srv.ok(DB, { createIndexes: 'listings', indexes: LISTING_INDEXES });
const r = rng(19);
const active = demoListings(ACTIVE, { seed: 42 }).docs;
const sold = demoListings(SOLD + 1, { seed: 43 }).docs.map((d, i) => ({
  ...d, _id: `s${i}`, id: `s${i}`, status: i === SOLD ? 'active' : 'sold', keywords: [...d.keywords, 'bench'],
  geo: { type: 'Point', coordinates: [D(13.405 + (r() - 0.5) * 0.5), D(52.52 + (r() - 0.5) * 0.35)] },
}));
const docs = [...active, ...sold];
const t0 = Date.now();
for (let i = 0; i < docs.length; i += 1000) srv.ok(DB, { insert: 'listings', documents: docs.slice(i, i + 1000) });
console.log(`${dir}: ${SOLD} sold + ${ACTIVE + 1} active listings inserted in ${Date.now() - t0} ms; indexes ${LISTING_INDEXES.map((i) => i.name).filter((n) => n.includes('geo')).join(', ')}`);
let k = 7;
const rnd = () => { k = (k * 1103515245 + 12345) % 2147483648; return k / 2147483648; };
const agg = (pipeline) => srv.all(DB, { aggregate: 'listings', pipeline, cursor: {} });
const berlin = () => [D(13.405 + (rnd() - 0.5) * 0.05), D(52.52 + (rnd() - 0.5) * 0.05)];
const NEWEST = { created_us: L(-1), _id: L(-1) };
const near = (query, km, lim) => agg([{ $geoNear: { near: { type: 'Point', coordinates: berlin() }, distanceField: 'dist_m', maxDistance: D(km * 1000), spherical: true, key: 'geo', query } },
  { $sort: { dist_m: L(1), _id: L(1) } }, { $limit: L(lim + 1) }]);
const within = (m, km, lim) => agg([{ $match: { ...m, geo: { $geoWithin: { $centerSphere: [berlin(), D(km / 6378.1)] } } } }, { $sort: NEWEST }, { $limit: L(lim + 1) }]);
const shapes = {
  'q=bench near, 100 km, by distance': (lim) => near({ status: 'active', keywords: { $all: ['bench'] } }, 100, lim),
  'q=oak near, 100 km, by distance': (lim) => near({ status: 'active', keywords: { $all: ['oak'] } }, 100, lim),
  'near, 100 km, by distance': (lim) => near({ status: 'active' }, 100, lim),
  'q=bench near, 100 km, newest': (lim) => within({ status: 'active', keywords: { $all: ['bench'] } }, 100, lim),
  'near, 30 km, newest': (lim) => within({ status: 'active' }, 30, lim),
};
for (const [name, fn] of Object.entries(shapes)) {
  const m = measure(srv, DB, fn, RUNS, rnd);
  console.log(`${name.padEnd(36)} ${m.ms.toFixed(2).padStart(8)} ms CPU/query  keys ${m.keys.toFixed(0).padStart(6)}  docs ${m.docs.toFixed(0).padStart(6)}  results ${m.results.toFixed(1).padStart(5)}  ${m.plan}`);
}
