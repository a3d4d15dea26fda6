'use strict';
// Differential test: thousands of generated queries and writes must give identical results,
// in identical order, with the planner's indexes and with every query as a collection scan.
// Seeded: a failure names its seed and query, and reproduces.

const test = require('node:test');
const assert = require('node:assert');
const { Int32, Long, Double, EJSON } = require('bson');
const { newServer, withoutIndexes, withoutCache, bytes } = require('./helpers');
const { rng, demoListings, LISTING_INDEXES, REBUILD_INDEXES } = require('../tools/demo-docs');

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

function sameRun(srv, cmd, label) {
  const withIdx = withAndWithoutCache(() => srv.run(DB, cmd), label, cmd);
  const without = withoutIndexes(() => srv.run(DB, cmd));
  assert.strictEqual(bytes(withIdx), bytes(without), `${label}: results differ with indexes\n${EJSON.stringify(cmd)}`);
  return withIdx;
}

test('generated reads agree with and without indexes', () => {
  const srv = newServer();
  const g = gen(SEED);
  srv.ok(DB, { createIndexes: 'c', indexes: INDEXES });
  srv.ok(DB, { insert: 'c', documents: Array.from({ length: 400 }, (_, i) => makeDoc(g, i)) });
  let nonEmpty = 0;
  for (let i = 0; i < 2500; i++) {
    const filter = filterOf(g);
    const sort = sortOf(g);
    const kind = g.int(10);
    let cmd;
    if (kind < 5) {
      cmd = { find: 'c', filter };
      if (sort) cmd.sort = sort;
      if (g.chance(0.5)) cmd.limit = new Int32(1 + g.int(20));
      if (g.chance(0.3)) cmd.skip = new Int32(g.int(10));
    } else if (kind === 5) cmd = { count: 'c', query: filter };
    else if (kind === 6) cmd = { distinct: 'c', key: g.pick(FIELDS), query: filter };
    else if (kind === 7) {
      const pipeline = [{ $match: filter }];
      if (g.chance(0.4)) pipeline.push({ $match: clause(g) });
      if (sort) pipeline.push({ $sort: sort });
      if (g.chance(0.6)) pipeline.push({ $limit: new Int32(1 + g.int(15)) });
      cmd = { aggregate: 'c', pipeline, cursor: {} };
    } else if (kind === 8) {
      const near = g.point();
      const spec = { near, distanceField: 'd', spherical: true, key: 'geo', query: filter };
      if (g.chance(0.5)) spec.maxDistance = new Double(g.pick([1000, 50000, 2000000, 20000000]) * g.r());
      const pipeline = [{ $geoNear: spec }];
      if (g.chance(0.3)) pipeline.push({ $match: clause(g) });
      if (g.chance(0.5)) pipeline.push({ $sort: { d: new Int32(1), _id: new Int32(1) } });
      if (g.chance(0.7)) pipeline.push({ $limit: new Int32(1 + g.int(10)) });
      cmd = { aggregate: 'c', pipeline, cursor: {} };
    } else {
      const near = { $geometry: g.point() };
      if (g.chance(0.5)) near.$maxDistance = new Double(g.pick([1000, 500000, 5000000]) * g.r());
      cmd = { find: 'c', filter: { ...filter, geo: { $near: near } } };
      if (g.chance(0.6)) cmd.limit = new Int32(1 + g.int(10));
    }
    const r = same(srv, cmd, `query ${i} (seed ${SEED})`);
    if (r.docs ? r.docs.length : r.n && r.n.valueOf()) nonEmpty++;
  }
  assert.ok(nonEmpty > 500, `too few queries matched anything (${nonEmpty})`);
  srv.close();
});

test('generated writes agree with and without indexes', () => {
  const a = newServer();
  const b = newServer();
  const g = gen(SEED + 1);
  const docs = Array.from({ length: 300 }, (_, i) => makeDoc(g, i));
  for (const srv of [a, b]) {
    srv.ok(DB, { createIndexes: 'c', indexes: INDEXES });
    srv.ok(DB, { insert: 'c', documents: docs });
  }
  const both = (cmd, label) => {
    const ra = a.run(DB, cmd);
    const rb = withoutIndexes(() => b.run(DB, cmd));
    assert.strictEqual(bytes(ra), bytes(rb), `${label}\n${EJSON.stringify(cmd)}`);
  };
  for (let i = 0; i < 600; i++) {
    const filter = filterOf(g);
    const k = g.int(8);
    let cmd;
    // The projector's versioned upsert by a string _id (new or existing, older or newer), and
    // once in a while a filter that fails to compile: the shortcut for an absent _id
    // (commands.js, absentById) must answer as the full path does.
    const sid = `s${g.int(40)}`;
    const ver = new Int32(g.int(4));
    const guard = g.chance(0.1) ? { $bogus: ver } : g.chance(0.5) ? { $lt: ver } : ver;
    if (k === 0) cmd = { update: 'c', updates: [{ q: filter, u: { $set: { [g.pick(['a', 'b', 'c', 'tags', 'sub.x', 's'])]: g.value() } }, multi: g.chance(0.5) }] };
    else if (k === 1) cmd = { update: 'c', updates: [{ q: filter, u: { $inc: { b: new Int32(1) } }, multi: true }] };
    else if (k === 2) cmd = { delete: 'c', deletes: [{ q: filter, limit: new Int32(g.int(2)) }] };
    else if (k === 3) cmd = { findAndModify: 'c', query: filter, sort: sortOf(g) || undefined, update: { $set: { c: g.str(), geo: g.point() } }, new: true };
    else if (k === 4) cmd = { insert: 'c', documents: [makeDoc(g, 1000 + i)] };
    else if (k === 6) cmd = { update: 'c', updates: [{ q: { _id: sid, version: guard }, u: { $set: { version: ver, c: g.str(), a: g.value() }, $setOnInsert: { n: new Int32(0) } }, upsert: true }], ordered: false };
    else if (k === 7) cmd = { findAndModify: 'c', query: { _id: sid, version: guard }, update: { $set: { version: ver, b: g.num() } }, upsert: true, new: true };
    else cmd = { findAndModify: 'c', query: filter, remove: true };
    both(cmd, `write ${i} (seed ${SEED})`);
    if (i % 50 === 0) {
      const dump = { find: 'c', filter: {} };
      assert.strictEqual(bytes(a.all(DB, dump)), bytes(b.all(DB, dump)), `stores differ after write ${i}`);
      same(a, { find: 'c', filter: filterOf(g), sort: sortOf(g) || undefined }, `read after write ${i}`);
    }
  }
  a.close();
  b.close();
});

