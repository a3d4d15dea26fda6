'use strict';
// The best-first walk of a 2dsphere index in (distance, _id) order: a $geoNear whose pushed
// $sort is {distance: 1, _id: 1} with a $limit (browse.c's "near, by distance"). Ties at one
// point are TieGroups in tie order (indexes.js), so the walk takes them one by one in the
// page's order and stops once the page is full, and a keyset cursor's (distance, _id) lets it
// seek past what the page before took, instead of examining every tie at the page's last
// distance (6,000 listings at Berlin's centre in the 100k dev catalogue).

const geo = require('./geo');
const { TieGroup, SoloItem, tieCmp } = require('./indexes');
const { compareValues } = require('./typed');
const { Heap } = require('./heap');

const RAD = Math.PI / 180;
const NODE = 0;
const DOC = 1;
const GROUP = 2;
const ITEM = 3; // a record by its SoloItem (DOC: by the record)

/** The key a record sorts by on {_id: 1} (query.js sortKeyOf: an array by its least element). */
function idKey(view) {
  if (!('_id' in view)) return undefined;
  const v = view._id;
  if (!Array.isArray(v) || !v.length) return v;
  let best = v[0];
  for (const x of v) if (compareValues(x, best) < 0) best = x;
  return best;
}

class Entry {
  constructor(d, kind, v, i) {
    this.d = d;
    this.kind = kind;
    this.v = v; // a node, a record (DOC) or a TieGroup
    this.i = i; // GROUP: the position of its next record
    this.lo = 0; // GROUP: records before it may be passed over (see orderedKnn)
    // The tie key (_id, seq) of the record, read once when first compared (tieOf): a heap
    // compares an entry at a busy point many times, and each read went through the record to
    // its view, cache misses in a large catalogue. GROUP: of record i (reset as i moves).
    this.id = undefined;
    this.seq = -1;
  }

  get rec() { return this.kind === GROUP ? this.v.recs.at(this.i) : this.v; }
}

function tieOf(e) {
  if (e.seq < 0) {
    const r = e.rec;
    e.id = idKey(r.view);
    e.seq = r.seq;
  }
  return e;
}

/** Entry order: distance; at one distance nodes first (they may hold records at it), then records by (_id, natural order). */
function before(a, b) {
  if (a.d !== b.d) return a.d < b.d;
  if (a.kind === NODE || b.kind === NODE) return a.kind === NODE && b.kind !== NODE;
  const ta = tieOf(a);
  const tb = tieOf(b);
  return (compareValues(ta.id, tb.id) || ta.seq - tb.seq) < 0;
}

/**
 * The keyset cursor of browse.c's next pages among `after` filters (views of the $match
 * stages between $geoNear and the $sort): {d, id} from {$or: [{F: {$gt: d}}, {F: d, _id: {$gt:
 * id}}]} with F the distance field, d a number and id a string or number; else null. Every
 * output it fails is at a distance below d, or at d with an _id of id's type not above id
 * ($gt compares within a type).
 */
function keysetOf(after, F) {
  for (const m of after) {
    const or = m.$or;
    if (!Array.isArray(or) || or.length !== 2) continue;
    const [a, b] = or;
    if (!isObj(a) || !isObj(b) || Object.keys(a).length !== 1 || Object.keys(b).length !== 2) continue;
    const gt = a[F];
    const id = isObj(b._id) && Object.keys(b._id).length === 1 ? b._id.$gt : undefined;
    if (!isObj(gt) || Object.keys(gt).length !== 1 || typeof gt.$gt !== 'number' || Number.isNaN(gt.$gt)) continue;
    if (b[F] !== gt.$gt || (typeof id !== 'string' && typeof id !== 'number')) continue;
    return { d: gt.$gt, id };
  }
  return null;
}

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

/**
 * Best-first walk in (distance, _id, natural order): [{rec, d}], the first `want` records that
 * pass accept(rec, d), in that order. seek: a keyset cursor (keysetOf) — records it proves the
 * filters fail are passed over unexamined: every one nearer than its distance, and at its
 * distance the members of a TieGroup up to its _id. `h`: planner.js's partsOf and boxRadians.
 */
