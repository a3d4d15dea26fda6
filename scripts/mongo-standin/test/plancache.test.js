'use strict';
// The plan cache (lib/planner.js cachedPlan): a query of a known shape takes the index
// planned for that shape, with its own values' bounds; the cache is dropped when the
// collection's indexes change or the collection is dropped; shapes with the same fields but
// other operators or value kinds do not share a plan; explain and the profiler say which plan
// came from the cache.

const test = require('node:test');
const assert = require('node:assert');
const { Int32 } = require('bson');
const { newServer, withoutCache, bytes } = require('./helpers');
const planner = require('../lib/planner');

const DB = 'pc';
const I = (n) => new Int32(n);

const docs = (from, n) => Array.from({ length: n }, (_, i) => ({ _id: I(from + i), a: I((from + i) % 10), b: I((from + i) % 7), c: `c${(from + i) % 3}` }));

function explained(srv, filter, sort) {
  const cmd = { find: 'c', filter };
  if (sort) cmd.sort = sort;
  const qp = srv.ok(DB, { explain: cmd, verbosity: 'queryPlanner' }).queryPlanner;
  let s = qp.winningPlan;
  while (s.inputStage) s = s.inputStage;
  return { index: s.indexName || s.stage, fromCache: qp.fromPlanCache, hash: qp.planCacheShapeHash };
}

const ids = (srv, filter, sort) => srv.all(DB, { find: 'c', filter, ...(sort ? { sort } : {}) }).docs.map((d) => d._id.valueOf());

test('a known shape takes its cached index, and the values of each query bound the scan', () => {
  const srv = newServer();
  srv.ok(DB, { createIndexes: 'c', indexes: [{ key: { a: I(1) }, name: 'a' }, { key: { b: I(1) }, name: 'b' }] });
  srv.ok(DB, { insert: 'c', documents: docs(0, 200) });
  const first = explained(srv, { a: I(3), b: { $gt: I(2) } });
  assert.deepStrictEqual([first.index, first.fromCache], ['a', false]);
  const second = explained(srv, { a: I(4), b: { $gt: I(5) } });
  assert.deepStrictEqual([second.index, second.fromCache, second.hash], ['a', true, first.hash]);
  // The cached plan's bounds are the new query's: the results are the query's own.
  assert.deepStrictEqual(ids(srv, { a: I(4), b: { $gt: I(5) } }), docs(0, 200).filter((d) => d.a.valueOf() === 4 && d.b.valueOf() > 5).map((d) => d._id.valueOf()));
  srv.close();
});

test('same fields, other operators or kinds of value: another shape, planned for itself', () => {
  const srv = newServer();
  srv.ok(DB, { createIndexes: 'c', indexes: [{ key: { a: I(1) }, name: 'a' }, { key: { b: I(1) }, name: 'b' }] });
  srv.ok(DB, { insert: 'c', documents: docs(0, 100) });
  assert.strictEqual(explained(srv, { a: I(3), b: { $gt: I(2) } }).index, 'a');
  assert.strictEqual(explained(srv, { a: I(3), b: { $gt: I(2) } }).fromCache, true);
  // The operators swapped: b is now the point, a the range.
  const swapped = explained(srv, { a: { $gt: I(3) }, b: I(2) });
  assert.deepStrictEqual([swapped.index, swapped.fromCache], ['b', false]);
  // A string instead of a number, an $in instead of an equality, a sort: other shapes.
  const keys = [{ a: I(3), b: { $gt: I(2) } }, { a: 'x', b: { $gt: I(2) } }, { a: { $in: [I(3)] }, b: { $gt: I(2) } }, { a: { $gt: I(3) }, b: I(2) }]
    .map((f) => planner.planCacheKey(f, null));
  assert.strictEqual(new Set(keys).size, keys.length);
  assert.notStrictEqual(planner.planCacheKey({ a: 1 }, null), planner.planCacheKey({ a: 1 }, [{ path: 'b', dir: 1, meta: null }]));
  assert.notStrictEqual(planner.planCacheKey({ a: 1 }, [{ path: 'b', dir: 1, meta: null }]), planner.planCacheKey({ a: 1 }, [{ path: 'b', dir: -1, meta: null }]));
  srv.close();
});

test('createIndexes and dropIndexes empty the cache: a dropped index is never scanned', () => {
  const srv = newServer();
  srv.ok(DB, { createIndexes: 'c', indexes: [{ key: { b: I(1) }, name: 'b' }] });
  srv.ok(DB, { insert: 'c', documents: docs(0, 100) });
  const f = { a: I(3), b: { $gt: I(2) } };
  assert.strictEqual(explained(srv, f).index, 'b');
  assert.strictEqual(explained(srv, f).fromCache, true);
  // A better index: planned again, and chosen.
  srv.ok(DB, { createIndexes: 'c', indexes: [{ key: { a: I(1), b: I(1) }, name: 'a_b' }] });
  assert.deepStrictEqual(Object.values(explained(srv, f)).slice(0, 2), ['a_b', false]);
  assert.strictEqual(explained(srv, f).fromCache, true);
  // Dropped: the cached plan must not scan the dropped structure (which no longer follows
  // the writes): documents inserted after the drop are found.
  srv.ok(DB, { dropIndexes: 'c', index: 'a_b' });
  srv.ok(DB, { insert: 'c', documents: docs(100, 100) });
  assert.deepStrictEqual(Object.values(explained(srv, f)).slice(0, 2), ['b', false]);
  const want = docs(0, 200).filter((d) => d.a.valueOf() === 3 && d.b.valueOf() > 2).map((d) => d._id.valueOf());
  assert.deepStrictEqual(ids(srv, f), want);
  assert.deepStrictEqual(withoutCache(() => ids(srv, f)), want);
  // Dropped and created again under the same name: a new index, a new plan.
  srv.ok(DB, { createIndexes: 'c', indexes: [{ key: { a: I(1), b: I(1) }, name: 'a_b' }] });
  assert.strictEqual(explained(srv, f).fromCache, false);
  srv.ok(DB, { dropIndexes: 'c', index: 'a_b' });
  srv.ok(DB, { createIndexes: 'c', indexes: [{ key: { a: I(1), b: I(1) }, name: 'a_b' }] });
  assert.deepStrictEqual(Object.values(explained(srv, f)).slice(0, 2), ['a_b', false]);
  srv.ok(DB, { insert: 'c', documents: docs(200, 50) });
  assert.deepStrictEqual(ids(srv, f), docs(0, 250).filter((d) => d.a.valueOf() === 3 && d.b.valueOf() > 2).map((d) => d._id.valueOf()));
  srv.close();
});