test('batched upserts agree with and without indexes (deferred index entries, plain $set documents)', () => {
  // An update command of several statements defers the B-tree entries of the documents its
  // upserts insert (Collection.deferIndexes) until a statement plans or the command ends, and
  // builds an upsert that only $sets top-level fields without copying (update.js, plainSets).
  // Batches mix new and existing string _ids, statements that plan on the indexes in between,
  // and updates the plain path must leave to the full one (conflicts, dotted paths, _id).
  const a = newServer();
  const b = newServer();
  const g = gen(SEED + 2);
  const docs = Array.from({ length: 100 }, (_, i) => makeDoc(g, i));
  for (const srv of [a, b]) {
    srv.ok(DB, { createIndexes: 'c', indexes: INDEXES });
    srv.ok(DB, { insert: 'c', documents: docs });
  }
  // The reference takes the full path of every update: an $unset of a field no document has
  // changes nothing, but makes the update more than plain $sets.
  const full = (cmd) => ({ ...cmd, updates: cmd.updates.map((s) => ({ ...s, u: { ...s.u, $unset: { zzz: '' } } })) });
  const both = (cmd, label) => {
    const ra = a.run(DB, cmd);
    const rb = withoutIndexes(() => b.run(DB, full(cmd)));
    assert.strictEqual(bytes(ra), bytes(rb), `${label}\n${EJSON.stringify(cmd)}`);
    return ra;
  };
  const fieldsOf = (i) => {
    const { _id, ...rest } = makeDoc(g, 2000 + i);
    return rest;
  };
  const HINTS = ['a', 'b_a', 'c_b', 'tags', 'subx', 'c_subx', 'u_unique', 'c_hashed'];
  let next = 0;
  let upserted = 0;
  for (let i = 0; i < 150; i++) {
    const updates = [];
    const n = 2 + g.int(9);
    for (let j = 0; j < n; j++) {
      const k = g.int(10);
      const sid = g.chance(0.7) ? `n${next++}` : `n${g.int(next + 1)}`;
      const ver = new Int32(g.int(4));
      const q = { _id: sid, version: g.chance(0.5) ? { $lt: ver } : ver };
      if (k < 5) updates.push({ q, u: { $set: { version: ver, ...fieldsOf(next) }, $setOnInsert: { n: new Int32(0) } }, upsert: true });
      else if (k === 5) updates.push({ q: filterOf(g), u: { $set: { c: g.str(), tags: g.arr() } }, multi: g.chance(0.5) });
      else if (k === 6) updates.push({ q: filterOf(g), u: { $inc: { b: new Int32(1) } }, multi: g.chance(0.5) });
      else if (k === 7) updates.push({ q, u: { $set: { a: g.value() }, $setOnInsert: { a: g.value() } }, upsert: true });
      else if (k === 8) updates.push({ q, u: { $set: { 'sub.x': g.scalar(), c: g.str() } }, upsert: true });
      else updates.push({ q, u: { $set: { _id: g.chance(0.5) ? sid : 'other', b: g.num() } }, upsert: true });
    }
    const r = both({ update: 'c', updates, ordered: g.chance(0.5) }, `batch ${i} (seed ${SEED})`);
    if (r.upserted) upserted += r.upserted.length;
    same(a, { find: 'c', filter: filterOf(g), sort: sortOf(g) || undefined }, `read after batch ${i}`);
    if (i % 10 === 0) {
      const dump = { find: 'c', filter: {} };
      assert.strictEqual(bytes(a.all(DB, dump)), bytes(b.all(DB, dump)), `stores differ after batch ${i}`);
      for (const hint of HINTS) same(a, { find: 'c', filter: {}, hint }, `every document through ${hint} after batch ${i}`);
    }
  }
  assert.ok(upserted > 200, `too few upserts inserted (${upserted})`);
  // The document of a plain upsert does not share its containers with the statement.
  const tags = ['x', 'y'];
  const sub = { x: new Int32(1) };
  a.ok(DB, { createIndexes: 'p', indexes: [{ key: { tags: new Int32(1) }, name: 'tags' }] });
  const r = a.ok(DB, { update: 'p', updates: [{ q: { _id: 'alias' }, u: { $set: { tags, sub } }, upsert: true }, { q: { _id: 'alias2' }, u: { $set: { tags } }, upsert: true }] });
  assert.strictEqual(r.upserted.length, 2);
  tags.push('z');
  sub.x = new Int32(2);
  const got = a.ok(DB, { find: 'p', filter: { _id: 'alias' } }).cursor.firstBatch[0];
  assert.deepStrictEqual(got.tags, ['x', 'y']);
  assert.strictEqual(got.sub.x.valueOf(), 1);
  assert.strictEqual(a.ok(DB, { count: 'p', query: { tags: 'y' }, hint: 'tags' }).n.valueOf(), 2);
  assert.strictEqual(a.ok(DB, { count: 'p', query: { tags: 'z' }, hint: 'tags' }).n.valueOf(), 0);
  a.close();
  b.close();
});

test("marketd's query shapes agree with and without indexes on demo listings", () => {
  const srv = newServer();
  const { docs, sellerIds, categories, cities, words } = demoListings(1500, { seed: 7, sellers: 40 });
  srv.ok(DB, { createIndexes: 'listings', indexes: LISTING_INDEXES });
  srv.ok(DB, { insert: 'listings', documents: docs });
  const g = gen(SEED + 2);
  const L = (n) => new Int32(n);
  for (let i = 0; i < 200; i++) {
    const m = { status: 'active' };
    if (g.chance(0.4)) m.category_path = g.pick(categories)[g.int(2)];
    if (g.chance(0.3)) m.price_minor = { $gte: Long.fromNumber(g.int(100000)), $lte: Long.fromNumber(50000 + g.int(150000)) };
    if (g.chance(0.3)) m.seller_id = g.pick(sellerIds);
    if (g.chance(0.2)) m['attributes.colour'] = g.pick(['red', 'blue']);
    if (g.chance(0.3)) m.keywords = { $all: [g.pick(words), g.pick(words)] };
    if (g.chance(0.2)) m.condition = { $in: ['new', 'good'] };
    const city = g.pick(cities);
    const centre = [new Double(city[3]), new Double(city[2])];
    const sort = g.pick([{ created_us: L(-1), _id: L(-1) }, { price_minor: L(1), _id: L(1) }, { price_minor: L(-1), _id: L(-1) }]);
    const after = g.chance(0.3) ? [{ $match: { $or: [{ created_us: { $lt: Long.fromNumber(1700000000000000 + g.int(1500) * 1000003) } }, { created_us: Long.fromNumber(1700000000000000), _id: { $lt: docs[g.int(docs.length)]._id } }] } }] : [];
    let pipeline;
    if (g.chance(0.25)) {
      pipeline = [{ $geoNear: { near: { type: 'Point', coordinates: centre }, distanceField: 'dist_m', maxDistance: new Double(g.pick([5000, 25000, 100000])), spherical: true, key: 'geo', query: m } },
        ...(g.chance(0.3) ? [{ $match: { dist_m: { $gt: new Double(1000) } } }] : []),
        { $sort: { dist_m: L(1), _id: L(1) } }, { $limit: L(21) }];
    } else {
      if (g.chance(0.2)) m.geo = { $geoWithin: { $centerSphere: [centre, new Double(g.pick([5, 25, 100]) / 6378.1)] } };
      pipeline = [{ $match: m }, ...after, { $sort: sort }, { $limit: L(21) }];
    }
    // Browse's last stage (src/query/browse.c): the shown fields only, written in the scan.
    if (g.chance(0.5)) pipeline.push({ $project: BROWSE_PROJECT });
    same(srv, { aggregate: 'listings', pipeline, cursor: {} }, `browse ${i}`);
    same(srv, { count: 'listings', query: { seller_id: g.pick(sellerIds), status: 'active' } }, `count ${i}`);
    same(srv, { find: 'listings', filter: { seller_id: g.pick(sellerIds) }, projection: { _id: L(1) } }, `seller find ${i}`);
  }
  srv.close();
});

