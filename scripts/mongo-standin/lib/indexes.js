'use strict';
// Index structures: an ordered B+ tree (npm sorted-btree) for ascending/descending, compound,
// multikey, unique, sparse and partial indexes, and an R-tree (npm rbush) of points for
// 2dsphere indexes. They only select candidates: every candidate still goes through the
// query matcher, so an index may return too much (never too little).
//
// B-tree entries: key = [value per index field] (view values: JS numbers, strings, ...), in
// MongoDB's BSON order with each field's direction; value = the records with that key (one
// Record, or an array of Records in natural order, i.e. by Record.seq).

const BTree = require('sorted-btree').default;
const RBush = require('rbush'); // 3.x: CommonJS, so any Node from Debian 12's 18 on loads it
const { isPlainObject, compareValues, cmpNum, typeRank } = require('./typed');
const geo = require('./geo');

/** A bound at the edge of a BSON type bracket (rank; side -1 before its values, +1 after). */
class Edge {
  constructor(rank, side) {
    this.rank = rank;
    this.side = side;
  }
}
const MIN_KEY = new Edge(-1, 0); // below everything (MinKey)
const MAX_KEY = new Edge(99, 0); // above everything (MaxKey)

function rankOf(v) {
  if (v === null || v === undefined) return 1;
  switch (typeof v) {
    case 'number': return 2;
    case 'string': return 3;
    case 'boolean': return 8;
    default: return v instanceof Edge ? v.rank : typeRank(v);
  }
}

