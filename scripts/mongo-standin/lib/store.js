'use strict';
// In-memory databases and collections: records keyed by _id, index specs with their
// structures (lib/indexes.js), unique index enforcement (E11000) and the numeric-type hints
// used to retype computed numbers.

const { fail, MongoError, CODES } = require('./errors');
const {
  isPlainObject, toView, keyOf, idKeyOf, valuesAtPath, formatValue, toNumber, Int32, encodeStored, decodeStored,
} = require('./typed');
const { newQuery, withRecord } = require('./query');
const { BTreeIndex, GeoIndex, sameKeys } = require('./indexes');
const { calculateObjectSize } = require('bson');
const replyCache = require('./replycache');

const ID_INDEX_NAME = '_id_';
const MAX_BSON_SIZE = 16 * 1024 * 1024;

const FIXED_SIZE = { Int32: 4, Double: 8, Long: 8, Decimal128: 16, ObjectId: 12, Timestamp: 8 };

/**
 * An upper bound of a typed value's BSON size, without encoding a string (a UTF-16 unit is at
 * most 3 bytes of UTF-8), or Infinity for a type it does not know (then the exact size is
 * computed). `name` is the element's name (an array index: at most 10 digits).
 */
function sizeBound(v, nameBytes) {
  let n = 2 + nameBytes; // type byte, name, its NUL
  if (v === null || v === undefined) return n;
  switch (typeof v) {
    case 'string': return n + 5 + 3 * v.length;
    case 'number': return n + 8;
    case 'boolean': return n + 1;
    case 'object': break;
    default: return Infinity;
  }
  if (Array.isArray(v)) {
    n += 5;
    for (let i = 0; i < v.length; i++) n += sizeBound(v[i], 10);
    return n;
  }
  if (isPlainObject(v) && v._bsontype === undefined) {
    n += 5;
    for (const k of Object.keys(v)) n += sizeBound(v[k], 3 * k.length);
    return n;
  }
  if (v instanceof Date) return n + 8;
  const fixed = FIXED_SIZE[v._bsontype];
  return fixed === undefined ? Infinity : n + fixed;
}

/** mongod refuses documents over 16 MiB; so does the stand-in (it would store them). */
function checkSize(doc) {
  if (sizeBound(doc, 0) - 2 <= MAX_BSON_SIZE) return; // the bound of a document, not of an element
  const n = calculateObjectSize(doc);
  if (n > MAX_BSON_SIZE) throw fail('BSONObjectTooLarge', `object to insert too large. size in bytes: ${n}, max size: ${MAX_BSON_SIZE}`);
}

let lastSeq = 0;

/**
 * A stored document, held once: its view (JS numbers, evaluated by the matcher) and the type
 * signature that rebuilds the typed document (`doc`, a fresh copy on every read). `seq` is
 * the natural order: set at insert, kept by updates.
 */
class Record {
  constructor(doc, hints) {
    this.seq = ++lastSeq;
    this.view = null;
    this.sig = '';
    this.exact = null;
    this.idKey = '';
    this.geoItem = null; // indexes.js soloItem: its point's R-tree item, shared by the 2dsphere indexes
    this.set(doc, hints);
  }

  set(doc, hints) {
    const s = encodeStored(doc, hints);
    this.view = s.view;
    this.sig = s.sig;
    this.exact = s.exact;
    this.idKey = idKeyOf(typeof doc._id === 'string' ? this.view._id : doc._id);
  }

  /** The typed document (rebuilt: callers may keep or change it). */
  get doc() { return decodeStored(this.view, this.sig, this.exact); }
}

const KEY_KINDS = new Set(['text', '2dsphere', '2d', 'hashed']);

class Index {
  /** @param spec typed index spec as sent in createIndexes */
  constructor(spec) {
    if (!isPlainObject(spec.key) || !Object.keys(spec.key).length) {
      throw fail('BadValue', 'Index key pattern must be a non-empty object');
    }
    this.key = {};
    for (const [field, v] of Object.entries(spec.key)) {
      const n = toNumber(v);
      if (typeof v === 'string' ? !KEY_KINDS.has(v) : !(Number.isFinite(n) && n !== 0)) {
        throw fail('BadValue', `Values in the index key pattern can only be non-zero numbers or the strings ${[...KEY_KINDS].join(', ')}: ${field}: ${formatValue(v)}`);
      }
      this.key[field] = typeof v === 'string' ? v : n;
    }
    this.name = typeof spec.name === 'string' && spec.name ? spec.name
      : Object.entries(this.key).map(([f, v]) => `${f}_${v}`).join('_');
    this.unique = !!spec.unique;
    this.sparse = !!spec.sparse;
    this.partialFilter = isPlainObject(spec.partialFilterExpression) ? spec.partialFilterExpression : null;
    this.partialView = this.partialFilter ? toView(this.partialFilter) : null;
    this.partial = this.partialFilter ? newQuery(this.partialView) : null;
    this.textFields = Object.keys(this.key).filter((f) => this.key[f] === 'text');
    this.kind = this.textFields.length ? 'text'
      : Object.values(this.key).find((v) => typeof v === 'string') || 'btree';
    const weights = isPlainObject(spec.weights) ? spec.weights : {};
    this.weights = Object.fromEntries(this.textFields.map((f) => [f, weights[f] !== undefined ? toNumber(weights[f]) : 1]));
    for (const [f, w] of Object.entries(weights)) if (!(f in this.weights)) this.weights[f] = toNumber(w);
    this.language = typeof spec.default_language === 'string' ? spec.default_language : 'english';
    this.options = spec; // kept for listIndexes
    this.entries = this.unique ? new Map() : null; // unique key -> record idKey
    this.structure = this.makeStructure();
  }