// Relevance tiers (src/query/browse.c): with n query words every match holds all of them in
// `keywords`, so score = 10 t + n where t counts the query words in the title; reading tier
// t = n … 0 newest first, each from an index, page by page with the (score, created_us, _id)
// cursor, gives exactly the pages of the one blocking sort by score it replaced.
test('relevance tiers give the pages of the score sort, with and without indexes', () => {
  const srv = newServer();
  const { docs, words } = demoListings(1000, { seed: 11, sellers: 40 });
  srv.ok(DB, { createIndexes: 'listings', indexes: LISTING_INDEXES });
  srv.ok(DB, { insert: 'listings', documents: docs });
  const g = gen(SEED + 3);
  const L = (n) => new Int32(n);
  const NEWEST = { created_us: L(-1), _id: L(-1) };
  for (let i = 0; i < 30; i++) {
    const q = [...new Set(Array.from({ length: 1 + g.int(3) }, () => g.pick(words)))];
    const n = q.length;
    const m = { status: 'active', keywords: { $all: q } };
    if (g.chance(0.3)) m.price_minor = { $gte: Long.fromNumber(g.int(50000)) };
    const limit = 4 + g.int(30);
    // Before: one pipeline scoring and sorting every match.
    const scored = same(srv, { aggregate: 'listings', cursor: {}, pipeline: [{ $match: m },
      { $addFields: { score: { $add: [{ $multiply: [{ $size: { $setIntersection: ['$title_words', q] } }, L(10)] }, { $size: { $setIntersection: ['$keywords', q] } }] } } },
      { $sort: { score: L(-1), created_us: L(-1), _id: L(-1) } }] }, `scored ${i}`).docs;
    // After: tier by tier, a page at a time, as browse.c sends them.
    const paged = [];
    let after = null;
    for (let page = 0; page <= scored.length / limit + 1; page++) {
      const items = [];
      for (let t = n; t >= 0 && items.length < limit + 1; t--) {
        const score = 10 * t + n;
        if (after && score > after[0]) continue;
        const tm = { ...m };
        if (t === n) tm.title_words = { $all: q };
        else if (t === 0) tm.title_words = { $nin: q };
        else tm.$expr = { $eq: [{ $size: { $setIntersection: ['$title_words', q] } }, L(t)] };
        if (after && score === after[0]) {
          tm.created_us = { $lte: after[1] };
          tm.$or = [{ created_us: { $lt: after[1] } }, { _id: { $lt: after[2] } }];
        }
        const got = same(srv, { aggregate: 'listings', cursor: {}, pipeline: [{ $match: tm }, { $sort: NEWEST }, { $limit: L(limit + 1 - items.length) }] }, `tier ${i}/${page}/${t}`).docs;
        for (const d of got) items.push({ d, score });
      }
      const shown = items.slice(0, limit);
      paged.push(...shown.map(({ d, score }) => ({ ...d, score: new Int32(score) })));
      if (items.length <= limit) break;
      const last = shown[shown.length - 1];
      after = [last.score, last.d.created_us, last.d._id];
    }
    const ids = (a) => a.map((d) => `${d._id}:${d.score.valueOf()}`).join(' ');
    assert.strictEqual(ids(paged), ids(scored), `query ${i} ${JSON.stringify(q)} limit ${limit}`);
  }
  srv.close();
});

// An aggregation whose every stage ran in the scan answers the stored documents as they are,
// without the views and retyping of the pipeline engine: the same bytes as a pipeline that
// still has a stage for it (mixed numeric types, nested arrays, geo points, $geoNear's field).
test('an aggregation with nothing left for the pipeline engine answers what the engine would', () => {
  const srv = newServer();
  const g = gen(SEED + 4);
  srv.ok(DB, { createIndexes: 'c', indexes: INDEXES });
  srv.ok(DB, { insert: 'c', documents: Array.from({ length: 400 }, (_, i) => makeDoc(g, i)) });
  const near = { near: { type: 'Point', coordinates: [new Double(13), new Double(52)] }, distanceField: 'd', spherical: true, key: 'geo' };
  for (const [lead, label] of [[[{ $match: {} }], 'match'], [[{ $match: { b: { $gt: new Int32(2) } } }, { $sort: { b: new Int32(1), _id: new Int32(1) } }, { $limit: new Int32(50) }], 'match sort limit'],
    [[{ $geoNear: near }], 'geoNear']]) {
    const direct = srv.all(DB, { aggregate: 'c', pipeline: lead, cursor: {} });
    const engine = srv.all(DB, { aggregate: 'c', pipeline: [...lead, { $skip: new Int32(0) }], cursor: {} });
    assert.ok(direct.docs.length > 0, label);
    assert.strictEqual(bytes(direct), bytes(engine), label);
  }
  srv.close();
});