function orderedKnn(plan, dist, accept, want, stats, seek, h) {
  const { near } = plan;
  const unit = near.legacy ? 1 : geo.EARTH_RADIUS_M;
  const [lng, lat] = near.point;
  const cosLat = Math.cos(lat * RAD);
  const maxD = near.max !== undefined ? near.max : Infinity;
  const heap = new Heap(before);
  const seen = new Set();
  const found = [];
  const record = (rec) => {
    if (seen.has(rec)) return;
    seen.add(rec);
    stats.keysExamined++;
    const d = dist(rec.view);
    if (d !== null) heap.push(new Entry(d, DOC, rec, 0));
  };
  // A record's only point, as its SoloItem holds it: the distance from the item, the record
  // itself not read until its entry comes out (most of a leaf's never do). Items are seen
  // once each (one per record and point, shared by an index's partitions); a record that
  // also came another way (another item, a TieGroup) is passed over when its second entry
  // comes out (`taken`).
  const pointDist = dist.atPoint;
  const item = (c) => {
    if (seen.has(c)) return;
    seen.add(c);
    stats.keysExamined++;
    const d = pointDist(c.minX, c.minY);
    if (d !== null) heap.push(new Entry(d, ITEM, c.rec, 0));
  };
  const taken = new Set();
  // A group's records are at its point and nowhere else: one distance for all of them. At the
  // cursor's distance, its records up to position `lo` have an _id not above the cursor's (tie
  // order is _id's BSON order): those of the cursor's type fail ($gt compares within a type)
  // and are passed over; others are still examined.
  const skipTo = (e) => {
    const { recs } = e.v;
    if (e.lo) {
      const t = typeof seek.id;
      while (e.i < e.lo && typeof recs.at(e.i).view._id === t) e.i++;
    }
    return e.i < recs.length;
  };
  const group = (g) => {
    const d = dist(g.recs.at(0).view);
    if (d === null || (seek && d < seek.d)) return;
    const e = new Entry(d, GROUP, g, 0);
    if (seek && d === seek.d) {
      let lo = 0;
      let hi = g.recs.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (compareValues(g.recs.at(mid).view._id, seek.id) <= 0) lo = mid + 1;
        else hi = mid;
      }
      e.lo = lo;
    }
    if (skipTo(e)) heap.push(e);
  };
  for (const part of h.partsOf(plan)) {
    const root = part.tree.data;
    if (root && root.children.length) heap.push(new Entry(h.boxRadians(lng, lat, cosLat, root) * unit, NODE, root, 0));
    for (const rec of part.odd) record(rec);
  }
  while (heap.size && found.length < want) {
    const e = heap.pop();
    if (e.d > maxD) break;
    if (e.kind === NODE) {
      const node = e.v;
      if (node.leaf) {
        for (const c of node.children) {
          if (c instanceof TieGroup) group(c);
          else if (pointDist !== undefined && c instanceof SoloItem) item(c);
          else record(c.view !== undefined ? c : c.rec);
        }
      } else {
        for (const c of node.children) heap.push(new Entry(h.boxRadians(lng, lat, cosLat, c) * unit, NODE, c, 0));
      }
      continue;
    }
    let rec;
    if (e.kind === DOC || e.kind === ITEM) {
      rec = e.v;
      if (seek && e.d < seek.d) continue;
      if (e.kind === ITEM) {
        if (seen.has(rec) || taken.has(rec)) continue; // also in a TieGroup, or another item
        taken.add(rec);
      }
    } else {
      rec = e.v.recs.at(e.i++);
      e.seq = -1;
      if (skipTo(e)) heap.push(e);
      if (seen.has(rec) || taken.has(rec)) continue; // also in another partition
      seen.add(rec);
      stats.keysExamined++;
    }
    stats.docsExamined++;
    if (accept(rec, e.d)) found.push({ rec, d: e.d });
  }
  return found;
}

module.exports = { orderedKnn, keysetOf, idKey, tieCmp };
