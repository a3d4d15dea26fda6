'use strict';
// The ordered near walk (lib/geowalk.js) reads only the records its page takes (issue 19): a
// leaf's records with one point are measured from their R-tree items, so a page of five near
// a dense place does not read the dozens of records of the leaves it opens — in a large
// catalogue each such read was a few cache misses, and the near search's CPU per page grew
// with the catalogue. Results and their order stay those of a collection scan.

const test = require('node:test');
const assert = require('node:assert');
const { Int32, Double } = require('bson');
const geo = require('../lib/geo');
const { newServer, withoutIndexes, bytes } = require('./helpers');

const DB = 'gw';

/** Counts the calls of $geoNear's distance function on a whole document while fn runs. */
function countingDocDistance(fn) {
  const orig = geo.distanceFn;
  let calls = 0;
  geo.distanceFn = (near) => {
    const inner = orig(near);
    const counted = (doc) => { calls++; return inner(doc); };
    if (inner.atPoint) counted.atPoint = inner.atPoint;
    return counted;
  };
  try {
    const out = fn();
    return { out, calls };
  } finally {
    geo.distanceFn = orig;
  }
}

test('a near page by (distance, _id) reads the records it takes, not every record of the leaves it opens', () => {
  const srv = newServer();
  const D = (x) => new Double(x);
  let k = 11;
  const rnd = () => { k = (k * 1103515245 + 12345) % 2147483648; return k / 2147483648; };
  const docs = [];
  for (let i = 0; i < 600; i++) {
    const d = { _id: `l${i}`, status: i % 7 === 0 ? 'sold' : 'active', n: new Int32(i % 5) };
    if (i % 50 === 1) d.geo = { type: 'Point', coordinates: [D(13.405), D(52.52)] }; // a few ties at one point
    else if (i % 97 === 2) d.geo = [{ type: 'Point', coordinates: [D(13.4), D(52.5)] }, { type: 'Point', coordinates: [D(2.35), D(48.85)] }];
    else d.geo = { type: 'Point', coordinates: [D(13.405 + (rnd() - 0.5) * 0.6), D(52.52 + (rnd() - 0.5) * 0.4)] };
    docs.push(d);
  }
  srv.ok(DB, { createIndexes: 'w', indexes: [{ key: { status: new Int32(1), geo: '2dsphere' }, name: 'status_geo' }] });
  srv.ok(DB, { insert: 'w', documents: docs });
  for (const [at, max, limit, filter] of [
    [[13.405, 52.52], 30000, 5, { status: 'active' }],
    [[13.41, 52.53], 5000, 3, { status: 'active', n: { $gte: new Int32(1) } }],
    [[13.3, 52.45], 100000, 21, { status: 'active' }],
  ]) {
    const cmd = { aggregate: 'w', cursor: {}, pipeline: [
      { $geoNear: { near: { type: 'Point', coordinates: at.map(D) }, distanceField: 'dist_m', maxDistance: D(max), spherical: true, key: 'geo', query: filter } },
      { $sort: { dist_m: new Int32(1), _id: new Int32(1) } },
      { $limit: new Int32(limit) },
    ] };
    const { out, calls } = countingDocDistance(() => srv.all(DB, cmd));
    const scan = withoutIndexes(() => srv.all(DB, cmd));
    assert.strictEqual(bytes(out), bytes(scan), `${JSON.stringify(at)}: the page differs from a collection scan's`);
    assert.strictEqual(out.docs.length, limit);
    // The two-point records are still measured on their documents (a PointItem each), and a
    // TieGroup on its first record; the rest of the leaves' records are not read (before:
    // every record of every leaf opened, 64 to a leaf: 48 for the first page of five).
    assert.ok(calls < 10, `${JSON.stringify(at)}: ${calls} documents measured for a page of ${limit}`);
  }
});

