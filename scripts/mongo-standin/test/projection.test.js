'use strict';
// find projections as mongod answers them (jstests/core/id_partial_projection.js and the
// manual's rules): {_id: 1} is an inclusion of _id alone, and the stored-bytes path (a reply
// for the wire) answers what the decoding path does.

const test = require('node:test');
const assert = require('node:assert');
const BSON = require('bson');
const { Int32 } = BSON;
const { handleMessage } = require('../server');
const { pair, opMsg, seeded } = require('./helpers');

const DB = 'projection_test';
const I = (n) => new Int32(n);

/** The reply of cmd as both servers write it to the wire (one batch): the same bytes; its documents. */
function firstBatch(p, cmd, what) {
  const a = seeded(1, () => handleMessage(p.raw.ctx, opMsg(DB, cmd, 7)));
  const b = seeded(1, () => handleMessage(p.general.ctx, opMsg(DB, cmd, 7)));
  assert.ok(a.subarray(8).equals(b.subarray(8)), `${what}: the stored-bytes path writes what the decoded one does`);
  const r = BSON.deserialize(b.subarray(21));
  assert.strictEqual(r.ok, 1, JSON.stringify(r));
  return r.cursor.firstBatch;
}

test('{_id: 1} answers the _id alone, from the stored bytes and decoded alike', () => {
  const p = pair();
  p.general.ok(DB, { insert: 'c', documents: [
    { _id: { a: I(1), b: I(1) }, sortKey: I(1), x: { y: 'z' } },
    { _id: I(3), sortKey: I(2), s: 'long' },
  ] });
  const cases = [
    [{ _id: I(1) }, [{ _id: { a: 1, b: 1 } }, { _id: 3 }]],
    [{ _id: true }, [{ _id: { a: 1, b: 1 } }, { _id: 3 }]],
    [{ '_id.a': I(1) }, [{ _id: { a: 1 } }, {}]],
    [{ '_id.a': I(0) }, [{ _id: { b: 1 }, sortKey: 1, x: { y: 'z' } }, { _id: 3, sortKey: 2, s: 'long' }]],
    [{ _id: I(0) }, [{ sortKey: 1, x: { y: 'z' } }, { sortKey: 2, s: 'long' }]],
    [{ _id: I(1), sortKey: I(1) }, [{ _id: { a: 1, b: 1 }, sortKey: 1 }, { _id: 3, sortKey: 2 }]],
    [{ _id: I(1), x: I(0) }, [{ _id: { a: 1, b: 1 }, sortKey: 1 }, { _id: 3, sortKey: 2, s: 'long' }]],
    [{ _id: I(0), s: I(1) }, [{}, { s: 'long' }]],
  ];
  for (const [projection, want] of cases) {
    const docs = firstBatch(p, { find: 'c', filter: {}, projection, sort: { sortKey: I(1) } }, JSON.stringify(projection));
    assert.deepStrictEqual(docs, want, JSON.stringify(projection));
  }
  // $project {_id: 1} in an aggregation: the _id alone too.
  const agg = firstBatch(p, { aggregate: 'c', pipeline: [{ $match: {} }, { $sort: { sortKey: I(1) } }, { $project: { _id: I(1) } }], cursor: {} }, '$project');
  assert.deepStrictEqual(agg, [{ _id: { a: 1, b: 1 } }, { _id: 3 }]);
  p.close();
});
