'use strict';
// The planner, explain, hint, the profiler and the storage form, in process.

const test = require('node:test');
const assert = require('node:assert');
const { Int32, Long, Double, Decimal128, ObjectId, serialize } = require('bson');
const { newServer } = require('./helpers');
const { demoListings, LISTING_INDEXES } = require('../tools/demo-docs');

const I = (n) => new Int32(n);
const DB = 'plan';

/** Stages and index names of a winning plan, depth first. */
function stages(plan) {
  const out = [];
  const walk = (p) => {
    if (!p) return;
    out.push(p.indexName ? `${p.stage}:${p.indexName}` : p.stage);
    walk(p.inputStage);
    (p.inputStages || []).forEach(walk);
  };
  walk(plan);
  return out;
}

function setup(n = 2000) {
  const srv = newServer();
  const demo = demoListings(n, { seed: 3, sellers: 50 });
  srv.ok(DB, { createIndexes: 'listings', indexes: LISTING_INDEXES });
  srv.ok(DB, { insert: 'listings', documents: demo.docs });
  const explain = (cmd) => srv.ok(DB, { explain: cmd, verbosity: 'executionStats' });
  return { srv, demo, explain };
}

test("marketd's shapes use the indexes ensure_indexes declares", () => {
  const { srv, demo, explain } = setup();
  const seller = demo.sellerIds[0];
  const cases = [
    [{ aggregate: 'listings', pipeline: [{ $match: { status: 'active', category_path: 'home' } }, { $sort: { created_us: I(-1), _id: I(-1) } }, { $limit: I(21) }], cursor: {} }, 'IXSCAN:status_category_created'],
    [{ aggregate: 'listings', pipeline: [{ $match: { status: 'active' } }, { $sort: { created_us: I(-1), _id: I(-1) } }, { $limit: I(21) }], cursor: {} }, 'IXSCAN:status_created'],
    [{ aggregate: 'listings', pipeline: [{ $match: { status: 'active', price_minor: { $gte: Long.fromNumber(100), $lte: Long.fromNumber(9000) } } }, { $sort: { price_minor: I(1), _id: I(1) } }, { $limit: I(21) }], cursor: {} }, 'IXSCAN:status_price_id'],
    [{ aggregate: 'listings', pipeline: [{ $match: { status: 'active', keywords: { $all: ['oak', 'lamp'] } } }, { $limit: I(21) }], cursor: {} }, 'IXSCAN:status_keywords_created'],
    // relevance tiers (browse.c): the top tier from the title words, the others from keywords, newest first
    [{ aggregate: 'listings', pipeline: [{ $match: { status: 'active', keywords: { $all: ['oak'] }, price_minor: { $gte: Long.fromNumber(5) }, title_words: { $all: ['oak'] } } }, { $sort: { created_us: I(-1), _id: I(-1) } }, { $limit: I(21) }], cursor: {} }, 'IXSCAN:status_title_created'],
    [{ aggregate: 'listings', pipeline: [{ $match: { status: 'active', keywords: { $all: ['oak'] }, title_words: { $nin: ['oak'] } } }, { $sort: { created_us: I(-1), _id: I(-1) } }, { $limit: I(21) }], cursor: {} }, 'IXSCAN:status_keywords_created'],
    [{ aggregate: 'listings', pipeline: [{ $match: { status: 'active', keywords: { $all: ['oak', 'lamp'] }, $expr: { $eq: [{ $size: { $setIntersection: ['$title_words', ['oak', 'lamp']] } }, I(1)] }, created_us: { $lte: Long.fromNumber(1700000000000000 + 500 * 1000003) }, $or: [{ created_us: { $lt: Long.fromNumber(1700000000000000 + 500 * 1000003) } }, { _id: { $lt: 'm' } }] } }, { $sort: { created_us: I(-1), _id: I(-1) } }, { $limit: I(21) }], cursor: {} }, 'IXSCAN:status_keywords_created'],
    [{ aggregate: 'listings', pipeline: [{ $match: { status: 'active', seller_id: seller } }, { $sort: { created_us: I(-1), _id: I(-1) } }, { $limit: I(21) }], cursor: {} }, 'IXSCAN:seller_status_created'],
    [{ aggregate: 'listings', pipeline: [{ $geoNear: { near: { type: 'Point', coordinates: [new Double(13.4), new Double(52.5)] }, distanceField: 'dist_m', maxDistance: new Double(25000), spherical: true, key: 'geo', query: { status: 'active' } } }, { $limit: I(21) }], cursor: {} }, 'GEO_NEAR_2DSPHERE:status_geo'],
    [{ aggregate: 'listings', pipeline: [{ $geoNear: { near: { type: 'Point', coordinates: [new Double(13.4), new Double(52.5)] }, distanceField: 'dist_m', maxDistance: new Double(25000), spherical: true, key: 'geo', query: { status: 'active', keywords: { $all: ['oak', 'lamp'] } } } }, { $sort: { dist_m: I(1), _id: I(1) } }, { $limit: I(21) }], cursor: {} }, 'GEO_NEAR_2DSPHERE:status_keywords_geo'],
    // near with another sort (browse.c): $geoWithin, served from the compound 2dsphere index's partition
    [{ aggregate: 'listings', pipeline: [{ $match: { status: 'active', geo: { $geoWithin: { $centerSphere: [[new Double(13.4), new Double(52.5)], new Double(30 / 6378.1)] } } } }, { $sort: { created_us: I(-1), _id: I(-1) } }, { $limit: I(21) }], cursor: {} }, 'IXSCAN:status_geo'],
    [{ aggregate: 'listings', pipeline: [{ $match: { status: 'active', keywords: { $all: ['oak'] }, geo: { $geoWithin: { $centerSphere: [[new Double(13.4), new Double(52.5)], new Double(30 / 6378.1)] } } } }, { $sort: { created_us: I(-1), _id: I(-1) } }, { $limit: I(21) }], cursor: {} }, 'IXSCAN:status_keywords_geo'],
    [{ count: 'listings', query: { seller_id: seller, status: 'active' } }, 'IXSCAN:seller_status_created'],
    // the projector's recount of every seller at the end of a rebuild (listing_recount_all)
    [{ aggregate: 'listings', pipeline: [{ $match: { status: 'active' } }, { $group: { _id: '$seller_id', n: { $sum: I(1) } } }], cursor: {} }, 'IXSCAN:status_created'],
    // the projector's recount of a batch's sellers (listing_recount_active: counted as the scan finds them)
    [{ aggregate: 'listings', pipeline: [{ $match: { seller_id: { $in: [seller, demo.sellerIds[1]] }, status: 'active' } }, { $group: { _id: '$seller_id', n: { $sum: I(1) } } }], cursor: {} }, 'IXSCAN:seller_status_created'],
    // a renamed seller's listings, their _id alone (projector/invalidate.c add_seller_listings)
    [{ find: 'listings', filter: { seller_id: seller }, projection: { _id: I(1) } }, 'IXSCAN:seller_status_created'],
    [{ find: 'listings', filter: { _id: demo.docs[5]._id } }, 'IDHACK'],
    [{ find: 'listings', filter: { _id: { $in: [demo.docs[5]._id, demo.docs[9]._id] } } }, 'IXSCAN:_id_'],
    [{ update: 'listings', updates: [{ q: { seller_id: seller }, u: { $set: { 'seller.display_name': 'X' } }, multi: true }] }, 'IXSCAN:seller_status_created'],
  ];
  for (const [cmd, want] of cases) {
    const r = explain(cmd);
    const got = stages(r.queryPlanner.winningPlan);
    assert.ok(got.includes(want), `${Object.keys(cmd)[0]} ${JSON.stringify(cmd.pipeline || cmd.filter || cmd.query || '')}: ${got.join(' > ')} (wanted ${want})`);
  }
  srv.close();
});

