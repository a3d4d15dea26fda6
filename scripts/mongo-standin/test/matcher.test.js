'use strict';
// The compiled matcher (lib/matcher.js) against mingo's Query, the reference: generated
// filters (the shapes it compiles and others) on generated document views (strings, numbers
// of every kind, -0, NaN, infinities, booleans, null, missing, arrays, nested arrays,
// documents, dates). Where it answers (not undefined) it must answer as mingo does.

const test = require('node:test');
const assert = require('node:assert');
const { compileMatcher } = require('../lib/matcher');
const { newQuery } = require('../lib/query');
const { rng } = require('../tools/demo-docs');

const SEED = Number(process.env.STANDIN_TEST_SEED || 20261128);

function gen(seed) {
  const r = rng(seed);
  const int = (n) => Math.floor(r() * n);
  const pick = (a) => a[int(a.length)];
  const num = () => pick([0, -0, 1, 2, 3, 2.5, -1, 10, 1e300, NaN, Infinity, -Infinity, 2 ** 53 + 2, 7])
  const str = () => pick(['a', 'b', 'ab', '', 'B', '1', 'é', 'active', 'sports']);
  const scalar = () => pick([num, num, str, str, () => null, () => r() < 0.5, () => new Date(1700000000000)])();
  const value = (depth = 0) => {
    const k = int(10);
    if (k < 5) return scalar();
    if (k < 8) return Array.from({ length: int(4) }, () => (depth < 2 && r() < 0.2 ? value(depth + 1) : scalar()));
    if (depth < 2) return { x: value(depth + 1), y: scalar() };
    return scalar();
  };
  return { r, int, pick, num, str, scalar, value };
}

const FIELDS = ['a', 'b', 'tags', 'sub.x', 'sub.y', 'm'];

function condition(g) {
  const v = () => g.pick([g.num, g.str, g.str, () => g.r() < 0.5, () => null])();
  switch (g.int(11)) {
    case 0: case 1: return v();
    case 2: return { $eq: v() };
    case 3: return { [g.pick(['$gt', '$gte', '$lt', '$lte'])]: g.num() };
    case 4: return { [g.pick(['$gt', '$gte'])]: g.num(), [g.pick(['$lt', '$lte'])]: g.num() };
    case 5: return { $in: Array.from({ length: g.int(4) }, v) };
    case 6: return { $all: Array.from({ length: g.int(3) }, g.str) };
    case 7: return { $gte: g.str() };
    case 8: return { $ne: v() };
    case 9: return { $eq: v(), $lte: g.num() };
    default: return [v()];
  }
}

function filterOf(g) {
  const f = {};
  for (let i = 1 + g.int(3); i > 0; i--) f[g.pick(FIELDS)] = condition(g);
  return f;
}

function docOf(g) {
  const d = {};
  if (g.r() < 0.9) d.a = g.value();
  if (g.r() < 0.8) d.b = g.scalar();
  if (g.r() < 0.8) d.tags = g.r() < 0.8 ? Array.from({ length: g.int(4) }, g.str) : g.value();
  if (g.r() < 0.7) d.sub = g.r() < 0.8 ? { x: g.value(), y: g.scalar() } : g.value();
  d.m = g.num();
  return d;
}

test('the compiled matcher answers as mingo wherever it answers', () => {
  const g = gen(SEED);
  const docs = Array.from({ length: 300 }, () => docOf(g));
  let compiled = 0;
  let answered = 0;
  let matched = 0;
  for (let i = 0; i < 3000; i++) {
    const filter = filterOf(g);
    const fast = compileMatcher(filter);
    if (!fast) continue;
    compiled++;
    const mq = newQuery(filter);
    for (const d of docs) {
      const r = fast(d);
      if (r === undefined) continue;
      answered++;
      const want = mq.test(d);
      if (want) matched++;
      assert.strictEqual(r, want, `filter ${JSON.stringify(filter)} on ${JSON.stringify(d)} (seed ${SEED})`);
    }
  }
  assert.ok(compiled > 800 && answered > 100000 && matched > 5000, `coverage: ${compiled} filters, ${answered} answers, ${matched} matches`);
});

test('what the matcher does not compile: other operators, $-fields, empty $in and $all, odd values', () => {
  for (const f of [{ a: { $ne: 1 } }, { $or: [{ a: 1 }] }, { a: { $in: [] } }, { a: { $all: [] } }, { a: { $all: [1] } },
    { a: null }, { a: NaN }, { a: { $gt: 'x' } }, { a: { $gt: NaN } }, { a: [1] }, { a: { b: 1 } }, { 'a.$b': 1 }, { '__proto__.x': 1 },
    { a: { $in: [null] } }, { a: { $exists: true } }, { a: /x/ }, { a: new Date(0) }, { a: { $gte: 1, $type: 'int' } }, { a: {} }]) {
    assert.strictEqual(compileMatcher(f), null, JSON.stringify(f));
  }
  // And what it leaves to mingo on a compiled filter: NaN, documents, nested arrays, dates.
  const m = compileMatcher({ a: { $gte: 1 }, b: 'x' });
  assert.strictEqual(m({ a: NaN, b: 'x' }), undefined);
  assert.strictEqual(m({ a: [2], b: 'x' }), undefined);
  assert.strictEqual(m({ a: 2, b: ['y', ['x']] }), undefined);
  assert.strictEqual(m({ a: 2, b: { c: 1 } }), undefined);
  assert.strictEqual(m({ a: 0, b: { c: 1 } }), false); // one condition false: false whatever the other
  assert.strictEqual(m({ a: 2, b: ['y', 'x'] }), true);
});
