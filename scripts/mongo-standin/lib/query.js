'use strict';
// Query evaluation: filters (mingo plus $text, $near/$nearSphere, $geoWithin), candidate
// selection through the planner (lib/planner.js: _id lookups, index scans, geo searches or a
// collection scan), sort and find projections applied to typed documents. Whatever the plan,
// every candidate passes the same matcher, and results come in the same order.

const { Context } = require('mingo/core');
const { Query } = require('mingo/query');
const { Aggregator } = require('mingo/aggregator');
const { fail } = require('./errors');
const {
  VIEW_SOURCE, isPlainObject, toView, keyOf, compareValues, valuesAtPath, getPath, setPath, retype, toNumber,
  Double,
} = require('./typed');
const geo = require('./geo');
const { compileTextSearch } = require('./text');
const { deriveHints, hintsOfDocument } = require('./hints');
const planner = require('./planner');
const { compileMatcher } = require('./matcher');

/** The stored record whose view the matcher is testing (for $type, which needs BSON types). */
const CURRENT = { rec: null, typed: null };

/**
 * fn(rec) with rec as CURRENT.rec. fn gets the record as its argument, so that a scan passes
 * one function made once per query rather than a closure made per record examined (~2 KB of
 * young garbage per browse page: each scavenge of the 100k stand-in costs ~2 ms).
 */
function withRecord(rec, fn) {
  const saved = CURRENT.rec;
  const savedTyped = CURRENT.typed;
  CURRENT.rec = rec;
  CURRENT.typed = null;
  try {
    return fn(rec);
  } finally {
    CURRENT.rec = saved;
    CURRENT.typed = savedTyped;
  }
}

/** The typed counterpart of a view being tested, if known. */
function typedOf(obj) {
  const src = VIEW_SOURCE.get(obj);
  if (src) return src;
  if (CURRENT.rec && CURRENT.rec.view === obj) {
    if (!CURRENT.typed) CURRENT.typed = CURRENT.rec.doc;
    return CURRENT.typed;
  }
  return obj;
}

const TYPE_CODES = {
  1: 'double', 2: 'string', 3: 'object', 4: 'array', 5: 'binData', 6: 'undefined', 7: 'objectId', 8: 'bool',
  9: 'date', 10: 'null', 11: 'regex', 13: 'javascript', 14: 'symbol', 16: 'int', 17: 'timestamp', 18: 'long',
  19: 'decimal', '-1': 'minKey', 127: 'maxKey',
};
const TYPE_NAMES = new Set([...Object.values(TYPE_CODES), 'number']);
const NUMERIC_TYPES = new Set(['int', 'long', 'double', 'decimal']);

/** MongoDB $type alias of a typed value (views fall back to int/double by value). */
function typeAlias(v) {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'undefined': return 'undefined';
    case 'string': return 'string';
    case 'boolean': return 'bool';
    case 'number': return Number.isInteger(v) && v >= -2147483648 && v <= 2147483647 ? 'int' : 'double';
    default: break;
  }
  if (Array.isArray(v)) return 'array';
  if (v instanceof Date) return 'date';
  if (v instanceof RegExp) return 'regex';
  if (isPlainObject(v)) return 'object';
  const byBsonType = {
    Int32: 'int', Double: 'double', Long: 'long', Decimal128: 'decimal', ObjectId: 'objectId', Binary: 'binData',
    Timestamp: 'timestamp', MinKey: 'minKey', MaxKey: 'maxKey', Code: 'javascript', BSONRegExp: 'regex', BSONSymbol: 'symbol',
  };
  return byBsonType[v._bsontype] || 'object';
}

/**
 * $type on the stored typed document (mingo's own $type cannot tell int32, int64 and
 * double apart once they are JS numbers).
 */
function typeOperator(selector, value) {
  const wanted = (Array.isArray(value) ? value : [value]).map((t) => (typeof t === 'number' ? TYPE_CODES[t] : t));
  for (const w of wanted) if (!TYPE_NAMES.has(w)) throw fail('BadValue', `Unknown type name alias: ${w}`);
  const matches = (v) => {
    const alias = typeAlias(v);
    return wanted.includes(alias) || (wanted.includes('number') && NUMERIC_TYPES.has(alias));
  };
  return (obj) => {
    const src = typedOf(obj);
    const raw = getPath(src, selector);
    if (raw !== undefined && matches(raw)) return true;
    return valuesAtPath(src, selector).some((v) => v !== undefined && matches(v));
  };
}