test('an index scan examines a bounded number of keys, and the sort comes from the index', () => {
  const { srv, demo, explain } = setup(3000);
  const r = explain({ find: 'listings', filter: { status: 'active' }, sort: { created_us: I(-1) }, limit: I(10) });
  assert.deepStrictEqual(stages(r.queryPlanner.winningPlan), ['LIMIT', 'FETCH', 'IXSCAN:status_created']);
  const ix = r.queryPlanner.winningPlan.inputStage.inputStage;
  assert.deepStrictEqual(ix.indexBounds, { status: ['["active", "active"]'], created_us: ['[MaxKey, MinKey]'] });
  assert.strictEqual(ix.direction, 'forward');
  assert.ok(r.executionStats.totalKeysExamined.valueOf() <= 12, `keys examined: ${r.executionStats.totalKeysExamined}`);
  const back = explain({ find: 'listings', filter: { status: 'active' }, sort: { created_us: I(1) }, limit: I(10) });
  assert.strictEqual(back.queryPlanner.winningPlan.inputStage.inputStage.direction, 'backward');
  const seller = explain({ count: 'listings', query: { seller_id: demo.sellerIds[1], status: 'active' } });
  assert.ok(seller.executionStats.totalDocsExamined.valueOf() < 200, 'count by seller examines the seller\'s listings only');
  srv.close();
});

test('hint: a name or key pattern is used, an unknown one fails, $natural scans', () => {
  const { srv, explain } = setup(200);
  const plan = (hint) => stages(explain({ find: 'listings', filter: { status: 'active', seller_id: 'x' }, hint }).queryPlanner.winningPlan);
  assert.ok(plan('status_price_id').includes('IXSCAN:status_price_id'));
  assert.ok(plan({ status: I(1), created_us: I(-1) }).includes('IXSCAN:status_created'));
  assert.ok(plan({ $natural: I(1) }).includes('COLLSCAN'));
  for (const cmd of [
    { find: 'listings', filter: {}, hint: 'no_such_index' },
    { count: 'listings', query: { status: 'active' }, hint: 'no_such_index' },
    { aggregate: 'listings', pipeline: [{ $match: { status: 'active' } }], cursor: {}, hint: { nope: I(1) } },
    { update: 'listings', updates: [{ q: { status: 'x' }, u: { $set: { a: 1 } }, hint: 'nope' }] },
  ]) {
    const r = srv.run(DB, cmd);
    const err = r.writeErrors ? r.writeErrors[0] : r;
    assert.strictEqual(err.code, 2, `${Object.keys(cmd)[0]}: ${JSON.stringify(r)}`);
    assert.match(err.errmsg, /hint provided does not correspond to an existing index/);
  }
  // A hinted index gives the same documents as the matcher alone.
  const a = srv.all(DB, { find: 'listings', filter: { status: 'active', condition: 'new' }, hint: 'status_price_id', sort: { _id: I(1) } });
  const b = srv.all(DB, { find: 'listings', filter: { status: 'active', condition: 'new' }, hint: { $natural: I(1) }, sort: { _id: I(1) } });
  assert.strictEqual(serialize({ a: a.docs }).toString('hex'), serialize({ a: b.docs }).toString('hex'));
  srv.close();
});

