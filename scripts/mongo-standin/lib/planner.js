'use strict';
// Query planner: index bounds from a filter, the choice of an index (MongoDB's
// equality-sort-range rule, `hint` honoured), the candidate scan, and plans in the shape of
// MongoDB's explain (queryPlanner.winningPlan) and profiler (planSummary).
//
// Bounds are always a superset of what the filter can match: anything the planner does not
// understand leaves a field unbounded, and every candidate is still tested by the matcher.

const { fail } = require('./errors');
const { isPlainObject, keyOf, idKeyOf, formatValue } = require('./typed');
const { Edge, MIN_KEY, MAX_KEY, FIRST, LAST, cmpValue, rankOf, BTreeIndex, GeoIndex } = require('./indexes');
const geo = require('./geo');
const { Heap } = require('./heap');

// disabled (tests): plan every query as a collection scan; cache: the plan cache and the
// compiled matcher (lib/matcher.js) on, as by default (tests turn them off to compare;
// STANDIN_PLAN_CACHE=0 in the environment starts a server without them, for measurements).
const state = { disabled: false, cache: process.env.STANDIN_PLAN_CACHE !== '0' };

// ---- intervals: [lo, loInc, hi, hiInc] in ascending value order --------------------------

const ALL = [[MIN_KEY, true, MAX_KEY, true]];
const point = (v) => [v, true, v, true];
const isAll = (ivs) => ivs === ALL || (ivs.length === 1 && ivs[0][0] === MIN_KEY && ivs[0][2] === MAX_KEY);
const isPointSet = (ivs) => ivs.length > 0 && ivs.every((iv) => iv[1] && iv[3] && cmpValue(iv[0], iv[2]) === 0 && !(iv[0] instanceof Edge));

/** Values an equality can bound (others leave the field unbounded). */
function pointable(v) {
  if (v === null) return true;
  switch (typeof v) {
    case 'number': case 'string': case 'boolean': return true;
    case 'object': break;
    default: return false;
  }
  if (v instanceof Date) return true;
  return v._bsontype === 'ObjectId';
}

function pointsOf(values) {
  const sorted = values.slice().sort(cmpValue);
  const out = [];
  for (const v of sorted) if (!out.length || cmpValue(out[out.length - 1][0], v) !== 0) out.push(point(v));
  return out;
}

function rangeOf(op, v) {
  // NaN compares equal to every number in the matcher's range operators: no bounds then.
  const ok = (typeof v === 'number' && !Number.isNaN(v)) || typeof v === 'string' || (v instanceof Date && !Number.isNaN(v.getTime()));
  if (!ok) return null;
  const r = rankOf(v);
  // The matcher finds NaN (and invalid dates) equal to any number (date) in $gt / $gte too:
  // NaN sorts below every number, so lower-bounded ranges start at the type's start for dates
  // and take NaN as a point for numbers.
  if ((op === '$gt' || op === '$gte') && r === 9) return [[new Edge(r, -1), true, new Edge(r, 1), true]];
  const nan = r === 2 ? [point(NaN)] : [];
  switch (op) {
    case '$gt': return [...nan, [v, false, new Edge(r, 1), true]];
    case '$gte': return [...nan, [v, true, new Edge(r, 1), true]];
    case '$lt': return [[new Edge(r, -1), true, v, false]];
    default: return [[new Edge(r, -1), true, v, true]];
  }
}

function inInterval(v, iv) {
  const a = cmpValue(v, iv[0]);
  if (a < 0 || (a === 0 && !iv[1])) return false;
  const b = cmpValue(v, iv[2]);
  return !(b > 0 || (b === 0 && !iv[3]));
}

/** Intersection of two sorted interval lists. */
function intersect(A, B) {
  const out = [];
  for (const a of A) {
    for (const b of B) {
      let lo; let loInc; let hi; let hiInc;
      const c1 = cmpValue(a[0], b[0]);
      if (c1 > 0) [lo, loInc] = [a[0], a[1]];
      else if (c1 < 0) [lo, loInc] = [b[0], b[1]];
      else [lo, loInc] = [a[0], a[1] && b[1]];
      const c2 = cmpValue(a[2], b[2]);
      if (c2 < 0) [hi, hiInc] = [a[2], a[3]];
      else if (c2 > 0) [hi, hiInc] = [b[2], b[3]];
      else [hi, hiInc] = [a[2], a[3] && b[3]];
      const c = cmpValue(lo, hi);
      if (c < 0 || (c === 0 && loInc && hiInc)) out.push([lo, loInc, hi, hiInc]);
    }
  }
  return out.sort((x, y) => cmpValue(x[0], y[0]));
}

// ---- conditions of a filter ----------------------------------------------------------------

