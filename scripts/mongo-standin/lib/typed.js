'use strict';
// Two forms of a document:
//  - "typed": as deserialized with promoteValues:false. Numbers are bson Int32 / Long / Double /
//    Decimal128 objects, so the exact BSON type survives storage and comes back unchanged.
//  - "view": the same document with every number turned into a JS number. mingo evaluates
//    queries, sorts and pipelines on views; results are mapped back to typed values.
// A stored document is kept once, as its view plus a short type signature (encodeStored /
// decodeStored): the typed form is rebuilt when a document leaves the store.
// This module converts between the forms and provides canonical keys and BSON ordering.

const { Int32, Long, Double, Decimal128 } = require('bson');

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

const NUMERIC_WIDTH = { Int32: 0, Long: 1, Double: 2, Decimal128: 3 };

/** view object/array -> typed counterpart (only for views made with register = true). */
const VIEW_SOURCE = new WeakMap();

const isPlainObject = (v) => {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/** True for plain objects and arrays: the values a path can descend into. */
const isContainer = (v) => Array.isArray(v) || isPlainObject(v);

/** BSON numeric type name of a typed or JS value, or null if it is not a number. */
function numericType(v) {
  if (typeof v === 'number') return Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX ? 'Int32' : 'Double';
  if (v === null || typeof v !== 'object') return null;
  switch (v._bsontype) {
    case 'Int32': return 'Int32';
    case 'Long': return 'Long';
    case 'Double': return 'Double';
    case 'Decimal128': return 'Decimal128';
    default: return null;
  }
}

/** JS number of a typed or JS numeric value (NaN for non-numbers). */
function toNumber(v) {
  if (typeof v === 'number') return v;
  if (v === null || typeof v !== 'object') return NaN;
  switch (v._bsontype) {
    case 'Int32':
    case 'Double': return v.value;
    case 'Long': return v.toNumber();
    case 'Decimal128': return Number(v.toString());
    default: return NaN;
  }
}

/**
 * Converts a typed value to its view. With `register`, every object/array of the view
 * remembers its typed counterpart (see retype). With `hints` (Map path -> numeric type),
 * records the widest BSON numeric type seen at each dotted path (array positions omitted).
 */
function toView(v, register = false, hints = null, path = '') {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const out = new Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = toView(v[i], register, hints, path);
    if (register) VIEW_SOURCE.set(out, v);
    return out;
  }
  const t = v._bsontype;
  if (t === 'Int32' || t === 'Double' || t === 'Long' || t === 'Decimal128') {
    if (hints && path) {
      const prev = hints.get(path); // keep the widest type seen at a path
      if (prev === undefined || NUMERIC_WIDTH[t] > NUMERIC_WIDTH[prev]) hints.set(path, t);
    }
    return toNumber(v);
  }
  if (!isPlainObject(v)) return v; // ObjectId, Date, RegExp, Binary, Timestamp, MinKey, MaxKey...
  const out = {};
  for (const k of Object.keys(v)) {
    out[k] = toView(v[k], register, hints, hints ? (path ? path + '.' + k : k) : '');
  }
  if (register) VIEW_SOURCE.set(out, v);
  return out;
}

// Stored form: the view, plus one character per numeric leaf (in traversal order: object keys
// in order, array elements in order) naming its BSON type, plus the exact values that a JS
// number cannot carry (int64 beyond 2^53, Decimal128). Signatures are interned: documents of
// one shape share one string.
const SIG_CHAR = { Int32: 'i', Long: 'l', Double: 'd' };
const SIG_INTERN = new Map();
const SIG_INTERN_MAX = 50000;

function internSig(sig) {
  const known = SIG_INTERN.get(sig);
  if (known !== undefined) return known;
  if (SIG_INTERN.size < SIG_INTERN_MAX) SIG_INTERN.set(sig, sig);
  return sig;
}

// Short strings repeat across documents (statuses, categories, keywords, names) and within
// one (_id and id, created_at and updated_at): stored documents share one copy of each that
// the table holds. The table starts over when it is full: most of its strings never repeat
// (ids, times, titles: three a listing), and a full table of 2^20 cost about 40 bytes per
// entry for nothing; a string that repeats enters the new table at its next occurrence.
let STR_INTERN = new Map();
const STR_INTERN_MAX = 1 << 16;
const STR_INTERN_LEN = 40; // ids (36-character UUIDs) repeat too: as _id and id, as seller ids

