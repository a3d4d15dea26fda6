'use strict';
// The B-tree index's two levels (indexes.js, BTreeIndex: an outer tree of groups keyed by the
// values up to the multikey field, an inner tree of entries per group, or a group's one entry
// alone) held to one ordered list of every (key, record) pair: the order of one B-tree over
// whole keys, as the index was before it had groups. Scans, seeks inside groups, backward
// scans, and the writes that move entries between groups (status changes, keyword changes,
// removals of a word's last record, a word shared by hundreds of records).

const test = require('node:test');
const assert = require('node:assert');
const { Int32, Double } = require('bson');
const { Store } = require('../lib/store');
const { FIRST, LAST } = require('../lib/indexes');
const { rng } = require('../tools/demo-docs');

const I = (n) => new Int32(n);
const KEY = { s: I(1), w: I(1), t: I(-1), id: I(-1) }; // as status_keywords_created

function newColl(key = KEY) {
  const coll = new Store().db('t').getOrCreate('c');
  coll.createIndex({ key, name: 'ix' });
  return { coll, st: coll.indexes[1].structure };
}

/**
 * Every (key, record) pair of the records in the order of one B-tree over whole keys: a
 * record with one key as itself, a value on one field as the record with that value there
 * (its other fields from its view), a key of arrays on several fields as its key array;
 * ties by record.
 */
function reference(st, recs) {
  const items = [];
  for (const rec of recs) {
    const ks = st.keys(rec.view);
    for (const key of ks) {
      const e = ks.single ? rec : ks.pos >= 0 ? { pos: ks.pos, value: key[ks.pos], view: rec.view, seq: rec.seq } : key;
      items.push({ e, rec, key });
    }
  }
  items.sort((a, b) => st.compare(a.e, b.e) || a.rec.seq - b.rec.seq);
  return items;
}

/** Asserts that st holds exactly the pairs of the records, in order, and that scans agree. */
function check(st, coll, label, seeks = []) {
  const ref = reference(st, [...coll.records.values()]);
  const got = [];
  for (const [key, recs] of st.entries()) for (const rec of recs) got.push({ key, rec });
  assert.strictEqual(got.length, ref.length, `${label}: pairs`);
  for (let i = 0; i < ref.length; i++) {
    assert.strictEqual(got[i].rec, ref[i].rec, `${label}: record of pair ${i}`);
    assert.strictEqual(st.compare(got[i].key, ref[i].key), 0, `${label}: key of pair ${i}`);
  }
  for (const [lo, hi] of seeks) {
    hi.last = true;
    for (const backward of [false, true]) {
      let want = ref.filter((x) => st.compare(x.e, lo) >= 0 && st.compare(x.e, hi) <= 0);
      if (backward) {
        // Backward, entry by entry: the records of one key array (equal keys of arrays on
        // several fields) still come by seq, as they always did.
        const runs = [];
        for (const x of want) {
          const run = runs[runs.length - 1];
          if (run && Array.isArray(x.e) && Array.isArray(run[0].e) && st.compare(x.e, run[0].e) === 0) run.push(x);
          else runs.push([x]);
        }
        want = runs.reverse().flat();
      }
      const seen = [];
      st.scan(lo, hi, backward, (rec, entry, group) => { seen.push({ rec, key: st.keyOf(entry, group) }); });
      assert.strictEqual(seen.length, want.length, `${label}: scan ${fmt(lo)}..${fmt(hi)}${backward ? ' backward' : ''}`);
      for (let i = 0; i < want.length; i++) {
        assert.strictEqual(seen[i].rec, want[i].rec, `${label}: scan ${fmt(lo)}..${fmt(hi)} pair ${i}`);
        assert.strictEqual(st.compare(seen[i].key, want[i].key), 0);
      }
      // Stopping: visit returns false on the k-th pair; nothing after it is visited.
      if (want.length > 2) {
        const k = Math.floor(want.length / 2);
        let n = 0;
        const done = st.scan(lo, hi, backward, () => ++n <= k);
        assert.strictEqual(done, false);
        assert.strictEqual(n, k + 1, `${label}: scan stopped after ${k + 1}`);
      }
    }
  }
  return ref;
}

const fmt = (k) => JSON.stringify(k.map((v) => (v === FIRST ? '<' : v === LAST ? '>' : v)));
const groupCount = (st) => st.groups.size;
const pairs = (x) => [...x.entries()].map(([k, rs]) => `${fmt(k)}:${rs.map((r) => r.view._id)}`);

/** A build of coll's records (BTreeIndex.build) holds what st holds, grouped alike. */
function sameBuild(coll, st, label) {
  const rebuilt = newColl().st;
  rebuilt.build(coll.records.values());
  assert.strictEqual(rebuilt.P, st.P, label);
  assert.deepStrictEqual(pairs(rebuilt), pairs(st), label);
}
const doc = (id, s, w, t) => ({ _id: id, id, s, w, t: new Double(t) });

