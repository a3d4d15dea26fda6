'use strict';
// Differential test of the 2dsphere indexes (compound, partial, ties at one point): generated
// near searches must give identical results, in identical order, with the planner's indexes and
// with every query as a collection scan. Seeded: a failure names its seed and query.

const test = require('node:test');
const assert = require('node:assert');
const { Int32, Long, Double, EJSON } = require('bson');
const { newServer, bytes } = require('./helpers');
const { SEED, DB, gen, clause, same } = require('./diff-common');

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

// Ties at one point are TieGroup entries of the R-trees (indexes.js: the records with one
// point each at exactly one point, in _id order), and a $geoNear sorted by {dist: 1, _id: 1}
// with a $limit walks them in that order, stops at the page and seeks past a keyset cursor
// (geowalk.js). Under inserts one by one, a bulk build, deletes, updates that move records
// into and out of tie points and between partitions, and groups split across R-tree leaves,
// every page must equal the collection scan's, pages must continue each other, and each
// group must hold its records in tie order, each record once.
test('tie groups of the R-trees under writes, builds and split groups: pages by (distance, _id) agree with a scan', (t) => {
  const { TieGroup, TieList, tieCmp } = require('../lib/indexes');
  // Blocks of 4 records: every group of the test spans several (TieList), as 100,000 records
  // at one point do with the real 512.
  const block = TieList.block;
  TieList.block = 4;
  t.after(() => { TieList.block = block; });
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
  // Into indexed collections by commands of 100: GeoIndex.addMany, partition by partition in
  // Hilbert order (the projector's batches).
  srv.ok(DB, { createIndexes: 'bat', indexes: INDEXES_G });
  for (let i = 0; i < docs.length; i += 100) srv.ok(DB, { insert: 'bat', documents: docs.slice(i, i + 100) });
  const collOf = (c) => srv.ctx.store.db(DB).get(c);
  // Every group in tie order, its records with one point each at the group's point, and each
  // partition's records (groups expanded) the same in both collections.
  const check = (label) => {
    let groups = 0;
    let biggest = 0;
    const groupsIn = {}; // collection -> TieGroups in its trees
    const recsOf = (c) => collOf(c).indexes.filter((ix) => ix.structure && ix.structure.parts).map((ix) => {
      const st = ix.structure;
      return new Map([...st.parts].map(([key, part]) => {
        const walk = (node) => {
          for (const ch of node.children) {
            if (!node.leaf) walk(ch);
            else if (ch instanceof TieGroup) {
              groups++;
              groupsIn[c] = (groupsIn[c] || 0) + 1;
              biggest = Math.max(biggest, ch.recs.length);
              assert.ok(ch.recs.length >= 2, `${label}: a group of ${ch.recs.length}`);
              for (let k = 1; k < ch.recs.length; k++) assert.ok(tieCmp(ch.recs.at(k - 1), ch.recs.at(k)) < 0, `${label}: ${ix.name}: a group out of tie order`);
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
    const c = recsOf('bat');
    for (let k = 0; k < a.length; k++) {
      assert.deepStrictEqual(b[k], a[k], `${label}: partitions and records of ${INDEXES_G[k].name}`);
      assert.deepStrictEqual(c[k], a[k], `${label}: partitions and records of ${INDEXES_G[k].name} (batches)`);
    }
    return { groups, biggest, groupsIn };
  };
  const shape = check('after the load');
  assert.ok(shape.groups >= 20 && shape.biggest >= 100, `groups ${shape.groups}, biggest ${shape.biggest}`);
  // Ties found by inserts too, one by one and in batches (insertSolo's leaf search, which
  // PointCounts lets it skip only when no other record is at the point).
  for (const c of ['ins', 'blk', 'bat']) assert.ok(shape.groupsIn[c] >= 10, `TieGroups in ${c}: ${shape.groupsIn[c]}`);
  const query = () => g.pick([() => ({}), () => ({ status: 'active' }), () => ({ status: 'active', tags: { $all: [g.pick(WORDS)] } }),
    () => ({ status: { $in: ['active', 'sold'] }, tags: { $in: [g.pick(WORDS), g.pick(WORDS)] } }), () => ({ status: 'active', n: { $gte: new Int32(g.int(4)) } })])();
  let pages = 0;
  const reads = (label, count) => {
    for (let i = 0; i < count; i++) {
      const p = g.pick(POINTS);
      const spec = { near: { type: 'Point', coordinates: g.chance(0.7) ? [D(p[0]), D(p[1])] : [D(p[0] + 0.001), D(p[1])] }, distanceField: 'dist', spherical: true, key: 'geo', query: query() };
      if (g.chance(0.4)) spec.maxDistance = D(g.pick([0, 50, 3000, 100000]));
      const limit = 1 + g.int(30);
      const coll = g.pick(['ins', 'blk', 'bat']);
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
      srv.run(DB, { ...cmd, [name]: 'bat' });
    }
    if (round === 3) {
      // Split groups: every third group's records in two interleaved halves, the second half a
      // new group in another leaf of the tree (several entries at one point, _ids interleaved).
      let split = 0;
      for (const c of ['ins', 'blk', 'bat']) {
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
                const other = new TieGroup(grp.minX, grp.minY, [...grp.recs].filter((_, k) => k % 2));
                grp.recs = new TieList([...grp.recs].filter((_, k) => !(k % 2)));
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