function internStr(v) {
  if (v.length > STR_INTERN_LEN) return v;
  const known = STR_INTERN.get(v);
  if (known !== undefined) return known;
  if (STR_INTERN.size >= STR_INTERN_MAX) STR_INTERN = new Map();
  STR_INTERN.set(v, v);
  return v;
}

// Small containers of such strings repeat across documents too (a category path, attributes
// like {brand, colour}, a seller's rating {average: null, count: 0}, an empty image list):
// stored views share one copy of each that this table holds (about 32-56 bytes each, and
// their elements' store). Safe because a stored view is never changed in place: a write
// replaces rec.view, and reads decode fresh containers (decodeStored). Only containers below
// the top level, of at most BOX_INTERN_ENTRIES entries, each a string the string table takes,
// null, a boolean or a small integer (not -0); the table starts over when full, as above.
let BOX_INTERN = new Map();
const BOX_INTERN_MAX = 1 << 14;
const BOX_INTERN_ENTRIES = 4;

/** The table's key of a container's entries (keys null: an array), or null when it takes none. */
function boxKey(keys, values) {
  if (values.length > BOX_INTERN_ENTRIES) return null;
  for (let i = 0; i < values.length; i++) { // first whether it takes them (most containers: no)
    const v = values[i];
    if (typeof v === 'string' ? v.length > STR_INTERN_LEN
      : v !== null && typeof v !== 'boolean' && !(typeof v === 'number' && (v | 0) === v && (v !== 0 || 1 / v > 0))) return null;
  }
  let k = keys === null ? '[' : '{';
  for (let i = 0; i < values.length; i++) {
    if (keys !== null) k += keys[i].length + ':' + keys[i];
    const v = values[i];
    if (typeof v === 'string') k += 's' + v.length + ':' + v;
    else if (v === null) k += 'n';
    else if (typeof v === 'boolean') k += v ? 't' : 'f';
    else k += 'i' + v + ';';
  }
  return k;
}

/** The table's copy of the container `out` (keys, values: its entries), after entering it if new. */
function internBox(keys, values, out) {
  const k = boxKey(keys, values);
  if (k === null) return out();
  const known = BOX_INTERN.get(k);
  if (known !== undefined) return known;
  if (BOX_INTERN.size >= BOX_INTERN_MAX) BOX_INTERN = new Map();
  const made = out();
  BOX_INTERN.set(k, made);
  return made;
}

// Objects built by adding keys one by one fall into V8's dictionary mode past about a dozen
// properties (about three times the memory). Stored objects are built by one generated
// constructor per key sequence instead, so they keep fast, in-object properties.
const SHAPES = new Map();
const SHAPES_MAX = 5000;

function shapeOf(keys) {
  const id = keys.join('\u0000');
  let make = SHAPES.get(id);
  if (make === undefined) {
    if (SHAPES.size >= SHAPES_MAX || keys.includes('__proto__')) return null;
    // eslint-disable-next-line no-new-func
    make = new Function('v', keys.map((k, i) => `this[${JSON.stringify(k)}] = v[${i}];`).join('\n'));
    make.prototype = Object.prototype;
    SHAPES.set(id, make);
  }
  return make;
}

/** A plain object with `keys` and `values` (in that order), in fast mode. */
function buildObject(keys, values) {
  const Make = keys.length ? shapeOf(keys) : null;
  if (Make) return new Make(values);
  const out = {};
  for (let i = 0; i < keys.length; i++) out[keys[i]] = values[i];
  return out;
}

/**
 * A number as V8's small integer when it is one (not -0): a number computed in floating point
 * (Long.toNumber's) is a heap number of 16 bytes wherever it is stored, and one such value in
 * a field makes that field of every object of its shape a box of its own. The same value.
 */
const small = (n) => ((n | 0) === n && (n !== 0 || 1 / n > 0) ? n | 0 : n);

/**
 * The array of numbers `values`, made and filled by sites of its own (an allocation site or a
 * store that has seen other arrays gives boxed elements): V8 keeps its doubles unboxed.
 */
function numberArray(values) {
  const out = new Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i];
  return out;
}

const isNumberLeaf = (x) => typeof x === 'number' ||
  (x !== null && typeof x === 'object' && (x._bsontype === 'Double' || x._bsontype === 'Int32' || x._bsontype === 'Long'));