// Compound and partial 2dsphere indexes (marketd's {status: 1, geo: "2dsphere"} and
// {status: 1, keywords: 1, geo: "2dsphere"}): many sold and active listings around one point,
// prefixes of every type (missing, null, arrays, numbers of three BSON types), $geoNear and
// $near with and without maxDistance, equality, $in, $all and ranges on the prefix, between
// writes that move documents from one prefix key to another without moving their point.
test('compound and partial 2dsphere indexes agree with a collection scan', () => {
  const srv = newServer();
  const g = gen(SEED + 5);
  const D = (x) => new Double(x);
  const WORDS = ['bench', 'lamp', 'sofa', 'oak', 'rare'];
  const STATUSES = [() => 'active', () => 'active', () => 'sold', () => 'sold', () => 'sold', () => null, () => undefined,
    () => ['active', 'reserved'], () => new Int32(1), () => new Double(1), () => Long.fromNumber(1), () => 'reserved'];
  const doc = (i) => {
    const d = { _id: new Int32(i) };
    const st = g.pick(STATUSES)();
    if (st !== undefined) d.status = st;
    if (g.chance(0.9)) d.keywords = g.chance(0.9) ? [...new Set(Array.from({ length: g.int(4) }, () => g.pick(WORDS)))] : g.pick(WORDS);
    const near = g.chance(0.7);
    if (g.chance(0.95)) d.geo = { type: 'Point', coordinates: near ? [D(13.405 + (g.r() - 0.5) * 0.4), D(52.52 + (g.r() - 0.5) * 0.3)] : g.point().coordinates };
    if (g.chance(0.03)) d.geo = { type: 'Point', coordinates: [D(500), D(13)] }; // off the globe: always a candidate
    d.n = new Int32(g.int(10));
    return d;
  };
  srv.ok(DB, { createIndexes: 'l', indexes: [
    { key: { geo: '2dsphere' }, name: 'geo_2dsphere' },
    { key: { status: new Int32(1), geo: '2dsphere' }, name: 'status_geo' },
    { key: { status: new Int32(1), keywords: new Int32(1), geo: '2dsphere' }, name: 'status_keywords_geo' },
  ] });
  srv.ok(DB, { createIndexes: 'p', indexes: [{ key: { geo: '2dsphere' }, name: 'geo_active', partialFilterExpression: { status: 'active' } }] });
  const docs = Array.from({ length: 1500 }, (_, i) => doc(i));
  srv.ok(DB, { insert: 'l', documents: docs });
  srv.ok(DB, { insert: 'p', documents: docs });
  const prefix = () => {
    const w = () => g.pick(WORDS);
    switch (g.int(12)) {
      case 0: return {};
      case 1: return { status: 'active' };
      case 2: return { status: g.pick(['sold', 'reserved', null, 1, 'none']) };
      case 3: return { status: { $in: ['active', g.pick(['sold', null, 1, 'reserved'])] } };
      case 4: return { status: 'active', keywords: w() };
      case 5: return { status: 'active', keywords: { $all: [w(), w()] } };
      case 6: return { status: { $in: ['active', 'sold'] }, keywords: { $in: [w(), w()] } };
      case 7: return { keywords: w() };
      case 8: return { status: { $ne: 'sold' } };
      case 9: return { status: { $gte: 'a', $lt: 's' }, keywords: w() };
      case 10: return { status: 'active', keywords: { $all: [w()] }, n: { $gte: new Int32(g.int(10)) } };
      default: return { status: ['active', 'reserved'] };
    }
  };
  const centre = () => (g.chance(0.8) ? [D(13.405 + (g.r() - 0.5) * 0.1), D(52.52 + (g.r() - 0.5) * 0.1)] : g.point().coordinates);
  for (let i = 0; i < 700; i++) {
    if (i % 50 === 49) {
      // Writes that change prefix keys only (the point stays): the document changes partition.
      for (let k = 0; k < 20; k++) {
        const set = g.chance(0.5) ? { status: g.pick(STATUSES)() ?? null } : { keywords: [g.pick(WORDS), g.pick(WORDS)] };
        for (const c of ['l', 'p']) srv.ok(DB, { update: c, updates: [{ q: { _id: new Int32(g.int(1500)) }, u: { $set: set } }] });
      }
    }
    const coll = g.chance(0.8) ? 'l' : 'p';
    const query = prefix();
    let cmd;
    if (g.chance(0.6)) {
      const spec = { near: { type: 'Point', coordinates: centre() }, distanceField: 'dist_m', spherical: true, key: 'geo', query };
      if (g.chance(0.6)) spec.maxDistance = D(g.pick([2000, 10000, 100000, 3000000]));
      const pipeline = [{ $geoNear: spec }, { $sort: { dist_m: new Int32(1), _id: new Int32(1) } }];
      if (g.chance(0.8)) pipeline.push({ $limit: new Int32(1 + g.int(25)) });
      cmd = { aggregate: coll, pipeline, cursor: {} };
    } else {
      const near = { $geometry: { type: 'Point', coordinates: centre() } };
      if (g.chance(0.5)) near.$maxDistance = D(g.pick([2000, 10000, 100000]));
      cmd = { find: coll, filter: { ...query, geo: { $near: near } } };
      if (g.chance(0.7)) cmd.limit = new Int32(1 + g.int(25));
    }
    same(srv, cmd, `geo query ${i} (seed ${SEED})`);
  }
  // The plans marketd's shapes get: equality on status (and a word) walks only its partitions.
  const planOf = (coll, query) => {
    const spec = { near: { type: 'Point', coordinates: [D(13.4), D(52.5)] }, distanceField: 'd', maxDistance: D(5000), spherical: true, key: 'geo', query };
    const r = srv.run(DB, { explain: { aggregate: coll, pipeline: [{ $geoNear: spec }, { $limit: new Int32(5) }], cursor: {} }, verbosity: 'queryPlanner' });
    if (!r.queryPlanner) return r.codeName;
    const st = r.queryPlanner.winningPlan;
    return `${st.stage} ${st.indexName}`;
  };
  assert.strictEqual(planOf('l', { status: 'active' }), 'GEO_NEAR_2DSPHERE status_geo');
  assert.strictEqual(planOf('l', { status: 'active', keywords: 'bench' }), 'GEO_NEAR_2DSPHERE status_keywords_geo');
  assert.strictEqual(planOf('l', { status: 'active', keywords: { $all: ['bench', 'oak'] } }), 'GEO_NEAR_2DSPHERE status_keywords_geo');
  assert.strictEqual(planOf('l', { status: { $in: ['active', 'sold'] }, keywords: { $in: ['bench', 'oak'] } }), 'GEO_NEAR_2DSPHERE status_keywords_geo');
  assert.strictEqual(planOf('l', { keywords: 'bench' }), 'GEO_NEAR_2DSPHERE geo_2dsphere');
  assert.strictEqual(planOf('p', { status: 'active', keywords: 'bench' }), 'GEO_NEAR_2DSPHERE geo_active', 'the partial index serves a query that implies its filter');
  assert.strictEqual(planOf('p', { keywords: 'bench' }), 'NoQueryExecutionPlans', 'and is no index for one that does not: refused, as by MongoDB');
  srv.close();
});