  /** The ordered or spatial structure that serves queries (null for text and 2d indexes). */
  makeStructure() {
    let st = null;
    if (this.kind === 'btree' || this.kind === 'hashed') {
      st = new BTreeIndex(Object.entries(this.key).map(([path, v]) => ({ path, dir: v === 'hashed' ? 1 : Math.sign(v) })));
      st.sparse = this.sparse;
    } else if (this.kind === '2dsphere') {
      // Scalar fields before the geo field partition it (indexes.js, GeoIndex).
      const fields = Object.keys(this.key);
      const at = fields.findIndex((f) => this.key[f] === '2dsphere');
      const prefix = fields.slice(0, at);
      st = new GeoIndex(fields[at], prefix.every((f) => typeof this.key[f] === 'number') ? prefix : []);
    }
    if (st && this.partial) {
      const q = this.partial;
      st.filter = (view) => withRecord(null, () => q.test(view));
    }
    return st;
  }

  /** Key pattern as MongoDB prints it in plan summaries: { a: 1, b: -1 }. */
  get keyPatternText() {
    return '{ ' + Object.entries(this.key).map(([f, v]) => `${f}: ${typeof v === 'string' ? JSON.stringify(v) : v}`).join(', ') + ' }';
  }

  /** Signature used to detect equivalent indexes. */
  get signature() {
    return this.kind === 'text' ? 'text' : JSON.stringify(this.key);
  }

  /** The document listIndexes returns, in the shape MongoDB 6 uses. */
  describe() {
    const out = { v: new Int32(2) };
    if (this.kind === 'text') {
      const key = { _fts: 'text', _ftsx: new Int32(1) };
      out.key = key;
    } else {
      out.key = this.options.key;
    }
    out.name = this.name;
    if (this.unique && this.name !== ID_INDEX_NAME) out.unique = true;
    if (this.sparse) out.sparse = true;
    if (this.partialFilter) out.partialFilterExpression = this.partialFilter;
    for (const opt of ['expireAfterSeconds', '2dsphereIndexVersion', 'collation', 'hidden']) {
      if (this.options[opt] !== undefined) out[opt] = this.options[opt];
    }
    if (this.kind === 'text') {
      out.weights = Object.fromEntries(Object.entries(this.weights).map(([f, w]) => [f, new Int32(w)]));
      out.default_language = this.language;
      out.language_override = this.options.language_override || 'language';
      out.textIndexVersion = new Int32(3);
    }
    if (this.kind === '2dsphere' && out['2dsphereIndexVersion'] === undefined) out['2dsphereIndexVersion'] = new Int32(3);
    return out;
  }

  /** Unique keys of a typed document: [{key, values}] (empty when it is not indexed). */
  keysOf(doc, view) {
    if (this.partial && !this.partial.test(view || toView(doc))) return [];
    const fields = Object.keys(this.key);
    const perField = fields.map((f) => {
      const vals = valuesAtPath(doc, f);
      return vals.length ? vals : [undefined];
    });
    if (this.sparse && perField.every((vals) => vals.length === 1 && vals[0] === undefined)) return [];
    let combos = [[]];
    for (const vals of perField) {
      const next = [];
      for (const c of combos) for (const v of vals) next.push([...c, v]);
      combos = next;
    }
    const seen = new Map();
    for (const values of combos) {
      const key = values.map(keyOf).join('\u0000');
      if (!seen.has(key)) seen.set(key, values);
    }
    return [...seen].map(([key, values]) => ({ key, values }));
  }
}

class Collection {
  constructor(db, name) {
    this.db = db;
    this.name = name;
    this.records = new Map(); // idKey -> Record, in insertion (natural) order
    this.indexes = [new Index({ key: { _id: new Int32(1) }, name: ID_INDEX_NAME })];
    this.indexes[0].entries = null; // the _id index is `records` itself
    this.indexes[0].unique = true;
    this.hints = new Map(); // dotted path -> BSON numeric type last stored there
    this.deferred = null; // records inserted under deferIndexes(), not yet in the B-trees
  }