/** Interval sets of one field condition (one per operator: see fieldBounds), or []. */
function conditionSets(v) {
  if (!isPlainObject(v)) return pointable(v) ? [[point(v)]] : [];
  const ops = Object.keys(v);
  if (!ops.length || !ops.every((o) => o.startsWith('$'))) return []; // subdocument equality
  const sets = [];
  for (const op of ops) {
    const a = v[op];
    switch (op) {
      case '$eq': if (pointable(a)) sets.push([point(a)]); break;
      case '$in': if (Array.isArray(a) && a.every(pointable)) sets.push(pointsOf(a)); break;
      case '$gt': case '$gte': case '$lt': case '$lte': {
        const r = rangeOf(op, a);
        if (r) sets.push(r);
        break;
      }
      case '$all':
        if (Array.isArray(a)) for (const x of a) if (pointable(x)) sets.push([point(x)]);
        break;
      default: break;
    }
  }
  return sets;
}

/** Geo region of a condition ({$geoWithin: ...}): {boxes, text} or null. */
function geoRegion(v) {
  if (!isPlainObject(v)) return null;
  const spec = v.$geoWithin || v.$geoIntersects;
  if (!isPlainObject(spec)) return null;
  try {
    if (spec.$centerSphere) {
      const [c, r] = spec.$centerSphere;
      const p = geo.pointOf(c);
      if (!p || typeof r !== 'number') return null;
      return { boxes: capBoxes(p, r), text: `$centerSphere [${p}] ${r}` };
    }
    if (spec.$center) {
      const [c, r] = spec.$center;
      const p = geo.pointOf(c);
      if (!p || typeof r !== 'number') return null;
      return { boxes: [[p[0] - r, p[1] - r, p[0] + r, p[1] + r]], text: `$center [${p}] ${r}` };
    }
    let pts = null;
    if (spec.$box) pts = spec.$box.map(geo.pointOf);
    else if (spec.$polygon) pts = spec.$polygon.map(geo.pointOf);
    else if (isPlainObject(spec.$geometry)) {
      const g = spec.$geometry;
      if (g.type === 'Polygon') pts = g.coordinates.flat().map(geo.pointOf);
      else if (g.type === 'MultiPolygon') pts = g.coordinates.flat(2).map(geo.pointOf);
      else if (g.type === 'Point') pts = [geo.pointOf(g)];
    }
    if (!pts || !pts.length || pts.some((p) => !p)) return null;
    const xs = pts.map((p) => p[0]);
    const ys = pts.map((p) => p[1]);
    return { boxes: [[Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)]], text: 'bounding box' };
  } catch (_) {
    return null;
  }
}

const RAD = Math.PI / 180;
const DEG = 180 / Math.PI;
const WORLD = [-180, -90, 180, 90];

/** Boxes ([minX, minY, maxX, maxY], degrees) covering a spherical cap (angular radius r). */
function capBoxes([lng, lat], r) {
  if (!(r >= 0) || r >= Math.PI) return [WORLD];
  const eps = 1e-9 + Math.abs(r * DEG) * 1e-9;
  const rDeg = r * DEG + eps;
  const minLat = lat - rDeg;
  const maxLat = lat + rDeg;
  if (minLat <= -90 || maxLat >= 90) return [[-180, Math.max(minLat, -90), 180, Math.min(maxLat, 90)]];
  const s = Math.sin(r) / Math.cos(lat * RAD);
  if (!(s < 1)) return [[-180, minLat, 180, maxLat]];
  const dLng = Math.asin(s) * DEG + eps;
  let lo = lng - dLng;
  let hi = lng + dLng;
  if (hi - lo >= 360) return [[-180, minLat, 180, maxLat]];
  // Longitudes are kept in [-180, 180]: a box crossing the antimeridian is split in two.
  while (lo < -180) { lo += 360; hi += 360; }
  while (lo > 180) { lo -= 360; hi -= 360; }
  if (hi > 180) return [[lo, minLat, 180, maxLat], [-180, minLat, hi - 360, maxLat]];
  return [[lo, minLat, hi, maxLat]];
}

/** Conditions usable for bounds: {fields: Map path -> [interval set], geo: Map path -> [region]}. */
function collectConditions(filter, out = { fields: new Map(), geo: new Map() }) {
  for (const k of Object.keys(filter)) {
    const v = filter[k];
    if (k === '$and') {
      if (Array.isArray(v)) for (const sub of v) if (isPlainObject(sub)) collectConditions(sub, out);
      continue;
    }
    if (k.startsWith('$')) continue;
    for (const set of conditionSets(v)) {
      if (!out.fields.has(k)) out.fields.set(k, []);
      out.fields.get(k).push(set);
    }
    const g = geoRegion(v);
    if (g) {
      if (!out.geo.has(k)) out.geo.set(k, []);
      out.geo.get(k).push(g);
    }
  }
  return out;
}

/**
 * Bounds of a field from its condition sets: their intersection when the field holds no
 * arrays (multikey false), else one set (each operator may be met by a different element).
 */
function fieldBounds(sets, multikey) {
  if (!sets || !sets.length) return ALL;
  if (!multikey) return sets.reduce((a, b) => intersect(a, b));
  let best = sets[0];
  for (const s of sets) if (isPointSet(s) && (!isPointSet(best) || s.length < best.length)) best = s;
  return best;
}