/**
 * Typed document -> {view, sig, exact}. `hints` (Map path -> widest numeric type) is updated
 * like toView does.
 */
function encodeStored(doc, hints) {
  const chars = [];
  let exact = null;
  const walk = (v, path, top = false) => {
    if (v === null || typeof v !== 'object') {
      if (typeof v === 'string') return internStr(v);
      if (typeof v === 'number') {
        chars.push(Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX ? 'i' : 'd');
        return small(v);
      }
      return v;
    }
    if (Array.isArray(v)) {
      // Arrays of numbers (coordinates) apart: an array that once held strings makes its
      // allocation site give later arrays boxed elements.
      const out = new Array(v.length);
      for (let i = 0; i < v.length; i++) out[i] = walk(v[i], path);
      if (v.length && v.every(isNumberLeaf)) return numberArray(out);
      return top ? out : internBox(null, out, () => out);
    }
    const t = v._bsontype;
    if (t === 'Int32' || t === 'Double' || t === 'Long' || t === 'Decimal128') {
      if (hints && path) {
        const prev = hints.get(path);
        if (prev === undefined || NUMERIC_WIDTH[t] > NUMERIC_WIDTH[prev]) hints.set(path, t);
      }
      const n = toNumber(v);
      if (t === 'Decimal128' || (t === 'Long' && !Number.isSafeInteger(n))) {
        chars.push(t === 'Long' ? 'L' : 'D');
        (exact || (exact = [])).push(v);
      } else chars.push(SIG_CHAR[t]);
      return small(n);
    }
    if (!isPlainObject(v)) return v;
    const keys = Object.keys(v);
    const values = new Array(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      values[i] = walk(v[k], hints ? (path ? path + '.' + k : k) : '');
    }
    return top ? buildObject(keys, values) : internBox(keys, values, () => buildObject(keys, values));
  };
  const view = walk(doc, '', true);
  return { view, sig: internSig(chars.join('')), exact };
}

/** {view, sig, exact} -> the typed document (fresh containers; strings and BSON values shared). */
function decodeStored(view, sig, exact) {
  let pos = 0;
  let ex = 0;
  const walk = (v) => {
    if (typeof v === 'number') {
      switch (sig.charCodeAt(pos++)) {
        case 105: return new Int32(v); // i
        case 108: return Long.fromNumber(v); // l
        case 100: return new Double(v); // d
        default: return exact[ex++]; // L, D
      }
    }
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) {
      const out = new Array(v.length);
      for (let i = 0; i < v.length; i++) out[i] = walk(v[i]);
      return out;
    }
    if (!isPlainObject(v)) return v;
    // Built like the stored objects (buildObject): a listing's two dozen keys added one by
    // one would put every decoded copy in dictionary mode, slow to build and to serialize.
    const keys = Object.keys(v);
    const values = new Array(keys.length);
    for (let i = 0; i < keys.length; i++) values[i] = walk(v[keys[i]]);
    return buildObject(keys, values);
  };
  return walk(view);
}

/** A JS number as a typed BSON number: the hinted type when it can hold the value, else the narrowest. */
function typedNumber(n, hint) {
  const isInt = Number.isInteger(n);
  switch (hint) {
    case 'Double': return new Double(n);
    case 'Long': if (isInt && Number.isSafeInteger(n)) return Long.fromNumber(n); break;
    case 'Decimal128':
      try { return Decimal128.fromString(String(n)); } catch (_) { break; }
    default: break;
  }
  if (isInt && n >= INT32_MIN && n <= INT32_MAX) return new Int32(n);
  if (isInt && Number.isSafeInteger(n)) return Long.fromNumber(n);
  return new Double(n);
}

/**
 * Converts a view (or any value computed from views, e.g. by mingo) back to typed values.
 * `cand` is the typed value that was at the same place in the source document, if any: a
 * number equal to its candidate keeps the candidate's type. Objects made by toView(..., true)
 * find their own candidate. Remaining numbers take the type in `hints` for their path, else
 * the narrowest of Int32 / Long / Double.
 */