// ---- Where mingo's comparisons are not MongoDB's ------------------------------------------
// Equality with an embedded document: BSON compares a document's fields in order, so
// {a: {x: 1, y: 2}} does not match a stored {a: {y: 2, x: 1}} on mongod; mingo's equality
// ignores the order. $eq and $ne (and implicit equality) answer as mongod; $in, $nin and $all
// with such a document are refused rather than answered otherwise.
// Comparisons in expressions ($expr, $project ...): mongod compares values of different types
// by the BSON type order ('1' > 0: strings sort after numbers), compares arrays as whole
// values, and takes a missing field as its own value below null (the manual's $eq and $ne
// expression pages); mingo's answer false across types and compare an array's elements.
const mingoQuery = require('mingo/operators/query');
const mingoExpression = require('mingo/operators/expression');
const { evalExpr } = require('mingo/core');

/** True when v holds a document of two or more fields (not an operator document), at any depth. */
function hasOrderedDocument(v) {
  if (Array.isArray(v)) return v.some(hasOrderedDocument);
  if (!isPlainObject(v) || v._bsontype !== undefined) return false;
  const keys = Object.keys(v);
  if (keys.length > 0 && keys[0][0] === '$') return false;
  return keys.length >= 2 || keys.some((k) => hasOrderedDocument(v[k]));
}

/** A value at the path equal to value in BSON order (compareValues: fields in order, numbers by value). */
const orderedMatch = (selector, value) => (obj) =>
  valuesAtPath(obj, selector, true).some((c) => compareValues(c, value) === 0);

/** Query $eq and $ne: mingo's, unless the operand holds a document of two or more fields. */
function orderedEq(selector, value, options) {
  return hasOrderedDocument(value) ? orderedMatch(selector, value) : mingoQuery.$eq(selector, value, options);
}

function orderedNe(selector, value, options) {
  if (!hasOrderedDocument(value)) return mingoQuery.$ne(selector, value, options);
  const eq = orderedMatch(selector, value);
  return (obj) => !eq(obj);
}

/** A query operator refusing operands that hold a document of two or more fields. */
function refusingOrderedDocuments(name, op) {
  return (selector, value, options) => {
    if (hasOrderedDocument(value)) {
      throw fail('BadValue', `${name} with a document of two or more fields is not supported by the mongo stand-in ` +
        '(MongoDB compares their fields in order)');
    }
    return op(selector, value, options);
  };
}

/** BSON order for expressions: a missing value is equal only to another, and below everything. */
function expressionCompare(a, b) {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? -1 : 1;
  return compareValues(a, b);
}

/** An expression comparison operator ({$gt: [a, b]} ...): answer(order of a against b). */
function expressionComparison(name, answer) {
  return (obj, expr, options) => {
    if (!Array.isArray(expr) || expr.length !== 2) {
      throw fail('Location16020', `Expression ${name} takes exactly 2 arguments. ${Array.isArray(expr) ? expr.length : 1} were passed in.`);
    }
    const [a, b] = evalExpr(obj, expr, options);
    return answer(expressionCompare(a, b));
  };
}

/** mingo context: all standard operators plus the geo query operators and a typed $type. */
const CONTEXT = Context.init({
  accumulator: require('mingo/operators/accumulator'),
  expression: {
    ...mingoExpression,
    $eq: expressionComparison('$eq', (c) => c === 0),
    $ne: expressionComparison('$ne', (c) => c !== 0),
    $gt: expressionComparison('$gt', (c) => c > 0),
    $gte: expressionComparison('$gte', (c) => c >= 0),
    $lt: expressionComparison('$lt', (c) => c < 0),
    $lte: expressionComparison('$lte', (c) => c <= 0),
    $cmp: expressionComparison('$cmp', (c) => c),
  },
  pipeline: require('mingo/operators/pipeline'),
  projection: require('mingo/operators/projection'),
  query: {
    ...mingoQuery,
    $eq: orderedEq,
    $ne: orderedNe,
    $in: refusingOrderedDocuments('$in', mingoQuery.$in),
    $nin: refusingOrderedDocuments('$nin', mingoQuery.$nin),
    $all: refusingOrderedDocuments('$all', mingoQuery.$all),
    $geoWithin: geo.geoWithinOperator,
    $geoIntersects: geo.geoWithinOperator,
    $type: typeOperator,
  },
  window: require('mingo/operators/window'),
});