/** Total order of index key values (BSON order; NaN below all numbers; null == missing). */
function cmpValue(a, b) {
  if (a === b) return 0;
  const ra = rankOf(a);
  const rb = rankOf(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if (a instanceof Edge || b instanceof Edge) {
    const sa = a instanceof Edge ? a.side : 0;
    const sb = b instanceof Edge ? b.side : 0;
    return sa < sb ? -1 : sa > sb ? 1 : 0;
  }
  switch (ra) {
    case 1: return 0;
    case 2: return cmpNum(typeof a === 'number' ? a : Number(a), typeof b === 'number' ? b : Number(b));
    case 3: return a < b ? -1 : a > b ? 1 : 0;
    default: return compareValues(a, b);
  }
}

// Sentinels for building seek keys: before / after every value of a field in index order.
const FIRST = Symbol('first');
const LAST = Symbol('last');

/**
 * Entries of a B-tree index are of three kinds. A document with exactly one key (no arrays on
 * the index's paths) is entered as its Record itself: the comparator reads the key values
 * from the record's view (no key array is stored). A multikey document whose several values
 * are all on one field of the index (a word list) gets one MultiKey per value: the record and
 * that value, the other fields read from the view like a single-key record's. Other multikey
 * documents (arrays on two fields) get one key array per key, whose value lists their
 * records. Seek keys are arrays too; an array marked `last` sorts after the entries with its
 * values, an unmarked one before them.
 */
class MultiKey {
  constructor(rec, value) {
    this.rec = rec;
    this.value = value;
  }

  get view() { return this.rec.view; }

  get seq() { return this.rec.seq; }
}

// One subclass per field position, which lives on its prototype: an entry holds only its
// record and its value (the keyword indexes hold 45 entries per listing; a key array and its
// backing store cost twice as much).
const MULTIKEY_AT = [];
function multiKeyClass(pos) {
  let C = MULTIKEY_AT[pos];
  if (C === undefined) {
    C = class extends MultiKey {};
    C.prototype.pos = pos;
    MULTIKEY_AT[pos] = C;
  }
  return C;
}

function keyComparator(dirs, paths) {
  const n = dirs.length;
  const valueAt = (view, i) => {
    const parts = paths[i];
    let node = view;
    for (let j = 0; j < parts.length; j++) {
      if (node === null || typeof node !== 'object' || Array.isArray(node) ||
        !Object.prototype.hasOwnProperty.call(node, parts[j])) return undefined;
      node = node[parts[j]];
    }
    return node;
  };
  // The comparator is generated per index (one inline cache per field, not one shared by
  // every index), and a top-level field is read as a plain property: a record's view is a
  // plain object whose prototype is Object.prototype, so for a name Object.prototype does not
  // hold, `view.name` is exactly what the walk above answers. Other paths go through valueAt.
  const read = (side, i) => (paths[i].length === 1 && !(paths[i][0] in Object.prototype)
    ? `${side}.view[${JSON.stringify(paths[i][0])}]` : `valueAt(${side}.view, ${i})`);
  const fields = [];
  for (let i = 0; i < n; i++) {
    fields.push(`x = aArr ? a[${i}] : a.pos === ${i} ? a.value : ${read('a', i)};
    y = bArr ? b[${i}] : b.pos === ${i} ? b.value : ${read('b', i)};
    if (x !== y) {
      if (x === FIRST) return -1;
      if (y === FIRST) return 1;
      if (x === LAST) return 1;
      if (y === LAST) return -1;
      if (typeof x === 'string' && typeof y === 'string') return ${dirs[i] < 0 ? 'x < y ? 1 : -1' : 'x < y ? -1 : 1'};
      c = cmpValue(x, y);
      if (c !== 0) return ${dirs[i] < 0 ? '-c' : 'c'};
    }`);
  }
  // eslint-disable-next-line no-new-func
  const cmp = new Function('FIRST', 'LAST', 'cmpValue', 'valueAt', `return function cmp(a, b) {
    const aArr = Array.isArray(a);
    const bArr = Array.isArray(b);
    let x;
    let y;
    let c;
    ${fields.join('\n    ')}
    if (aArr && bArr) return (a.last ? 1 : 0) - (b.last ? 1 : 0);
    if (aArr) return a.last ? 1 : -1;
    if (bArr) return b.last ? -1 : 1;
    return a.seq - b.seq;
  };`)(FIRST, LAST, cmpValue, valueAt);
  cmp.valueAt = valueAt;
  return cmp;
}

/**
 * Key values of a view at a dotted path, generously: array elements (at any depth), the
 * elements' subdocuments, and undefined wherever the path cannot be followed. Returns
 * {values, multikey} (multikey: an array was crossed).
 */
function keyValues(view, path) {
  const parts = path.split('.');
  const values = [];
  let multikey = false;
  const walk = (node, i) => {
    if (i === parts.length) {
      if (Array.isArray(node)) {
        multikey = true;
        if (!node.length) values.push(undefined);
        for (const x of node) {
          if (Array.isArray(x)) walk(x, i);
          values.push(x);
        }
      } else values.push(node);
      return;
    }
    if (Array.isArray(node)) {
      multikey = true;
      if (/^\d+$/.test(parts[i])) walk(node[+parts[i]], i + 1);
      for (const x of node) walk(x, i);
      if (!node.length) values.push(undefined);
      return;
    }
    if (isPlainObject(node) && Object.prototype.hasOwnProperty.call(node, parts[i])) walk(node[parts[i]], i + 1);
    else values.push(undefined);
  };
  walk(view, 0);
  return { values, multikey };
}

const MAX_KEYS_PER_DOC = 100000;

class BTreeIndex {
  /** @param fields [{path, dir}] */
  constructor(fields) {
    this.fields = fields;
    this.dirs = fields.map((f) => f.dir);
    this.compare = keyComparator(this.dirs, fields.map((f) => f.path.split('.')));
    this.tree = new BTree(undefined, this.compare, 64);
    this.multikey = fields.map(() => false);
    this.filter = null; // (view) -> bool: partial / sparse admission
    this.sparse = false;
  }

  /** Distinct keys of a view ([] when the document is not indexed). */
  keys(view) {
    if (this.filter && !this.filter(view)) return [];
    let single = true;
    let pos = -1; // the one field holding a multikey document's values, else -1
    const per = this.fields.map((f, i) => {
      const { values, multikey } = keyValues(view, f.path);
      if (multikey) {
        this.multikey[i] = true;
        pos = single ? i : -1;
        single = false;
      }
      return values;
    });
    if (this.sparse && per.every((vals) => vals.every((v) => v === undefined))) return [];
    // Keys are built at their exact size: arrays grown by push or spread keep spare capacity.
    const n = per.length;
    let total = 1;
    for (const vals of per) total *= vals.length;
    if (total > MAX_KEYS_PER_DOC) throw new Error('too many index keys for one document');
    const keys = new Array(total);
    for (let k = 0; k < total; k++) {
      const key = new Array(n);
      let rest = k;
      for (let i = n - 1; i >= 0; i--) {
        const vals = per[i];
        key[i] = vals[rest % vals.length];
        rest = Math.floor(rest / vals.length);
      }
      keys[k] = key;
    }
    const out = total === 1 ? keys : dedupe(keys, this.compare);
    out.single = single;
    out.pos = pos;
    return out;
  }

  /** The key values of an entry (a key array, a MultiKey, or a record entered as its own key). */
  keyOf(entry) {
    if (Array.isArray(entry)) return entry;
    const pos = entry instanceof MultiKey ? entry.pos : -1;
    return this.fields.map((f, i) => (i === pos ? entry.value : this.compare.valueAt(entry.view, i)));
  }

  add(rec, keys = this.keys(rec.view)) {
    if (keys.single) {
      this.tree.set(rec, undefined);
      return;
    }
    for (const key of keys) this.addKey(key, rec, keys.pos);
  }

  /** Enters rec under one key array of a multikey document (pos: see keys()). */
  addKey(key, rec, pos) {
    if (pos >= 0) {
      const C = multiKeyClass(pos);
      this.tree.set(new C(rec, key[pos]), undefined);
      return;
    }
    // One descent when the key is new (the usual case: keys end with created_us or _id);
    // set without overwrite leaves an existing key's records as they are.
    if (this.tree.set(key, rec, false)) return;
    const cur = this.tree.get(key);
    if (Array.isArray(cur)) insertBySeq(cur, rec);
    else if (cur !== rec) this.tree.set(key, cur.seq < rec.seq ? [cur, rec] : [rec, cur]);
  }

  /**
   * Enters many records at once: recs[i] with keys[i] (this.keys of its view). The entries
   * go in in index order, so consecutive descents share their path through the tree (a batch
   * of new listings lands next to each other in every index); the tree that results is the
   * same as from add() one by one (entries are ordered by key, then by record).
   */
  addMany(recs, keys) {
    const items = [];
    for (let i = 0; i < recs.length; i++) {
      const ks = keys[i];
      if (ks.single) items.push({ e: recs[i], rec: recs[i] });
      else for (const key of ks) items.push({ e: key, rec: recs[i], pos: ks.pos });
    }
    const cmp = this.compare;
    items.sort((p, q) => cmp(p.e, q.e) || p.rec.seq - q.rec.seq);
    for (const { e, rec, pos } of items) {
      if (e === rec) this.tree.set(rec, undefined);
      else this.addKey(e, rec, pos);
    }
  }

  /** Removes rec's entries: `keys` must be those of its current view (before any change). */
  remove(rec, keys = this.keys(rec.view)) {
    if (keys.single) {
      this.tree.delete(rec);
      return;
    }
    if (keys.pos >= 0) {
      // The probe reads the other fields from rec's view, which is still the one its entries
      // were made from (callers remove before they change a record).
      const C = multiKeyClass(keys.pos);
      for (const key of keys) this.tree.delete(new C(rec, key[keys.pos]));
      return;
    }
    for (const key of keys) {
      const cur = this.tree.get(key);
      if (cur === rec) this.tree.delete(key);
      else if (Array.isArray(cur)) {
        const i = findBySeq(cur, rec);
        if (i >= 0) cur.splice(i, 1);
        if (cur.length === 1) this.tree.set(key, cur[0]);
      }
    }
  }

  /** Loads all records at once (index build). */
  build(records) {
    for (const rec of records) this.add(rec);
  }

  get size() { return this.tree.size; }

  /**
   * Calls visit(rec, key) for the entries between seek keys lo and hi (inclusive, index
   * order; reversed when backward), stopping when visit returns false.
   */
  scan(lo, hi, backward, visit) {
    const cmp = this.compare;
    if (!backward) {
      const it = this.tree.entries(lo, []);
      for (let r = it.next(); !r.done; r = it.next()) {
        const [key, val] = r.value;
        if (cmp(key, hi) > 0) return true;
        if (!visitEntry(key, val, visit)) return false;
      }
    } else {
      const it = this.tree.entriesReversed(hi, []);
      for (let r = it.next(); !r.done; r = it.next()) {
        const [key, val] = r.value;
        if (cmp(key, lo) < 0) return true;
        if (!visitEntry(key, val, visit)) return false;
      }
    }
    return true;
  }
}

function visitEntry(key, val, visit) {
  if (val === undefined) {
    if (key instanceof MultiKey) return visit(key.rec, key) !== false;
    return visit(key, null) !== false; // a record entered as its own key
  }
  if (Array.isArray(val)) {
    for (let i = 0; i < val.length; i++) if (visit(val[i], key) === false) return false;
    return true;
  }
  return visit(val, key) !== false;
}

function dedupe(keys, cmp) {
  keys.sort(cmp);
  const out = [keys[0]];
  for (let i = 1; i < keys.length; i++) if (cmp(keys[i], out[out.length - 1]) !== 0) out.push(keys[i]);
  return out;
}

function findBySeq(arr, rec) {
  let lo = 0;
  let hi = arr.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = arr[mid].seq;
    if (s === rec.seq) return arr[mid] === rec ? mid : arr.indexOf(rec);
    if (s < rec.seq) lo = mid + 1;
    else hi = mid - 1;
  }
  return arr.indexOf(rec);
}