test('sparse and partial indexes are only used when they hold every possible match', () => {
  const srv = newServer();
  srv.ok(DB, { createIndexes: 'c', indexes: [
    { key: { s: I(1) }, name: 's_sparse', sparse: true },
    { key: { p: I(1) }, name: 'p_partial', partialFilterExpression: { p: { $gt: I(10) } } },
  ] });
  srv.ok(DB, { insert: 'c', documents: [{ _id: 1, s: 1, p: 5 }, { _id: 2, p: 20 }, { _id: 3, s: null, p: 30 }] });
  const plan = (filter) => stages(srv.ok(DB, { explain: { find: 'c', filter } }).queryPlanner.winningPlan);
  assert.ok(plan({ s: 1 }).includes('IXSCAN:s_sparse'));
  assert.ok(plan({ s: null }).includes('COLLSCAN'));
  assert.ok(plan({ p: { $gt: I(15) } }).includes('IXSCAN:p_partial'));
  assert.ok(plan({ p: I(25) }).includes('IXSCAN:p_partial'));
  assert.ok(plan({ p: { $gt: I(5) } }).includes('COLLSCAN'));
  assert.deepStrictEqual(srv.all(DB, { find: 'c', filter: { s: null } }).docs.map((d) => d._id.valueOf()), [2, 3]);
  assert.deepStrictEqual(srv.all(DB, { find: 'c', filter: { p: { $gt: I(5) } } }).docs.map((d) => d._id.valueOf()), [2, 3]);
  srv.close();
});

test('multikey: $all, bounds of one element, no sort from a multikey field', () => {
  const srv = newServer();
  srv.ok(DB, { createIndexes: 'c', indexes: [{ key: { t: I(1) }, name: 't' }] });
  srv.ok(DB, { insert: 'c', documents: [{ _id: 1, t: [1, 10] }, { _id: 2, t: [5] }, { _id: 3, t: 7 }, { _id: 4 }] });
  const r = srv.ok(DB, { explain: { find: 'c', filter: { t: { $gt: I(8), $lt: I(3) } }, sort: { t: I(1) } } });
  const got = stages(r.queryPlanner.winningPlan);
  assert.strictEqual(got[0], 'SORT', 'a multikey field cannot give the order');
  assert.ok(r.queryPlanner.winningPlan.inputStage.inputStage.isMultiKey);
  assert.deepStrictEqual(srv.all(DB, { find: 'c', filter: { t: { $gt: I(8), $lt: I(3) } } }).docs.map((d) => d._id.valueOf()), [1]);
  srv.close();
});

test('explain answers for aggregate (explain: true), count, distinct, delete and findAndModify', () => {
  const { srv, demo } = setup(100);
  const agg = srv.ok(DB, { aggregate: 'listings', pipeline: [{ $match: { status: 'active' } }, { $group: { _id: '$currency', n: { $sum: I(1) } } }], explain: true });
  assert.ok(stages(agg.queryPlanner.winningPlan).includes('IXSCAN:status_created') || stages(agg.queryPlanner.winningPlan).some((s) => s.startsWith('IXSCAN:status_')));
  assert.ok(agg.stages[0].$cursor.queryPlanner.winningPlan);
  assert.deepStrictEqual(stages(srv.ok(DB, { explain: { count: 'listings', query: {} } }).queryPlanner.winningPlan), ['RECORD_STORE_FAST_COUNT']);
  assert.strictEqual(stages(srv.ok(DB, { explain: { distinct: 'listings', key: 'currency', query: { seller_id: demo.sellerIds[0] } } }).queryPlanner.winningPlan)[1], 'IXSCAN:seller_status_created');
  assert.strictEqual(stages(srv.ok(DB, { explain: { delete: 'listings', deletes: [{ q: { status: 'sold' }, limit: I(0) }] } }).queryPlanner.winningPlan)[0], 'DELETE');
  assert.strictEqual(stages(srv.ok(DB, { explain: { findAndModify: 'listings', query: { _id: demo.docs[0]._id }, update: { $set: { a: 1 } } } }).queryPlanner.winningPlan)[0], 'UPDATE');
  assert.strictEqual(srv.all(DB, { find: 'listings', filter: { _id: demo.docs[0]._id } }).docs[0].a, undefined, 'explain does not write');
  srv.close();
});