const mingoOptions = (extra) => ({ context: CONTEXT, useStrictMode: true, idKey: '_id', ...extra });

// mingo copies every operator table into a new Context for each Query made from plain
// options (ComputeOptions.init → Context.from): most of a small filter's compile, on every
// query and every update statement. Made from a ComputeOptions instance, a Query shares its
// tables. The class is not exported: a probe operator is handed an instance when a Query
// compiles (mingo's version is pinned by the lockfile; without the class, plain options).
const SHARED_OPTIONS = (() => {
  let seen = null;
  const probe = Context.init({ query: { $probe: (field, value, options) => { seen = options; return () => true; } } });
  new Query({ x: { $probe: 1 } }, { context: probe }); // eslint-disable-line no-new
  const ComputeOptions = seen && seen.constructor;
  return ComputeOptions && typeof ComputeOptions.init === 'function' ? ComputeOptions.init(mingoOptions({})) : null;
})();

const newQuery = (criteria, variables) => new Query(criteria,
  variables || !SHARED_OPTIONS ? mingoOptions(variables ? { variables } : {}) : SHARED_OPTIONS);
const newAggregator = (pipeline, extra) => new Aggregator(pipeline, mingoOptions(extra));

/** Keys for an _id map lookup when the filter pins _id by equality or $in; else null. */
function idLookupKeys(v) {
  if (v === undefined || v instanceof RegExp) return null;
  if (isPlainObject(v) && Object.keys(v).some((k) => k.startsWith('$'))) {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === '$eq') return idLookupKeys(v.$eq);
    if (keys.length === 1 && keys[0] === '$in' && Array.isArray(v.$in) &&
      !v.$in.some((x) => x instanceof RegExp || isPlainObject(x))) {
      return [...new Set(v.$in.map(keyOf))];
    }
    return null;
  }
  return [keyOf(v)];
}

const noNearIndex = () => fail('NoQueryExecutionPlans',
  'error processing query: planner returned error :: caused by :: unable to find index for $geoNear query');

/**
 * Compiles a typed filter against a collection (which may be null when it does not exist).
 * Returns {test(view), text(view) -> score|null, near(view) -> distance|null, idKeys}.
 */
function compileFilter(coll, filter, variables, { allowNear = true } = {}) {
  if (filter === undefined || filter === null) filter = {};
  if (!isPlainObject(filter)) throw fail('TypeMismatch', "BSON field 'filter' is the wrong type, expected type 'object'");
  const view = toView(filter);
  let text = null;
  let near = null;
  let nearParsed = null;
  const rest = {};
  for (const k of Object.keys(view)) {
    const v = view[k];
    if (k === '$text') {
      text = compileTextSearch(v, coll ? coll.textIndex() : null);
      continue;
    }
    if (!k.startsWith('$') && isPlainObject(v) && ('$near' in v || '$nearSphere' in v)) {
      if (!allowNear) throw fail('BadValue', '$geoNear, $near, and $nearSphere are not allowed in this context');
      if (near) throw fail('BadValue', 'Too many geoNear expressions');
      const op = '$near' in v ? '$near' : '$nearSphere';
      const parsed = geo.parseNear(k, op, v);
      near = geo.distanceFn(parsed);
      nearParsed = parsed;
      const others = Object.keys(v).filter((o) => !['$near', '$nearSphere', '$maxDistance', '$minDistance'].includes(o));
      if (others.length) rest[k] = Object.fromEntries(others.map((o) => [o, v[o]]));
      continue;
    }
    rest[k] = v;
  }
  if (text && near) throw fail('BadValue', 'text and geoNear not allowed in same query');
  if (nearParsed && !planner.nearIndexUsable(coll, nearParsed, rest)) throw noNearIndex();
  return {
    test: matcherOf(rest, variables),
    text,
    near: nearParsed ? near : null,
    nearParsed,
    rest,
  };
}

/**
 * The test of a filter (a view) on a document's view: the compiled matcher (lib/matcher.js)
 * where it answers, else mingo's Query, compiled the first time it is asked (never, for
 * browse's filters on plain listings). Without the cache (planner.state.cache false, tests),
 * mingo's only.
 */