test('a dropped collection, made again with other indexes, plans anew', () => {
  const srv = newServer();
  srv.ok(DB, { createIndexes: 'c', indexes: [{ key: { a: I(1) }, name: 'a' }] });
  srv.ok(DB, { insert: 'c', documents: docs(0, 100) });
  const f = { a: I(5), c: 'c1' };
  assert.strictEqual(explained(srv, f).index, 'a');
  assert.strictEqual(explained(srv, f).fromCache, true);
  srv.ok(DB, { drop: 'c' });
  srv.ok(DB, { createIndexes: 'c', indexes: [{ key: { c: I(1) }, name: 'c' }] });
  srv.ok(DB, { insert: 'c', documents: docs(1000, 60) });
  assert.deepStrictEqual([explained(srv, f).index, explained(srv, { a: I(5), c: 'c2' }).fromCache], ['c', true]);
  assert.deepStrictEqual(ids(srv, f), docs(1000, 60).filter((d) => d.a.valueOf() === 5 && d.c === 'c1').map((d) => d._id.valueOf()));
  srv.close();
});

test('a partial index the new values do not imply: planned in full, never scanned for them', () => {
  const srv = newServer();
  srv.ok(DB, {
    createIndexes: 'c',
    indexes: [{ key: { c: I(1), a: I(1) }, name: 'c_a_partial', partialFilterExpression: { b: { $gt: I(4) } } }, { key: { c: I(1) }, name: 'c' }],
  });
  srv.ok(DB, { insert: 'c', documents: docs(0, 140) });
  const implied = { c: 'c1', a: I(4), b: { $gt: I(5) } };
  assert.strictEqual(explained(srv, implied).index, 'c_a_partial');
  const notImplied = { c: 'c1', a: I(4), b: { $gt: I(1) } }; // same shape; the partial index lacks b = 2..4
  const e = explained(srv, notImplied);
  assert.deepStrictEqual([e.index, e.fromCache], ['c', false]);
  assert.deepStrictEqual(ids(srv, notImplied), docs(0, 140).filter((d) => d.c === 'c1' && d.a.valueOf() === 4 && d.b.valueOf() > 1).map((d) => d._id.valueOf()));
  srv.close();
});

test('the profiler and explain say which plan came from the cache', () => {
  const srv = newServer();
  srv.ok(DB, { createIndexes: 'c', indexes: [{ key: { a: I(1), b: I(-1) }, name: 'a_b' }] });
  srv.ok(DB, { insert: 'c', documents: docs(0, 50) });
  srv.ok(DB, { profile: I(2) });
  const pipeline = (a) => [{ $match: { a: I(a) } }, { $sort: { b: I(-1) } }, { $limit: I(3) }];
  const r1 = srv.all(DB, { aggregate: 'c', pipeline: pipeline(1), cursor: {} });
  const r2 = srv.all(DB, { aggregate: 'c', pipeline: pipeline(2), cursor: {} });
  srv.ok(DB, { profile: I(0) });
  const entries = srv.all(DB, { find: 'system.profile', filter: { op: 'command', 'command.aggregate': 'c' } }).docs;
  assert.strictEqual(entries.length, 2);
  assert.deepStrictEqual(entries.map((e) => [e.planSummary, e.fromPlanCache]), [['IXSCAN { a: 1, b: -1 }', false], ['IXSCAN { a: 1, b: -1 }', true]]);
  assert.strictEqual(entries[0].planCacheShapeHash, entries[1].planCacheShapeHash);
  assert.match(entries[0].planCacheShapeHash, /^[0-9A-F]{8}$/);
  const ex = srv.ok(DB, { explain: { aggregate: 'c', pipeline: pipeline(3), cursor: {} }, verbosity: 'queryPlanner' });
  assert.strictEqual(ex.queryPlanner.fromPlanCache, true);
  assert.strictEqual(ex.queryPlanner.planCacheShapeHash, entries[0].planCacheShapeHash);
  assert.strictEqual(ex.queryPlanner.winningPlan.stage, 'LIMIT');
  // And the answers are those without the cache.
  assert.strictEqual(bytes(r1), bytes(withoutCache(() => srv.all(DB, { aggregate: 'c', pipeline: pipeline(1), cursor: {} }))));
  assert.strictEqual(bytes(r2), bytes(withoutCache(() => srv.all(DB, { aggregate: 'c', pipeline: pipeline(2), cursor: {} }))));
  srv.close();
});