test('the profiler records op, ns, command and planSummary at level 2', () => {
  const { srv, demo } = setup(100);
  assert.strictEqual(srv.ok(DB, { profile: I(2) }).was.valueOf(), 0);
  srv.ok(DB, { find: 'listings', filter: { status: 'active' }, sort: { created_us: I(-1) }, limit: I(5) });
  srv.ok(DB, { find: 'listings', filter: { title: 'nothing' } });
  srv.ok(DB, { update: 'listings', updates: [{ q: { seller_id: demo.sellerIds[0] }, u: { $set: { x: 1 } }, multi: true }, { q: { _id: 'none' }, u: { $set: { x: 1 } } }] });
  srv.ok(DB, { count: 'listings', query: { seller_id: demo.sellerIds[0], status: 'active' } });
  srv.ok(DB, { aggregate: 'listings', pipeline: [{ $match: { status: 'active', category_path: 'home' } }, { $sort: { created_us: I(-1) } }, { $limit: I(3) }], cursor: {} });
  srv.ok(DB, { delete: 'listings', deletes: [{ q: { _id: 'none' }, limit: I(1) }] });
  assert.strictEqual(srv.ok(DB, { profile: I(0) }).was.valueOf(), 2);
  srv.ok(DB, { find: 'listings', filter: {} }); // not profiled any more
  const entries = srv.all(DB, { find: 'system.profile', filter: {} }).docs;
  const seen = entries.map((e) => `${e.op} ${e.ns} ${e.planSummary}`);
  assert.deepStrictEqual(seen, [
    `query ${DB}.listings IXSCAN { status: 1, created_us: -1 }`,
    `query ${DB}.listings COLLSCAN`,
    `update ${DB}.listings IXSCAN { seller_id: 1, status: 1, created_us: -1 }`,
    `update ${DB}.listings IDHACK`,
    `command ${DB}.listings IXSCAN { seller_id: 1, status: 1, created_us: -1 }`,
    `command ${DB}.listings IXSCAN { status: 1, category_path: 1, created_us: -1 }`,
    `remove ${DB}.listings IDHACK`,
  ]);
  assert.strictEqual(entries[0].command.find, 'listings');
  assert.ok(entries[0].ts instanceof Date);
  assert.strictEqual(entries[2].command.multi, true);
  srv.close();
});

test('a document is stored once, and comes back with its exact BSON types', () => {
  const srv = newServer();
  const doc = {
    _id: new ObjectId(), i: I(1), l: Long.fromNumber(2), big: Long.fromString('9007199254740993'), d: new Double(3),
    dec: Decimal128.fromString('1.10'), arr: [I(1), new Double(1.5), { x: Long.fromNumber(7) }], s: 'x', n: null, dt: new Date(5),
  };
  srv.ok(DB, { insert: 'c', documents: [doc] });
  const back = srv.all(DB, { find: 'c', filter: {} }).docs[0];
  assert.strictEqual(serialize(back).toString('hex'), serialize(doc).toString('hex'));
  const rec = [...srv.ctx.store.db(DB).get('c').records.values()][0];
  assert.deepStrictEqual(Object.keys(rec).sort(), ['exact', 'geoItem', 'idKey', 'seq', 'sig', 'view']);
  assert.strictEqual(typeof rec.view.i, 'number');
  srv.close();
});

test('$geoNear without maxDistance and with a limit searches only near the point', () => {
  const { srv } = setup(3000);
  const r = srv.ok(DB, { explain: { aggregate: 'listings', pipeline: [{ $geoNear: { near: { type: 'Point', coordinates: [new Double(2.35), new Double(48.85)] }, distanceField: 'd', spherical: true, key: 'geo' } }, { $limit: I(5) }], cursor: {} }, verbosity: 'queryPlanner' });
  assert.deepStrictEqual(stages(r.queryPlanner.winningPlan), ['GEO_NEAR_2DSPHERE:status_geo']);
  const stats = [];
  const { aggregate } = require('../lib/aggregate');
  const out = aggregate(srv.ctx.store.db(DB).get('listings'), [{ $geoNear: { near: { type: 'Point', coordinates: [2.35, 48.85] }, distanceField: 'd', spherical: true, key: 'geo' } }, { $limit: 5 }], { resolveColl: () => null, stats });
  assert.strictEqual(out.length, 5);
  assert.ok(stats[0].keysExamined < 1000, `examined ${stats[0].keysExamined} of 3000`);
  srv.close();
});