function matcherOf(rest, variables) {
  if (!Object.keys(rest).length) return () => true;
  const fast = planner.state.cache ? compileMatcher(rest) : null;
  if (!fast) {
    const mq = newQuery(rest, variables);
    return (d) => mq.test(d);
  }
  let mq = null;
  return (d) => {
    const r = fast(d);
    if (r !== undefined) return r;
    if (!mq) mq = newQuery(rest, variables);
    return mq.test(d);
  };
}

/** Parses a sort document into [{path, dir, meta}]. */
function compileSort(sort) {
  if (sort === undefined || sort === null) return null;
  if (!isPlainObject(sort)) throw fail('TypeMismatch', 'sort must be an object');
  const view = toView(sort);
  const keys = Object.keys(view).map((path) => {
    const v = view[path];
    if (isPlainObject(v) && v.$meta === 'textScore') return { path, dir: -1, meta: 'textScore' };
    if (path === '$natural' && (v === 1 || v === -1)) return { path, dir: v, meta: 'natural' };
    if (v !== 1 && v !== -1) throw fail('BadValue', '$sort key ordering must be 1 (for ascending) or -1 (for descending)');
    return { path, dir: v, meta: null };
  });
  return keys.length ? keys : null;
}

/**
 * The value a view sorts by on `path` in direction `dir`: the least (ascending) or greatest
 * (descending) of the values at the path, arrays descended into (an empty array is itself
 * the value); undefined when there is none (missing: sorts as null).
 */
function sortKeyOf(view, path, dir) {
  let vals;
  if (path.indexOf('.') < 0) { // a top-level field: what valuesAtPath finds, without its walk
    if (!(path in view)) return undefined;
    const v = view[path];
    if (!Array.isArray(v) || !v.length) return v;
    vals = v;
  } else {
    vals = valuesAtPath(view, path);
    if (!vals.length) return undefined;
  }
  let best = vals[0];
  for (const x of vals) if (compareValues(x, best) * dir < 0) best = x;
  return best;
}

/**
 * Sorts matched items ({rec, score, dist}) in place by a compiled sort, stably (ties keep
 * the items' order). A key {meta: 'distance'} (a $geoNear's distance field, ascending) reads
 * item.dist; other fields are read from the stored view with MongoDB's rules (an array sorts
 * by its least element ascending, its greatest descending; missing as null). With `top` less
 * than the number of items, only the first `top` of that order are kept (the array is cut):
 * they are selected in one pass, without sorting the rest (a page of 21 out of thousands
 * of ties at one distance). With `natural`, ties are in natural order instead.
 */
function sortItems(items, keys, top = Infinity, natural = false) {
  const decorated = items.map((item, pos) => ({
    item,
    pos,
    k: keys.map(({ path, dir, meta }, i) => {
      if (meta === 'natural') return i; // placeholder, see below
      if (meta === 'distance') return item.dist;
      if (meta) return item.score;
      return sortKeyOf(item.rec.view, path, dir);
    }),
  }));
  decorated.forEach((d, pos) => keys.forEach((k, i) => { if (k.meta === 'natural') d.k[i] = pos; }));
  const cmp = (a, b) => {
    for (let i = 0; i < keys.length; i++) {
      const { meta, dir } = keys[i];
      let r;
      if (meta === 'natural' || meta === 'distance') r = (a.k[i] - b.k[i]) * dir;
      else r = meta ? (b.k[i] || 0) - (a.k[i] || 0) : compareValues(a.k[i], b.k[i]) * dir;
      if (r) return r;
    }
    return natural ? a.item.rec.seq - b.item.rec.seq : a.pos - b.pos;
  };
  const sorted = top < items.length && top <= 1000 ? smallest(decorated, cmp, top) : decorated.sort(cmp);
  if (top < items.length) items.length = top;
  for (let i = 0; i < items.length; i++) items[i] = sorted[i].item;
  return items;
}

/** The n least elements of `all` by `cmp` (a total order), in order: a sorted buffer of n. */
function smallest(all, cmp, n) {
  const best = [];
  for (const x of all) {
    if (best.length === n && cmp(x, best[n - 1]) >= 0) continue;
    let lo = 0;
    let hi = best.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cmp(best[mid], x) < 0) lo = mid + 1;
      else hi = mid;
    }
    best.splice(lo, 0, x);
    if (best.length > n) best.pop();
  }
  return best;
}