function retype(v, cand, hints, path = '') {
  if (typeof v === 'number') {
    if (cand !== undefined && cand !== null && typeof cand === 'object' && numericType(cand)) {
      const n = toNumber(cand);
      if (n === v || (Number.isNaN(n) && Number.isNaN(v))) return cand;
    }
    return typedNumber(v, hints ? hints.get(path) : undefined);
  }
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const src = VIEW_SOURCE.get(v) || (Array.isArray(cand) ? cand : undefined);
    const out = new Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = retype(v[i], src ? src[i] : undefined, hints, path);
    return out;
  }
  if (!isPlainObject(v)) return v;
  const src = VIEW_SOURCE.get(v) || (isPlainObject(cand) ? cand : undefined);
  const out = {};
  for (const k of Object.keys(v)) {
    const x = v[k];
    if (x === undefined) continue;
    out[k] = retype(x, src ? src[k] : undefined, hints, path ? path + '.' + k : k);
  }
  return out;
}

/** Deep copy of the containers of a typed document; leaves (immutable bson values) are shared. */
function cloneTyped(v) {
  if (Array.isArray(v)) return v.map(cloneTyped);
  if (isPlainObject(v)) {
    const out = {};
    for (const k of Object.keys(v)) out[k] = cloneTyped(v[k]);
    return out;
  }
  return v;
}

/**
 * Canonical string of a value (typed or view) for equality as MongoDB sees it: numbers of
 * any type are equal when numerically equal; subdocuments compare field by field in order.
 */
function keyOf(v) {
  if (v === undefined || v === null) return 'null';
  switch (typeof v) {
    case 'number': return 'n' + (Object.is(v, -0) ? 0 : v);
    case 'string': return 's' + JSON.stringify(v);
    case 'boolean': return v ? 'true' : 'false';
    case 'bigint': return 'n' + v.toString();
    default: break;
  }
  if (Array.isArray(v)) return '[' + v.map(keyOf).join(',') + ']';
  if (v instanceof Date) return 'd' + v.getTime();
  if (v instanceof RegExp) return 'r/' + v.source + '/' + v.flags;
  if (isPlainObject(v)) {
    return '{' + Object.keys(v).map((k) => JSON.stringify(k) + ':' + keyOf(v[k])).join(',') + '}';
  }
  switch (v._bsontype) {
    case 'Int32': case 'Double': return 'n' + (Object.is(v.value, -0) ? 0 : v.value);
    case 'Long': {
      const n = v.toNumber();
      return 'n' + (Number.isSafeInteger(n) ? n : v.toString());
    }
    case 'Decimal128': return 'n' + Number(v.toString());
    case 'ObjectId': return 'o' + v.toHexString();
    case 'Binary': return 'x' + v.sub_type + ':' + Buffer.from(v.buffer).toString('base64');
    case 'Timestamp': return 't' + v.toString();
    case 'MinKey': return 'minkey';
    case 'MaxKey': return 'maxkey';
    default: return (v._bsontype || 'obj') + ':' + String(v);
  }
}

/**
 * Key of an _id in a collection's record map: a string _id is its own key (no copy); other
 * values take keyOf's canonical form behind a NUL character no stored string key starts with
 * (a string _id starting with NUL is refused at insert).
 */
const idKeyOf = (v) => (typeof v === 'string' ? v : '\u0000' + keyOf(v));

// MongoDB's canonical ordering of BSON types (MinKey < null < numbers < strings < ...).
function typeRank(v) {
  if (v === undefined || v === null) return 1;
  switch (typeof v) {
    case 'number': return 2;
    case 'string': return 3;
    case 'boolean': return 8;
    default: break;
  }
  if (Array.isArray(v)) return 5;
  if (v instanceof Date) return 9;
  if (v instanceof RegExp) return 11;
  if (isPlainObject(v)) return 4;
  switch (v._bsontype) {
    case 'Int32': case 'Long': case 'Double': case 'Decimal128': return 2;
    case 'BSONSymbol': return 3;
    case 'Binary': return 6;
    case 'ObjectId': return 7;
    case 'Timestamp': return 10;
    case 'MinKey': return 0;
    case 'MaxKey': return 12;
    default: return 13;
  }
}

const cmpPrim = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/** Numbers in MongoDB's order: NaN first, then by value (-0 equals 0). A total order. */
function cmpNum(a, b) {
  if (a < b) return -1;
  if (a > b) return 1;
  if (a === b) return 0;
  const na = a !== a; // eslint-disable-line no-self-compare
  const nb = b !== b; // eslint-disable-line no-self-compare
  return na === nb ? 0 : na ? -1 : 1;
}

