'use strict';
// Index structures: an ordered B+ tree (npm sorted-btree) for ascending/descending, compound,
// multikey, unique, sparse and partial indexes, and an R-tree (npm rbush) of points for
// 2dsphere indexes. They only select candidates: every candidate still goes through the
// query matcher, so an index may return too much (never too little).
//
// B-tree keys: [value per index field] (view values: JS numbers, strings, ...), in MongoDB's
// BSON order with each field's direction, then the records with equal keys in natural order
// (Record.seq). A B-tree index is an outer tree of groups (the keys' values up to one field)
// over inner trees of their entries (BTreeIndex).

const BTree = require('sorted-btree').default;
const { BNode, BNodeInternal, sumChildSizes } = require('sorted-btree');
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
 * A multikey document's entry under one of its values at field `pos` (of its class), where a
 * record entered as itself would not do (BTreeIndex: its values lie on a field after the
 * group's): the record and that value, the other fields read from the record's view.
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
// record and its value.
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

/**
 * The comparator of index entries over the fields from..to-1 (all by default): key arrays and
 * seek keys are read at those positions, a MultiKey at its own position, a record from its
 * view. After the fields: a seek key marked `last` after the entries with its values, an
 * unmarked one before them, key arrays before the records with equal values, records by seq.
 * cmp.fields compares the fields only (0 when they are equal, whatever the tie rules say).
 */
function keyComparator(dirs, paths, from = 0, to = dirs.length) {
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
  for (let i = from; i < to; i++) {
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
  const make = (name, tail) => new Function('FIRST', 'LAST', 'cmpValue', 'valueAt', `return function ${name}(a, b) {
    const aArr = Array.isArray(a);
    const bArr = Array.isArray(b);
    let x;
    let y;
    let c;
    ${fields.join('\n    ')}
    ${tail}
  };`)(FIRST, LAST, cmpValue, valueAt);
  const cmp = make('cmp', `if (aArr && bArr) return (a.last ? 1 : 0) - (b.last ? 1 : 0);
    if (aArr) return a.last ? 1 : -1;
    if (bArr) return b.last ? -1 : 1;
    return a.seq - b.seq;`);
  cmp.fields = make('cmpFields', 'return 0;');
  cmp.valueAt = valueAt;
  return cmp;
}

/**
 * Key values of a view at a dotted path, generously: array elements (at any depth), the
 * elements' subdocuments, and undefined wherever the path cannot be followed. Returns
 * {values, multikey} (multikey: an array was crossed).
 */
function keyValues(view, path) {
  // A top-level field (most index fields) without arrays in arrays: its values at once, not
  // through the walk below (a split, a closure and a growing array per field of every write).
  if (path.indexOf('.') < 0) {
    const node = isPlainObject(view) && Object.prototype.hasOwnProperty.call(view, path) ? view[path] : undefined;
    if (!Array.isArray(node)) return { values: [node], multikey: false };
    if (!node.some(Array.isArray)) return { values: node.length ? node.slice() : [undefined], multikey: true };
  }
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

/** The number of keys of a document with per[i] values at field i (refused over MAX_KEYS_PER_DOC). */
function keyCount(per) {
  let total = 1;
  for (const vals of per) total *= vals.length;
  if (total > MAX_KEYS_PER_DOC) throw new Error('too many index keys for one document');
  return total;
}

class BTreeIndex {
  /** @param fields [{path, dir}] */
  constructor(fields) {
    this.fields = fields;
    this.dirs = fields.map((f) => f.dir);
    this.paths = fields.map((f) => f.path.split('.'));
    this.compare = keyComparator(this.dirs, this.paths);
    this.tops = this.paths.map((p) => (p.length === 1 && !(p[0] in Object.prototype) ? p[0] : null));
    this.multikey = fields.map(() => false);
    this.filter = null; // (view) -> bool: partial / sparse admission
    this.sparse = false;
    this.groupAt(-1);
  }

  /** Empties the index, grouped by the fields up to P from now on. */
  groupAt(P) {
    this.P = P;
    this.outer = keyComparator(this.dirs, this.paths, 0, P + 1);
    this.inner = keyComparator(this.dirs, this.paths, P + 1);
    this.groups = new BTree(undefined, this.outer, NODE_SIZE);
  }

  /** Groups the index at field P (its first document with values on one field): every record re-entered. */
  regroup(P) {
    const recs = new Set();
    for (const [, rs] of this.entries()) for (const r of rs) recs.add(r);
    this.groupAt(P);
    this.build(recs);
  }

  /** Distinct keys of a view ([] when the document is not indexed). */
  keys(view) {
    const fv = this.fieldValues(view);
    if (fv === null) return [];
    const { per, single, pos } = fv;
    // Keys are built at their exact size: arrays grown by push or spread keep spare capacity.
    const n = per.length;
    const total = keyCount(per);
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

  /**
   * The values of a view at each field ({per, single, pos}: per[i] the values of field i,
   * single when no field crossed an array, pos the one field holding a multikey document's
   * values or -1); null when the document is not indexed (partial filter, sparse).
   */
  fieldValues(view) {
    if (this.filter && !this.filter(view)) return null;
    let single = true;
    let pos = -1;
    const per = this.fields.map((f, i) => {
      const { values, multikey } = keyValues(view, f.path);
      if (multikey) {
        this.multikey[i] = true;
        pos = single ? i : -1;
        single = false;
      }
      return values;
    });
    if (this.sparse && per.every((vals) => vals.every((v) => v === undefined))) return null;
    return { per, single, pos };
  }

  /** The entry of rec under `key`, one of its keys `keys` (this.keys of its view), in that key's group. */
  entryOf(rec, key, keys) {
    if (keys.single || (keys.pos >= 0 && keys.pos <= this.P)) return rec;
    if (keys.pos >= 0) return new (multiKeyClass(keys.pos))(rec, key[keys.pos]);
    return key;
  }

  /** The key values of entry e of the group keyed gk (what a scan visits). */
  keyOf(e, gk) {
    const n = this.fields.length;
    const key = new Array(n);
    for (let i = 0; i < n; i++) key[i] = this.keyAt(e, gk, i);
    return key;
  }

  /** Field i of keyOf(e, gk), without the array (a scan reads one or two of them per entry). */
  keyAt(e, gk, i) {
    if (i <= this.P) return gk[i];
    if (Array.isArray(e)) return e[i];
    if (e.pos === i) return e.value;
    // A top-level name Object.prototype does not hold is a plain property of the view (as in keyComparator).
    const top = this.tops[i];
    return top === null ? this.compare.valueAt(e.view, i) : e.view[top];
  }

  add(rec, keys = this.keys(rec.view)) {
    if (this.P < 0 && keys.pos >= 0) this.regroup(keys.pos);
    for (const key of keys) this.enter(key, this.entryOf(rec, key, keys), rec);
  }

  /** Enters entry e (entryOf) of rec into the group of `key` (a key array: its fields up to P). */
  enter(key, e, rec) {
    const g = this.groups.get(key);
    if (g === undefined) this.groups.set(key.slice(0, this.P + 1), Array.isArray(e) ? this.newGroup(e, rec) : e);
    else if (g instanceof BTree) groupSet(g, e, rec);
    else if (g !== e) {
      // The group's second entry: from its entry alone to a tree.
      const t = this.newGroup(g, undefined);
      groupSet(t, e, rec);
      this.groups.set(key.slice(0, this.P + 1), t);
    }
  }

  newGroup(e, value) {
    const t = new BTree(undefined, this.inner, NODE_SIZE);
    t.set(e, value);
    return t;
  }

  /**
   * What addMany takes for one view of the store's deferred inserts: null, once it is known
   * that keys() will not refuse the view (the error belongs to its statement). The keys
   * themselves are computed by addMany: kept from the insert to the end of its command (a
   * batch of 500 listings, about 80 key arrays each), they outlived the young generation and
   * were promoted, then garbage in the old one (issue 19's tenth pass).
   */
  batchKeys(view) {
    const fv = this.fieldValues(view);
    if (fv !== null) keyCount(fv.per);
    return null;
  }

  /**
   * Enters many records at once (the keys: batchKeys' nulls; computed here). The entries go
   * in in index order, so consecutive descents share their path through the trees (a batch of
   * new listings lands next to each other in every group); the index that results is the same
   * as from add() one by one. The order is build()'s (sortedGroups: for the word lists, the
   * records sorted once and dealt into their words' groups), which makes no key array per
   * entry (about 80 per listing, promoted before they died: see batchKeys).
   */
  addMany(recs) {
    const rs = [];
    const fvs = [];
    for (const rec of recs) {
      const fv = this.fieldValues(rec.view);
      if (fv === null) continue;
      rs.push(rec);
      fvs.push(fv);
    }
    if (this.P < 0) {
      const fv = fvs.find((x) => x.pos >= 0);
      if (fv) this.regroup(fv.pos);
    }
    const { keys, lists, values } = sortedGroups(this, rs, fvs);
    for (let j = 0; j < keys.length; j++) {
      const list = lists[j];
      const vals = values[j];
      for (let k = 0; k < list.length; k++) {
        const e = list[k];
        if (!Array.isArray(e)) {
          this.enter(keys[j], e, e instanceof MultiKey ? e.rec : e);
          continue;
        }
        // A key array (arrays on two fields) and its record, or its records by seq.
        const v = vals[k];
        if (Array.isArray(v)) for (const rec of v) this.enter(keys[j], e, rec);
        else this.enter(keys[j], e, v);
      }
    }
  }

  /** Removes rec's entries: `keys` must be those of its current view (before any change). */
  remove(rec, keys = this.keys(rec.view)) {
    for (const key of keys) {
      const g = this.groups.get(key);
      if (g === undefined) continue;
      if (!(g instanceof BTree)) {
        if ((g instanceof MultiKey ? g.rec : g) === rec) this.groups.delete(key);
        continue;
      }
      // The probe reads the fields after P from rec's view, which is still the one its
      // entries were made from (callers remove before they change a record).
      const e = this.entryOf(rec, key, keys);
      if (!Array.isArray(e)) g.delete(e);
      else {
        const cur = g.get(e);
        if (cur === rec) g.delete(e);
        else if (Array.isArray(cur)) {
          const i = findBySeq(cur, rec);
          if (i >= 0) cur.splice(i, 1);
          if (cur.length === 1) g.set(e, cur[0]);
        }
      }
      if (g.size > 1) continue;
      // A group of one entry without a tree value is that entry alone; an empty one goes.
      const last = g.size ? g.minKey() : undefined;
      if (last === undefined) this.groups.delete(key);
      else if (g.get(last) === undefined) this.groups.set(key.slice(0, this.P + 1), last);
    }
  }

  /**
   * Loads all records at once (an index build, createIndex on a filled collection): the
   * entries are put in index order, in their groups (sortedGroups), and each tree is built
   * from them leaf level first (loadTree), instead of one descent per entry. The index holds
   * the same entries, in the same order, as after add() one by one; its nodes are fuller
   * (BULK_FILL).
   */
  build(records) {
    if (this.groups.size) {
      for (const rec of records) this.add(rec);
      return;
    }
    const recs = [];
    const fvs = [];
    for (const rec of records) {
      const fv = this.fieldValues(rec.view);
      if (fv === null) continue;
      keyCount(fv.per);
      recs.push(rec);
      fvs.push(fv);
    }
    if (this.P < 0) {
      const fv = fvs.find((x) => x.pos >= 0);
      if (fv) this.groupAt(fv.pos);
    }
    const { keys, lists, values } = sortedGroups(this, recs, fvs);
    const groups = new Array(keys.length);
    for (let j = 0; j < keys.length; j++) {
      const list = lists[j];
      groups[j] = list.length === 1 && !Array.isArray(list[0]) ? list[0] : loadTree([list], values[j], this.inner);
    }
    this.groups = loadTree([keys], groups, this.outer);
  }

  /** The number of (key, record) pairs. */
  get size() {
    let n = 0;
    for (const [, recs] of this.entries()) n += recs.length;
    return n;
  }

  /** [key, records] of every entry, in index order. */
  * entries() {
    for (const [gk, g] of this.groups.entries()) {
      const list = g instanceof BTree ? [...g.entries()] : [[g, undefined]];
      for (const [e, v] of list) {
        yield [this.keyOf(e, gk), v === undefined ? [e instanceof MultiKey ? e.rec : e] : Array.isArray(v) ? v.slice() : [v]];
      }
    }
  }

  /**
   * Calls visit(rec, entry, group key) for the entries between seek keys lo and hi
   * (inclusive, index order; reversed when backward), stopping when visit returns false
   * (keyOf(entry, group key) gives the entry's key).
   */
  scan(lo, hi, backward, visit) {
    const outer = this.outer;
    const it = backward ? this.groups.entriesReversed(hi, []) : this.groups.entries(lo, []);
    for (let r = it.next(); !r.done; r = it.next()) {
      const gk = r.value[0];
      const g = r.value[1];
      if (backward ? outer(gk, lo) < 0 : outer(gk, hi) > 0) return true;
      // Within the groups at either end of the range, the seek keys bound the entries too.
      const from = outer.fields(gk, lo) === 0 ? lo : undefined;
      const to = outer.fields(gk, hi) === 0 ? hi : undefined;
      if (!scanGroup(this.inner, gk, g, from, to, backward, visit)) return false;
    }
    return true;
  }
}

/** Enters entry e of rec into the group tree t (a key array: its record joins those of an equal key). */
function groupSet(t, e, rec) {
  if (!Array.isArray(e)) {
    t.set(e, undefined);
    return;
  }
  // One descent when the key is new; set without overwrite leaves an existing key's records.
  if (t.set(e, rec, false)) return;
  const cur = t.get(e);
  if (Array.isArray(cur)) insertBySeq(cur, rec);
  else if (cur !== rec) t.set(e, cur.seq < rec.seq ? [cur, rec] : [rec, cur]);
}

/** BTreeIndex.scan within one group g (a tree, or its one entry) from seek key `from` to `to` (undefined: its first / last entry). */
function scanGroup(inner, gk, g, from, to, backward, visit) {
  if (!(g instanceof BTree)) {
    if ((from !== undefined && inner(g, from) < 0) || (to !== undefined && inner(g, to) > 0)) return true;
    return visit(g instanceof MultiKey ? g.rec : g, g, gk) !== false;
  }
  // A bound the whole group lies within bounds nothing: no seek down the tree for it, no
  // comparison per entry (an equality prefix's group: its seek keys are FIRST / LAST past it).
  const first = g.minKey(); // undefined: an empty tree
  if (from !== undefined && first !== undefined && inner(first, from) >= 0) from = undefined;
  if (to !== undefined && first !== undefined && inner(g.maxKey(), to) <= 0) to = undefined;
  const it = backward ? g.entriesReversed(to, []) : g.entries(from, []);
  for (let r = it.next(); !r.done; r = it.next()) {
    const e = r.value[0];
    if (backward ? from !== undefined && inner(e, from) < 0 : to !== undefined && inner(e, to) > 0) return true;
    const v = r.value[1];
    if (v === undefined) {
      if (visit(e instanceof MultiKey ? e.rec : e, e, gk) === false) return false;
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) if (visit(v[i], e, gk) === false) return false;
    } else if (visit(v, e, gk) === false) return false;
  }
  return true;
}

const BULK_FILL = 0.9; // nodes of a bulk-loaded B-tree: 90 % full (inserts after it still fit)
const NODE_SIZE = 64;

/**
 * A B-tree of the entries of `lists` (arrays whose concatenation is in strictly ascending
 * index order) with `values` (parallel to it; null: every value undefined), built bottom up
 * from sorted-btree's node classes as its bulkLoad does — leaves and internal nodes evenly
 * filled to BULK_FILL (never under half full) — without copying the entries into one array
 * and with the leaves sharing the library's array of undefined values, as set() leaves them.
 */
function loadTree(lists, values, compare) {
  const tree = new BTree(undefined, compare, NODE_SIZE);
  let total = 0;
  for (const list of lists) total += list.length;
  if (!total) return tree;
  const target = Math.ceil(NODE_SIZE * BULK_FILL);
  let nodes = [];
  let remaining = total;
  let li = 0;
  let at = 0;
  let pos = 0;
  for (let left = total <= NODE_SIZE ? 1 : Math.ceil(total / target); left > 0; left--) {
    const size = Math.ceil(remaining / left);
    const keys = new Array(size);
    for (let k = 0; k < size; k++) {
      while (at === lists[li].length) { li++; at = 0; }
      keys[k] = lists[li][at++];
    }
    nodes.push(new BNode(keys, values ? values.slice(pos, pos + size) : undefined));
    pos += size;
    remaining -= size;
  }
  while (nodes.length > 1) {
    if (nodes.length <= NODE_SIZE) {
      nodes = [new BNodeInternal(nodes, sumChildSizes(nodes))];
      break;
    }
    const next = [];
    let rem = nodes.length;
    let i = 0;
    for (let left = Math.ceil(nodes.length / target); left > 0; left--) {
      const size = Math.ceil(rem / left);
      const children = nodes.slice(i, i + size);
      next.push(new BNodeInternal(children, sumChildSizes(children)));
      i += size;
      rem -= size;
    }
    nodes = next;
  }
  tree._root = nodes[0];
  return tree;
}

/**
 * The entries of recs (fvs[i] = index.fieldValues of recs[i]) in index order, cut into the
 * index's groups: {keys (the groups' keys, in order), lists (each group's entries, in order),
 * values (each group's tree values, or null when all are undefined)}. When every multikey
 * record holds its values on field P (the word lists) and the values up to P are null,
 * numbers, strings or booleans, it avoids sorting millions of entries: the records are sorted
 * once by the other fields, then dealt into the groups (groupedEntries). Otherwise one sort of
 * every entry.
 */
function sortedGroups(index, recs, fvs) {
  const { P } = index;
  if (!recs.length) return { keys: [], lists: [], values: [] };
  let general = false;
  for (const fv of fvs) {
    if (!fv.single && fv.pos !== P) { general = true; break; }
  }
  if (!general && P < 0) return { keys: [[]], lists: [recs.slice().sort(index.compare)], values: [null] };
  if (!general) {
    const out = groupedEntries(index, recs, fvs, P);
    if (out) return out;
  }
  const cmp = index.compare;
  const items = [];
  for (let i = 0; i < recs.length; i++) {
    const rec = recs[i];
    const ks = index.keys(rec.view);
    for (const key of ks) {
      // For the sort, a record entered as itself stands as a MultiKey of its value (its view holds them all).
      const e = ks.single ? rec : ks.pos >= 0 ? new (multiKeyClass(ks.pos))(rec, key[ks.pos]) : key;
      items.push({ e, rec, key, ks });
    }
  }
  items.sort((p, q) => cmp(p.e, q.e) || p.rec.seq - q.rec.seq);
  const keys = [];
  const lists = [];
  const values = [];
  let list = null;
  let vals = null;
  let prev = null;
  for (const item of items) {
    if (prev === null || index.outer.fields(prev, item.e) !== 0) {
      keys.push(item.key.slice(0, P + 1));
      lists.push((list = []));
      values.push((vals = null));
    }
    prev = item.e;
    const e = Array.isArray(item.e) || item.ks.single || item.ks.pos <= P ? index.entryOf(item.rec, item.key, item.ks) : item.e;
    if (!Array.isArray(e)) {
      list.push(e);
      if (vals) vals.push(undefined);
      continue;
    }
    if (!vals) values[values.length - 1] = vals = list.map(() => undefined);
    const last = list.length - 1;
    if (last >= 0 && Array.isArray(list[last]) && index.inner(list[last], e) === 0) {
      // Equal key arrays of several records (arrays on two fields): one entry, its records
      // by seq (the sort breaks ties by seq), as groupSet keeps them.
      const cur = vals[last];
      vals[last] = Array.isArray(cur) ? (cur.push(item.rec), cur) : [cur, item.rec];
    } else {
      list.push(e);
      vals.push(item.rec);
    }
  }
  return { keys, lists, values };
}

/**
 * A value as a Map key for grouping: values a Map tells apart exactly when the comparator does
 * (SameValueZero: -0 is 0, NaN is NaN; null is missing); undefined for other types.
 */
function groupKey(v) {
  if (v === null || v === undefined) return null;
  const t = typeof v;
  return t === 'number' || t === 'string' || t === 'boolean' ? v : undefined;
}

function groupedEntries(index, recs, fvs, P) {
  const { dirs, paths } = index;
  const others = dirs.map((_, i) => i).filter((i) => i !== P);
  const rest = keyComparator(others.map((i) => dirs[i]), others.map((i) => paths[i]));
  const order = recs.map((_, i) => i);
  order.sort((i, j) => rest(recs[i], recs[j]));
  // Nested maps, one level per field up to P; the leaves are the groups' entry lists. A
  // record's equal values at P land in one list one after the other: the second is dropped
  // (keys() dedupes them the same way).
  const root = new Map();
  const groups = [];
  for (const i of order) {
    const rec = recs[i];
    const { per } = fvs[i];
    let m = root;
    for (let f = 0; f < P; f++) {
      const k = groupKey(per[f][0]);
      if (k === undefined) return null;
      let next = m.get(k);
      if (next === undefined) m.set(k, (next = new Map()));
      m = next;
    }
    const vals = per[P];
    for (let j = 0; j < vals.length; j++) {
      const k = groupKey(vals[j]);
      if (k === undefined) return null;
      let group = m.get(k);
      if (group === undefined) {
        const key = new Array(P + 1);
        for (let f = 0; f < P; f++) key[f] = per[f][0];
        key[P] = vals[j];
        m.set(k, (group = { key, list: [] }));
        groups.push(group);
      }
      const { list } = group;
      if (!list.length || list[list.length - 1] !== rec) list.push(rec);
    }
  }
  groups.sort((a, b) => index.outer(a.key, b.key));
  return { keys: groups.map((g) => g.key), lists: groups.map((g) => g.list), values: groups.map(() => null) };
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
 * The position of point p ([x, y]) along a Hilbert curve over the globe's longitude and
 * latitude in 2^16 steps each (points off the globe are clamped): nearby points get nearby
 * numbers, so inserts in this order descend mostly the same R-tree nodes one after another.
 */
function hilbertOf(p) {
  const N = 65536;
  const q = (v, lo, span) => Math.min(N - 1, Math.max(0, Math.floor(((v - lo) / span) * N))) || 0;
  let x = q(p[0], -180, 360);
  let y = q(p[1], -90, 180);
  let d = 0;
  for (let s = N >> 1; s > 0; s >>= 1) {
    const rx = (x & s) > 0 ? 1 : 0;
    const ry = (y & s) > 0 ? 1 : 0;
    d += s * s * ((3 * rx) ^ ry);
    if (ry === 0) {
      if (rx === 1) {
        x = N - 1 - x;
        y = N - 1 - y;
      }
      const t = x;
      x = y;
      y = t;
    }
  }
  return d;
}

/**
 * An R-tree entry at one point (x, y): what the items below share. Its box is that point:
 * maxX and maxY read minX and minY (V8 boxes every double field in a heap number of its own,
 * 16 bytes each, so two stored fields instead of four: 128 -> 80 bytes per SoloItem).
 */
class PointEntry {
  constructor(x, y) {
    this.minX = x;
    this.minY = y;
  }

  get maxX() { return this.minX; }

  get maxY() { return this.minY; }
}

/**
 * An R-tree item of a record with exactly one point (on the globe) in a compound index: its
 * box, shared by every partition the record is in. TieGroup: the records with one point each
 * at exactly one point of one partition (listings at a city's centre), in tie order.
 */
class SoloItem extends PointEntry {
  constructor(x, y, rec) {
    super(x, y);
    this.rec = rec;
  }
}

/**
 * The SoloItem of rec at (x, y): the record's own (rec.geoItem) when it is at that point, so
 * the compound 2dsphere indexes on one field (status_geo, status_keywords_geo) share one item
 * per record as each index's partitions do. With `keep`, a new item becomes the record's own;
 * a removal passes false (it matches entries by record: its item need not be the stored one,
 * and an update's old point must not displace the new one).
 */
function soloItem(rec, x, y, keep) {
  const own = rec.geoItem;
  if (own !== undefined && own !== null && own.minX === x && own.minY === y) return own;
  const item = new SoloItem(x, y, rec);
  if (keep && own !== undefined) rec.geoItem = item;
  return item;
}

/** An item of one of several points of a record (each point its own item). */
class PointItem extends PointEntry {
  constructor(x, y, rec) {
    super(x, y);
    this.rec = rec;
  }
}

/**
 * Records at exactly one point, each with no other point, in tie order: `_id` in BSON order
 * (compareValues), then natural order — the order of a $geoNear sorted by {distance: 1,
 * _id: 1}, so a walk can take ties in that order and stop after a page (planner.js
 * knnScan's ordered walk) and seek past a keyset cursor's _id. In an R-tree leaf it stands
 * for all of them (one entry instead of thousands: 6,000 listings at Berlin's centre).
 */
class TieGroup extends PointEntry {
  /** recs: the records in tie order, an array (kept as a TieList: length, at(i), for...of). */
  constructor(x, y, recs) {
    super(x, y);
    this.recs = new TieList(recs);
  }
}

/**
 * A TieGroup's records in tie order, in blocks of at most TieList.block (512; tests make it
 * small, so that every group spans blocks): an insert or a removal moves the entries of one
 * block, where a single array's splice moved all of them. At 100,000 listings at one point
 * (the lag benchmark's, a city's centre) that was 800 KB moved per insert into each of the
 * point's partitions, and while V8 marked the heap every moved entry also went through its
 * write barrier (insertSolo was 1.3 s of a 7 s window holding one marking; README, "Fourteenth
 * pass"). `starts` holds each block's first position (small integers: no write barrier).
 */
class TieList {
  constructor(recs = []) {
    this.blocks = [];
    this.starts = [];
    this.length = 0;
    const half = TieList.block >> 1;
    for (let i = 0; i < recs.length; i += half) this.pushBlock(recs.slice(i, i + half));
  }

  pushBlock(block) {
    this.starts.push(this.length);
    this.blocks.push(block);
    this.length += block.length;
  }

  /** The block holding position i (0 <= i < length). */
  blockAt(i) {
    const s = this.starts;
    let lo = 0;
    let hi = s.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (s[mid] <= i) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** The record at position i, undefined outside 0..length-1 (as an array index). */
  at(i) {
    if (!(i >= 0 && i < this.length)) return undefined;
    if (this.blocks.length === 1) return this.blocks[0][i];
    const b = this.blockAt(i);
    return this.blocks[b][i - this.starts[b]];
  }

  /** Puts rec at position i (0 <= i <= length). */
  insert(i, rec) {
    if (!this.blocks.length) {
      this.pushBlock([rec]);
      return;
    }
    const b = i >= this.length ? this.blocks.length - 1 : this.blockAt(i);
    const block = this.blocks[b];
    block.splice(i - this.starts[b], 0, rec);
    this.length++;
    for (let k = b + 1; k < this.starts.length; k++) this.starts[k]++;
    if (block.length > TieList.block) {
      const tail = block.splice(TieList.block >> 1);
      this.blocks.splice(b + 1, 0, tail);
      this.starts.splice(b + 1, 0, this.starts[b] + block.length);
    }
  }

  /** Takes out the record at position i (0 <= i < length). */
  removeAt(i) {
    const b = this.blockAt(i);
    const block = this.blocks[b];
    block.splice(i - this.starts[b], 1);
    this.length--;
    for (let k = b + 1; k < this.starts.length; k++) this.starts[k]--;
    if (!block.length && this.blocks.length > 1) {
      this.blocks.splice(b, 1);
      this.starts.splice(b, 1);
    }
  }

  indexOf(rec) {
    let n = 0;
    for (const block of this.blocks) {
      const k = block.indexOf(rec);
      if (k >= 0) return n + k;
      n += block.length;
    }
    return -1;
  }

  * [Symbol.iterator]() {
    for (const block of this.blocks) for (let i = 0; i < block.length; i++) yield block[i];
  }
}
TieList.block = 512;

/** The tie order of TieGroup records. */
const tieCmp = (a, b) => compareValues(a.view._id, b.view._id) || a.seq - b.seq;

/** A record that may join a TieGroup: an _id that sorts as itself (not an array). */
const groupable = (rec) => rec.view._id !== undefined && !Array.isArray(rec.view._id);

/** The position of the first record of recs (tie order) after `rec`, or equal to it. */
function tiePos(recs, rec) {
  let lo = 0;
  let hi = recs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tieCmp(recs.at(mid), rec) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * How many records have their only point at each exact point (x, y), whatever their partition:
 * an open-addressing table of 32-bit hashes of the two doubles (0 and -0 alike, as ===
 * compares them) with a count each. Two points may share a hash: a count is then the sum of
 * both, so "at most one" is exact and "more" only means "look". insertSolo reads it to skip
 * its scan of the chosen leaf for a record at the same point, which reads every entry of the
 * leaf (each its own object: a cache miss per entry, most of a burst's R-tree time) and finds
 * nothing unless another record is at exactly that point.
 */
class PointCounts {
  constructor() {
    this.keys = new Uint32Array(1024);
    this.counts = new Int32Array(1024).fill(-1); // -1: an empty slot
    this.used = 0;
  }

  static hash(x, y) {
    HASH_F[0] = x + 0; // -0 + 0 is 0
    HASH_F[1] = y + 0;
    let h = Math.imul(HASH_U[0] ^ 0x9e3779b9, 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13) ^ HASH_U[1], 0xc2b2ae35);
    h = Math.imul(h ^ (h >>> 16) ^ HASH_U[2], 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13) ^ HASH_U[3], 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  }

  slot(h) {
    const mask = this.keys.length - 1;
    let i = h & mask;
    while (this.counts[i] >= 0 && this.keys[i] !== h) i = (i + 1) & mask;
    return i;
  }

  /** Adds delta to the count at (x, y); returns the new count. */
  add(x, y, delta) {
    const h = PointCounts.hash(x, y);
    let i = this.slot(h);
    if (this.counts[i] < 0) {
      if (delta <= 0) return 0;
      if (2 * (this.used + 1) > this.keys.length) {
        this.grow();
        i = this.slot(h);
      }
      this.keys[i] = h;
      this.counts[i] = 0;
      this.used++;
    }
    this.counts[i] = Math.max(0, this.counts[i] + delta);
    return this.counts[i];
  }

  get(x, y) {
    const i = this.slot(PointCounts.hash(x, y));
    return this.counts[i] < 0 ? 0 : this.counts[i];
  }

  /** Twice the size when at least half of it holds counts above 0 (slots at 0 are dropped). */
  grow() {
    const { keys, counts } = this;
    let live = 0;
    for (let i = 0; i < counts.length; i++) if (counts[i] > 0) live++;
    const size = 4 * live > keys.length ? 2 * keys.length : keys.length;
    this.keys = new Uint32Array(size);
    this.counts = new Int32Array(size).fill(-1);
    this.used = 0;
    for (let i = 0; i < counts.length; i++) {
      if (counts[i] <= 0) continue;
      const j = this.slot(keys[i]);
      this.keys[j] = keys[i];
      this.counts[j] = counts[i];
      this.used++;
    }
  }
}
const HASH_F = new Float64Array(2);
const HASH_U = new Uint32Array(HASH_F.buffer);

function containsBox(a, b) {
  return a.minX <= b.minX && a.minY <= b.minY && b.maxX <= a.maxX && b.maxY <= a.maxY;
}

/**
 * One R-tree of points with its "odd" records. A document with one point on the globe is its
 * own R-tree item (its box is read from its view) or, in a compound index, one SoloItem shared
 * by its partitions; one with several points has a small item per point; documents with points
 * off the globe are kept apart and are always candidates. Records with one point each at
 * exactly one point share a TieGroup entry where an insert finds them in one leaf (always, in
 * a build): several groups (and solo items) may hold one point; walks take each as it comes.
 */
class GeoPart {
  constructor(vals, box, boxesOnly, counts) {
    this.counts = counts; // the index's PointCounts
    this.vals = vals; // the prefix values of the partition (WILD: any value of its bracket)
    this.odd = new Set();
    this.built = null; // GeoIndex.build: the last record entered
    this.own = !boxesOnly;
    // rbush calls these unbound: plain closures, not methods. A compound index's items are
    // always box items (items(), own false): their boxes are themselves.
    this.tree = new RBush(RTREE_MAX_ENTRIES);
    this.tree._split = splitRoomy;
    if (boxesOnly) {
      this.tree.toBBox = (item) => item;
      this.tree.compareMinX = (a, b) => a.minX - b.minX;
      this.tree.compareMinY = (a, b) => a.minY - b.minY;
    } else {
      this.tree.toBBox = box;
      this.tree.compareMinX = (a, b) => box(a).minX - box(b).minX;
      this.tree.compareMinY = (a, b) => box(a).minY - box(b).minY;
    }
  }

  /**
   * The R-tree items of a record with points pts: the record itself when it has one point on
   * the globe and `own` (its box is read from its view on each comparison: no object of its
   * own), else a small box item per point (a SoloItem for a record with one point). A compound
   * index's partitions share the latter: one item per point whatever the number of prefix
   * keys, and no view read per comparison.
   */
  static items(rec, pts, own, keep = true) {
    if (pts.length === 1 && VALID(pts[0])) return [own ? rec : soloItem(rec, pts[0][0], pts[0][1], keep)];
    const out = [];
    for (const p of pts) if (VALID(p)) out.push(new PointItem(p[0], p[1], rec));
    return out;
  }

  /** True when an entry of the tree is a record's only point (a Record, or a SoloItem). */
  static solo(c) { return c instanceof SoloItem || c.view !== undefined; }

  add(rec, pts, items) {
    if (items.length === 1 && GeoPart.solo(items[0]) && groupable(rec)) this.insertSolo(items[0], rec);
    else for (const item of items) this.tree.insert(item);
    if (pts.some((p) => !VALID(p))) this.odd.add(rec);
  }

  /**
   * Inserts a record's only point as rbush's insert does, except that when the leaf it chooses
   * holds a TieGroup or another record alone at exactly that point, the record joins it (the
   * tree itself does not change). The leaf is searched only when the index's PointCounts say
   * another record may be at that point (the record itself is counted already).
   */
  insertSolo(item, rec) {
    const tree = this.tree;
    const box = tree.toBBox(item);
    const x = box.minX;
    const y = box.minY;
    let level = tree.data.height - 1;
    const path = [];
    const leaf = tree._chooseSubtree(box, tree.data, level, path);
    const ch = leaf.children;
    const n = this.counts.get(x, y) > 1 ? ch.length : 0;
    for (let i = 0; i < n; i++) {
      const c = ch[i];
      if (c instanceof TieGroup) {
        if (c.minX === x && c.minY === y) {
          const at = tiePos(c.recs, rec);
          if (c.recs.at(at) !== rec) c.recs.insert(at, rec);
          return;
        }
      } else if (GeoPart.solo(c)) {
        const other = c.view !== undefined ? c : c.rec;
        const b = c.view !== undefined ? tree.toBBox(c) : c;
        if (b.minX === x && b.minY === y && other !== rec && groupable(other)) {
          ch[i] = new TieGroup(x, y, tieCmp(other, rec) < 0 ? [other, rec] : [rec, other]);
          return;
        }
      }
    }
    // rbush's _insert from here on (the item into the leaf, splits upwards, boxes).
    ch.push(item);
    if (x < leaf.minX) leaf.minX = x;
    if (y < leaf.minY) leaf.minY = y;
    if (x > leaf.maxX) leaf.maxX = x;
    if (y > leaf.maxY) leaf.maxY = y;
    while (level >= 0) {
      if (path[level].children.length > tree._maxEntries) {
        tree._split(path, level);
        level--;
      } else break;
    }
    tree._adjustParentBBoxes(box, path, level);
  }

  remove(rec, items) {
    if (items.length === 1 && GeoPart.solo(items[0]) && groupable(rec)) this.removeSolo(rec, this.tree.toBBox(items[0]));
    else {
      for (const item of items) {
        if (item === rec) this.tree.remove(rec);
        else this.tree.remove(item, (a, b) => a.rec === b.rec && a.minX === b.minX && a.minY === b.minY);
      }
    }
    this.odd.delete(rec);
  }

  /**
   * Removes a record's only point at box: its own entry, or its place in a TieGroup (a group
   * left with one record gives way to that record's own entry; an empty one is removed).
   */
  removeSolo(rec, box) {
    const tree = this.tree;
    const path = [];
    const walk = (node) => {
      path.push(node);
      if (node.leaf) {
        const ch = node.children;
        for (let i = 0; i < ch.length; i++) {
          const c = ch[i];
          if (c === rec || (c instanceof SoloItem && c.rec === rec)) {
            ch.splice(i, 1);
            tree._condense(path);
            return true;
          }
          if (c instanceof TieGroup && c.minX === box.minX && c.minY === box.minY) {
            const at = tiePos(c.recs, rec);
            const k = c.recs.at(at) === rec ? at : c.recs.indexOf(rec);
            if (k < 0) continue;
            c.recs.removeAt(k);
            if (c.recs.length === 1) ch[i] = this.own ? c.recs.at(0) : soloItem(c.recs.at(0), c.minX, c.minY, true);
            return true;
          }
        }
      } else {
        for (const c of node.children) if (containsBox(c, box) && walk(c)) return true;
      }
      path.pop();
      return false;
    };
    walk(tree.data);
  }

  get empty() { return !this.odd.size && !this.tree.data.children.length; }
}

// Entries per R-tree node before it splits (rbush's default is 9; 16, then 32 here before): a
// node costs about 150 bytes besides its entries (its four bounds are boxed doubles), and a
// compound index has a leaf entry per listing and word. tools/mem-count.js 20000 insert,
// status_keywords_geo: 1,503 bytes per listing at 16, 866 at 32 (with splitRoomy), 696 at 64;
// inserts cost no more (fewer splits; tools/upsert-bench.js with ONLY=status_keywords_geo,
// status_geo: 0.58-0.60 -> 0.51-0.54 CPU-ms per upsert into 20,000). A walk computes the
// distance of a leaf's entries when it reaches the leaf: more keys examined per near query
// (tools/geo-cpu.js: 91 -> 144 for a common word near Berlin), the same CPU within noise.
const RTREE_MAX_ENTRIES = 64;

/**
 * rbush's split, after which both halves get arrays with room for exactly maxEntries + 1
 * entries (the most a node holds before it splits). A node's array otherwise grows by push:
 * V8 gives it half its length plus 16 spare slots each time, so a leaf of about 11 entries
 * (a compound index has a leaf entry per listing and word) kept room for about 30.
 */
function splitRoomy(insertPath, level) {
  RBush.prototype._split.call(this, insertPath, level);
  const node = insertPath[level];
  const sibling = level ? insertPath[level - 1].children[insertPath[level - 1].children.length - 1] : this.data.children[1];
  node.children = roomy(node.children, this._maxEntries + 1);
  sibling.children = roomy(sibling.children, this._maxEntries + 1);
}

function roomy(a, capacity) {
  const out = new Array(capacity);
  for (let i = 0; i < a.length; i++) out[i] = a[i];
  out.length = a.length; // the store keeps its capacity (V8 trims only below half)
  return out;
}

/** The records of R-tree entries (TieGroups expanded) into the set `out`. */
function entryRecords(items, out) {
  for (const item of items) {
    if (item instanceof TieGroup) for (const r of item.recs) out.add(r);
    else out.add(item.view !== undefined ? item : item.rec);
  }
  return out;
}

/**
 * The entries of one partition from its items (ids into `all`), records with one point each
 * at identical points grouped into TieGroups: [ids to pack, subst (id -> the TieGroup that
 * stands in a leaf for the items of its point, under its first member's id) or null]. `point`:
 * per id (boxOf: its box), a number its point shares with the other solo items of groupable records at that
 * point (unique otherwise); `seen`: scratch by point number (the partition's `stamp` marks).
 */
function tieGroups(ids, all, boxOf, point, seen, firstOf, stamp) {
  let members = null; // first id of a point -> [ids]
  for (const id of ids) {
    const p = point[id];
    if (seen[p] !== stamp) {
      seen[p] = stamp;
      firstOf[p] = id;
      continue;
    }
    if (!members) members = new Map();
    const f = firstOf[p];
    let list = members.get(f);
    if (!list) members.set(f, (list = [f]));
    list.push(id);
  }
  if (!members) return [ids, null];
  const subst = new Map();
  const skip = new Set();
  for (const [f, list] of members) {
    const recOf = (id) => (all[id].view !== undefined ? all[id] : all[id].rec);
    const recs = list.map(recOf).sort(tieCmp);
    const b = boxOf(all[f]);
    subst.set(f, new TieGroup(b.minX, b.minY, recs));
    for (let i = 1; i < list.length; i++) skip.add(list[i]);
  }
  return [ids.filter((id) => !skip.has(id)), subst];
}

/**
 * Packs R-trees of point box items Sort-Tile-Recursive: the items sorted by x are cut into
 * vertical slices, each slice sorted by y is cut into leaves of M, and the leaves are packed
 * the same way level by level up to one root — in rbush's node format ({children, height,
 * leaf, minX, minY, maxX, maxY}; a balanced tree, which its insert, remove and search take
 * as their own). A compound 2dsphere index holds each item in many partitions (a listing in
 * one per word): the items' x and y ranks are computed once, so a partition's sorts are
 * numeric sorts of typed arrays, not comparisons of items.
 */
class Packer {
  constructor(items) {
    this.items = items;
    const n = items.length;
    const xs = new Float64Array(n);
    const ys = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      xs[i] = items[i].minX;
      ys[i] = items[i].minY;
    }
    const ids = () => Uint32Array.from({ length: n }, (_, i) => i);
    this.byX = ids().sort((a, b) => xs[a] - xs[b] || a - b);
    this.byY = ids().sort((a, b) => ys[a] - ys[b] || a - b);
    this.xRank = new Uint32Array(n);
    this.yRank = new Uint32Array(n);
    for (let r = 0; r < n; r++) {
      this.xRank[this.byX[r]] = r;
      this.yRank[this.byY[r]] = r;
    }
  }

  /**
   * The root of the packed tree of the items with ids `ids`, M entries per node; subst: id ->
   * the entry that stands for that item (a TieGroup), or null.
   */
  pack(ids, M, subst = null) {
    const n = ids.length;
    const xr = new Uint32Array(n);
    for (let i = 0; i < n; i++) xr[i] = this.xRank[ids[i]];
    xr.sort();
    const slices = Math.ceil(Math.sqrt(Math.ceil(n / M)));
    const per = Math.ceil(n / slices / M) * M;
    let nodes = [];
    for (let s = 0; s < n; s += per) {
      const end = Math.min(n, s + per);
      const yr = new Uint32Array(end - s);
      for (let i = s; i < end; i++) yr[i - s] = this.yRank[this.byX[xr[i]]];
      yr.sort();
      for (let i = 0; i < yr.length; i += M) {
        const children = [];
        for (let k = i; k < Math.min(yr.length, i + M); k++) {
          const id = this.byY[yr[k]];
          children.push((subst && subst.get(id)) || this.items[id]);
        }
        nodes.push(packedNode(children, 1, true));
      }
    }
    if (!nodes.length) return packedNode([], 1, true);
    while (nodes.length > 1) nodes = packLevel(nodes, M);
    return nodes[0];
  }
}

// Nodes of a packed R-tree are filled to RTREE_FILL of rbush's maxEntries (above its minimum
// fill, 40 %): inserts after a build fill them up before any split. Full nodes made every
// insert after a rebuild split its way up (0.66 -> 1.18 CPU-ms per listing upsert after a
// build at 30k, tools/upsert-bench.js with INDEXES=rebuild AFTER=2000).
const RTREE_FILL = 0.75;
const packedNodeSize = (maxEntries) => Math.max(Math.ceil(maxEntries * 0.4) + 1, Math.floor(maxEntries * RTREE_FILL));

function packedNode(children, height, leaf) {
  const node = { children, height, leaf, minX: Infinity, minY: Infinity, maxX: -Infinity, maxY: -Infinity };
  for (const c of children) {
    if (c.minX < node.minX) node.minX = c.minX;
    if (c.minY < node.minY) node.minY = c.minY;
    if (c.maxX > node.maxX) node.maxX = c.maxX;
    if (c.maxY > node.maxY) node.maxY = c.maxY;
  }
  return node;
}

/** One level up: the nodes, sorted by the x then (per slice) the y of their centres, M per parent. */
function packLevel(nodes, M) {
  const cx = (a) => a.minX + a.maxX;
  const cy = (a) => a.minY + a.maxY;
  nodes.sort((a, b) => cx(a) - cx(b));
  const slices = Math.ceil(Math.sqrt(Math.ceil(nodes.length / M)));
  const per = Math.ceil(nodes.length / slices / M) * M;
  const out = [];
  for (let s = 0; s < nodes.length; s += per) {
    const slice = nodes.slice(s, s + per).sort((a, b) => cy(a) - cy(b));
    for (let i = 0; i < slice.length; i += M) out.push(packedNode(slice.slice(i, i + M), slice[0].height + 1, false));
  }
  return out;
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
    this.counts = new PointCounts(); // records by their only point (GeoPart.insertSolo)
    this.batchCache = null; // batchKeys: partsOfView's maps until addMany
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
    if (!part) this.parts.set(key, (part = new GeoPart(vals, this.box, this.prefix.length > 0, this.counts)));
    return part;
  }

  /** Counts rec at its only point (PointCounts), when it has one and may join a TieGroup. */
  count(rec, items, delta) {
    if (items.length !== 1 || !GeoPart.solo(items[0]) || !groupable(rec)) return;
    const b = this.box(items[0]);
    this.counts.add(b.minX, b.minY, delta);
  }

  add(rec, keys = this.points(rec.view)) {
    if (!keys.length) return;
    const items = GeoPart.items(rec, keys[0][2], !this.prefix.length); // one view: the same points in every key
    this.count(rec, items, 1);
    for (const [key, vals, pts] of keys) this.part(key, vals).add(rec, pts, items);
  }

  /**
   * What addMany takes for one view (the store's deferred inserts): {pts, parts} found through
   * the maps of partsOfView, kept until addMany (no partition key strings per word), or
   * points() when that cannot answer. Nothing removes a partition between the two: every
   * other use of the index flushes the deferred records first (store.js flushIndexes).
   */
  batchKeys(view) {
    if (this.prefix.length) {
      if (!this.batchCache) this.batchCache = new Map();
      const fast = this.partsOfView(view, this.batchCache);
      if (fast) return fast;
    }
    return this.points(view);
  }

  /**
   * Enters many records at once: recs[i] with keys[i] (batchKeys of its view). Partition by
   * partition, and in each in the order of its points along a Hilbert curve, so consecutive
   * inserts descend the same nodes of one R-tree (one record's ~34 keyword partitions one after
   * the other touched 34 trees, each cold). Each record enters each of its partitions as
   * add() enters it; only the order of the inserts differs, which R-tree walks do not see (the
   * shape of the tree may differ; a walk's results and order do not).
   */
  addMany(recs, keys) {
    this.batchCache = null;
    // Per partition the indexes i of its records (small integers, not an object per record
    // and partition: a listing is in ~34 keyword partitions, and those objects lived until
    // the batch's end, promoted); per record its points, items and Hilbert value.
    const byPart = new Map(); // part -> [i, ...]
    const ptsOf = new Array(recs.length);
    const itemsOf = new Array(recs.length);
    const hOf = new Float64Array(recs.length);
    const push = (part, i) => {
      if (part.built === recs[i]) return; // equal prefix values: one partition
      part.built = recs[i];
      let list = byPart.get(part);
      if (!list) byPart.set(part, (list = []));
      list.push(i);
    };
    for (let i = 0; i < recs.length; i++) {
      const rec = recs[i];
      const k = keys[i];
      if (Array.isArray(k)) {
        if (!k.length) continue;
        itemsOf[i] = GeoPart.items(rec, k[0][2], !this.prefix.length);
        this.count(rec, itemsOf[i], 1); // the whole batch before any insert: ties within it are seen
        hOf[i] = hilbertOf(k[0][2][0]);
        // One view: the same points in every key.
        ptsOf[i] = k[0][2];
        for (const [key, vals] of k) push(this.part(key, vals), i);
      } else {
        itemsOf[i] = GeoPart.items(rec, k.pts, false);
        this.count(rec, itemsOf[i], 1);
        hOf[i] = hilbertOf(k.pts[0]);
        ptsOf[i] = k.pts;
        for (const part of k.parts) push(part, i);
      }
    }
    for (const [part, list] of byPart) {
      part.built = null;
      if (list.length > 1) list.sort((a, b) => hOf[a] - hOf[b] || recs[a].seq - recs[b].seq);
      for (const i of list) part.add(recs[i], ptsOf[i], itemsOf[i]);
    }
  }

  /** Removes rec's items: `keys` must be those of its current view (before any change). */
  remove(rec, keys = this.points(rec.view)) {
    if (!keys.length) return;
    const items = GeoPart.items(rec, keys[0][2], !this.prefix.length, false);
    this.count(rec, items, -1);
    for (const [key] of keys) {
      const part = this.parts.get(key);
      if (!part) continue;
      part.remove(rec, items);
      if (part.empty && this.prefix.length) this.parts.delete(key);
    }
  }

  /**
   * Loads all records at once (createIndex on a filled collection): each partition's items are
   * collected, then bulk-loaded (rbush's load: packed nodes). The partitions of a record whose
   * prefix values are null, numbers, strings or booleans are found through nested maps of the
   * values (equal as partKeyOf keys them), without building its keys' strings; others take
   * points().
   */
  build(records) {
    const lists = new Map(); // part -> ids of its items (indexes into `all`)
    const all = [];
    const enter = (part, rec, pts, ids) => {
      if (part.built === rec) return; // equal prefix values: one partition (points() dedupes them too)
      part.built = rec;
      let list = lists.get(part);
      if (!list) lists.set(part, (list = []));
      for (const id of ids) list.push(id);
      if (pts.some((p) => !VALID(p))) part.odd.add(rec);
    };
    const idsOf = (items) => items.map((item) => all.push(item) - 1);
    const cache = new Map();
    for (const rec of records) {
      const fast = this.prefix.length > 0 && this.partsOfView(rec.view, cache);
      if (fast) {
        const items = GeoPart.items(rec, fast.pts, false);
        this.count(rec, items, 1);
        const ids = idsOf(items);
        for (const part of fast.parts) enter(part, rec, fast.pts, ids);
        continue;
      }
      const keys = this.points(rec.view);
      if (!keys.length) continue;
      const items = GeoPart.items(rec, keys[0][2], !this.prefix.length);
      this.count(rec, items, 1);
      const ids = idsOf(items);
      for (const [key, vals, pts] of keys) enter(this.part(key, vals), rec, pts, ids);
    }
    const packer = this.prefix.length ? new Packer(all) : null;
    const point = this.pointNumbers(all);
    const seen = new Int32Array(all.length).fill(-1);
    const firstOf = new Uint32Array(all.length);
    let stamp = 0;
    for (const [part, list] of lists) {
      part.built = null;
      const [ids, subst] = tieGroups(list, all, this.box, point, seen, firstOf, stamp++);
      if (packer) part.tree.fromJSON(packer.pack(ids, packedNodeSize(part.tree._maxEntries), subst));
      else part.tree.load(ids.map((id) => (subst && subst.get(id)) || all[id]));
    }
  }

  /**
   * Per item of `all`: a number shared by the solo items (GeoPart.solo) of groupable records
   * at exactly one point, unique for every other item (see tieGroups).
   */
  pointNumbers(all) {
    const n = all.length;
    const xs = new Float64Array(n);
    const ys = new Float64Array(n);
    const ids = [];
    for (let i = 0; i < n; i++) {
      const it = all[i];
      const b = this.box(it);
      xs[i] = b.minX;
      ys[i] = b.minY;
      if (GeoPart.solo(it) && groupable(it.view !== undefined ? it : it.rec)) ids.push(i);
    }
    const point = new Uint32Array(n).fill(0xffffffff);
    ids.sort((a, b) => xs[a] - xs[b] || ys[a] - ys[b]);
    let next = 0;
    for (let k = 0; k < ids.length; k++) {
      const i = ids[k];
      const j = k > 0 ? ids[k - 1] : -1;
      point[i] = j >= 0 && xs[i] === xs[j] && ys[i] === ys[j] ? point[j] : next++;
    }
    for (let i = 0; i < n; i++) if (point[i] === 0xffffffff) point[i] = next++;
    return point;
  }

  /**
   * {pts, parts} of a view whose prefix values are all exactly keyed (see build), through
   * `cache` (nested maps by value, the last level holding the partition); false otherwise
   * (then points() answers, errors included).
   */
  partsOfView(view, cache) {
    if (this.filter && !this.filter(view)) return false;
    const pts = geo.pointsAt(view, this.field);
    if (!pts.length) return false;
    const per = [];
    let total = 1;
    for (let i = 0; i < this.prefix.length; i++) {
      const { values, multikey } = keyValues(view, this.prefix[i]);
      for (const v of values) if (groupKey(v) === undefined) return false;
      if (multikey) this.multikey[i] = true;
      per.push(values);
      total *= values.length;
    }
    if (total > MAX_KEYS_PER_DOC) return false;
    const parts = [];
    const walk = (m, i, vals) => {
      for (const v of per[i]) {
        const k = groupKey(v);
        let next = m.get(k);
        if (i === per.length - 1) {
          if (next === undefined) {
            const all = [...vals, v === undefined ? null : v];
            next = this.part(all.map(partKeyOf).map((pk) => `${pk.length}:${pk}`).join(''), all);
            m.set(k, next);
          }
          parts.push(next);
        } else {
          if (next === undefined) m.set(k, (next = new Map()));
          walk(next, i + 1, [...vals, v === undefined ? null : v]);
        }
      }
    };
    walk(cache, 0, []);
    return { pts, parts };
  }

  get size() {
    let n = 0;
    for (const part of this.parts.values()) n += entryRecords(part.tree.all(), new Set()).size + part.odd.size;
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
      entryRecords(part.tree.all(), out);
    }
    return out;
  }

  /** Records of parts with a point in any of the boxes ([minX, minY, maxX, maxY]), plus the odd ones. */
  search(boxes, parts = [...this.parts.values()]) {
    const out = new Set();
    for (const part of parts) {
      for (const rec of part.odd) out.add(rec);
      for (const [minX, minY, maxX, maxY] of boxes) {
        entryRecords(part.tree.search({ minX, minY, maxX, maxY }), out);
      }
    }
    return out;
  }
}

module.exports = {
  TieGroup, TieList, SoloItem, tieCmp, hilbertOf, PointCounts, Edge, MIN_KEY, MAX_KEY, FIRST, LAST, cmpValue, rankOf, keyComparator, keyValues, BTreeIndex, GeoIndex, sameKeys,
};