  get ns() { return `${this.db.name}.${this.name}`; }

  textIndex() {
    const idx = this.indexes.find((i) => i.kind === 'text');
    if (!idx) return null;
    return { fields: Object.entries(idx.weights).map(([field, weight]) => ({ field, weight })), language: idx.language };
  }

  geoIndexFor(field, legacy) {
    return this.indexes.find((i) => i.key[field] === '2dsphere' || (legacy && i.key[field] === '2d')) || null;
  }

  geoIndexes() {
    return this.indexes.filter((i) => i.kind === '2dsphere' || i.kind === '2d');
  }

  newRecord(doc) { return new Record(doc, this.hints); }

  duplicateError(index, values) {
    const fields = Object.keys(index.key);
    const keyValue = {};
    fields.forEach((f, i) => { keyValue[f] = values[i] === undefined ? null : values[i]; });
    const shown = fields.map((f) => `${f}: ${formatValue(keyValue[f])}`).join(', ');
    return new MongoError(CODES.DuplicateKey,
      `E11000 duplicate key error collection: ${this.ns} index: ${index.name} dup key: { ${shown} }`,
      { keyPattern: index.options.key, keyValue });
  }

  get hasUniqueEntries() { return this.indexes.some((i) => i.entries); }

  /**
   * Throws E11000 if typed `doc` (for record idKey `idKey`, new or replacing record `old`)
   * collides with another record; returns the unique keys to enter: [[index, keys]].
   */
  checkUnique(doc, view, idKey, old) {
    if (!old || old.idKey !== idKey) {
      if (this.records.has(idKey)) throw this.duplicateError(this.indexes[0], [doc._id]);
    }
    const plans = [];
    for (const index of this.indexes) {
      if (!index.entries) continue;
      const keys = index.keysOf(doc, view);
      for (const { key, values } of keys) {
        const owner = index.entries.get(key);
        if (owner !== undefined && (!old || owner !== old.idKey)) throw this.duplicateError(index, values);
      }
      plans.push([index, keys]);
    }
    return plans;
  }

  insert(doc) {
    if (typeof doc._id === 'string' && doc._id.startsWith('\u0000')) {
      throw fail('BadValue', 'the mongo stand-in refuses string _id values that start with a NUL character');
    }
    checkSize(doc);
    const rec = this.newRecord(doc);
    const plans = this.checkUnique(doc, rec.view, rec.idKey, null);
    // Keys before the record is stored: a document an index refuses (too many keys) is not
    // stored, and is its statement's error (it left the record stored, and in a batch the
    // deferred keys one short, which failed the whole command).
    const d = this.deferred;
    const structures = d ? d.structures : this.indexes.map((i) => i.structure).filter(Boolean);
    const keys = structures.map((st) => (d && st.batchKeys ? st.batchKeys(rec.view) : st.keys ? st.keys(rec.view) : st.points(rec.view)));
    this.records.set(rec.idKey, rec);
    for (const [index, ks] of plans) for (const { key } of ks) index.entries.set(key, rec.idKey);
    if (d) {
      // Entries at flushIndexes().
      d.recs.push(rec);
      keys.forEach((k, i) => d.keys[i].push(k));
      return rec;
    }
    structures.forEach((st, i) => st.add(rec, keys[i]));
    return rec;
  }

  /**
   * From now until flushIndexes(), inserted records enter the ordered (B-tree) indexes in one
   * sorted pass at the flush instead of one by one (the projector's batches of new listings),
   * and the 2dsphere indexes partition by partition (GeoIndex.addMany).
   * Unique checks are unaffected (they use `entries`); every other use of an index structure
   * flushes first (replace, remove, and the commands: update flushes before it plans a
   * statement and when it ends), so nothing reads an index that lacks a record.
   */
  deferIndexes() {
    if (this.deferred) return;
    const structures = this.indexes.map((i) => i.structure).filter((st) => st && st.addMany);
    this.deferred = { recs: [], structures, keys: structures.map(() => []) };
  }

  flushIndexes() {
    const d = this.deferred;
    if (!d) return;
    this.deferred = null;
    if (!d.recs.length) return;
    for (const index of this.indexes) {
      const st = index.structure;
      if (!st) continue;
      const i = d.structures.indexOf(st);
      if (i >= 0) st.addMany(d.recs, d.keys[i]);
      else for (const rec of d.recs) st.add(rec);
    }
  }