/** Compiles the query-planning inputs of a select: the filter, sort and their checks. */
function prepare(coll, filter, { sort, variables, allowNear = true, extra } = {}) {
  const f = compileFilter(coll, filter, variables, { allowNear });
  const sortKeys = compileSort(sort);
  if (sortKeys && sortKeys.some((k) => k.meta === 'textScore') && !f.text) {
    throw fail('BadValue', 'query requires text score metadata, but it is not available');
  }
  const extraTests = (extra || []).map((m) => compileFilter(coll, m, variables, { allowNear: false }).test);
  return { f, sortKeys, extraTests };
}

/** The plan select() would use (for explain and the profiler). */
function explainSelect(coll, filter, opts = {}) {
  const { f, sortKeys } = prepare(coll, filter, opts);
  const plan = planner.choosePlan(coll, { ...f, near: f.nearParsed }, sortKeys, opts.hint);
  return { plan, f, sortKeys };
}

/**
 * Selects records of a collection: [{rec, score, dist}] after filter, $text, $near, sort,
 * skip and limit (limit 0 = none). `coll` may be null. Options: sort, skip, limit,
 * variables, allowNear, hint, extra (further filters every result must pass, as a later
 * $match would), stats (receives {plan, keysExamined, docsExamined}), visit (rec => void:
 * with an index scan and no sort, skip, limit, $text or $near, each selected record is given
 * to it as found, in no set order, and select returns null; otherwise ignored).
 */
function select(coll, filter, opts = {}) {
  const { skip = 0, limit = 0 } = opts;
  const { f, sortKeys, extraTests } = prepare(coll, filter, opts);
  const plan = planner.choosePlan(coll, { ...f, near: f.nearParsed }, sortKeys, opts.hint);
  const stats = { plan, keysExamined: 0, docsExamined: 0 };
  if (opts.stats) opts.stats.push(stats);
  if (!coll) return [];

  const check = (rec) => {
    if (!f.test(rec.view)) return false;
    for (const t of extraTests) if (!t(rec.view)) return false;
    return true;
  };
  const passes = (rec) => {
    stats.docsExamined++;
    return withRecord(rec, check);
  };
  const finish = (out) => {
    const end = limit > 0 ? skip + limit : out.length;
    // With a limit only the first skip + limit of the order are kept: selected, not sorted
    // (an index scan by price takes every listing at the page's last price: hundreds at 100k).
    if (sortKeys) sortItems(out, sortKeys, end);
    return skip || end < out.length ? out.slice(skip, end) : out;
  };

  if (plan.type === 'GEO_NEAR') {
    const want = !sortKeys && limit > 0 ? skip + limit : Infinity;
    const found = planner.nearScan(plan, f.near, (rec) => passes(rec), want, stats);
    return finish(found.map(({ rec, d }) => ({ rec, score: undefined, dist: d })));
  }

  // Index scan giving the order of the sort's first key(s): stop once skip + limit results
  // are in and the sort key moved past the last one (ties are all taken). The scan's order is
  // the sort's on those keys (what stopping early relies on), so only each run of ties needs
  // ordering, by the sort's other keys and natural order; the last run (every listing at the
  // page's last price, hundreds at 100k) only as far as the page reaches.
  if (plan.type === 'IXSCAN' && plan.sortMatched > 0 && !f.text) {
    const need = limit > 0 ? skip + limit : Infinity;
    const st = plan.index.structure;
    const sortPos = sortKeys.slice(0, plan.sortMatched).map((k) => st.fields.findIndex((x) => x.path === k.path));
    const seen = st.multikey.some(Boolean) ? new Set() : null;
    const out = [];
    const runs = []; // where each run of equal sort-prefix keys starts in out
    let lastEntry = null; // the key of the last result taken: its entry and group (st.keyAt)
    let lastGroup = null;
    planner.scanIndex(plan, (rec, entry, group) => {
      let moved = lastEntry === null;
      for (let j = 0; !moved && j < sortPos.length; j++) {
        moved = cmpKeyValue(st.keyAt(entry, group, sortPos[j]), st.keyAt(lastEntry, lastGroup, sortPos[j])) !== 0;
      }
      if (out.length >= need && moved) return false;
      if (seen) {
        if (seen.has(rec)) return true;
        seen.add(rec);
      }
      if (!passes(rec)) return true;
      if (moved) runs.push(out.length);
      out.push({ rec, score: undefined, dist: undefined });
      lastEntry = entry;
      lastGroup = group;
      return true;
    }, stats);
    const rest = sortKeys.slice(plan.sortMatched);
    const page = [];
    for (let r = 0; r < runs.length && page.length < need; r++) {
      const end = r + 1 < runs.length ? runs[r + 1] : out.length;
      if (end - runs[r] === 1) {
        page.push(out[runs[r]]);
        continue;
      }
      const run = sortItems(out.slice(runs[r], end), rest, need - page.length, true);
      for (let i = 0; i < run.length && page.length < need; i++) page.push(run[i]);
    }
    return skip ? page.slice(skip) : page;
  }

  // Every passing record to opts.visit, in no particular order, and nothing collected (a count
  // by group: the projector's recount of a seller's active listings after each batch).
  // A record has one entry in an index that is not multikey, so only a multikey one is deduplicated.
  const { visit } = opts;
  if (visit && !sortKeys && !f.text && !f.near && !skip && !limit && plan.type === 'IXSCAN') {
    const seen = plan.index.structure.multikey.some(Boolean) ? new Set() : null;
    planner.scanIndex(plan, (rec) => {
      if (seen) {
        if (seen.has(rec)) return true;
        seen.add(rec);
      }
      if (passes(rec)) visit(rec);
      return true;
    }, stats);
    return null;
  }

  let candidates;
  if (plan.type === 'COLLSCAN') candidates = coll.records.values();
  else if (plan.type === 'IDHACK') {
    const rec = coll.records.get(plan.key);
    candidates = rec ? [rec] : [];
    stats.keysExamined = candidates.length;
  } else {
    const set = new Set();
    if (plan.type === 'IXSCAN') planner.scanIndex(plan, (rec) => { set.add(rec); return true; }, stats);
    else {
      for (const rec of plan.index.structure.search(plan.region.boxes, planner.partsOf(plan))) set.add(rec);
      stats.keysExamined += set.size;
    }
    candidates = [...set].sort((a, b) => a.seq - b.seq);
  }
  const early = !sortKeys && !f.near && limit > 0 ? skip + limit : Infinity;
  const out = [];
  for (const rec of candidates) {
    if (!passes(rec)) continue;
    let score;
    let dist;
    if (f.text) {
      score = f.text(rec.view);
      if (score === null) continue;
    }
    if (f.near) {
      dist = f.near(rec.view);
      if (dist === null) continue;
    }
    out.push({ rec, score, dist });
    if (out.length >= early) break;
  }
  if (f.near) out.sort((a, b) => a.dist - b.dist);
  return finish(out);
}