test('a word shared by hundreds of records: one group tree, seeks inside it forward and backward', () => {
  const { coll, st } = newColl();
  for (let i = 0; i < 700; i++) coll.insert(doc(`r${String(i).padStart(4, '0')}`, i % 7 ? 'active' : 'sold', ['common', `w${i % 13}`], i % 50));
  assert.strictEqual(st.P, 1, 'grouped by status and word');
  // (active, common), (sold, common), and 13 words per status: 2 + 26 groups
  assert.strictEqual(groupCount(st), 28);
  const ref = check(st, coll, 'filled');
  // Keyset seeks: from inside the (active, common) group to inside a w-group; from the middle of
  // one group to the middle of the next; whole status ranges.
  const mid = ref.filter((x) => x.key[0] === 'active' && x.key[1] === 'common')[200].key;
  const w5 = ref.filter((x) => x.key[0] === 'active' && x.key[1] === 'w5')[10].key;
  check(st, coll, 'seeks', [
    [[...mid], [...w5]],
    [[...mid], [...mid]],
    [['active', 'common', 20, FIRST], ['active', 'common', 10, LAST]],
    [['active', FIRST, FIRST, FIRST], ['active', LAST, LAST, LAST]],
    [['active', 'w3', FIRST, FIRST], ['sold', 'common', 30, 'r0100']],
    [[FIRST, FIRST, FIRST, FIRST], [LAST, LAST, LAST, LAST]],
    [['active', 'w9', 30, 'r0500'], ['active', 'w1', 30, 'r0500']], // lo after hi: nothing
    [['nothing', FIRST, FIRST, FIRST], ['nothing', LAST, LAST, LAST]],
  ]);
});

test("removing a word's last record removes its group; a group of one entry is that entry alone", () => {
  const { coll, st } = newColl();
  const a = coll.insert(doc('a', 'active', ['oak', 'lamp'], 1));
  const b = coll.insert(doc('b', 'active', ['oak'], 2));
  assert.strictEqual(groupCount(st), 2);
  const groupOf = (w) => st.groups.get(['active', w]);
  assert.strictEqual(groupOf('lamp'), a, 'one record: the record itself, no tree');
  assert.ok(groupOf('oak') && groupOf('oak').size === 2, 'two records: a tree');
  check(st, coll, 'two', [
    [['active', 'oak', FIRST, FIRST], ['active', 'oak', LAST, LAST]],
    // Seeks that end inside the group of one entry, before or after it: not visited.
    [['active', 'lamp', 0, FIRST], ['active', 'lamp', 0, LAST]],
    [['active', 'lamp', 5, FIRST], ['active', 'oak', LAST, LAST]],
    [['active', 'lamp', 1, 'a'], ['active', 'lamp', 1, 'a']],
  ]);
  coll.remove(a);
  assert.strictEqual(groupOf('lamp'), undefined, "the word's last record gone: no group");
  assert.strictEqual(groupOf('oak'), b, 'back to one entry: the record alone');
  check(st, coll, 'after removal', [[['active', 'lamp', FIRST, FIRST], ['active', 'oak', LAST, LAST]]]);
  coll.remove(b);
  assert.strictEqual(groupCount(st), 0);
  // A group of key arrays only (arrays on two fields): it goes with its last entry too.
  const c = coll.insert({ _id: 'c', id: 'c', s: 'draft', w: ['x1', 'x2'], t: [new Double(1), new Double(2)] });
  assert.strictEqual(groupCount(st), 2);
  assert.strictEqual(st.groups.get(['draft', 'x1']).size, 2);
  check(st, coll, 'key arrays', [[['draft', 'x1', 1, FIRST], ['draft', 'x2', 2, LAST]]]);
  coll.remove(c);
  assert.strictEqual(groupCount(st), 0);
  check(st, coll, 'empty', [[[FIRST, FIRST, FIRST, FIRST], [LAST, LAST, LAST, LAST]]]);
});