// Issue 19: a rare word near a busy place. Thousands of sold listings and a few active ones
// at one point: the $geoNear of browse.c (sort=distance) walks the active listings with the
// word only, not every listing within the radius.
test('$geoNear with equality on a compound 2dsphere prefix examines only its partition', () => {
  const { srv } = setup(500);
  const coll = srv.ctx.store.db(DB).get('listings');
  const many = demoListings(3000, { seed: 9, sellers: 50 }).docs.map((d, i) => ({
    ...d, _id: `sold-${i}`, id: `sold-${i}`, status: i < 20 ? 'active' : 'sold', keywords: i % 7 ? [...d.keywords, 'bench'] : d.keywords,
    geo: { type: 'Point', coordinates: [new Double(13.405 + (i % 50) * 0.001), new Double(52.52 + Math.floor(i / 50) * 0.001)] },
  }));
  srv.ok(DB, { insert: 'listings', documents: many });
  const { aggregate } = require('../lib/aggregate');
  const near = { type: 'Point', coordinates: [13.405, 52.52] };
  for (const [query, index, bound] of [[{ status: 'active', keywords: { $all: ['bench'] } }, 'status_keywords_geo', 40],
    [{ status: 'active' }, 'status_geo', 200]]) {
    const stats = [];
    const out = aggregate(coll, [{ $geoNear: { near, distanceField: 'dist_m', maxDistance: 100000, spherical: true, key: 'geo', query } },
      { $sort: { dist_m: 1, _id: 1 } }, { $limit: 21 }], { resolveColl: () => null, stats });
    assert.ok(out.length > 0 && out.every((d) => d.status === 'active'));
    assert.strictEqual(stats[0].plan.index.name, index);
    assert.ok(stats[0].keysExamined < bound, `${index}: examined ${stats[0].keysExamined} keys for ${out.length} results`);
  }
  srv.close();
});

test('refusals where the stand-in would differ: documents over 16 MiB, getMore after a drop', () => {
  const srv = newServer();
  const big = 'x'.repeat(9 * 1024 * 1024);
  srv.ok(DB, { insert: 'c', documents: [{ _id: 1, a: big }] });
  const r = srv.run(DB, { update: 'c', updates: [{ q: { _id: 1 }, u: { $set: { b: big } } }] });
  assert.strictEqual(r.writeErrors[0].code, 10334, JSON.stringify(r.writeErrors));
  srv.ok(DB, { insert: 'd', documents: Array.from({ length: 5 }, (_, i) => ({ _id: i })) });
  const first = srv.ok(DB, { find: 'd', filter: {}, batchSize: I(2) });
  srv.ok(DB, { drop: 'd' });
  const more = srv.run(DB, { getMore: first.cursor.id, collection: 'd' });
  assert.strictEqual(more.code, 175, JSON.stringify(more));
  srv.close();
});

test('the 16 MiB check: a cheap bound first, the exact size when the bound is over', () => {
  // store.js checkSize: sizeBound counts 3 bytes per UTF-16 unit; over 16 MiB by the bound,
  // the exact BSON size decides.
  const srv = newServer();
  const nine = 'x'.repeat(9 * 1024 * 1024);
  // An upsert of plain $sets whose document (filter seed and fields) is over 16 MiB.
  let r = srv.run(DB, { update: 'u', updates: [{ q: { _id: 'a', k: nine }, u: { $set: { b: nine } }, upsert: true }, { q: { _id: 'b' }, u: { $set: { b: 1 } }, upsert: true }], ordered: false });
  assert.strictEqual(r.writeErrors.length, 1, JSON.stringify(r.writeErrors));
  assert.strictEqual(r.writeErrors[0].code, 10334);
  assert.strictEqual(r.n.valueOf(), 1);
  // 6 Mi two-byte characters: 18 MiB by the bound, 12 MiB of BSON: stored.
  const wide = '\u00e9'.repeat(6 * 1024 * 1024);
  r = srv.ok(DB, { insert: 'u', documents: [{ _id: 'wide', s: wide }] });
  assert.strictEqual(r.n.valueOf(), 1);
  // 9 Mi of them (18 MiB of BSON): refused, by insert and by an update.
  r = srv.run(DB, { insert: 'u', documents: [{ _id: 'wider', s: '\u00e9'.repeat(9 * 1024 * 1024) }] });
  assert.strictEqual(r.writeErrors[0].code, 10334);
  r = srv.run(DB, { update: 'u', updates: [{ q: { _id: 'wide' }, u: { $set: { t: '\u00e9'.repeat(3 * 1024 * 1024) } } }] });
  assert.strictEqual(r.writeErrors[0].code, 10334);
  assert.strictEqual(srv.ok(DB, { count: 'u', query: {} }).n.valueOf(), 2);
  srv.close();
});

test('a countDocuments pipeline counts without the pipeline engine, with mongod\'s answer', () => {
  const { srv, demo } = setup(1500);
  const seller = demo.sellerIds[2];
  const count = (match) => srv.all(DB, { aggregate: 'listings', pipeline: [{ $match: match }, { $group: { _id: I(1), n: { $sum: I(1) } } }], cursor: {} }).docs;
  const want = srv.ok(DB, { count: 'listings', query: { seller_id: seller, status: 'active' } }).n.valueOf();
  assert.ok(want > 0);
  const got = count({ seller_id: seller, status: 'active' });
  assert.strictEqual(got.length, 1);
  assert.strictEqual(got[0]._id.valueOf(), 1);
  assert.ok(got[0].n instanceof Int32, `n is an int32 as mongod answers: ${got[0].n && got[0].n.constructor.name}`);
  assert.strictEqual(got[0].n.valueOf(), want);
  assert.deepStrictEqual(Object.keys(got[0]), ['_id', 'n']);
  assert.deepStrictEqual(count({ seller_id: 'nobody' }), [], 'no input documents: no group');
  // The same pipeline through the engine (an accumulator the shortcut does not take) agrees.
  const engine = srv.all(DB, { aggregate: 'listings', pipeline: [{ $match: { seller_id: seller, status: 'active' } }, { $group: { _id: I(1), n: { $sum: { $literal: I(1) } } } }], cursor: {} }).docs;
  assert.strictEqual(engine[0].n.valueOf(), want);
  srv.close();
});