const { cmpValue: cmpKeyValue } = require('./indexes');

// ---------------------------------------------------------------------------------------
// Find projections, applied to typed documents so numeric types are kept.

function buildTrie(paths) {
  const root = new Map();
  for (const p of paths) {
    const parts = p.split('.');
    let node = root;
    for (let i = 0; i < parts.length; i++) {
      if (i === parts.length - 1) node.set(parts[i], true);
      else {
        if (node.get(parts[i]) === true) break;
        if (!node.has(parts[i])) node.set(parts[i], new Map());
        node = node.get(parts[i]);
      }
    }
  }
  return root;
}

function includePaths(node, trie) {
  const out = {};
  for (const k of Object.keys(node)) {
    const sub = trie.get(k);
    if (sub === undefined) continue;
    const v = node[k];
    if (sub === true) out[k] = v;
    else if (isPlainObject(v)) out[k] = includePaths(v, sub);
    else if (Array.isArray(v)) out[k] = includeInArray(v, sub);
  }
  return out;
}

function includeInArray(arr, trie) {
  const out = [];
  for (const x of arr) {
    if (isPlainObject(x)) out.push(includePaths(x, trie));
    else if (Array.isArray(x)) out.push(includeInArray(x, trie));
  }
  return out;
}

function excludePaths(node, trie) {
  const out = {};
  for (const k of Object.keys(node)) {
    const sub = trie.get(k);
    const v = node[k];
    if (sub === true) continue;
    if (sub === undefined) out[k] = v;
    else if (isPlainObject(v)) out[k] = excludePaths(v, sub);
    else if (Array.isArray(v)) out[k] = v.map((x) => (isPlainObject(x) ? excludePaths(x, sub) : x));
    else out[k] = v;
  }
  return out;
}

/**
 * Compiles a find projection into (item) -> typed document, or null for "whole document".
 * Supports inclusion, exclusion, {$meta: "textScore"}, $slice, $elemMatch and aggregation
 * expressions (evaluated by mingo on the view, then retyped).
 */