const excludesNull = (ivs) => !ivs.some((iv) => inInterval(null, iv));

/** True when every document matching `filter` also matches the partial filter `partial`. */
function implies(conds, filter, partial) {
  const pc = collectConditions(partial);
  for (const k of Object.keys(partial)) {
    const v = partial[k];
    if (k === '$and') {
      if (!Array.isArray(v) || !v.every((sub) => isPlainObject(sub) && implies(conds, filter, sub))) return false;
      continue;
    }
    if (k.startsWith('$')) return false;
    if (filter[k] !== undefined && keyOf(filter[k]) === keyOf(v)) continue;
    const qsets = conds.fields.get(k);
    if (!qsets) return false;
    const qb = fieldBounds(qsets, false);
    if (isPlainObject(v) && Object.keys(v).length === 1 && v.$exists === true) {
      if (excludesNull(qb)) continue;
      return false;
    }
    const psets = pc.fields.get(k);
    const exactOps = isPlainObject(v)
      ? Object.keys(v).every((o) => ['$eq', '$gt', '$gte', '$lt', '$lte', '$in'].includes(o))
      : pointable(v);
    if (!psets || !exactOps || isAll(qb)) return false;
    const pb = fieldBounds(psets, false);
    // q's bounds must lie inside p's: each q interval inside some p interval.
    const inside = qb.every((q) => pb.some((p) => cmpBound(q[0], q[1], p[0], p[1], -1) >= 0 && cmpBound(q[2], q[3], p[2], p[3], 1) <= 0));
    if (!inside) return false;
  }
  return true;
}

/** Compares two interval ends (side -1: lower ends, +1: upper ends), inclusivity included. */
function cmpBound(a, aInc, b, bInc, side) {
  const c = cmpValue(a, b);
  if (c !== 0 || aInc === bInc) return c;
  return side < 0 ? (aInc ? -1 : 1) : (aInc ? 1 : -1);
}

// ---- plans ---------------------------------------------------------------------------------

/** The index a hint names: a name, a key pattern, or {$natural: ±1} ('natural'). */
function hintedIndex(coll, hint) {
  if (hint === undefined || hint === null) return null;
  if (typeof hint === 'string') {
    const idx = coll ? coll.indexes.find((i) => i.name === hint) : null;
    if (idx) return idx;
  } else if (isPlainObject(hint)) {
    const keys = Object.keys(hint);
    if (keys.length === 1 && keys[0] === '$natural') return 'natural';
    const sig = JSON.stringify(Object.fromEntries(keys.map((k) => [k, typeof hint[k] === 'string' ? hint[k] : Number(hint[k].valueOf ? hint[k].valueOf() : hint[k])])));
    const idx = coll ? coll.indexes.find((i) => JSON.stringify(i.key) === sig) : null;
    if (idx) return idx;
  } else {
    throw fail('BadValue', 'hint must be a string or an object');
  }
  throw fail('BadValue', 'error processing query: planner returned error :: caused by :: hint provided does not correspond to an existing index');
}

/** Plan of a B-tree index for the conditions and sort; null when it is not usable. */
function btreePlan(index, conds, sortKeys, hinted) {
  const st = index.structure;
  const bounds = st.fields.map((f, i) => {
    const b = fieldBounds(conds.fields.get(f.path), st.multikey[i]);
    if (index.kind === 'hashed' && index.key[f.path] === 'hashed' && !isPointSet(b)) return ALL;
    return b;
  });
  if (!hinted) {
    if (index.partial && !implies(conds, conds.filter, index.partialView)) return null;
    if (index.sparse && bounds.every((b) => !excludesNull(b))) return null;
  }
  let eq = 0;
  while (eq < bounds.length && isPointSet(bounds[eq])) eq++;
  let single = 0;
  while (single < eq && bounds[single].length === 1) single++;
  let sortMatched = 0;
  let direction = 1;
  if (sortKeys && !sortKeys.some((k) => k.meta) && index.kind === 'btree') {
    for (let i = 0; i < sortKeys.length; i++) {
      const pos = single + i;
      if (pos >= st.fields.length) break;
      const f = st.fields[pos];
      if (f.path !== sortKeys[i].path || st.multikey[pos]) break;
      const d = f.dir === sortKeys[i].dir ? 1 : -1;
      if (i === 0) direction = d;
      else if (d !== direction) break;
      sortMatched++;
    }
  }
  const bounded = !isAll(bounds[0]);
  if (!bounded && !sortMatched && !hinted) return null;
  const range = eq < bounds.length && !isAll(bounds[eq]);
  let score = eq * 100 + (sortMatched ? (sortMatched === sortKeys.length ? 50 : 20) : 0) + (range ? 10 : 0) - st.fields.length;
  if (index.unique && eq === bounds.length) score += 1000;
  return {
    type: 'IXSCAN', index, bounds, eq, direction, sortMatched,
    sortFull: !!sortKeys && sortMatched === sortKeys.length, score,
  };
}

