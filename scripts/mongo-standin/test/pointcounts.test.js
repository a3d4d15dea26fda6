'use strict';
// GeoIndex's PointCounts (indexes.js): the count at a point is never below the number of
// records there, and "at most one" is exact (insertSolo skips its leaf search on it).
const test = require('node:test');
const assert = require('node:assert');
const { PointCounts } = require('../lib/indexes');

test('PointCounts against a Map of exact points, through growth and removals', () => {
  const pc = new PointCounts();
  const ref = new Map();
  let seed = 7;
  const r = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
  const pts = Array.from({ length: 5000 }, () => [Math.round(r() * 3600) / 10 - 180, Math.round(r() * 1800) / 10 - 90]);
  pts.push([0, 0], [-0, 0], [0, -0], [13.405, 52.52]);
  const key = ([x, y]) => `${x + 0},${y + 0}`;
  for (let step = 0; step < 60000; step++) {
    const p = pts[Math.floor(r() * pts.length)];
    const k = key(p);
    const n = ref.get(k) || 0;
    if (n > 0 && r() < 0.45) {
      ref.set(k, n - 1);
      pc.add(p[0], p[1], -1);
    } else {
      ref.set(k, n + 1);
      pc.add(p[0], p[1], 1);
    }
    if (step % 997 === 0 || step > 59000) {
      for (const q of pts) {
        const want = ref.get(key(q)) || 0;
        const got = pc.get(q[0], q[1]);
        assert.ok(got >= want, `${q}: ${got} < ${want}`);
      }
    }
  }
  // -0 and 0 are one point, as === (the leaf search's comparison) finds them.
  assert.strictEqual(pc.get(-0, 0), pc.get(0, -0));
  assert.ok(pc.keys.length >= 2048, 'the table grew');
  const fresh = new PointCounts();
  fresh.add(1.5, 2.5, 1);
  assert.strictEqual(fresh.get(1.5, 2.5), 1);
  assert.strictEqual(fresh.get(2.5, 1.5), 0);
  fresh.add(1.5, 2.5, -1);
  assert.strictEqual(fresh.get(1.5, 2.5), 0);
});
