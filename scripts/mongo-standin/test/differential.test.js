'use strict';
// Differential test: thousands of generated queries and writes must give identical results,
// in identical order, with the planner's indexes and with every query as a collection scan.
// Seeded: a failure names its seed and query, and reproduces. The 2dsphere ones are in
// differential-geo.test.js; what both use is in diff-common.js.

const test = require('node:test');
const assert = require('node:assert');
const { Int32, Long, Double, EJSON } = require('bson');
const { newServer, withoutIndexes, bytes } = require('./helpers');
const { demoListings, LISTING_INDEXES, REBUILD_INDEXES } = require('../tools/demo-docs');
const { SEED, DB, gen, makeDoc, INDEXES, FIELDS, clause, filterOf, sortOf, BROWSE_PROJECT, same } = require('./diff-common');

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

// createIndexes on a filled collection (an index build: the projector's rebuild creates the
// browse indexes when it completes) loads each B-tree from its entries in index order
// (indexes.js, BTreeIndex.build: grouped by the values up to the multikey field, or one sort)
// and each 2dsphere partition with rbush's bulk load. The trees must hold exactly what inserts
// one by one give, in the same order, and every query must still agree with a scan.
test('indexes built on a filled collection equal indexes filled by inserts', () => {
  const entriesOf = (st) => [...st.entries()];
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
      if (sa.groups) {
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