test('$match + $sort + $limit runs in the scan, as mongod coalesces it; the answer is the engine\'s', () => {
  const { srv, explain } = setup(1500);
  const sort = { created_us: I(-1), _id: I(-1) };
  const match = { status: 'active', category_path: 'home' };
  const r = explain({ aggregate: 'listings', pipeline: [{ $match: match }, { $sort: sort }, { $limit: I(21) }], cursor: {} });
  assert.deepStrictEqual(r.stages.map((s) => Object.keys(s)[0]), ['$cursor'], 'no stage left for the pipeline engine');
  const limited = (p) => !!p && (p.stage === 'LIMIT' || p.limitAmount !== undefined || limited(p.inputStage));
  assert.ok(limited(r.queryPlanner.winningPlan), `the limit is in the plan: ${stages(r.queryPlanner.winningPlan).join(' > ')}`);
  const fast = srv.all(DB, { aggregate: 'listings', pipeline: [{ $match: match }, { $sort: sort }, { $limit: I(21) }], cursor: {} }).docs;
  // The same through the engine: a $skip of 0 between them keeps the $limit out of the scan.
  const engine = srv.all(DB, { aggregate: 'listings', pipeline: [{ $match: match }, { $sort: sort }, { $skip: I(0) }, { $limit: I(21) }], cursor: {} }).docs;
  assert.strictEqual(fast.length, 21);
  assert.deepStrictEqual(serialize({ d: fast }), serialize({ d: engine }), 'the same documents, order and BSON types');
  // A $limit the scan cannot take (not a positive integer) is left to the engine: the same
  // outcome with or without the coalescing.
  for (const lim of [I(0), I(-3), 2.5]) {
    const a = srv.run(DB, { aggregate: 'listings', pipeline: [{ $match: match }, { $sort: sort }, { $limit: lim }], cursor: {} });
    const b = srv.run(DB, { aggregate: 'listings', pipeline: [{ $match: match }, { $sort: sort }, { $skip: I(0) }, { $limit: lim }], cursor: {} });
    assert.strictEqual(a.ok.valueOf(), b.ok.valueOf(), `$limit ${lim}`);
    assert.strictEqual(a.errmsg, b.errmsg);
  }
  srv.close();
});

test('a batch stops before 16 MiB with the sizes of the documents as they are now, after updates', () => {
  const srv = newServer();
  const big = 'x'.repeat(6 * 1024 * 1024);
  srv.ok(DB, { insert: 'blobs', documents: [{ _id: I(1), b: big }, { _id: I(2), b: big }, { _id: I(3), b: 'small' }] });
  const first = () => srv.run(DB, { find: 'blobs', filter: {}, sort: { _id: I(1) } }).cursor;
  // Read once while the third is small: all three fit in one batch.
  const c0 = first();
  assert.strictEqual(c0.firstBatch.length, 3);
  // The third grows to 6 MiB: 18 MiB no longer fit, and the first batch stops at two.
  srv.ok(DB, { update: 'blobs', updates: [{ q: { _id: I(3) }, u: { $set: { b: big } } }] });
  const c1 = first();
  assert.strictEqual(c1.firstBatch.length, 2);
  const rest = srv.ok(DB, { getMore: c1.id, collection: 'blobs' }).cursor.nextBatch;
  assert.deepStrictEqual(rest.map((d) => d._id.valueOf()), [3]);
  // The same through an aggregation that runs in the scan.
  const a = srv.run(DB, { aggregate: 'blobs', pipeline: [{ $match: {} }, { $sort: { _id: I(1) } }, { $limit: I(3) }], cursor: {} }).cursor;
  assert.strictEqual(a.firstBatch.length, 2);
  srv.close();
});

test('queries compiled one after another share no state: let variables, $expr, conditions', () => {
  const srv = newServer();
  srv.ok(DB, { insert: 'vars', documents: [{ _id: I(1), a: I(5), b: I(5) }, { _id: I(2), a: I(7), b: I(3) }, { _id: I(3), a: I(1), b: I(9) }] });
  const ids = (cmd) => srv.all(DB, cmd).docs.map((d) => d._id.valueOf());
  for (let round = 0; round < 3; round++) {
    assert.deepStrictEqual(ids({ find: 'vars', filter: { $expr: { $gt: ['$a', '$$lim'] } }, let: { lim: I(4) }, sort: { _id: I(1) } }), [1, 2]);
    assert.deepStrictEqual(ids({ find: 'vars', filter: { $expr: { $eq: ['$a', '$b'] } }, sort: { _id: I(1) } }), [1]);
    assert.deepStrictEqual(ids({ find: 'vars', filter: { $expr: { $gt: ['$a', '$$lim'] } }, let: { lim: I(6) }, sort: { _id: I(1) } }), [2]);
    assert.deepStrictEqual(ids({ find: 'vars', filter: { b: { $gte: I(5) } }, sort: { _id: I(1) } }), [1, 3]);
    const r = srv.run(DB, { find: 'vars', filter: { $expr: { $gt: ['$a', '$$lim'] } } });
    assert.notStrictEqual(r.ok.valueOf(), 1, 'an undefined variable still fails after queries that defined it');
  }
  srv.close();
});