/**
 * Chooses the plan of a compiled filter `f` ({rest, near, text}) on `coll`:
 *   {type: 'COLLSCAN'} | {type: 'IDHACK', key} | {type: 'IXSCAN', index, bounds, ...}
 *   | {type: 'GEO', index, region} | {type: 'GEO_NEAR', index, near}
 */
function choosePlan(coll, f, sortKeys, hint) {
  if (coll && !state.disabled && state.cache && (hint === undefined || hint === null) && !f.near && !f.text) {
    return cachedPlan(coll, f.rest || {}, sortKeys);
  }
  return planFor(coll, f, sortKeys, hint);
}

// ---- the plan cache ------------------------------------------------------------------------
// As mongod's: per collection, keyed by the query's shape — the filter's fields, operators and
// the kinds of its values (not the values), and the sort — holding the index the planner
// chose for that shape. A query of a known shape plans only that index for its own values
// (its bounds), not every index of the collection; when that index cannot serve these values
// (a partial index their filter does not imply) the query is planned in full and the entry
// replaced. The cache is dropped when the collection's indexes change (createIndexes,
// dropIndexes, a hidden flag, an index build): each entry is checked against the index list it
// was made with. A dropped collection is a new collection object, with an empty cache. Plans
// select candidates only: results never depend on them (test/differential.test.js).

const PLAN_CACHES = new WeakMap(); // coll -> {indexes: [[index, structure, hidden]...], map}
const PLAN_CACHE_MAX = 5000;

/** The kind of a filter value, as the shape sees it. */
function kindOf(v) {
  if (v === null) return 'z';
  switch (typeof v) {
    case 'string': return 's';
    case 'number': return Number.isNaN(v) ? 'N' : 'n';
    case 'boolean': return 'b';
    case 'undefined': return 'u';
    default: break;
  }
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) out += (i ? ',' : '') + shapeOf(v[i]);
    return `${out}]`;
  }
  if (isPlainObject(v)) return shapeOf(v);
  if (v instanceof RegExp) return 'r';
  if (v instanceof Date) return 'd';
  return `<${v._bsontype || (v.constructor && v.constructor.name) || typeof v}>`;
}

/** The shape of a filter (view): fields and operators with the kinds of their values. */
function shapeOf(v) {
  if (!isPlainObject(v)) return kindOf(v);
  let out = '{';
  for (const k of Object.keys(v)) out += `${JSON.stringify(k)}:${kindOf(v[k])},`;
  return `${out}}`;
}

/** The cache key of a query: its filter's shape and its sort. */
function planCacheKey(rest, sortKeys) {
  let key = shapeOf(rest);
  if (sortKeys) for (const k of sortKeys) key += `|${JSON.stringify(k.path)}:${k.dir}:${k.meta || ''}`;
  return key;
}

/** An 8-digit hash of a plan cache key (explain's and the profiler's planCacheShapeHash). */
function shapeHash(key) {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).toUpperCase().padStart(8, '0');
}

/** The cache of coll, emptied when its indexes are not those it was filled with. */
function cacheOf(coll) {
  let c = PLAN_CACHES.get(coll);
  const list = coll.indexes;
  if (c) {
    const seen = c.indexes;
    let same = seen.length === list.length;
    for (let i = 0; same && i < list.length; i++) {
      const x = list[i];
      same = seen[i][0] === x && seen[i][1] === x.structure && seen[i][2] === (x.options.hidden === true);
    }
    if (same) return c;
  }
  c = { indexes: list.map((x) => [x, x.structure, x.options.hidden === true]), map: new Map() };
  PLAN_CACHES.set(coll, c);
  return c;
}

/** The plan of a query without a hint, $near or $text: from the cache when its shape is known. */
function cachedPlan(coll, rest, sortKeys) {
  const c = cacheOf(coll);
  const key = planCacheKey(rest, sortKeys);
  const hit = c.map.get(key);
  if (hit !== undefined) {
    const conds = collectConditions(rest);
    conds.filter = rest;
    const plan = btreePlan(hit.index, conds, sortKeys, false);
    if (plan) {
      plan.fromPlanCache = true;
      plan.shapeHash = hit.hash;
      return plan;
    }
  }
  const plan = planFor(coll, { rest }, sortKeys, undefined);
  // B-tree index scans are cached. Not IDHACK (planned without a look at the indexes), geo
  // plans (their regions are planned per query), nor a collection scan: other values of the
  // shape may imply a partial index's filter, and a cached COLLSCAN would never look again.
  if (plan.type === 'IXSCAN') {
    if (c.map.size >= PLAN_CACHE_MAX) c.map.clear();
    const hash = shapeHash(key);
    c.map.set(key, { index: plan.index, hash });
    plan.shapeHash = hash;
  }
  plan.fromPlanCache = false;
  return plan;
}