// $geoNear + optional $match + $sort with the distance first + $limit runs in the scan (the
// found records are ordered and cut before any is decoded, aggregate.js geoNearStage): with
// many documents at identical points (every tie at a page's last distance must be examined
// and ordered by the other keys: _id, missing fields, arrays, mixed numeric types, descending
// keys), the answer must be that of
//   - the same pipeline with every query a collection scan (the planner disabled);
//   - the materialised $geoNear (+ $match) output sorted and cut by the $match path, in a
//     collection without and with B-tree indexes on the sort keys (sortItems, index order);
//   - the pipeline engine, for sort keys whose order mingo's $sort shares with MongoDB's
//     (numbers of three BSON types, _id): a $skip of 0 keeps $sort and $limit out of the scan;
//   - for {dist: 1, _id: 1}, the next page by browse.c's keyset $match continues the first.
test('$geoNear sorted by distance then other keys, with many exact ties, agrees with the engine and the $match path', () => {
  const srv = newServer();
  const g = gen(SEED + 6);
  const D = (x) => new Double(x);
  const POINTS = [[13.405, 52.52], [13.405, 52.521], [2.352, 48.857], [-179.99, 10], [13.41, 52.52]];
  const WORDS = ['lamp', 'desk', 'oak'];
  const num = (v) => g.pick([() => new Int32(v), () => Long.fromNumber(v), () => D(v)])();
  const doc = (i) => {
    const d = { _id: g.chance(0.9) ? new Int32(i) : `s${i % 50}-${i}` };
    if (g.chance(0.9)) d.status = g.chance(0.8) ? 'active' : g.pick(['sold', ['active', 'reserved']]);
    if (g.chance(0.9)) d.tags = [...new Set(Array.from({ length: 1 + g.int(3) }, () => g.pick(WORDS)))];
    d.n = num(g.int(4)); // few values, three BSON types: ties across types
    if (g.chance(0.85)) d.k = g.pick([() => num(g.int(3)), () => D(NaN), () => null, () => g.pick(['a', 'b', '']), () => D(0.5)])();
    if (g.chance(0.8)) d.arr = g.pick([() => [], () => [num(g.int(5)), num(g.int(5))], () => num(g.int(5)), () => [[num(1)]], () => ['a', num(2)], () => null])();
    if (g.chance(0.7)) d.sub = g.chance(0.7) ? { x: num(g.int(3)) } : [{ x: num(g.int(3)) }, { x: num(g.int(3)) }];
    const p = g.pick(POINTS);
    if (g.chance(0.85)) d.geo = { type: 'Point', coordinates: [D(p[0]), D(p[1])] };
    else if (g.chance(0.5)) d.geo = { type: 'Point', coordinates: [D(p[0] + (g.r() - 0.5) * 0.02), D(p[1])] };
    else if (g.chance(0.5)) d.geo = [{ type: 'Point', coordinates: [D(p[0]), D(p[1])] }, { type: 'Point', coordinates: [D(13.405), D(52.52)] }];
    return d;
  };
  srv.ok(DB, { createIndexes: 't', indexes: [
    { key: { geo: '2dsphere' }, name: 'geo' },
    { key: { status: new Int32(1), geo: '2dsphere' }, name: 'status_geo' },
    { key: { status: new Int32(1), tags: new Int32(1), geo: '2dsphere' }, name: 'status_tags_geo' },
  ] });
  srv.ok(DB, { insert: 't', documents: Array.from({ length: 1500 }, (_, i) => doc(i)) });
  const REF_INDEXES = [['dist', '_id'], ['dist', 'n'], ['dist', 'k'], ['dist', 'n', '_id']].flatMap((ks) => [1, -1].map((dir) => ({
    key: Object.fromEntries(ks.map((k, j) => [k, new Int32(j === 0 ? 1 : dir)])), name: `${ks.join('_')}_${dir}`,
  })));
  const query = () => {
    switch (g.int(6)) {
      case 0: return {};
      case 1: return { status: 'active' };
      case 2: return { status: 'active', tags: { $all: [g.pick(WORDS)] } };
      case 3: return { status: { $in: ['active', 'sold'] }, tags: { $in: [g.pick(WORDS), g.pick(WORDS)] } };
      case 4: return { status: 'active', tags: { $all: [g.pick(WORDS), g.pick(WORDS)] }, n: { $gte: num(g.int(3)) } };
      default: return { tags: g.pick(WORDS) };
    }
  };
  const clause = () => g.pick([() => ({ n: { $lte: num(g.int(4)) } }), () => ({ k: { $exists: g.chance(0.5) } }), () => ({ arr: { $gte: num(1) } }),
    () => ({ dist: { $lte: D(g.pick([0, 70, 111.3, 1000])) } }), () => ({ $or: [{ k: null }, { 'sub.x': num(1) }] }), () => ({ k: { $type: 'long' } }), () => ({ $expr: { $gte: ['$n', '$dist'] } })])();
  const KEYS = ['_id', 'n', 'k', 'arr', 'sub.x', 'status', 'tags'];
  const agg = (pipeline) => srv.all(DB, { aggregate: 't', pipeline, cursor: {} });
  const ids = (docs) => docs.map((d) => `${EJSON.stringify(d._id)}@${d.dist}`).join(' ');
  let tied = 0;
  let pages = 0;
  for (let i = 0; i < 300; i++) {
    const p = g.pick(POINTS);
    const near = { type: 'Point', coordinates: g.chance(0.8) ? [D(p[0]), D(p[1])] : [D(p[0] + 0.01), D(p[1] + 0.01)] };
    const spec = { near, distanceField: 'dist', spherical: true, key: 'geo', query: query() };
    if (g.chance(0.5)) spec.maxDistance = D(g.pick([0, 200, 5000, 3000000]));
    if (g.chance(0.1)) spec.includeLocs = 'loc';
    if (g.chance(0.1)) spec.distanceMultiplier = D(g.pick([0, 1e-300, 0.001, 2])); // outputs tie where distances do not
    const keys = [];
    for (let j = g.int(3); j > 0; j--) {
      const k = g.pick(KEYS);
      if (!keys.includes(k)) keys.push(k);
    }
    const browse = g.chance(0.3); // browse.c's order
    if (browse) keys.splice(0, keys.length, '_id');
    const sort = { dist: new Int32(1), ...Object.fromEntries(keys.map((k) => [k, new Int32(browse || g.chance(0.5) ? 1 : -1)])) };
    const matches = g.chance(0.3) ? [{ $match: clause() }] : [];
    const limit = new Int32(1 + g.int(40));
    const label = `tie query ${i} (seed ${SEED})`;
    const cmd = { aggregate: 't', pipeline: [{ $geoNear: spec }, ...matches, { $sort: sort }, { $limit: limit }], cursor: {} };
    const got = same(srv, cmd, label).docs;
    // The $match path on the materialised output: sortItems, then the B-tree indexes.
    const all = agg([{ $geoNear: spec }, ...matches]).docs;
    if (all.length > limit.valueOf() && all[limit.valueOf()].dist.valueOf() === all[limit.valueOf() - 1].dist.valueOf()) tied++;
    srv.run(DB, { drop: 'ref' });
    srv.ok(DB, { createIndexes: 'ref', indexes: REF_INDEXES });
    if (all.length) srv.ok(DB, { insert: 'ref', documents: all });
    const ref = same(srv, { aggregate: 'ref', pipeline: [{ $match: {} }, { $sort: sort }, { $limit: limit }], cursor: {} }, `${label}, reference`).docs;
    assert.strictEqual(bytes(got), bytes(ref), `${label}: differs from the $match path\n${EJSON.stringify(cmd)}\ngot: ${ids(got)}\nref: ${ids(ref)}`);
    if (keys.every((k) => k === '_id' || k === 'n')) {
      const engine = agg([{ $geoNear: spec }, ...matches, { $skip: new Int32(0) }, { $sort: sort }, { $limit: limit }]).docs;
      assert.strictEqual(bytes(got), bytes(engine), `${label}: differs from the engine\n${EJSON.stringify(cmd)}\ngot:    ${ids(got)}\nengine: ${ids(engine)}`);
    }
    if (keys.length === 1 && keys[0] === '_id' && sort._id.valueOf() === 1 && got.length === limit.valueOf()) {
      const last = got[got.length - 1];
      const keyset = { $match: { $or: [{ dist: { $gt: last.dist } }, { dist: last.dist, _id: { $gt: last._id } }] } };
      const next = same(srv, { ...cmd, pipeline: [{ $geoNear: spec }, ...matches, keyset, { $sort: sort }, { $limit: limit }] }, `${label}, page 2`).docs;
      const both = same(srv, { ...cmd, pipeline: [{ $geoNear: spec }, ...matches, { $sort: sort }, { $limit: new Int32(2 * limit.valueOf()) }] }, `${label}, two pages`).docs;
      // ($gt compares within a type bracket: a keyset on an int _id does not reach strings.)
      if (both.every((d) => typeof d._id === typeof last._id)) {
        assert.strictEqual(ids([...got, ...next]), ids(both), `${label}: page 2 does not continue page 1`);
        pages++;
      }
    }
  }
  assert.ok(tied > 100, `too few pages end inside a run of ties (${tied})`);
  assert.ok(pages > 10, `too few keyset pages (${pages})`);
  srv.close();
});