test('a count by one field counts from the stored records, with the engine\'s answer and order', () => {
  const { srv, demo } = setup(1500);
  // Sellers missing or null group together under null, as in mongod.
  srv.ok(DB, { insert: 'listings', documents: [{ _id: 'nos-1', status: 'active' }, { _id: 'nos-2', status: 'active', seller_id: null }] });
  const group = (n) => srv.all(DB, { aggregate: 'listings', pipeline: [{ $match: { status: 'active' } }, { $group: { _id: '$seller_id', n } }], cursor: {} }).docs;
  const fast = group({ $sum: I(1) });
  const engine = group({ $sum: { $literal: I(1) } }); // an accumulator the shortcut does not take
  assert.ok(fast.length > 10, `groups: ${fast.length}`);
  assert.deepStrictEqual(serialize({ d: fast }), serialize({ d: engine }), 'the same groups, order and BSON types');
  const nulls = fast.find((g) => g._id === null);
  assert.ok(nulls && nulls.n.valueOf() === 2, 'missing and null in one group');
  assert.ok(fast.every((g) => g.n instanceof Int32));
  // A group value that is not a string (a number here) is left to the engine: same answer.
  srv.ok(DB, { insert: 'listings', documents: [{ _id: 'num-1', status: 'active', seller_id: I(7) }, { _id: 'num-2', status: 'active', seller_id: new Double(7) }] });
  assert.deepStrictEqual(serialize({ d: group({ $sum: I(1) }) }), serialize({ d: group({ $sum: { $literal: I(1) } }) }));
  assert.ok(demo.sellerIds.length > 0);
  srv.close();
});

