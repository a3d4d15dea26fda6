'use strict';
// TieList (lib/indexes.js): a TieGroup's records in blocks, read and written as one array would be.

const test = require('node:test');
const assert = require('node:assert');
const { TieList } = require('../lib/indexes');

/** A small deterministic generator (xorshift32). */
function gen(seed) {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x % n;
  };
}

const same = (list, ref, label) => {
  assert.strictEqual(list.length, ref.length, `${label}: length`);
  assert.deepStrictEqual([...list], ref, `${label}: in order`);
  for (let i = -1; i <= ref.length; i++) assert.strictEqual(list.at(i), ref[i], `${label}: at(${i})`);
  let n = 0;
  for (let b = 0; b < list.blocks.length; b++) {
    assert.strictEqual(list.starts[b], n, `${label}: block ${b} starts at ${n}`);
    assert.ok(list.blocks[b].length <= TieList.block, `${label}: block ${b} of ${list.blocks[b].length}`);
    n += list.blocks[b].length;
  }
};

for (const block of [4, 16, 512]) {
  test(`inserts and removals anywhere agree with an array (blocks of ${block})`, (t) => {
    const saved = TieList.block;
    TieList.block = block;
    t.after(() => { TieList.block = saved; });
    const r = gen(block * 7919);
    for (const start of [0, 1, 3, block, 5 * block + 1]) {
      const ref = Array.from({ length: start }, (_, i) => ({ i }));
      const list = new TieList(ref.slice());
      same(list, ref, `built from ${start}`);
      for (let step = 0; step < 6 * block; step++) {
        if (ref.length && r(3) === 0) {
          const k = r(ref.length);
          assert.strictEqual(list.indexOf(ref[k]), k);
          list.removeAt(k);
          ref.splice(k, 1);
        } else {
          const k = r(ref.length + 1);
          const rec = { step };
          list.insert(k, rec);
          ref.splice(k, 0, rec);
        }
        if (step % 7 === 0) same(list, ref, `${start}, step ${step}`);
      }
      same(list, ref, `${start}, end`);
      assert.strictEqual(list.indexOf({}), -1);
      while (ref.length) {
        list.removeAt(0);
        ref.shift();
      }
      same(list, ref, `${start}, emptied`);
      list.insert(0, ref[0] = { again: 1 });
      same(list, ref, `${start}, refilled`);
    }
  });
}

test('a group grows past a block by splitting it, not by moving every record', () => {
  const list = new TieList([]);
  for (let i = 0; i < 10 * TieList.block; i++) list.insert(list.length === 0 ? 0 : (i * 7) % list.length, { i });
  assert.strictEqual(list.length, 10 * TieList.block);
  assert.ok(list.blocks.length >= 10, `${list.blocks.length} blocks`);
  assert.ok(list.blocks.every((b) => b.length <= TieList.block));
});