// createIndexes on a filled collection (an index build: the projector's rebuild creates the
// browse indexes when it completes) loads each B-tree from its entries in index order
// (indexes.js, BTreeIndex.build: grouped by the values up to the multikey field, or one sort)
// and each 2dsphere partition with rbush's bulk load. The trees must hold exactly what inserts
// one by one give, in the same order, and every query must still agree with a scan.
test('indexes built on a filled collection equal indexes filled by inserts', () => {
  const entriesOf = (st) => [...st.tree.entries()].map(([k, v]) => [st.keyOf(k), v === undefined ? [k.rec || k] : Array.isArray(v) ? v : [v]]);
  const ids = (recs) => recs.map((r) => bytes(r.doc._id)).join(',');
  const geoParts = (st) => new Map([...st.parts].map(([key, part]) => [key, [...st.all([part])].map((r) => bytes(r.doc._id)).sort().join(',')]));
  const compare = (label, a, b, coll) => {
    const ca = a.ctx.store.db(DB).get(coll);
    const cb = b.ctx.store.db(DB).get(coll);
    assert.deepStrictEqual(cb.indexes.map((i) => i.name), ca.indexes.map((i) => i.name));
    for (let i = 1; i < ca.indexes.length; i++) {
      const sa = ca.indexes[i].structure;
      const sb = cb.indexes[i].structure;
      const name = `${label}: ${ca.indexes[i].name}`;
      if (!sa) continue;
      assert.deepStrictEqual(sb.multikey, sa.multikey, `${name}: multikey fields`);
      if (sa.tree && sa.tree.entries) {
        const ea = entriesOf(sa);
        const eb = entriesOf(sb);
        assert.strictEqual(eb.length, ea.length, `${name}: entries`);
        for (let k = 0; k < ea.length; k++) {
          assert.strictEqual(sa.compare(ea[k][0], eb[k][0]), 0, `${name}: key ${k}`);
          assert.strictEqual(ids(eb[k][1]), ids(ea[k][1]), `${name}: records of key ${k}`);
        }
      } else {
        assert.deepStrictEqual(geoParts(sb), geoParts(sa), `${name}: partitions and their records`);
      }
    }
  };
  const g = gen(SEED + 7);
  for (let round = 0; round < 4; round++) {
    const a = newServer();
    const b = newServer();
    const docs = Array.from({ length: 300 + g.int(300) }, (_, i) => makeDoc(g, i));
    a.ok(DB, { createIndexes: 'c', indexes: INDEXES });
    a.ok(DB, { insert: 'c', documents: docs });
    b.ok(DB, { insert: 'c', documents: docs });
    b.ok(DB, { createIndexes: 'c', indexes: INDEXES });
    compare(`generated documents, round ${round}`, a, b, 'c');
    for (let i = 0; i < 150; i++) same(b, { find: 'c', filter: filterOf(g), sort: sortOf(g) || undefined }, `read ${i} after the build (round ${round})`);
    // Writes after a build go into the loaded trees.
    for (let i = 0; i < 30; i++) {
      const cmd = { update: 'c', updates: [{ q: filterOf(g), u: { $set: { c: g.str(), tags: g.arr(), a: g.value() } }, multi: g.chance(0.5) }] };
      a.run(DB, cmd);
      b.run(DB, cmd);
      const del = { delete: 'c', deletes: [{ q: { _id: new Int32(g.int(600)) }, limit: new Int32(1) }] };
      a.run(DB, del);
      b.run(DB, del);
    }
    compare(`generated documents after writes, round ${round}`, a, b, 'c');
    a.close();
    b.close();
  }
  // The listings: word lists on one field (grouped), both with and without the rebuild's
  // indexes present during the load, as the projector does.
  const { docs } = demoListings(1500, { seed: 5, sellers: 30 });
  const a = newServer();
  const b = newServer();
  a.ok(DB, { createIndexes: 'listings', indexes: LISTING_INDEXES });
  a.ok(DB, { insert: 'listings', documents: docs });
  b.ok(DB, { createIndexes: 'listings', indexes: LISTING_INDEXES.filter((i) => REBUILD_INDEXES.includes(i.name)) });
  b.ok(DB, { insert: 'listings', documents: docs });
  for (const i of LISTING_INDEXES) b.ok(DB, { createIndexes: 'listings', indexes: [i] });
  const reorder = (srv) => srv.ctx.store.db(DB).get('listings').indexes.map((i) => i.name);
  assert.deepStrictEqual(new Set(reorder(b)), new Set(reorder(a)));
  const byName = (srv) => {
    const coll = srv.ctx.store.db(DB).get('listings');
    coll.indexes.sort((x, y) => (x.name === '_id_' ? -1 : y.name === '_id_' ? 1 : LISTING_INDEXES.findIndex((i) => i.name === x.name) - LISTING_INDEXES.findIndex((i) => i.name === y.name)));
  };
  byName(b);
  compare('demo listings', a, b, 'listings');
  // Near searches walk the packed R-trees (with and without words), then after writes that
  // move listings between partitions.
  const { words, cities } = demoListings(1, { seed: 5 });
  const nearQueries = (label) => {
    for (let i = 0; i < 60; i++) {
      const city = g.pick(cities);
      const query = { status: 'active' };
      if (g.chance(0.7)) query.keywords = { $all: [g.pick(words)] };
      const spec = { near: { type: 'Point', coordinates: [new Double(city[3]), new Double(city[2])] }, distanceField: 'dist_m', spherical: true, key: 'geo', query };
      if (g.chance(0.5)) spec.maxDistance = new Double(g.pick([2000, 20000, 80000]));
      same(b, { aggregate: 'listings', pipeline: [{ $geoNear: spec }, { $sort: { dist_m: new Int32(1), _id: new Int32(1) } }, { $limit: new Int32(1 + g.int(30)) }], cursor: {} }, `${label} ${i}`);
    }
  };
  nearQueries('near search after the build');
  for (let i = 0; i < 200; i++) {
    const d = docs[g.int(docs.length)];
    const set = g.chance(0.5) ? { status: g.pick(['active', 'sold']) } : { keywords: [g.pick(words), g.pick(words)], geo: { type: 'Point', coordinates: [new Double(13 + g.r()), new Double(52 + g.r())] } };
    for (const srv of [a, b]) srv.ok(DB, { update: 'listings', updates: [{ q: { _id: d._id }, u: { $set: set } }] });
  }
  compare('demo listings after writes', a, b, 'listings');
  nearQueries('near search after writes');
  a.close();
  b.close();
});