// Issue 19, the read side: browse.c's words near a place by distance, with hundreds of
// listings at one point (tests/bench/market_lag writes every listing at Berlin's centre).
// $geoNear + the keyset $match + $sort {dist_m, _id} + $limit run in the scan: the ties at one
// point are taken in _id order up to the page (not all examined), only the documents returned
// are decoded, and explain
// leaves nothing after $cursor (the SORT with its limit is in the plan).
test('$geoNear + $match + $sort by distance + $limit run in the scan: explain, documents decoded, the order of ties', () => {
  const { srv } = setup(300);
  const D = (x) => new Double(x);
  const lag = demoListings(500, { seed: 21, sellers: 10 }).docs.map((d, i) => ({
    ...d, _id: `lag-${String(i).padStart(3, '0')}`, status: 'active', keywords: ['lag', 'bench', 'lamp', 'desk'],
    geo: { type: 'Point', coordinates: [D(13.405), D(52.52)] },
  }));
  srv.ok(DB, { insert: 'listings', documents: lag });
  const geoNear = { $geoNear: { near: { type: 'Point', coordinates: [D(13.405), D(52.52)] }, distanceField: 'dist_m', maxDistance: D(50000), spherical: true, key: 'geo', query: { status: 'active', keywords: { $all: ['lamp'] } } } };
  const keyset = (d, id) => ({ $match: { $or: [{ dist_m: { $gt: d } }, { dist_m: d, _id: { $gt: id } }] } });
  const tail = [{ $sort: { dist_m: I(1), _id: I(1) } }, { $limit: I(21) }];
  const r = srv.ok(DB, { explain: { aggregate: 'listings', pipeline: [geoNear, keyset(D(0), 'lag-100'), ...tail], cursor: {} }, verbosity: 'queryPlanner' });
  assert.deepStrictEqual(r.stages.map((s) => Object.keys(s)[0]), ['$cursor'], 'no stage left for the pipeline engine');
  const plan = r.queryPlanner.winningPlan;
  assert.deepStrictEqual(stages(plan), ['SORT', 'GEO_NEAR_2DSPHERE:status_keywords_geo']);
  assert.deepStrictEqual(Object.entries(plan.sortPattern).map(([k, v]) => `${k}:${v}`), ['dist_m:1', '_id:1']);
  assert.strictEqual(plan.limitAmount, 21);
  // Not distance first, or no $limit: the engine sorts (and limits), as before.
  const other = srv.ok(DB, { explain: { aggregate: 'listings', pipeline: [geoNear, { $sort: { _id: I(1), dist_m: I(1) } }, { $limit: I(21) }], cursor: {} }, verbosity: 'queryPlanner' });
  assert.deepStrictEqual(other.stages.map((s) => Object.keys(s)[0]), ['$cursor', '$sort', '$limit']);
  const unlimited = srv.ok(DB, { explain: { aggregate: 'listings', pipeline: [geoNear, tail[0]], cursor: {} }, verbosity: 'queryPlanner' });
  assert.deepStrictEqual(unlimited.stages.map((s) => Object.keys(s)[0]), ['$cursor', '$sort']);

  // Documents decoded (Record#doc) per page: the 21 returned, not the 500 ties.
  const { Record } = require('../lib/store');
  const { aggregate } = require('../lib/aggregate');
  const coll = srv.ctx.store.db(DB).get('listings');
  const getter = Object.getOwnPropertyDescriptor(Record.prototype, 'doc');
  let decoded = 0;
  Object.defineProperty(Record.prototype, 'doc', { ...getter, get() { decoded++; return getter.get.call(this); } });
  try {
    let after = [];
    const seen = [];
    for (let page = 0; page < 3; page++) {
      const stats = [];
      decoded = 0;
      const out = aggregate(coll, [geoNear, ...after, { $sort: { dist_m: 1, _id: 1 } }, { $limit: 21 }], { resolveColl: () => null, stats });
      assert.strictEqual(out.length, 21);
      assert.strictEqual(decoded, 21, `page ${page}: ${decoded} documents decoded for 21 results`);
      // The ties are one TieGroup in _id order: the walk takes 21 of them and stops, and the
      // keyset cursor's _id is sought, not walked to (all 500 were examined before).
      assert.ok(stats[0].keysExamined < 60, `page ${page}: ${stats[0].keysExamined} keys examined, not every tie`);
      assert.ok(stats[0].docsExamined <= 21 + 3, `page ${page}: ${stats[0].docsExamined} documents examined for 21 results`);
      assert.ok(stats[0].docsExamined <= stats[0].keysExamined, `docsExamined ${stats[0].docsExamined} counted once per candidate`);
      seen.push(...out.map((d) => d._id));
      const last = out[20];
      assert.ok(last.dist_m instanceof Double);
      after = [keyset(last.dist_m, last._id)];
    }
    assert.deepStrictEqual(seen, lag.map((d) => d._id).sort().slice(0, 63), 'the ties page by _id');
  } finally {
    Object.defineProperty(Record.prototype, 'doc', getter);
  }

  // The order of ties on other keys is MongoDB's (the find and $match sort's): an array by its
  // least element ascending, its greatest descending; missing and null equal; numbers of any
  // BSON type by value.
  srv.ok(DB, { createIndexes: 'o', indexes: [{ key: { geo: '2dsphere' }, name: 'geo' }] });
  const at = { type: 'Point', coordinates: [D(2.35), D(48.85)] };
  const vals = { 1: [I(3), I(1)], 2: I(2), 3: undefined, 4: null, 5: Long.fromNumber(2), 6: [I(5)], 7: D(1.5), 8: [I(0), I(9)] };
  srv.ok(DB, { insert: 'o', documents: Object.entries(vals).map(([id, a]) => ({ _id: I(Number(id)), geo: at, ...(a === undefined ? {} : { a }) })) });
  const order = (dir) => srv.all(DB, { aggregate: 'o', pipeline: [{ $geoNear: { near: at, distanceField: 'd', spherical: true, key: 'geo' } },
    { $sort: { d: I(1), a: I(dir), _id: I(1) } }, { $limit: I(8) }], cursor: {} }).docs.map((d) => d._id.valueOf()).join(' ');
  assert.strictEqual(order(1), '3 4 8 1 7 2 5 6');
  assert.strictEqual(order(-1), '8 6 1 2 5 7 3 4');
  srv.close();
});

test('an index build leaves room in the R-trees it packs: a listing inserted afterwards splits no node', () => {
  const srv = newServer();
  const demo = demoListings(3000, { seed: 11, sellers: 30 });
  srv.ok(DB, { insert: 'listings', documents: demo.docs.slice(0, 2999) });
  srv.ok(DB, { createIndexes: 'listings', indexes: LISTING_INDEXES }); // built on the filled collection
  const st = srv.ctx.store.db(DB).get('listings').indexes.find((i) => i.name === 'status_keywords_geo').structure;
  const nodes = (tree) => {
    let n = 0;
    const walk = (node) => { n++; if (!node.leaf) node.children.forEach(walk); };
    walk(tree.data);
    return n;
  };
  let full = 0;
  const before = new Map();
  for (const [key, part] of st.parts) {
    const walk = (node) => {
      if (node.children.length >= part.tree._maxEntries) full++;
      if (!node.leaf) node.children.forEach(walk);
    };
    walk(part.tree.data);
    before.set(key, nodes(part.tree));
  }
  assert.ok(st.parts.size > 20, `partitions: ${st.parts.size}`);
  assert.strictEqual(full, 0, 'packed nodes filled to rbush\'s maximum: the next insert splits them');
  srv.ok(DB, { insert: 'listings', documents: [demo.docs[2999]] });
  let grown = 0;
  for (const [key, part] of st.parts) if (before.has(key) && nodes(part.tree) !== before.get(key)) grown++;
  assert.strictEqual(grown, 0, 'partitions whose tree split on one insert after the build');
});