function insertBySeq(arr, rec) {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (arr[mid].seq < rec.seq) lo = mid + 1;
    else hi = mid;
  }
  if (arr[lo] === rec) return;
  arr.splice(lo, 0, rec);
}

/** Equality of two key lists (same index). */
function sameKeys(a, b, cmp) {
  if (a.length !== b.length || !a.single !== !b.single || a.pos !== b.pos) return false;
  for (let i = 0; i < a.length; i++) if (cmp(a[i], b[i]) !== 0) return false;
  return true;
}

const VALID = (p) => p[0] >= -180 && p[0] <= 180 && p[1] >= -90 && p[1] <= 90;

/**
 * Partition key of one prefix value: values equal in BSON order (cmpValue) get the same key.
 * Numbers (compared as JS numbers, whatever their BSON type), strings and booleans are keyed
 * exactly; any other value shares its type bracket's wildcard key (`rank:*`), which every
 * lookup of that bracket probes too.
 */
function partKeyOf(v) {
  const r = rankOf(v);
  if (r === 1) return '1:';
  if (r === 2) {
    const n = typeof v === 'number' ? v : Number(v);
    return `2:${Number.isNaN(n) ? 'NaN' : String(n)}`; // String(-0) is "0", as cmpValue finds them equal
  }
  if (typeof v === 'string') return `3:${v}`;
  if (typeof v === 'boolean') return `8:${v}`;
  return `${r}:*`;
}
const WILD = Symbol('any value of its bracket');
const wildKey = (v) => `${rankOf(v)}:*`;