/** The plan of a query, planned in full (every index considered). */
function planFor(coll, f, sortKeys, hint) {
  const hinted = hintedIndex(coll, hint);
  if (!coll) return { type: 'EOF' }; // no collection: nothing to scan, as mongod says
  if (state.disabled) return { type: 'COLLSCAN' };
  if (f.near) return nearPlan(coll, f.near, f.rest || {});
  if (f.text || hinted === 'natural') return { type: 'COLLSCAN' };
  const rest = f.rest;
  const keys = Object.keys(rest);
  if (!hinted && keys.length === 1 && keys[0] === '_id' && pointable(rest._id) && !sortKeys) {
    return { type: 'IDHACK', key: idKeyOf(rest._id) };
  }
  const conds = collectConditions(rest);
  conds.filter = rest;
  if (hinted) {
    if (hinted.structure instanceof BTreeIndex) return btreePlan(hinted, conds, sortKeys, true);
    if (hinted.structure instanceof GeoIndex) {
      const regions = conds.geo.get(hinted.structure.field);
      return { type: 'GEO', index: hinted, region: regions ? regions[0] : { boxes: [WORLD], text: 'all' }, ...geoPrefix(hinted, conds) };
    }
    return { type: 'COLLSCAN' };
  }
  let best = null;
  for (const index of coll.indexes) {
    const st = index.structure;
    if (!st || index.options.hidden === true) continue;
    let p = null;
    if (st instanceof BTreeIndex) p = btreePlan(index, conds, sortKeys, false);
    else if (st instanceof GeoIndex) {
      const regions = conds.geo.get(st.field);
      if (regions && (!index.partial || implies(conds, rest, index.partialView))) {
        const pre = geoPrefix(index, conds);
        p = { type: 'GEO', index, region: regions[0], ...pre, score: 150 + pre.eq * 100 - st.prefix.length };
      }
    }
    if (p && (!best || p.score > best.score)) best = p;
  }
  return best || { type: 'COLLSCAN' };
}

/**
 * Bounds of a 2dsphere index's prefix fields (the scalar fields before the geo field) from the
 * conditions: {prefixBounds, eq} (eq: how many leading prefix fields are bounded by points).
 * The partitions they select are found when the plan runs (partsOf).
 */
function geoPrefix(index, conds) {
  const st = index.structure;
  const prefixBounds = st.prefix.map((path, i) => fieldBounds(conds.fields.get(path), st.multikey[i]));
  let eq = 0;
  while (eq < prefixBounds.length && isPointSet(prefixBounds[eq])) eq++;
  return { prefixBounds, eq };
}

/** The partitions (R-trees) of a GEO or GEO_NEAR plan's index that its prefix bounds select. */
function partsOf(plan) {
  if (!plan.parts) {
    const st = plan.index.structure;
    const bounds = plan.prefixBounds || st.prefix.map(() => ALL);
    const points = bounds.map((b) => (isPointSet(b) ? b.map((iv) => iv[0]) : null));
    plan.parts = st.partsFor(bounds, points, inInterval);
  }
  return plan.parts;
}

/**
 * The plan of a $near / $geoNear on near.field with the rest of the filter: the 2dsphere index
 * on that field whose prefix the filter bounds best by points (equality, $in, the first
 * element of $all on a multikey field), as MongoDB's planner bounds a compound 2dsphere index's
 * prefix; a partial index only when the filter implies its filter expression. Without one, a
 * collection scan (with the 2d index's name for explain, when there is one).
 */
function nearPlan(coll, near, filter) {
  const conds = collectConditions(filter);
  conds.filter = filter;
  let best = null;
  for (const index of coll.indexes) {
    const st = index.structure;
    if (!(st instanceof GeoIndex) || st.field !== near.field || index.options.hidden === true) continue;
    if (index.partial && !implies(conds, filter, index.partialView)) continue;
    const pre = geoPrefix(index, conds);
    const score = pre.eq * 100 - st.prefix.length;
    if (!best || score > best.score) best = { type: 'GEO_NEAR', index, near, ...pre, score };
  }
  return best || { type: 'COLLSCAN', geoNear: coll.geoIndexFor(near.field, near.legacy) };
}

/**
 * True when an index can serve a $near / $geoNear on near.field with the rest of the filter: a
 * 2dsphere (or, for legacy points, 2d) index on the field, a partial one only when the filter
 * implies its filter expression. MongoDB refuses such a query without one ("unable to find
 * index for $geoNear query"), and so does the stand-in, with or without the planner.
 */
function nearIndexUsable(coll, near, filter) {
  if (!coll) return false;
  let conds = null;
  return coll.indexes.some((index) => {
    const t = index.key[near.field];
    if (t !== '2dsphere' && !(near.legacy && t === '2d')) return false;
    if (!index.partial) return true;
    if (!conds) {
      conds = collectConditions(filter);
      conds.filter = filter;
    }
    return implies(conds, filter, index.partialView);
  });
}

// ---- scans ---------------------------------------------------------------------------------

const MAX_SEEK_PREFIXES = 4096;

/**
 * Visits the entries of an IXSCAN plan in index order (backward when plan.direction < 0):
 * visit(rec, entry, group) returns false to stop (the entry's key: structure.keyOf(entry,
 * group), or one field of it: keyAt(entry, group, i)). Counts keys examined in stats.
 */
