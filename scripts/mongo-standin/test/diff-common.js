'use strict';
// What the differential tests share (differential.test.js, differential-geo.test.js: two files so
// node --test runs them side by side): seeded generators of documents and queries, the indexes
// they run against, and the checks that a command gives the same bytes with and without
// indexes and with and without the plan cache.

const assert = require('node:assert');
const { Int32, Long, Double, EJSON } = require('bson');
const { withoutIndexes, withoutCache, bytes } = require('./helpers');
const { rng } = require('../tools/demo-docs');

const SEED = Number(process.env.STANDIN_TEST_SEED || 20261128);
const DB = 'diff';

function gen(seed) {
  const r = rng(seed);
  const int = (n) => Math.floor(r() * n);
  const pick = (a) => a[int(a.length)];
  const chance = (p) => r() < p;
  const num = () => pick([
    () => new Int32(int(20) - 5), () => Long.fromNumber(int(20) - 5), () => new Double(int(20) - 5),
    () => new Double((int(200) - 50) / 10), () => new Int32(int(3)), () => new Double(NaN),
  ])();
  const str = () => pick(['a', 'b', 'c', 'ab', 'B', '', 'zz', '10', 'é']);
  const scalar = () => pick([num, num, num, str, str, () => null, () => chance(0.5), () => new Date(1700000000000 + int(5) * 1000)])();
  const arr = () => Array.from({ length: int(4) }, () => (chance(0.8) ? scalar() : [scalar()]));
  const value = () => (chance(0.2) ? arr() : scalar());
  const point = () => {
    const lng = pick([() => (r() - 0.5) * 360, () => 179.5 + r(), () => -179.9 + r() * 0.3, () => 13 + r()]);
    const lat = pick([() => (r() - 0.5) * 170, () => 89 + r() * 0.99, () => 52 + r()]);
    return { type: 'Point', coordinates: [new Double(lng()), new Double(lat())] };
  };
  return { r, int, pick, chance, num, str, scalar, arr, value, point };
}

function makeDoc(g, i) {
  const d = { _id: new Int32(i) };
  if (g.chance(0.9)) d.a = g.value();
  if (g.chance(0.9)) d.b = g.num();
  if (g.chance(0.9)) d.c = g.str();
  if (g.chance(0.7)) d.tags = g.chance(0.85) ? Array.from({ length: g.int(5) }, g.str) : g.str();
  if (g.chance(0.6)) {
    d.sub = g.chance(0.7) ? { x: g.scalar(), y: g.str() } : Array.from({ length: g.int(3) }, () => (g.chance(0.8) ? { x: g.scalar() } : g.num()));
  }
  if (g.chance(0.3)) d.s = g.scalar();
  if (g.chance(0.8)) d.geo = g.chance(0.9) ? g.point() : [new Double(g.r() * 10), new Double(g.r() * 10)];
  d.u = `u${i}`;
  return d;
}

const INDEXES = [
  { key: { a: new Int32(1) }, name: 'a' },
  { key: { b: new Int32(1), a: new Int32(-1) }, name: 'b_a' },
  { key: { c: new Int32(1), b: new Int32(1) }, name: 'c_b' },
  { key: { tags: new Int32(1) }, name: 'tags' },
  { key: { 'sub.x': new Int32(1) }, name: 'subx' },
  { key: { c: new Int32(1), 'sub.x': new Int32(-1) }, name: 'c_subx' },
  { key: { s: new Int32(1) }, name: 's_sparse', sparse: true },
  { key: { b: new Int32(-1), c: new Int32(1) }, name: 'b_partial', partialFilterExpression: { b: { $gt: new Int32(5) } } },
  { key: { u: new Int32(1) }, name: 'u_unique', unique: true },
  { key: { geo: '2dsphere' }, name: 'geo' },
  { key: { c: new Int32(1), geo: '2dsphere' }, name: 'c_geo' },
  { key: { c: new Int32(1), tags: new Int32(1), geo: '2dsphere' }, name: 'c_tags_geo' },
  { key: { c: 'hashed' }, name: 'c_hashed' },
];

const FIELDS = ['a', 'b', 'c', 'tags', 'sub.x', 's', 'u', '_id', 'sub'];