  /** Replaces the document of record `rec` (same _id) with `doc`, in place; returns `rec`. */
  replace(rec, doc) {
    this.flushIndexes();
    checkSize(doc);
    const oldDoc = this.hasUniqueEntries ? rec.doc : null;
    const s = encodeStored(doc, this.hints);
    const idKey = idKeyOf(typeof doc._id === 'string' ? s.view._id : doc._id);
    const plans = this.checkUnique(doc, s.view, idKey, rec);
    // Entries change before the record does: a record entered as its own key is ordered by
    // its view, so it leaves the structure while its view is still the old one.
    const changes = [];
    for (const index of this.indexes) {
      const st = index.structure;
      if (!st) continue;
      if (st instanceof GeoIndex) {
        const before = st.points(rec.view);
        const after = st.points(s.view);
        if (JSON.stringify(before) === JSON.stringify(after)) continue;
        st.remove(rec, before);
        changes.push([st, after]);
      } else {
        const before = st.keys(rec.view);
        const after = st.keys(s.view);
        if (sameKeys(before, after, st.compare)) continue;
        st.remove(rec, before);
        changes.push([st, after]);
      }
    }
    if (oldDoc) this.unindexUnique(oldDoc, rec);
    rec.view = s.view;
    rec.sig = s.sig;
    rec.exact = s.exact;
    rec.idKey = idKey;
    replyCache.cache.forget(rec); // its encoded bytes are the old version's
    for (const [index, keys] of plans) for (const { key } of keys) index.entries.set(key, rec.idKey);
    for (const [st, after] of changes) st.add(rec, after);
    return rec;
  }

  remove(rec) {
    this.flushIndexes();
    if (this.hasUniqueEntries) this.unindexUnique(rec.doc, rec);
    for (const index of this.indexes) if (index.structure) index.structure.remove(rec);
    this.records.delete(rec.idKey);
    replyCache.cache.forget(rec);
  }

  /** The collection is dropped: its records' encoded bytes leave the reply cache. */
  dropped() {
    replyCache.cache.forgetAll(this.records.values());
  }

  unindexUnique(doc, rec) {
    for (const index of this.indexes) {
      if (!index.entries) continue;
      for (const { key } of index.keysOf(doc, rec.view)) {
        if (index.entries.get(key) === rec.idKey) index.entries.delete(key);
      }
    }
  }

  /** Adds an index; returns false when an identical one already exists. */
  createIndex(spec) {
    this.flushIndexes();
    const index = new Index(spec);
    for (const existing of this.indexes) {
      const sameKey = existing.signature === index.signature;
      if (existing.name === index.name) {
        if (sameKey && existing.unique === index.unique && existing.sparse === index.sparse) return false;
        throw fail(sameKey ? 'IndexOptionsConflict' : 'IndexKeySpecsConflict',
          `An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: ${formatValue(index.describe())}, existing index: ${formatValue(existing.describe())}`);
      }
      if (sameKey) {
        throw fail('IndexOptionsConflict',
          existing.kind === 'text' && index.kind === 'text'
            ? `An equivalent index already exists with a different name and options. Requested index: ${formatValue(index.describe())}, existing index: ${formatValue(existing.describe())}`
            : `Index already exists with a different name: ${existing.name}`);
      }
    }
    if (index.entries) {
      for (const rec of this.records.values()) {
        for (const { key, values } of index.keysOf(rec.doc, rec.view)) {
          if (index.entries.has(key)) throw this.duplicateError(index, values);
          index.entries.set(key, rec.idKey);
        }
      }
    }
    if (index.structure) index.structure.build(this.records.values());
    this.indexes.push(index);
    return true;
  }

  dropIndex(name) {
    this.flushIndexes();
    if (name === ID_INDEX_NAME) throw fail('InvalidOptions', 'cannot drop _id index');
    const i = this.indexes.findIndex((x) => x.name === name);
    if (i < 0) throw fail('IndexNotFound', `index not found with name [${name}]`);
    this.indexes.splice(i, 1);
  }
}

class Database {
  constructor(name) {
    this.name = name;
    this.collections = new Map();
  }

  get(name) { return this.collections.get(name) || null; }

  getOrCreate(name) {
    let coll = this.collections.get(name);
    if (!coll) {
      validateCollectionName(this.name, name);
      coll = new Collection(this, name);
      this.collections.set(name, coll);
    }
    return coll;
  }
}

function validateCollectionName(db, name) {
  if (typeof name !== 'string' || !name || name.includes('\0') || name.startsWith('.') || name.includes('$')) {
    throw fail('InvalidNamespace', `Invalid collection name: ${db}.${name}`);
  }
}

class Store {
  constructor() { this.dbs = new Map(); }

  db(name) {
    if (typeof name !== 'string' || !name || /[/\\. "$\0]/.test(name)) {
      throw fail('InvalidNamespace', `Invalid database name: '${name}'`);
    }
    let db = this.dbs.get(name);
    if (!db) {
      db = new Database(name);
      this.dbs.set(name, db);
    }
    return db;
  }
}

module.exports = { Store, Database, Collection, Index, Record, ID_INDEX_NAME, validateCollectionName };