function scanIndex(plan, visit, stats) {
  const st = plan.index.structure;
  const n = st.fields.length;
  // Index order of each field's intervals: descending fields run from high to low.
  const ordered = plan.bounds.map((ivs, i) => (st.dirs[i] < 0
    ? ivs.slice().reverse().map((iv) => [iv[2], iv[3], iv[0], iv[1]])
    : ivs));
  let p = plan.eq;
  let prefixes = [[]];
  for (let i = 0; i < p; i++) {
    const next = [];
    for (const pre of prefixes) for (const iv of ordered[i]) next.push([...pre, iv[0]]);
    if (next.length > MAX_SEEK_PREFIXES) { p = i; break; }
    prefixes = next;
  }
  const seeks = [];
  for (const pre of prefixes) {
    if (p === n) {
      seeks.push([pre, [...pre]]);
      continue;
    }
    for (const iv of ordered[p]) {
      seeks.push([[...pre, iv[0], ...Array(n - p - 1).fill(FIRST)], [...pre, iv[2], ...Array(n - p - 1).fill(LAST)]]);
    }
  }
  // Key filter for the fields the seeks do not pin exactly.
  const checks = [];
  for (let i = p; i < n; i++) if (!isAll(plan.bounds[i])) checks.push(i);
  const backward = plan.direction < 0;
  if (backward) seeks.reverse();
  const keyOk = (entry, group) => {
    for (const i of checks) {
      const v = st.keyAt(entry, group, i);
      if (!plan.bounds[i].some((iv) => inInterval(v, iv))) return false;
    }
    return true;
  };
  for (const [lo, hi] of seeks) {
    hi.last = true;
    if (st.compare(lo, hi) > 0) continue;
    const goOn = st.scan(lo, hi, backward, (rec, entry, group) => {
      stats.keysExamined++;
      if (checks.length && !keyOk(entry, group)) return true;
      return visit(rec, entry, group);
    });
    if (!goOn) return;
  }
}

/** Distance function and search radius units of a parsed near clause. */
function nearRegion(near, r) {
  if (!near.spherical) {
    const [x, y] = near.point;
    return [[x - r, y - r, x + r, y + r]];
  }
  const unit = near.legacy ? 1 : geo.EARTH_RADIUS_M;
  return capBoxes(near.point, r / unit);
}

/**
 * Candidates of a GEO_NEAR plan, nearest first: [{rec, d}] (ties in natural order, or with
 * natural = false in any order: the caller orders them), the first `want` that pass
 * `accept(rec, d)` and every one as near as the last of them (want = Infinity: all within the
 * maximum distance). Spherical distances walk the R-tree best first (knnScan); flat ones
 * search growing boxes.
 */
function nearScan(plan, dist, accept, want, stats, natural = true, order = null) {
  // order: the results are wanted in (distance, _id) order (geowalk.js; order.seek a keyset cursor).
  if (plan.near.spherical && order) return require('./geowalk').orderedKnn(plan, dist, accept, want, stats, order.seek, { partsOf, boxRadians });
  if (plan.near.spherical) return knnScan(plan, dist, accept, want, stats, natural);
  return boxScan(plan, dist, accept, want, stats, natural);
}

const byDistance = (a, b) => a.d - b.d;
const byDistanceSeq = (a, b) => a.d - b.d || a.rec.seq - b.rec.seq;

/** Sorts found items by distance (and natural order) and keeps `want` and their ties. */
function nearestOf(found, want, natural = true) {
  found.sort(natural ? byDistanceSeq : byDistance); // knnScan's come in distance order: one pass
  if (Number.isFinite(want) && found.length > want) {
    let end = want;
    while (end < found.length && found[end].d === found[want - 1].d) end++;
    found.length = end;
  }
  return found;
}

// Great-circle lower bound from a point to a longitude/latitude box, in radians (the method
// of mourner's geokdbush, ISC): the box's nearest meridian edge at its vertex latitude, or a
// corner. Shrunk by a relative 1e-9 so that rounding never puts it above a true distance.
const hav = (x) => { const s = Math.sin(x / 2); return s * s; };
const havPartial = (hDLng, cosLat1, lat1, lat2) => cosLat1 * Math.cos(lat2 * RAD) * hDLng + hav((lat1 - lat2) * RAD);

function vertexLat(lat, hDLng) {
  const cosDLng = 1 - 2 * hDLng;
  if (cosDLng <= 0) return lat > 0 ? 90 : -90;
  return Math.atan(Math.tan(lat * RAD) / cosDLng) * DEG;
}

function boxRadians(lng, lat, cosLat, b) {
  let r;
  if ((((lng - b.minX) % 360) + 360) % 360 <= b.maxX - b.minX) { // within its longitudes (mod 360)
    if (lat < b.minY) r = (b.minY - lat) * RAD;
    else if (lat > b.maxY) r = (lat - b.maxY) * RAD;
    else return 0;
  } else {
    const hDLng = Math.min(hav((b.minX - lng) * RAD), hav((b.maxX - lng) * RAD));
    const vLat = vertexLat(lat, hDLng);
    const h = vLat > b.minY && vLat < b.maxY ? havPartial(hDLng, cosLat, lat, vLat)
      : Math.min(havPartial(hDLng, cosLat, lat, b.minY), havPartial(hDLng, cosLat, lat, b.maxY));
    r = 2 * Math.asin(Math.min(1, Math.sqrt(Math.max(0, h))));
  }
  return Math.max(0, r * (1 - 1e-9) - 1e-12);
}