// Ties at one point are TieGroup entries of the R-trees (indexes.js: the records with one
// point each at exactly one point, in _id order), and a $geoNear sorted by {dist: 1, _id: 1}
// with a $limit walks them in that order, stops at the page and seeks past a keyset cursor
// (geowalk.js). Under inserts one by one, a bulk build, deletes, updates that move records
// into and out of tie points and between partitions, and groups split across R-tree leaves,
// every page must equal the collection scan's, pages must continue each other, and each
// group must hold its records in tie order, each record once.
test('tie groups of the R-trees under writes, builds and split groups: pages by (distance, _id) agree with a scan', () => {
  const { TieGroup, tieCmp } = require('../lib/indexes');
  const g = gen(SEED + 8);
  const D = (x) => new Double(x);
  const POINTS = [[13.405, 52.52], [13.405, 52.5201], [2.352, 48.857], [0, 0], [-0.0, 10]];
  const WORDS = ['lamp', 'desk', 'oak'];
  const idOf = (i) => g.pick([() => new Int32(i), () => `s${String(i % 97).padStart(2, '0')}-${i}`, () => D(i + 0.5), () => `${i}`])();
  const pointDoc = () => {
    if (g.chance(0.8)) {
      const p = g.pick(POINTS);
      return { type: 'Point', coordinates: [D(p[0]), D(p[1])] };
    }
    if (g.chance(0.5)) return { type: 'Point', coordinates: [D(13.405 + (g.r() - 0.5) * 0.05), D(52.52 + (g.r() - 0.5) * 0.05)] };
    if (g.chance(0.5)) return [{ type: 'Point', coordinates: [D(13.405), D(52.52)] }, { type: 'Point', coordinates: [D(2.352), D(48.857)] }];
    return { type: 'Point', coordinates: [D(500), D(1)] }; // off the globe: an odd record
  };
  const doc = (i) => {
    const d = { _id: idOf(i) };
    if (g.chance(0.9)) d.status = g.chance(0.8) ? 'active' : 'sold';
    d.tags = [...new Set(Array.from({ length: 1 + g.int(3) }, () => g.pick(WORDS)))];
    if (g.chance(0.95)) d.geo = pointDoc();
    d.n = new Int32(g.int(4));
    return d;
  };
  const INDEXES_G = [
    { key: { geo: '2dsphere' }, name: 'geo' },
    { key: { status: new Int32(1), geo: '2dsphere' }, name: 'status_geo' },
    { key: { status: new Int32(1), tags: new Int32(1), geo: '2dsphere' }, name: 'status_tags_geo' },
  ];
  const srv = newServer();
  const docs = Array.from({ length: 1200 }, (_, i) => doc(i));
  srv.ok(DB, { createIndexes: 'ins', indexes: INDEXES_G });
  for (const d of docs) srv.ok(DB, { insert: 'ins', documents: [d] }); // one by one: insertSolo
  srv.ok(DB, { insert: 'blk', documents: docs });
  srv.ok(DB, { createIndexes: 'blk', indexes: INDEXES_G }); // a bulk build: tieGroups
  const collOf = (c) => srv.ctx.store.db(DB).get(c);
  // Every group in tie order, its records with one point each at the group's point, and each
  // partition's records (groups expanded) the same in both collections.
  const check = (label) => {
    let groups = 0;
    let biggest = 0;
    const recsOf = (c) => collOf(c).indexes.filter((ix) => ix.structure && ix.structure.parts).map((ix) => {
      const st = ix.structure;
      return new Map([...st.parts].map(([key, part]) => {
        const walk = (node) => {
          for (const ch of node.children) {
            if (!node.leaf) walk(ch);
            else if (ch instanceof TieGroup) {
              groups++;
              biggest = Math.max(biggest, ch.recs.length);
              assert.ok(ch.recs.length >= 2, `${label}: a group of ${ch.recs.length}`);
              for (let k = 1; k < ch.recs.length; k++) assert.ok(tieCmp(ch.recs[k - 1], ch.recs[k]) < 0, `${label}: ${ix.name}: a group out of tie order`);
              for (const r of ch.recs) {
                const c = r.view.geo && r.view.geo.coordinates;
                assert.ok(c && c[0] === ch.minX && c[1] === ch.minY, `${label}: a group record not at its point`);
              }
            }
          }
        };
        walk(part.tree.data);
        const ids = [];
        const seen = new Set();
        for (const r of st.all([part])) { assert.ok(!seen.has(r)); seen.add(r); ids.push(bytes(r.doc._id)); }
        return [key, ids.sort().join(',')];
      }));
    });
    const a = recsOf('ins');
    const b = recsOf('blk');
    for (let k = 0; k < a.length; k++) assert.deepStrictEqual(b[k], a[k], `${label}: partitions and records of ${INDEXES_G[k].name}`);
    return { groups, biggest };
  };
  const shape = check('after the load');
  assert.ok(shape.groups >= 20 && shape.biggest >= 100, `groups ${shape.groups}, biggest ${shape.biggest}`);
  const query = () => g.pick([() => ({}), () => ({ status: 'active' }), () => ({ status: 'active', tags: { $all: [g.pick(WORDS)] } }),
    () => ({ status: { $in: ['active', 'sold'] }, tags: { $in: [g.pick(WORDS), g.pick(WORDS)] } }), () => ({ status: 'active', n: { $gte: new Int32(g.int(4)) } })])();
  let pages = 0;
  const reads = (label, count) => {
    for (let i = 0; i < count; i++) {
      const p = g.pick(POINTS);
      const spec = { near: { type: 'Point', coordinates: g.chance(0.7) ? [D(p[0]), D(p[1])] : [D(p[0] + 0.001), D(p[1])] }, distanceField: 'dist', spherical: true, key: 'geo', query: query() };
      if (g.chance(0.4)) spec.maxDistance = D(g.pick([0, 50, 3000, 100000]));
      const limit = 1 + g.int(30);
      const coll = g.chance(0.5) ? 'ins' : 'blk';
      const tail = [{ $sort: { dist: new Int32(1), _id: new Int32(1) } }, { $limit: new Int32(limit) }];
      const all = same(srv, { aggregate: coll, pipeline: [{ $geoNear: spec }, { $sort: { dist: new Int32(1), _id: new Int32(1) } }], cursor: {} }, `${label} ${i}, whole`).docs;
      // Keyset pages through the ties: each page equals the scan's, and together they are the
      // whole ordered answer (as far as $gt on _id reaches: within one type).
      let after = [];
      let got = [];
      for (let page = 0; page < 6; page++) {
        const out = same(srv, { aggregate: coll, pipeline: [{ $geoNear: spec }, ...after, ...tail], cursor: {} }, `${label} ${i}, page ${page}`).docs;
        got = got.concat(out);
        pages++;
        if (out.length < limit) break;
        const last = out[out.length - 1];
        after = [{ $match: { $or: [{ dist: { $gt: last.dist } }, { dist: last.dist, _id: { $gt: last._id } }] } }];
      }
      const ofType = (d) => typeof d._id === typeof got[0]?._id && (d._id instanceof Double) === (got[0]?._id instanceof Double);
      if (got.length && all.slice(0, got.length).every(ofType)) {
        assert.strictEqual(got.map((d) => bytes(d)).join(), all.slice(0, got.length).map((d) => bytes(d)).join(), `${label} ${i}: the pages are not the ordered answer`);
      }
    }
  };
  reads('after the load', 60);
  // Writes: deletes, moves into and out of tie points, partition changes; the same to both.
  for (let round = 0; round < 8; round++) {
    for (let k = 0; k < 40; k++) {
      const i = g.int(docs.length + 200);
      const id = docs[i % docs.length]._id;
      let cmd;
      switch (g.int(5)) {
        case 0: cmd = { delete: 'X', deletes: [{ q: { _id: id }, limit: new Int32(1) }] }; break;
        case 1: cmd = { update: 'X', updates: [{ q: { _id: id }, u: { $set: { geo: pointDoc() } } }] }; break;
        case 2: cmd = { update: 'X', updates: [{ q: { _id: id }, u: { $set: { status: g.pick(['active', 'sold']), tags: [g.pick(WORDS)] } } }] }; break;
        case 3: cmd = { insert: 'X', documents: [doc(docs.length + round * 100 + k)] }; break;
        default: cmd = { update: 'X', updates: [{ q: { _id: id }, u: { $unset: { geo: 1 } } }] };
      }
      const name = Object.keys(cmd)[0];
      srv.run(DB, { ...cmd, [name]: 'ins' });
      srv.run(DB, { ...cmd, [name]: 'blk' });
    }
    if (round === 3) {
      // Split groups: every third group's records in two interleaved halves, the second half a
      // new group in another leaf of the tree (several entries at one point, _ids interleaved).
      let split = 0;
      for (const c of ['ins', 'blk']) {
        for (const ix of collOf(c).indexes) {
          if (!ix.structure || !ix.structure.parts) continue;
          for (const part of ix.structure.parts.values()) {
            const leaves = [];
            const walk = (node, path) => { if (node.leaf) leaves.push([node, [...path, node]]); else for (const ch of node.children) walk(ch, [...path, node]); };
            walk(part.tree.data, []);
            for (const [leaf] of leaves) {
              for (let j = 0; j < leaf.children.length; j++) {
                const grp = leaf.children[j];
                if (!(grp instanceof TieGroup) || grp.recs.length < 4 || split++ % 3) continue;
                const other = new TieGroup(grp.minX, grp.minY, grp.recs.filter((_, k) => k % 2));
                grp.recs = grp.recs.filter((_, k) => !(k % 2));
                const [to, path] = leaves[(leaves.findIndex(([l]) => l === leaf) + 1) % leaves.length];
                to.children.push(other);
                for (const node of path) {
                  node.minX = Math.min(node.minX, other.minX); node.minY = Math.min(node.minY, other.minY);
                  node.maxX = Math.max(node.maxX, other.maxX); node.maxY = Math.max(node.maxY, other.maxY);
                }
              }
            }
          }
        }
      }
      assert.ok(split > 10, `groups split: ${split}`);
    }
    check(`after write round ${round}`);
    reads(`after write round ${round}`, 25);
  }
  assert.ok(pages > 300, `pages: ${pages}`);
  srv.close();
});