function clause(g, depth = 0) {
  const f = g.pick(FIELDS);
  const v = () => g.scalar();
  const c = g.int(16);
  switch (c) {
    case 0: return { [f]: v() };
    case 1: return { [f]: { $in: Array.from({ length: 1 + g.int(3) }, v) } };
    case 2: return { [f]: { [g.pick(['$gt', '$gte'])]: v(), [g.pick(['$lt', '$lte'])]: v() } };
    case 3: return { [f]: { [g.pick(['$gt', '$gte', '$lt', '$lte'])]: v() } };
    case 4: return { [f]: null };
    case 5: return { [f]: { $exists: g.chance(0.5) } };
    case 6: return { [f]: { $ne: v() } };
    case 7: return { tags: { $all: Array.from({ length: 1 + g.int(2) }, g.str) } };
    case 8: return { $and: [clause(g, depth + 1), clause(g, depth + 1)] };
    case 9: return depth < 2 ? { $or: [clause(g, depth + 1), clause(g, depth + 1)] } : { [f]: v() };
    case 10: return { [f]: { $eq: v() } };
    case 11: return { [f]: g.arr() };
    case 12: return { geo: { $geoWithin: { $centerSphere: [[new Double((g.r() - 0.5) * 360), new Double((g.r() - 0.5) * 180)], new Double(g.r() * g.pick([0.01, 0.3, 2, 4]))] } } };
    case 13: return { [f]: { $nin: [v()] } };
    case 14: return { 'sub.x': { $elemMatch: { $gte: g.num() } } };
    default: return { [f]: { $type: g.pick(['int', 'long', 'double', 'string', 'null', 'array']) } };
  }
}

function filterOf(g) {
  const out = {};
  const n = g.int(4);
  for (let i = 0; i < n; i++) Object.assign(out, clause(g));
  return out;
}

const SORTS = [null, { a: 1 }, { a: -1 }, { b: -1, a: 1 }, { b: 1 }, { c: 1, b: 1 }, { c: -1, b: -1 }, { tags: 1 }, { 'sub.x': -1 }, { s: 1 }, { _id: -1 }, { u: 1 }];
const sortOf = (g) => {
  const s = g.pick(SORTS);
  return s && Object.fromEntries(Object.entries(s).map(([k, v]) => [k, new Int32(v)]));
};

const BROWSE_PROJECT = Object.fromEntries(['id', 'seller_id', 'title', 'description', 'category', 'condition',
  'price_minor', 'currency', 'location', 'attributes', 'images', 'status', 'version', 'created_at', 'updated_at',
  'seller', 'favorites', 'views', 'created_us', 'dist_m'].map((k) => [k, new Int32(1)]));

let turn = 0;

/**
 * The reply with indexes, with the plan cache and compiled matcher (twice: the second run
 * takes a plan cached by the first or by an earlier query of the shape) and without them, in
 * turns of both orders; all must be the same bytes. Returns it.
 */
function withAndWithoutCache(run, label, cmd) {
  const order = turn++ % 2;
  const uncachedFirst = order ? withoutCache(run) : null;
  const cached = run();
  const again = run();
  const uncached = order ? uncachedFirst : withoutCache(run);
  assert.strictEqual(bytes(again), bytes(cached), `${label}: a second run with the plan cache differs\n${EJSON.stringify(cmd)}`);
  assert.strictEqual(bytes(uncached), bytes(cached), `${label}: results differ with and without the plan cache\n${EJSON.stringify(cmd)}`);
  return cached;
}

/** Same reply with and without indexes (and the plan cache); returns the reply. */
function same(srv, cmd, label) {
  const withIdx = withAndWithoutCache(() => srv.all(DB, cmd), label, cmd);
  const without = withoutIndexes(() => srv.all(DB, cmd));
  if (bytes(withIdx) !== bytes(without)) {
    const ids = (r) => (r.docs ? r.docs.map((d) => EJSON.stringify(d._id)).join(' ') : EJSON.stringify(r));
    const plan = srv.run(DB, { explain: cmd, verbosity: 'queryPlanner' });
    assert.fail(`${label}: results differ with indexes\n${EJSON.stringify(cmd)}\nwith:    ${ids(withIdx)}\nwithout: ${ids(without)}\nplan: ${EJSON.stringify(plan.queryPlanner && plan.queryPlanner.winningPlan)}`);
  }
  return withIdx;
}


module.exports = { SEED, DB, gen, makeDoc, INDEXES, FIELDS, clause, filterOf, sortOf, BROWSE_PROJECT, same };