/** [key, kind, value] entries of the walk's heap come out by key. */
const byKey = (x, y) => x[0] < y[0];

const NODE = 0;
const DOC = 1;

/**
 * Best-first walk of the R-tree: nodes by their lower-bound distance, the records of a leaf by
 * their exact distance (dist: the nearest of their points); records come out in
 * distance order, so the walk stops once `want` passed and the next is farther than the last
 * of them. It examines the nearest records only, however dense the catalogue around them.
 */
function knnScan(plan, dist, accept, want, stats, natural) {
  const { near } = plan;
  const unit = near.legacy ? 1 : geo.EARTH_RADIUS_M;
  const [lng, lat] = near.point;
  const cosLat = Math.cos(lat * RAD);
  const maxD = near.max !== undefined ? near.max : Infinity;
  const heap = new Heap(byKey);
  const seen = new Set();
  const found = [];
  let farthest = -Infinity; // of found: every record not yet out is at least `key` away
  // A record of a leaf (or an odd one) goes in at its exact distance: no bound of its own.
  // Several partitions (a compound index's prefix keys) are walked as one: their roots share
  // the heap, so records still come out nearest first; a record in two of them counts once.
  const record = (rec) => {
    if (seen.has(rec)) return;
    seen.add(rec);
    stats.keysExamined++;
    const d = dist(rec.view);
    if (d !== null) heap.push([d, DOC, rec]);
  };
  for (const part of partsOf(plan)) {
    const root = part.tree.data;
    if (root && root.children.length) heap.push([boxRadians(lng, lat, cosLat, root) * unit, NODE, root]);
    for (const rec of part.odd) record(rec);
  }
  while (heap.size) {
    const [key, kind, v] = heap.pop();
    if (key > maxD) break;
    if (found.length >= want && key > farthest) break;
    if (kind === NODE) {
      if (v.leaf) {
        for (const c of v.children) {
          if (c.recs !== undefined) for (const r of c.recs) record(r); // a TieGroup (indexes.js)
          else record(c.view !== undefined ? c : c.rec);
        }
      }
      else for (const c of v.children) heap.push([boxRadians(lng, lat, cosLat, c) * unit, NODE, c]);
    } else {
      stats.docsExamined++;
      if (accept(v, key)) {
        found.push({ rec: v, d: key });
        if (key > farthest) farthest = key;
      }
    }
  }
  return nearestOf(found, want, natural);
}

/** Flat distances: boxes that grow until `want` candidates are in (or all of them). */
function boxScan(plan, dist, accept, want, stats, natural) {
  const st = plan.index.structure;
  const near = plan.near;
  const maxR = near.max !== undefined ? near.max : Infinity;
  let r = Number.isFinite(maxR) ? maxR : 1;
  const seen = new Map(); // rec -> distance (null: not a match)
  const found = [];
  for (;;) {
    const boxes = Number.isFinite(r) ? nearRegion(near, r) : null;
    const parts = partsOf(plan);
    const everything = !boxes || parts.every((part) => covers(boxes, part.tree.data));
    const cands = everything ? st.all(parts) : st.search(boxes, parts);
    for (const rec of cands) {
      if (seen.has(rec)) continue;
      stats.keysExamined++;
      const d = dist(rec.view);
      let ok = d !== null;
      if (ok) {
        stats.docsExamined++;
        ok = accept(rec, d);
      }
      seen.set(rec, ok ? d : null);
      if (ok) found.push({ rec, d });
    }
    let within = 0;
    for (const it of found) if (it.d <= r) within++;
    if (everything || r >= maxR || within >= want) {
      return nearestOf(everything ? found : found.filter((it) => it.d <= r), want, natural);
    }
    r = Math.min(r * 4, maxR);
  }
}

/** True when one of the boxes holds the whole R-tree (its root's box). */
function covers(boxes, root) {
  if (!root || !root.children.length) return true;
  return boxes.some(([x0, y0, x1, y1]) => x0 <= root.minX && y0 <= root.minY && x1 >= root.maxX && y1 >= root.maxY);
}

// ---- explain and profiler shapes -----------------------------------------------------------

function fmtBound(v, upper) {
  if (v === MIN_KEY) return 'MinKey';
  if (v === MAX_KEY) return 'MaxKey';
  if (v instanceof Edge) {
    switch (v.rank) {
      case 2: return v.side < 0 ? '-inf.0' : 'inf.0';
      case 3: return v.side < 0 ? '""' : '{}';
      case 9: return v.side < 0 ? 'new Date(-9223372036854775808)' : 'new Date(9223372036854775807)';
      default: return upper ? 'MaxKey' : 'MinKey';
    }
  }
  if (v === undefined) return 'null';
  return formatValue(v);
}