function compileProjection(projection) {
  if (projection === undefined || projection === null) return null;
  if (!isPlainObject(projection)) throw fail('TypeMismatch', 'projection must be an object');
  const spec = toView(projection);
  const keys = Object.keys(spec);
  if (!keys.length) return null;
  const include = [];
  const exclude = [];
  const metas = [];
  const slices = [];
  const elemMatches = [];
  const computed = {};
  let idMode = null; // true include, false exclude, null default
  for (const k of keys) {
    const v = spec[k];
    if (typeof v === 'number' || typeof v === 'boolean') {
      if (k === '_id') idMode = !!v;
      else (v ? include : exclude).push(k);
    } else if (isPlainObject(v) && v.$meta !== undefined) {
      if (v.$meta !== 'textScore') throw fail('BadValue', `unsupported $meta: ${v.$meta}`);
      metas.push(k);
    } else if (isPlainObject(v) && v.$slice !== undefined && Object.keys(v).length === 1) {
      slices.push([k, v.$slice]);
    } else if (isPlainObject(v) && v.$elemMatch !== undefined && Object.keys(v).length === 1) {
      elemMatches.push([k, newQuery(v.$elemMatch)]);
    } else {
      computed[k] = v;
    }
  }
  // What makes it an inclusion: a field included, $elemMatch or a computed field, or, when no
  // other field decides, `_id: 1` ({_id: 1} answers the _id alone, as in mongod).
  const inclusion = include.length > 0 || elemMatches.length > 0 || Object.keys(computed).length > 0 ||
    (idMode === true && exclude.length === 0);
  if (inclusion && exclude.length) {
    throw fail('BadValue', `Cannot do exclusion on field ${exclude[0]} in inclusion projection`);
  }
  // _id comes whole unless excluded, or included in part ({'_id.a': 1} answers {_id: {a}}).
  if (inclusion && idMode !== false && !include.some((k) => k.startsWith('_id.'))) include.unshift('_id');
  if (!inclusion && idMode === false) exclude.push('_id');
  const trie = buildTrie(inclusion ? include : exclude);
  const hasComputed = Object.keys(computed).length > 0;
  const computeAgg = hasComputed ? newAggregator([{ $project: { _id: 0, ...computed } }]) : null;

  return (item) => {
    const doc = item.rec.doc;
    const out = inclusion ? includePaths(doc, trie) : excludePaths(doc, trie);
    for (const [field, arg] of slices) {
      const arr = getPath(doc, field);
      if (!Array.isArray(arr)) continue;
      let sliced;
      if (Array.isArray(arg)) {
        const skip = arg[0] < 0 ? Math.max(arr.length + arg[0], 0) : arg[0];
        sliced = arr.slice(skip, skip + arg[1]);
      } else {
        sliced = arg >= 0 ? arr.slice(0, arg) : arr.slice(Math.max(arr.length + arg, 0));
      }
      setPath(out, field, sliced);
    }
    for (const [field, q] of elemMatches) {
      const arr = doc[field];
      if (!Array.isArray(arr)) continue;
      const viewArr = item.rec.view[field];
      const i = viewArr.findIndex((x) => isPlainObject(x) && q.test(x));
      if (i >= 0) out[field] = [arr[i]];
    }
    if (computeAgg) {
      const [res] = computeAgg.run([item.rec.view]);
      const typed = retype(res, doc, deriveHints(hintsOfDocument(doc), [{ $project: computed }]));
      for (const k of Object.keys(computed)) if (k in typed) out[k] = typed[k];
    }
    for (const field of metas) setPath(out, field, new Double(item.score === undefined ? 0 : item.score));
    return out;
  };
}

/** Non-negative integer option (skip/limit/batchSize), accepting any BSON number type. */
function intOption(v, name, { allowNegative = false } = {}) {
  if (v === undefined || v === null) return undefined;
  const n = toNumber(v);
  if (!Number.isFinite(n) || !Number.isInteger(n) || (!allowNegative && n < 0)) {
    throw fail('BadValue', `${name} must be a non-negative integer`);
  }
  return n;
}

module.exports = {
  noNearIndex,
  CONTEXT, newQuery, newAggregator, compileFilter, compileSort, sortItems, select, explainSelect, compileProjection,
  intOption, idLookupKeys, withRecord,
};
