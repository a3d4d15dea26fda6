'use strict';
// The read path's shortcuts at catalogue scale (issue 19, seventh pass): each gives the answer
// of the plain path (collection scans, the pipeline engine), byte for byte.

const test = require('node:test');
const assert = require('node:assert');
const { Int32, Long, Double } = require('bson');
const { newServer, withoutIndexes, bytes } = require('./helpers');
const { rng, demoListings, LISTING_INDEXES, BROWSE_PROJECT } = require('../tools/demo-docs');

const DB = 'rp';
const I = (n) => new Int32(n);

test('an index scan giving the sort\'s first keys orders each run of ties by the other keys: pages cut inside a run, skips, both directions', () => {
  const srv = newServer();
  const r = rng(7);
  const int = (n) => Math.floor(r() * n);
  srv.ok(DB, { createIndexes: 'c', indexes: [{ key: { s: I(1), p: I(1) }, name: 's_p' }, { key: { s: I(1), q: I(-1), p: I(1) }, name: 's_q_p' }] });
  // Few distinct prices (runs of dozens of ties), equal values of three numeric types, ids
  // inserted out of order, a second key with ties of its own, missing and null.
  const docs = [];
  for (let i = 0; i < 600; i++) {
    const p = [() => I(int(8) * 100), () => Long.fromNumber(int(8) * 100), () => new Double(int(8) * 100)][int(3)]();
    const d = { _id: `id${String(int(100000)).padStart(6, '0')}-${i}`, s: int(10) < 9 ? 'active' : 'sold', p, q: int(4), t: int(3) };
    if (int(20) === 0) delete d.p;
    else if (int(20) === 0) d.p = null;
    docs.push(d);
  }
  srv.ok(DB, { insert: 'c', documents: docs });
  const sorts = [
    { p: I(1), _id: I(1) }, { p: I(-1), _id: I(-1) }, { p: I(1), _id: I(-1) }, { p: I(1), t: I(-1) }, { p: I(1) },
    { q: I(-1), p: I(1), _id: I(1) }, { q: I(1), t: I(1) },
  ];
  let n = 0;
  for (const sort of sorts) {
    for (const limit of [1, 5, 21, 40, 90]) {
      for (const skip of [0, 3, 30]) {
        const filter = { s: 'active', ...(n % 3 === 0 ? { p: { $gte: I(200) } } : {}), ...(n % 4 === 1 ? { t: { $ne: 1 } } : {}) };
        n++;
        const find = { find: 'c', filter, sort, limit: I(limit), skip: I(skip) };
        const agg = { aggregate: 'c', cursor: {}, pipeline: [{ $match: filter }, { $sort: sort }, { $limit: I(limit) }] };
        for (const cmd of [find, agg]) {
          const plan = srv.run(DB, { explain: cmd, verbosity: 'queryPlanner' }).queryPlanner.winningPlan;
          assert.match(JSON.stringify(plan), /IXSCAN/, 'the index serves the query');
          assert.strictEqual(bytes(srv.all(DB, cmd)), bytes(withoutIndexes(() => srv.all(DB, cmd))), `${JSON.stringify(sort)} limit ${limit} skip ${skip}`);
        }
      }
    }
  }
  srv.close();
});

test('price pages from status_price_id examine the page and one key more, whatever the ties at its last price', () => {
  const srv = newServer();
  srv.ok(DB, { createIndexes: 'listings', indexes: LISTING_INDEXES });
  const { docs } = demoListings(3000, { seed: 5 });
  // Round prices, as the demo's: every listing at one of 12.
  for (const [i, d] of docs.entries()) d.price_minor = Long.fromNumber(1000 * (1 + (i % 12)));
  srv.ok(DB, { insert: 'listings', documents: docs });
  srv.ok(DB, { profile: 2 });
  for (const [dir, lo] of [[1, 1000], [1, 4500], [-1, 12000], [-1, 7000]]) {
    const pipeline = [{ $match: { status: 'active', price_minor: dir > 0 ? { $gte: Long.fromNumber(lo) } : { $lte: Long.fromNumber(lo) } } },
      { $sort: { price_minor: I(dir), _id: I(dir) } }, { $limit: I(21) }, { $project: BROWSE_PROJECT }];
    const got = srv.all(DB, { aggregate: 'listings', cursor: {}, pipeline });
    assert.strictEqual(got.docs.length, 21);
    assert.strictEqual(bytes(got), bytes(withoutIndexes(() => srv.all(DB, { aggregate: 'listings', cursor: {}, pipeline }))));
  }
  srv.ok(DB, { profile: 0 });
  // (the runs without indexes are profiled too, as collection scans)
  const prof = srv.all(DB, { find: 'system.profile', filter: { ns: `${DB}.listings`, planSummary: { $ne: 'COLLSCAN' } } }).docs;
  assert.strictEqual(prof.length, 4);
  for (const e of prof) {
    assert.strictEqual(e.planSummary, 'IXSCAN { status: 1, price_minor: 1, _id: 1 }');
    assert.ok(Number(e.keysExamined) <= 22, `keys examined ${e.keysExamined}: the ties at the last price were read`);
  }
  srv.close();
});