function boundsText(plan) {
  const st = plan.index.structure;
  const out = {};
  st.fields.forEach((f, i) => {
    let ivs = plan.bounds[i];
    const reversed = (st.dirs[i] < 0) !== (plan.direction < 0);
    if (reversed) ivs = ivs.slice().reverse().map((iv) => [iv[2], iv[3], iv[0], iv[1]]);
    out[f.path] = ivs.map((iv) => `${iv[1] ? '[' : '('}${fmtBound(iv[0], reversed)}, ${fmtBound(iv[2], !reversed)}${iv[3] ? ']' : ')'}`);
  });
  return out;
}

/** indexBounds of a GEO plan: the prefix fields' intervals, then the covering of the region. */
function geoBoundsText(plan) {
  const st = plan.index.structure;
  const out = {};
  st.prefix.forEach((path, i) => {
    out[path] = (plan.prefixBounds ? plan.prefixBounds[i] : ALL).map((iv) => `${iv[1] ? '[' : '('}${fmtBound(iv[0], false)}, ${fmtBound(iv[2], true)}${iv[3] ? ']' : ')'}`);
  });
  out[st.field] = [`[covering ${plan.region.text}]`];
  return out;
}

function ixscanStage(plan) {
  const { index } = plan;
  const st = index.structure;
  const multiKeyPaths = {};
  st.fields.forEach((f, i) => { multiKeyPaths[f.path] = st.multikey[i] ? [f.path] : []; });
  return {
    stage: 'IXSCAN',
    keyPattern: index.options.key,
    indexName: index.name,
    isMultiKey: st.multikey.some(Boolean),
    multiKeyPaths,
    isUnique: index.unique,
    isSparse: index.sparse,
    isPartial: !!index.partialFilter,
    indexVersion: 2,
    direction: plan.direction < 0 ? 'backward' : 'forward',
    indexBounds: boundsText(plan),
  };
}

/** queryPlanner.winningPlan of a plan (sort: [{path, dir}] or null; limit/skip numbers). */
function winningPlan(plan, { filter, sortKeys, limit = 0, skip = 0 } = {}) {
  const hasFilter = filter && Object.keys(filter).length > 0;
  let stage;
  switch (plan.type) {
    case 'IDHACK': return { stage: 'IDHACK' };
    case 'EOF': return { stage: 'EOF' };
    case 'IXSCAN': stage = { stage: 'FETCH', ...(hasFilter ? { filter } : {}), inputStage: ixscanStage(plan) }; break;
    case 'GEO':
      stage = {
        stage: 'FETCH',
        ...(hasFilter ? { filter } : {}),
        inputStage: {
          stage: 'IXSCAN', keyPattern: plan.index.options.key, indexName: plan.index.name, isMultiKey: false,
          indexVersion: 2, direction: 'forward', indexBounds: geoBoundsText(plan),
        },
      };
      break;
    case 'GEO_NEAR':
      stage = { stage: 'GEO_NEAR_2DSPHERE', keyPattern: plan.index.options.key, indexName: plan.index.name, indexVersion: 2 };
      break;
    default:
      stage = plan.geoNear ? { stage: 'GEO_NEAR_2D', keyPattern: plan.geoNear.options.key, indexName: plan.geoNear.name }
        : { stage: 'COLLSCAN', ...(hasFilter ? { filter } : {}), direction: 'forward' };
  }
  const realSort = sortKeys && sortKeys.filter((k) => !k.meta);
  if (realSort && realSort.length && !(plan.type === 'IXSCAN' && plan.sortFull)) {
    stage = {
      stage: 'SORT',
      sortPattern: Object.fromEntries(realSort.map((k) => [k.path, k.dir])),
      memLimit: 104857600,
      ...(limit ? { limitAmount: skip + limit } : {}),
      type: 'simple',
      inputStage: stage,
    };
  } else if (limit) {
    stage = { stage: 'LIMIT', limitAmount: limit, inputStage: stage };
  }
  if (skip) stage = { stage: 'SKIP', skipAmount: skip, inputStage: stage };
  return stage;
}

/** planSummary as the profiler and slow-query log print it: "IXSCAN { status: 1 }". */
function planSummary(plan) {
  switch (plan.type) {
    case 'IDHACK': return 'IDHACK';
    case 'EOF': return 'EOF';
    case 'IXSCAN': case 'GEO': return `IXSCAN ${plan.index.keyPatternText}`;
    case 'GEO_NEAR': return `GEO_NEAR_2DSPHERE ${plan.index.keyPatternText}`;
    default: return plan.geoNear ? `GEO_NEAR_2D ${plan.geoNear.keyPatternText}` : 'COLLSCAN';
  }
}

module.exports = {
  state, choosePlan, planCacheKey, shapeHash, nearPlan, nearIndexUsable, partsOf, scanIndex, nearScan, capBoxes, winningPlan, planSummary, collectConditions, fieldBounds,
  intersect, ALL,
};