test('a status change moves every entry of the record to the groups of its new status', () => {
  const { coll, st } = newColl();
  const recs = [];
  for (let i = 0; i < 200; i++) recs.push(coll.insert(doc(`r${i}`, 'active', ['oak', 'lamp', `u${i % 3}`], i)));
  const r = recs[77];
  coll.replace(r, doc('r77', 'sold', ['oak', 'lamp', 'u2'], 77));
  let found = [];
  st.scan(['active', FIRST, FIRST, FIRST], Object.assign(['active', LAST, LAST, LAST], { last: true }), false, (rec) => { if (rec === r) found.push(rec); });
  assert.deepStrictEqual(found, [], 'no entry left under the old status');
  found = [];
  st.scan(['sold', FIRST, FIRST, FIRST], Object.assign(['sold', LAST, LAST, LAST], { last: true }), false, (rec, e, g) => { found.push(st.keyOf(e, g)[1]); });
  assert.deepStrictEqual(found, ['lamp', 'oak', 'u2']);
  check(st, coll, 'moved', [[['active', 'oak', 100, FIRST], ['sold', 'oak', LAST, LAST]]]);
  // ... and back, with another time: its place within the groups changes too.
  coll.replace(r, doc('r77', 'active', ['oak', 'lamp', 'u2'], 500));
  check(st, coll, 'back', [[['active', 'oak', LAST, LAST], ['active', 'oak', 400, FIRST]]]);
});

test('updates that change the keywords leave the words gone and enter the new ones', () => {
  const { coll, st } = newColl();
  const recs = [];
  for (let i = 0; i < 120; i++) recs.push(coll.insert(doc(`r${i}`, 'active', ['oak', `v${i % 4}`], i)));
  const g = rng(5);
  const words = ['oak', 'lamp', 'desk', 'v0', 'v1', 'v2', 'v3', 'rare'];
  for (let round = 0; round < 300; round++) {
    const r = recs[Math.floor(g() * recs.length)];
    const w = words.filter(() => g() < 0.4);
    // A scalar word, an empty list and a missing field are keys too (null for the last two).
    const value = g() < 0.1 ? 'oak' : g() < 0.1 ? [] : g() < 0.05 ? undefined : w;
    const d = doc(r.view._id, g() < 0.8 ? 'active' : 'draft', value, Math.floor(g() * 60));
    if (value === undefined) delete d.w;
    coll.replace(r, d);
    if (round % 25 === 0) check(st, coll, `round ${round}`, [[['active', 'desk', 30, FIRST], ['active', 'v1', 10, LAST]], [['active', null, FIRST, FIRST], ['active', 'lamp', LAST, LAST]]]);
  }
  check(st, coll, 'end');
});

test('an index regroups at the first document with its values on one field; other shapes share its groups', () => {
  const { coll, st } = newColl();
  for (let i = 0; i < 50; i++) coll.insert(doc(`s${i}`, 'active', `w${i % 5}`, i)); // one key each
  assert.strictEqual(st.P, -1, 'no multikey document yet: one group');
  assert.strictEqual(groupCount(st), 1);
  check(st, coll, 'single keys', [[['active', 'w2', FIRST, FIRST], ['active', 'w3', LAST, LAST]]]);
  sameBuild(coll, st, 'single keys');
  coll.insert(doc('m0', 'active', ['w1', 'w2'], 7));
  assert.strictEqual(st.P, 1);
  assert.strictEqual(groupCount(st), 5);
  // Values on a field after the group's (an array of times): one MultiKey per value in its group;
  // arrays on two fields: key arrays; arrays before it (a status list): the record in each group.
  coll.insert({ _id: 'm1', id: 'm1', s: 'active', w: 'w1', t: [new Double(3), new Double(40)] });
  coll.insert({ _id: 'm2', id: 'm2', s: 'active', w: ['w1', 'w4'], t: [new Double(3), new Double(9)] });
  coll.insert({ _id: 'm3', id: 'm3', s: ['active', 'sold'], w: 'w1', t: new Double(3) });
  coll.insert({ _id: 'm4', id: 'm2', s: 'active', w: ['w1', 'w4'], t: [new Double(3), new Double(9)] }); // m2's key arrays: one entry each
  coll.insert({ _id: 'm5', id: 'm5', s: 'active', w: 'w1', t: [new Double(3), new Double(40)] });
  const seeks = [
    [['active', 'w1', FIRST, FIRST], ['active', 'w1', LAST, LAST]],
    [['active', 'w1', 9, FIRST], ['active', 'w4', 3, LAST]],
    [['active', 'w1', 3, 'm2'], ['active', 'w1', 3, 'm2']],
    [['sold', FIRST, FIRST, FIRST], ['sold', LAST, LAST, LAST]],
  ];
  check(st, coll, 'mixed shapes', seeks);
  // A build of the same records gives the same pairs (BTreeIndex.build, the general path).
  assert.strictEqual([...st.entries()].filter(([, rs]) => rs.length === 2).length, 4, "m2's and m4's four keys");
  sameBuild(coll, st, 'mixed shapes');
  for (const id of ['m2', 'm1', 'm3', 'm4']) {
    coll.remove(coll.records.get(id));
    check(st, coll, `without ${id}`, seeks);
    sameBuild(coll, st, `without ${id}`);
  }
});


