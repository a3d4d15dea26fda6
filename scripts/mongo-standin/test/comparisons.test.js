'use strict';
// Where mingo's comparisons differ from mongod's, the stand-in answers as mongod or refuses
// (issue 19's notes): equality with an embedded document compares its fields in order, and
// comparisons in expressions follow the BSON type order, take arrays whole and a missing
// field as its own value (the manual's $eq / $ne / $cmp expression pages, "Comparison/Sort
// Order"). Each query runs without an index, with one on the field (hinted), and in an
// aggregation's $match, and must give the same _ids.

const test = require('node:test');
const assert = require('node:assert');
const { newServer } = require('./helpers');

const DB = 'comparisons_test';

const DOCS = [
  { _id: 1, a: { x: 1, y: 2 } },
  { _id: 2, a: { y: 2, x: 1 } },
  { _id: 3, v: 1 },
  { _id: 4, v: '1' },
  { _id: 5, v: null },
  { _id: 6, v: [1, 2] },
  { _id: 7, a: [{ x: 1, y: 2 }, { z: 1 }] },
  { _id: 8, a: { x: 1, y: { p: 1, q: 2 } } },
  { _id: 9, a: { x: 1, y: { q: 2, p: 1 } } },
];

function server() {
  const s = newServer();
  s.ok(DB, { insert: 'c', documents: DOCS });
  s.ok(DB, { createIndexes: 'c', indexes: [{ key: { a: 1 }, name: 'a_1' }, { key: { v: 1 }, name: 'v_1' }] });
  return s;
}

const ids = (docs) => docs.map((d) => Number(d._id)).sort((x, y) => x - y);

/** The _ids filter matches: by a scan, by each index hinted, and in $match; all must agree. */
function matching(s, filter) {
  const answers = [
    s.all(DB, { find: 'c', filter, hint: { $natural: 1 } }),
    s.all(DB, { find: 'c', filter, hint: 'a_1' }),
    s.all(DB, { find: 'c', filter, hint: 'v_1' }),
    s.all(DB, { aggregate: 'c', pipeline: [{ $match: filter }], cursor: {} }),
  ];
  for (const r of answers) assert.ok(r.docs, `${JSON.stringify(filter)}: ${r.errmsg}`);
  const first = ids(answers[0].docs);
  for (const r of answers.slice(1)) assert.deepStrictEqual(ids(r.docs), first, JSON.stringify(filter));
  return first;
}

test('equality with an embedded document compares its fields in order, as mongod', () => {
  const s = server();
  assert.deepStrictEqual(matching(s, { a: { x: 1, y: 2 } }), [1, 7]);
  assert.deepStrictEqual(matching(s, { a: { y: 2, x: 1 } }), [2]);
  assert.deepStrictEqual(matching(s, { a: { $eq: { y: 2, x: 1 } } }), [2]);
  assert.deepStrictEqual(matching(s, { a: { x: 1, y: { p: 1, q: 2 } } }), [8]);
  assert.deepStrictEqual(matching(s, { a: { x: 1, y: { q: 2, p: 1 } } }), [9]);
  assert.deepStrictEqual(matching(s, { a: { $ne: { x: 1, y: 2 } } }), [2, 3, 4, 5, 6, 8, 9]);
  assert.deepStrictEqual(matching(s, { 'a.y': { q: 2, p: 1 } }), [9]);
  // one field: no order to get wrong; a document never equals a part of itself
  assert.deepStrictEqual(matching(s, { a: { z: 1 } }), [7]);
  assert.deepStrictEqual(matching(s, { a: { x: 1 } }), []);
  s.close();
});

test('$in, $nin and $all with a document of two or more fields are refused, not answered otherwise', () => {
  const s = server();
  for (const filter of [{ a: { $in: [{ y: 2, x: 1 }] } }, { a: { $nin: [{ x: 1, y: 2 }] } }, { a: { $all: [{ x: 1, y: 2 }] } }]) {
    const r = s.run(DB, { find: 'c', filter });
    assert.strictEqual(Number(r.ok), 0, JSON.stringify(filter));
    assert.strictEqual(Number(r.code), 2, JSON.stringify(filter));
    assert.match(r.errmsg, /fields in order/);
  }
  // one field, and $elemMatch inside $all, are answered
  assert.deepStrictEqual(matching(s, { a: { $in: [{ z: 1 }] } }), [7]);
  assert.deepStrictEqual(matching(s, { a: { $all: [{ $elemMatch: { x: 1, y: 2 } }] } }), [7]);
  s.close();
});

test('$expr comparisons follow the BSON type order, arrays whole, a missing field below null', () => {
  const s = server();
  // numbers < strings < arrays; null and missing below numbers
  assert.deepStrictEqual(matching(s, { $expr: { $gt: ['$v', 0] } }), [3, 4, 6]);
  assert.deepStrictEqual(matching(s, { $expr: { $lt: ['$v', 'a'] } }), [1, 2, 3, 4, 5, 7, 8, 9]);
  assert.deepStrictEqual(matching(s, { $expr: { $gte: ['$v', [1, 2]] } }), [6]);
  assert.deepStrictEqual(matching(s, { $expr: { $lte: ['$v', null] } }), [1, 2, 5, 7, 8, 9]);
  // an array is one value: [1, 2] does not equal 1 (a query's {v: 1} would match it)
  assert.deepStrictEqual(matching(s, { $expr: { $eq: ['$v', 1] } }), [3]);
  assert.deepStrictEqual(matching(s, { v: 1 }), [3, 6]);
  // missing equals missing only; null equals null only
  assert.deepStrictEqual(matching(s, { $expr: { $eq: ['$v', null] } }), [5]);
  assert.deepStrictEqual(matching(s, { $expr: { $eq: ['$v', '$nope'] } }), [1, 2, 7, 8, 9]);
  assert.deepStrictEqual(matching(s, { $expr: { $ne: ['$v', null] } }), [1, 2, 3, 4, 6, 7, 8, 9]);
  // documents in order
  assert.deepStrictEqual(matching(s, { $expr: { $eq: ['$a', { $literal: { y: 2, x: 1 } }] } }), [2]);
  s.close();
});

test('$cmp answers -1, 0 or 1 by the BSON order, and a comparison takes exactly two arguments', () => {
  const s = server();
  const r = s.all(DB, { aggregate: 'c', pipeline: [{ $match: { _id: { $in: [3, 4, 5, 6, 1] } } }, { $sort: { _id: 1 } },
    { $project: { c: { $cmp: ['$v', 1] } } }], cursor: {} });
  assert.deepStrictEqual(r.docs.map((d) => [Number(d._id), Number(d.c)]), [[1, -1], [3, 0], [4, 1], [5, -1], [6, 1]]);
  const bad = s.run(DB, { find: 'c', filter: { $expr: { $gt: ['$v'] } } });
  assert.strictEqual(Number(bad.ok), 0);
  assert.strictEqual(Number(bad.code), 16020);
  assert.match(bad.errmsg, /Expression \$gt takes exactly 2 arguments. 1 were passed in./);
  s.close();
});