/** Compares two values (typed or view) in MongoDB's BSON order. */
function compareValues(a, b) {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 2: return cmpNum(toNumber(a), toNumber(b));
    case 3: return cmpPrim(String(a), String(b));
    case 4: {
      const ka = Object.keys(a);
      const kb = Object.keys(b);
      for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
        const r = cmpPrim(typeRank(a[ka[i]]), typeRank(b[kb[i]])) || cmpPrim(ka[i], kb[i]) ||
          compareValues(a[ka[i]], b[kb[i]]);
        if (r) return r;
      }
      return cmpPrim(ka.length, kb.length);
    }
    case 5: {
      for (let i = 0; i < Math.min(a.length, b.length); i++) {
        const r = compareValues(a[i], b[i]);
        if (r) return r;
      }
      return cmpPrim(a.length, b.length);
    }
    case 6: return cmpPrim(a.buffer.length, b.buffer.length) || cmpPrim(a.sub_type, b.sub_type) ||
      Buffer.compare(Buffer.from(a.buffer), Buffer.from(b.buffer));
    case 7: return cmpPrim(a.toHexString(), b.toHexString());
    case 8: return cmpPrim(a ? 1 : 0, b ? 1 : 0);
    case 9: return cmpNum(a.getTime(), b.getTime());
    case 10: return a.compare(b);
    case 11: return cmpPrim(a.source, b.source) || cmpPrim(a.flags, b.flags);
    default: return 0;
  }
}

/**
 * Values found at a dotted path, descending through arrays (like a multikey index). With
 * wholeArrays, an array reached at the end of the path is a value too, beside its elements
 * (what an equality compares with: mongod matches {a: [1, 2]} against the array itself).
 */
function valuesAtPath(doc, path, wholeArrays = false) {
  const parts = path.split('.');
  const out = [];
  (function walk(node, i) {
    if (i === parts.length) {
      if (Array.isArray(node)) {
        for (const x of node) out.push(x);
        if (!node.length || wholeArrays) out.push(node);
      } else out.push(node);
      return;
    }
    if (Array.isArray(node)) {
      if (/^\d+$/.test(parts[i])) walk(node[+parts[i]], i + 1);
      for (const x of node) if (isPlainObject(x)) walk(x, i);
      return;
    }
    if (!isPlainObject(node) || !(parts[i] in node)) return;
    walk(node[parts[i]], i + 1);
  })(doc, 0);
  return out;
}

/** Value at a dotted path without array expansion (numeric parts index arrays). */
function getPath(doc, path) {
  let node = doc;
  for (const p of path.split('.')) {
    if (Array.isArray(node) && /^\d+$/.test(p)) node = node[+p];
    else if (isPlainObject(node)) node = Object.prototype.hasOwnProperty.call(node, p) ? node[p] : undefined;
    else return undefined;
    if (node === undefined) return undefined;
  }
  return node;
}

/** Sets a dotted path in a plain object, creating subdocuments as needed. */
function setPath(doc, path, value) {
  const parts = path.split('.');
  let node = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    if (!isContainer(node[parts[i]])) node[parts[i]] = {};
    node = node[parts[i]];
  }
  node[parts[parts.length - 1]] = value;
}

/** Short rendering of a value in the style of MongoDB error messages. */
function formatValue(v) {
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v !== 'object') return String(v);
  if (Array.isArray(v)) return '[ ' + v.map(formatValue).join(', ') + ' ]';
  if (v instanceof Date) return `new Date(${v.getTime()})`;
  if (isPlainObject(v)) {
    const keys = Object.keys(v);
    return keys.length ? '{ ' + keys.map((k) => `${k}: ${formatValue(v[k])}`).join(', ') + ' }' : '{}';
  }
  switch (v._bsontype) {
    case 'ObjectId': return `ObjectId('${v.toHexString()}')`;
    case 'Long': return v.toString();
    case 'Int32': return String(v.value);
    case 'Double': return Number.isInteger(v.value) ? v.value.toFixed(1) : String(v.value);
    case 'Decimal128': return v.toString();
    default: return String(v);
  }
}

module.exports = {
  VIEW_SOURCE, isPlainObject, isContainer, numericType, toNumber, toView, typedNumber, retype,
  cloneTyped, keyOf, idKeyOf, compareValues, cmpNum, typeRank, encodeStored, decodeStored, valuesAtPath, getPath, setPath, formatValue,
  INT32_MIN, INT32_MAX, Int32, Long, Double, Decimal128,
};