/**
 * One R-tree of points with its "odd" records. A document with one point on the globe is its
 * own R-tree item (its box is read from its view); one with several points has a small item
 * per point; documents with points off the globe are kept apart and are always candidates.
 */
class GeoPart {
  constructor(vals, box) {
    this.vals = vals; // the prefix values of the partition (WILD: any value of its bracket)
    this.odd = new Set();
    // rbush calls these unbound: plain closures, not methods.
    this.tree = new RBush(16);
    this.tree.toBBox = box;
    this.tree.compareMinX = (a, b) => box(a).minX - box(b).minX;
    this.tree.compareMinY = (a, b) => box(a).minY - box(b).minY;
  }

  /**
   * The R-tree items of a record with points pts: the record itself when it has one point on
   * the globe and `own` (its box is read from its view on each comparison: no object of its
   * own), else a small box item per point. A compound index's partitions share the latter:
   * one item per point whatever the number of prefix keys, and no view read per comparison.
   */
  static items(rec, pts, own) {
    if (own && pts.length === 1 && VALID(pts[0])) return [rec];
    const out = [];
    for (const p of pts) if (VALID(p)) out.push({ minX: p[0], minY: p[1], maxX: p[0], maxY: p[1], rec });
    return out;
  }

  add(rec, pts, items) {
    for (const item of items) this.tree.insert(item);
    if (pts.some((p) => !VALID(p))) this.odd.add(rec);
  }

  remove(rec, items) {
    for (const item of items) {
      if (item === rec) this.tree.remove(rec);
      else this.tree.remove(item, (a, b) => a.rec === b.rec && a.minX === b.minX && a.minY === b.minY);
    }
    this.odd.delete(rec);
  }

  get empty() { return !this.odd.size && !this.tree.data.children.length; }
}

/**
 * 2dsphere: R-trees of the points at one field. A compound 2dsphere index with scalar fields
 * before the geo field ({status: 1, keywords: 1, geo: "2dsphere"}) keeps one R-tree per
 * distinct prefix key (multikey prefixes: one per element), as MongoDB's index orders its keys
 * by the prefix first; a query's bounds on the prefix select the partitions to walk (parts).
 * Fields after the geo field do not partition (the matcher checks them).
 *
 * Keys of a view (what add/remove take, what the store compares on a replace): [[partition
 * key, prefix values, points]] — empty when the document is not indexed (no points, or outside
 * a partial filter).
 */
class GeoIndex {
  constructor(field, prefix = []) {
    this.field = field;
    this.prefix = prefix; // dotted paths before the geo field
    this.multikey = prefix.map(() => false);
    this.filter = null;
    this.parts = new Map(); // partition key -> GeoPart
    this.box = (item) => {
      if (item.view === undefined) return item;
      const p = geo.pointsAt(item.view, field)[0];
      return { minX: p[0], minY: p[1], maxX: p[0], maxY: p[1] };
    };
  }