test('an index build equals inserts one by one: repeated words, scalars, empty lists, missing fields', () => {
  const g = rng(3);
  const words = ['oak', 'lamp', 'desk', 'rug'];
  const docs = [];
  for (let i = 0; i < 400; i++) {
    const x = g();
    const w = x < 0.6 ? Array.from({ length: 1 + Math.floor(g() * 5) }, () => words[Math.floor(g() * 4)]) // repeats
      : x < 0.75 ? words[Math.floor(g() * 4)] : x < 0.85 ? [] : x < 0.9 ? null : undefined;
    const d = doc(`r${i}`, g() < 0.7 ? 'active' : 'sold', w, Math.floor(g() * 30));
    if (w === undefined) delete d.w;
    docs.push(d);
  }
  const inserted = newColl();
  for (const d of docs) inserted.coll.insert(d);
  const loaded = new Store().db('t').getOrCreate('c');
  for (const d of docs) loaded.insert(d);
  loaded.createIndex({ key: KEY, name: 'ix' });
  const built = loaded.indexes[1].structure;
  assert.strictEqual(built.P, 1);
  assert.deepStrictEqual(pairs(built), pairs(inserted.st));
  check(built, loaded, 'built', [[['active', 'lamp', 20, FIRST], ['sold', 'desk', 5, LAST]], [['active', null, FIRST, FIRST], ['active', 'desk', LAST, LAST]]]);
});

test('random writes: the groups hold what one ordered list of every key holds', () => {
  const g = rng(11);
  const pick = (a) => a[Math.floor(g() * a.length)];
  const words = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
  for (const key of [KEY, { w: I(1) }, { w: I(1), t: I(1) }, { s: I(-1), w: I(1), t: I(1) }]) {
    const { coll, st } = newColl(key);
    const live = [];
    for (let step = 0; step < 1500; step++) {
      const x = g();
      const w = g() < 0.8 ? words.filter(() => g() < 0.3) : pick(words);
      const d = doc(`d${step}`, pick(['a', 'b']), w, Math.floor(g() * 20));
      if (x < 0.5 || !live.length) live.push(coll.insert(d));
      else if (x < 0.8) {
        const r = pick(live);
        d._id = d.id = r.view._id;
        coll.replace(r, d);
      } else {
        const i = Math.floor(g() * live.length);
        coll.remove(live[i]);
        live.splice(i, 1);
      }
      if (step % 100 === 99) {
        const k = Object.keys(key).length;
        const seek = () => Array.from({ length: k }, (_, i) => (g() < 0.2 ? FIRST : g() < 0.2 ? LAST : [pick(['a', 'b']), pick(words), Math.floor(g() * 20), `d${Math.floor(g() * step)}`][i]));
        check(st, coll, `${JSON.stringify(Object.keys(key))} step ${step}`, Array.from({ length: 6 }, () => [seek(), seek()]));
      }
    }
  }
});

test('a scan over a whole group compares no entry with its bounds; bounds inside a group still cut it', () => {
  const { coll, st } = newColl();
  for (let i = 0; i < 600; i++) coll.insert(doc(`g${String(i).padStart(4, '0')}`, 'active', ['common', `w${i % 3}`], i % 40));
  const inner = st.inner;
  let calls = 0;
  st.inner = Object.assign((a, b) => { calls++; return inner(a, b); }, inner);
  const visit = (lo, hi, backward, stopAfter) => {
    hi.last = true;
    const seen = [];
    calls = 0;
    st.scan(lo, hi, backward, (rec) => { seen.push(rec.view._id); return seen.length < stopAfter; });
    return seen;
  };
  const ref = check(st, coll, 'filled').filter((x) => x.key[1] === 'common').map((x) => x.rec.view._id);
  for (const backward of [false, true]) {
    // An equality prefix (browse's category + newest): 20 of the group's 600 entries, one
    // comparison per bound at most (was one per entry visited, and a seek from the first).
    const page = visit(['active', 'common', FIRST, FIRST], ['active', 'common', LAST, LAST], backward, 20);
    assert.deepStrictEqual(page, backward ? ref.slice(-20).reverse() : ref.slice(0, 20));
    assert.ok(calls <= 2, `${backward ? 'backward' : 'forward'}: ${calls} comparisons with the bounds`);
    // A range inside the group (t descends: 12 down to 10): entries past the bounds are still left out.
    const cut = visit(['active', 'common', 12, FIRST], ['active', 'common', 10, LAST], backward, Infinity);
    const want = check(st, coll, 'again').filter((x) => x.key[1] === 'common' && x.key[2] >= 10 && x.key[2] <= 12).map((x) => x.rec.view._id);
    assert.deepStrictEqual(cut, backward ? want.reverse() : want);
  }
});