  points(view) {
    if (this.filter && !this.filter(view)) return [];
    const pts = geo.pointsAt(view, this.field);
    if (!pts.length) return [];
    if (!this.prefix.length) return [['', [], pts]];
    let combos = [['', []]];
    this.prefix.forEach((path, i) => {
      const { values, multikey } = keyValues(view, path);
      if (multikey) this.multikey[i] = true;
      const next = new Map();
      for (const [key, vals] of combos) {
        for (const v of values) {
          const k = partKeyOf(v);
          const nk = `${key}${k.length}:${k}`;
          if (!next.has(nk)) next.set(nk, [...vals, k.endsWith(':*') ? WILD : v === undefined ? null : v]);
        }
      }
      if (next.size > MAX_KEYS_PER_DOC) throw new Error('too many index keys for one document');
      combos = [...next];
    });
    return combos.map(([key, vals]) => [key, vals, pts]);
  }

  part(key, vals) {
    let part = this.parts.get(key);
    if (!part) this.parts.set(key, (part = new GeoPart(vals, this.box)));
    return part;
  }

  add(rec, keys = this.points(rec.view)) {
    if (!keys.length) return;
    const items = GeoPart.items(rec, keys[0][2], !this.prefix.length); // one view: the same points in every key
    for (const [key, vals, pts] of keys) this.part(key, vals).add(rec, pts, items);
  }

  /** Removes rec's items: `keys` must be those of its current view (before any change). */
  remove(rec, keys = this.points(rec.view)) {
    if (!keys.length) return;
    const items = GeoPart.items(rec, keys[0][2], !this.prefix.length);
    for (const [key] of keys) {
      const part = this.parts.get(key);
      if (!part) continue;
      part.remove(rec, items);
      if (part.empty && this.prefix.length) this.parts.delete(key);
    }
  }

  build(records) {
    const lists = new Map();
    for (const rec of records) {
      const keys = this.points(rec.view);
      if (!keys.length) continue;
      const items = GeoPart.items(rec, keys[0][2], !this.prefix.length);
      for (const [key, vals, pts] of keys) {
        const part = this.part(key, vals);
        if (!lists.has(part)) lists.set(part, []);
        lists.get(part).push(...items);
        if (pts.some((p) => !VALID(p))) part.odd.add(rec);
      }
    }
    for (const [part, list] of lists) part.tree.load(list);
  }

  get size() {
    let n = 0;
    for (const part of this.parts.values()) n += part.tree.all().length + part.odd.size;
    return n;
  }

  /**
   * The partitions a query's prefix bounds select (bounds: one interval list per prefix field,
   * [lo, loInc, hi, hiInc] as the planner builds them; points: per field, the point values
   * when its bounds are all points, else null). All of them without a prefix.
   */
  partsFor(bounds, points, inInterval) {
    if (!this.prefix.length) return [...this.parts.values()];
    if (points.every(Boolean)) {
      let keys = [''];
      for (const vals of points) {
        const probes = new Set();
        for (const v of vals) { probes.add(partKeyOf(v)); probes.add(wildKey(v)); }
        const next = [];
        for (const k of keys) for (const p of probes) next.push(`${k}${p.length}:${p}`);
        keys = next;
        if (keys.length > 4096) break;
      }
      if (keys.length <= 4096) {
        const out = [];
        for (const k of keys) {
          const part = this.parts.get(k);
          if (part) out.push(part);
        }
        return out;
      }
    }
    const out = [];
    for (const part of this.parts.values()) {
      if (part.vals.every((v, i) => (v === WILD ? bounds[i].length > 0 : bounds[i].some((iv) => inInterval(v, iv))))) out.push(part);
    }
    return out;
  }

  /** All records with points (the odd ones included) in parts (default: all). */
  all(parts = [...this.parts.values()]) {
    const out = new Set();
    for (const part of parts) {
      for (const rec of part.odd) out.add(rec);
      for (const item of part.tree.all()) out.add(item.view !== undefined ? item : item.rec);
    }
    return out;
  }

  /** Records of parts with a point in any of the boxes ([minX, minY, maxX, maxY]), plus the odd ones. */
  search(boxes, parts = [...this.parts.values()]) {
    const out = new Set();
    for (const part of parts) {
      for (const rec of part.odd) out.add(rec);
      for (const [minX, minY, maxX, maxY] of boxes) {
        for (const item of part.tree.search({ minX, minY, maxX, maxY })) out.add(item.view !== undefined ? item : item.rec);
      }
    }
    return out;
  }
}

module.exports = {
  Edge, MIN_KEY, MAX_KEY, FIRST, LAST, cmpValue, rankOf, keyComparator, keyValues, BTreeIndex, GeoIndex, sameKeys,
};
