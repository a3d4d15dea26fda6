'use strict';
// Database commands. Each handler gets (ctx, cmd, db) and returns the reply fields (without
// "ok"), or throws a MongoError. ctx = {store, cursors, conn: {id, remote}, startedAt}.

const { serialize, ObjectId, UUID } = require('bson');
const { fail, toMongoError, MongoError, CODES } = require('./errors');
const {
  isPlainObject, numericType, toNumber, toView, keyOf, compareValues, valuesAtPath, Int32, Long, Double,
} = require('./typed');
const { select, explainSelect, compileProjection, intOption, newQuery } = require('./query');
const { applyUpdate, buildUpsert, validateUpdate, idFirst } = require('./update');
const { aggregate, explainAggregate, pushableProject } = require('./aggregate');
const { Index } = require('./store');
const planner = require('./planner');
const profiler = require('./profiler');
const { storedDoc } = require('./cursors');
const replyCache = require('./replycache');

/** serverStatus's standinReplyCache: the reply cache's bound, fill and counters (doubles). */
const replyCacheStatus = () => Object.fromEntries(Object.entries(replyCache.cache.status()).map(([k, v]) => [k, new Double(v)]));

const SERVER_VERSION = '6.0.0';
const MAX_BSON_SIZE = 16777216;

/** An index build over at least this many records ends a bulk load (a rebuild builds its browse
 * indexes last): the server starts its collection at once (server.js). STANDIN_BULK_INDEX_DOCS
 * lowers it for tests. */
const BULK_INDEX_DOCS = Number(process.env.STANDIN_BULK_INDEX_DOCS) > 0 ? Number(process.env.STANDIN_BULK_INDEX_DOCS) : 10000;

// Fields every command may carry; the stand-in ignores them (beyond $db routing).
const GENERIC_FIELDS = new Set(['lsid', 'txnNumber', 'autocommit', 'startTransaction', 'writeConcern',
  'readConcern', 'comment', 'maxTimeMS', 'apiVersion', 'apiStrict', 'apiDeprecationErrors']);

// Known fields per command: MongoDB rejects unknown ones (code 40415), so does the stand-in.
const COMMAND_FIELDS = {
  find: ['filter', 'projection', 'sort', 'hint', 'skip', 'limit', 'batchSize', 'singleBatch', 'max', 'min',
    'returnKey', 'showRecordId', 'tailable', 'oplogReplay', 'noCursorTimeout', 'awaitData',
    'allowPartialResults', 'collation', 'allowDiskUse', 'let', 'readOnce'],
  insert: ['documents', 'ordered', 'bypassDocumentValidation'],
  update: ['updates', 'ordered', 'bypassDocumentValidation', 'let'],
  delete: ['deletes', 'ordered', 'let'],
  findAndModify: ['query', 'sort', 'remove', 'update', 'new', 'fields', 'upsert', 'bypassDocumentValidation',
    'collation', 'arrayFilters', 'hint', 'let'],
  aggregate: ['pipeline', 'explain', 'allowDiskUse', 'cursor', 'bypassDocumentValidation', 'collation',
    'hint', 'let'],
  count: ['query', 'limit', 'skip', 'hint', 'collation', 'fields'],
  distinct: ['key', 'query', 'collation', 'hint'],
  createIndexes: ['indexes', 'commitQuorum'],
  getMore: ['collection', 'batchSize', 'term', 'lastKnownCommittedOpTime'],
  killCursors: ['cursors'],
  listIndexes: ['cursor'],
  listCollections: ['filter', 'nameOnly', 'authorizedCollections', 'cursor'],
  explain: ['verbosity'],
  profile: ['slowms', 'sampleRate', 'filter'],
};
const UPDATE_STATEMENT_FIELDS = new Set(['q', 'u', 'upsert', 'multi', 'arrayFilters', 'collation', 'hint', 'upsertSupplied', 'c']);
const DELETE_STATEMENT_FIELDS = new Set(['q', 'limit', 'collation', 'hint']);

function checkFields(name, cmd) {
  const allowed = COMMAND_FIELDS[name];
  if (!allowed) return;
  for (const k of Object.keys(cmd).slice(1)) {
    if (k.startsWith('$') || GENERIC_FIELDS.has(k) || allowed.includes(k)) continue;
    throw new MongoError(40415, `BSON field '${name}.${k}' is an unknown field.`);
  }
}

function checkStatementFields(kind, stmt, allowed) {
  if (!isPlainObject(stmt)) throw fail('TypeMismatch', `BSON field '${kind}' is the wrong type, expected type 'object'`);
  for (const k of Object.keys(stmt)) {
    if (!allowed.has(k)) throw new MongoError(40415, `BSON field '${kind}.${k}' is an unknown field.`);
  }
  checkCollation(stmt.collation);
}

/** Collations other than "simple" would change comparisons: refuse rather than ignore them. */
function checkCollation(collation) {
  if (collation === undefined || collation === null) return;
  if (isPlainObject(collation) && collation.locale === 'simple') return;
  throw fail('BadValue', 'collations other than {locale: "simple"} are not supported by the mongo stand-in');
}

/** The collection name argument of a command. */
function collectionName(cmd, name) {
  const v = cmd[name];
  if (typeof v !== 'string' || !v) {
    throw fail('InvalidNamespace', `collection name has invalid type ${v === null ? 'null' : typeof v}`);
  }
  return v;
}

function writeError(index, err) {
  const e = toMongoError(err);
  const out = { index, code: e.code };
  if (e.extra) Object.assign(out, e.extra);
  out.errmsg = e.message;
  return out;
}

const sameBytes = (a, b) => serialize(a).equals(serialize(b));
const letVariables = (cmd) => (isPlainObject(cmd.let) ? toView(cmd.let) : undefined);

/** A plain record-like item for projections of documents that are not stored records. */
const itemOf = (doc) => ({ rec: { doc, view: toView(doc) } });

const SIMPLE_OPS = new Set(['$eq', '$ne', '$lt', '$lte', '$gt', '$gte']);
const isScalar = (v) => v === null || typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number' ||
  (typeof v === 'object' && numericType(v) !== null);

/**
 * True when filter q can only match the document whose _id is q._id (a string) and that
 * document does not exist: an upsert then inserts without planning or matching (the
 * projector's versioned upserts of new documents, {_id, version: {$lt: v}}). Only for filters
 * that select() would compile without error (other fields: scalars or one comparison with a
 * scalar), without a hint (an unknown one is an error), while the profiler is off (its
 * entries carry the plan) and while the planner is enabled (the differential test's
 * reference runs the full path).
 */
function absentById(db, coll, q, hint) {
  if (!coll || db.profileLevel || hint !== undefined || planner.state.disabled || !isPlainObject(q) ||
    typeof q._id !== 'string') return false;
  for (const k of Object.keys(q)) {
    if (k === '_id') continue;
    if (k.includes('$') || k === '') return false;
    const v = q[k];
    if (isScalar(v)) continue;
    if (!isPlainObject(v)) return false;
    const ops = Object.keys(v);
    if (ops.length !== 1 || !SIMPLE_OPS.has(ops[0]) || !isScalar(v[ops[0]])) return false;
  }
  return !coll.records.has(q._id);
}

/**
 * Applies one update statement. Returns {n, nModified, upsertedId, before, after}
 * (before/after: typed documents of the first affected document, for findAndModify).
 */
function runUpdate(db, name, stmt) {
  const { q, u, upsert, multi, arrayFilters, sort, variables, hint, stats } = stmt;
  const kind = validateUpdate(u);
  if (multi && kind === 'replacement') throw fail('FailedToParse', 'multi update is not supported for replacement-style update');
  const coll = db.get(name);
  const absent = upsert && absentById(db, coll, q, hint);
  // A statement that plans reads the indexes: records inserted under deferIndexes go in first.
  if (!absent && coll) coll.flushIndexes();
  const items = absent ? [] : select(coll, q, { limit: multi ? 0 : 1, sort, variables, hint, stats });
  const filterView = toView(q || {});
  if (!items.length) {
    if (!upsert) return { n: 0, nModified: 0 };
    const doc = buildUpsert(q || {}, u, { filterView, arrayFilters });
    const target = db.getOrCreate(name);
    if (stmt.deferIndexes) target.deferIndexes();
    target.insert(doc);
    return { n: 1, nModified: 0, upsertedId: doc._id, before: null, after: doc };
  }
  let nModified = 0;
  let before = null;
  let after = null;
  for (const { rec } of items) {
    const old = rec.doc;
    const doc = applyUpdate(old, u, { filterView, arrayFilters, isInsert: false });
    if (!before) { before = old; after = doc; }
    if (sameBytes(old, doc)) continue;
    coll.replace(rec, doc);
    nModified++;
  }
  return { n: items.length, nModified, before, after };
}

function helloReply(ctx, legacyName) {
  const reply = {};
  if (legacyName) reply.ismaster = true;
  reply.isWritablePrimary = true;
  if (!legacyName) reply.ismaster = true;
  Object.assign(reply, {
    helloOk: true,
    maxBsonObjectSize: MAX_BSON_SIZE,
    maxMessageSizeBytes: 48000000,
    maxWriteBatchSize: 100000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId: ctx.conn.id,
    minWireVersion: 0,
    maxWireVersion: 17,
    readOnly: false,
  });
  return reply;
}

const noTransactions = () => {
  throw fail('IllegalOperation', 'Transaction numbers are only allowed on a replica set member or mongos');
};

const handlers = {
  hello: (ctx) => helloReply(ctx, false),
  isMaster: (ctx) => helloReply(ctx, true),
  ismaster: (ctx) => helloReply(ctx, true),
  ping: () => ({}),
  buildInfo: () => ({
    version: SERVER_VERSION,
    gitVersion: 'mongo-standin',
    versionArray: [6, 0, 0, 0].map((n) => new Int32(n)),
    bits: 64,
    debug: false,
    maxBsonObjectSize: MAX_BSON_SIZE,
    storageEngines: ['memory'],
    javascriptEngine: 'none',
    modules: [],
  }),
  endSessions: () => ({}),
  refreshSessions: () => ({}),
  killAllSessions: () => ({}),
  startTransaction: noTransactions,
  commitTransaction: noTransactions,
  abortTransaction: noTransactions,
  whatsmyuri: (ctx) => ({ you: ctx.conn.remote }),
  connectionStatus: () => ({ authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] } }),
  getCmdLineOpts: () => ({ argv: ['mongo-standin'], parsed: {} }),
  serverStatus: (ctx) => ({
    host: 'mongo-standin',
    version: SERVER_VERSION,
    process: 'mongod',
    pid: Long.fromNumber(process.pid),
    uptime: new Double(Math.floor((Date.now() - ctx.startedAt) / 1000)),
    uptimeMillis: Long.fromNumber(Date.now() - ctx.startedAt),
    localTime: new Date(),
    connections: { current: ctx.connections.size, available: 1000000, totalCreated: ctx.conn.id },
    // MongoDB's metrics.cursor.open.total: the cursors a client has not exhausted or killed.
    metrics: { cursor: { open: { total: Long.fromNumber(ctx.cursors.cursors.size) } } },
    standinReplyCache: replyCacheStatus(),
  }),

  insert(ctx, cmd, db) {
    const name = collectionName(cmd, 'insert');
    if (!Array.isArray(cmd.documents)) throw fail('FailedToParse', "BSON field 'insert.documents' is missing but a required field");
    const coll = db.getOrCreate(name);
    const ordered = cmd.ordered !== false;
    let n = 0;
    const writeErrors = [];
    if (cmd.documents.length > 1) coll.deferIndexes(); // entered sorted at the end, as update's upserts
    try {
      for (let i = 0; i < cmd.documents.length; i++) {
        try {
          let doc = cmd.documents[i];
          if (!isPlainObject(doc)) throw fail('TypeMismatch', 'insert documents must be objects');
          if (!('_id' in doc)) doc = { _id: new ObjectId(), ...doc };
          if (Array.isArray(doc._id)) throw fail('BadValue', "can't use an array for _id");
          if (doc._id instanceof RegExp) throw fail('BadValue', "can't use a regex for _id");
          coll.insert(idFirst(doc));
          n++;
        } catch (e) {
          writeErrors.push(writeError(i, e));
          if (ordered) break;
        }
      }
    } finally {
      coll.flushIndexes();
    }
    return writeErrors.length ? { n, writeErrors } : { n };
  },

  find(ctx, cmd, db) {
    const name = collectionName(cmd, 'find');
    let limit = intOption(cmd.limit, 'limit', { allowNegative: true }) || 0;
    let singleBatch = !!cmd.singleBatch;
    if (limit < 0) { limit = -limit; singleBatch = true; }
    const skip = intOption(cmd.skip, 'skip') || 0;
    const batchSize = intOption(cmd.batchSize, 'batchSize');
    const items = select(db.get(name), cmd.filter, {
      sort: cmd.sort, skip, limit, variables: letVariables(cmd), hint: cmd.hint, stats: profiler.stats(ctx),
    });
    // A projection of top-level fields (the projector's {_id: 1}, views' {views: 1}) is written
    // from the stored bytes as the whole document is; others decode each document.
    const top = ctx.rawReplies && cmd.projection !== undefined && cmd.projection !== null ? pushableProject(cmd.projection) : null;
    const project = top ? null : compileProjection(cmd.projection);
    const docs = project ? items.map(project) : items.map((it) => storedDoc(it.rec, ctx.rawReplies, false, top));
    return ctx.cursors.open(`${db.name}.${name}`, docs, { batchSize, singleBatch, source: db.get(name) });
  },

  getMore(ctx, cmd, db) {
    if (numericType(cmd.getMore) !== 'Long') throw fail('TypeMismatch', "BSON field 'getMore.getMore' is the wrong type, expected type 'long'");
    if (typeof cmd.collection !== 'string') throw fail('TypeMismatch', "BSON field 'getMore.collection' is the wrong type, expected type 'string'");
    return ctx.cursors.getMore(cmd.getMore, cmd.collection, db.name, intOption(cmd.batchSize, 'batchSize'), db.get(cmd.collection));
  },

  killCursors(ctx, cmd) {
    collectionName(cmd, 'killCursors');
    if (!Array.isArray(cmd.cursors)) throw fail('FailedToParse', "BSON field 'killCursors.cursors' is missing but a required field");
    return ctx.cursors.kill(cmd.cursors);
  },

  update(ctx, cmd, db) {
    const name = collectionName(cmd, 'update');
    if (!Array.isArray(cmd.updates)) throw fail('FailedToParse', "BSON field 'update.updates' is missing but a required field");
    const ordered = cmd.ordered !== false;
    const variables = letVariables(cmd);
    let n = 0;
    let nModified = 0;
    const upserted = [];
    const writeErrors = [];
    // A batch's upserts of new documents enter the B-tree indexes together, sorted, when the
    // command ends (or before a statement that plans): Collection.deferIndexes.
    const deferIndexes = cmd.updates.length > 1;
    try {
      for (let i = 0; i < cmd.updates.length; i++) {
        try {
          const s = cmd.updates[i];
          checkStatementFields('update.updates', s, UPDATE_STATEMENT_FIELDS);
          if (s.u === undefined) throw fail('FailedToParse', "BSON field 'update.updates.u' is missing but a required field");
          const stats = [];
          const r = runUpdate(db, name, {
            q: s.q, u: s.u, upsert: !!s.upsert, multi: !!s.multi, arrayFilters: s.arrayFilters, variables, hint: s.hint, stats, deferIndexes,
          });
          profiler.statement(ctx, { op: 'update', command: { q: s.q, u: s.u, multi: !!s.multi, upsert: !!s.upsert }, stats, nMatched: r.n, nModified: r.nModified });
          n += r.n;
          nModified += r.nModified;
          if (r.upsertedId !== undefined) upserted.push({ index: i, _id: r.upsertedId });
        } catch (e) {
          writeErrors.push(writeError(i, e));
          if (ordered) break;
        }
      }
    } finally {
      const coll = db.get(name);
      if (coll) coll.flushIndexes();
    }
    const out = { n, nModified };
    if (upserted.length) out.upserted = upserted;
    if (writeErrors.length) out.writeErrors = writeErrors;
    return out;
  },

  delete(ctx, cmd, db) {
    const name = collectionName(cmd, 'delete');
    if (!Array.isArray(cmd.deletes)) throw fail('FailedToParse', "BSON field 'delete.deletes' is missing but a required field");
    const ordered = cmd.ordered !== false;
    const coll = db.get(name);
    let n = 0;
    const writeErrors = [];
    for (let i = 0; i < cmd.deletes.length; i++) {
      try {
        const s = cmd.deletes[i];
        checkStatementFields('delete.deletes', s, DELETE_STATEMENT_FIELDS);
        const limit = toNumber(s.limit);
        if (limit !== 0 && limit !== 1) throw fail('FailedToParse', `The limit field in delete objects must be 0 or 1. Got ${limit}`);
        const stats = [];
        let nd = 0;
        for (const { rec } of select(coll, s.q, { limit, variables: letVariables(cmd), hint: s.hint, stats })) {
          coll.remove(rec);
          nd++;
        }
        n += nd;
        profiler.statement(ctx, { op: 'remove', command: { q: s.q, limit: s.limit }, stats, ndeleted: nd });
      } catch (e) {
        writeErrors.push(writeError(i, e));
        if (ordered) break;
      }
    }
    return writeErrors.length ? { n, writeErrors } : { n };
  },

  findAndModify(ctx, cmd, db) {
    const name = collectionName(cmd, Object.keys(cmd)[0]);
    const remove = !!cmd.remove;
    if (remove && cmd.update !== undefined) throw fail('FailedToParse', 'Cannot specify both an update and remove=true');
    if (!remove && cmd.update === undefined) throw fail('FailedToParse', 'Either an update or remove=true must be specified');
    if (remove && cmd.upsert) throw fail('FailedToParse', 'Cannot specify both upsert=true and remove=true');
    if (remove && cmd.new) throw fail('FailedToParse', "Cannot specify both new=true and remove=true; 'remove' always returns the deleted document");
    const project = compileProjection(cmd.fields);
    const shape = (doc) => (doc === null ? null : project ? project(itemOf(doc)) : doc);
    const variables = letVariables(cmd);
    if (remove) {
      const coll = db.get(name);
      const [item] = select(coll, cmd.query, { sort: cmd.sort, limit: 1, variables, hint: cmd.hint, stats: profiler.stats(ctx) });
      if (!item) return { lastErrorObject: { n: 0 }, value: null };
      const doc = item.rec.doc;
      coll.remove(item.rec);
      return { lastErrorObject: { n: 1 }, value: shape(doc) };
    }
    const r = runUpdate(db, name, {
      q: cmd.query, u: cmd.update, upsert: !!cmd.upsert, multi: false, arrayFilters: cmd.arrayFilters,
      sort: cmd.sort, variables, hint: cmd.hint, stats: profiler.stats(ctx),
    });
    if (r.n === 0) return { lastErrorObject: { n: 0, updatedExisting: false }, value: null };
    if (r.upsertedId !== undefined) {
      return { lastErrorObject: { n: 1, updatedExisting: false, upserted: r.upsertedId }, value: cmd.new ? shape(r.after) : null };
    }
    return { lastErrorObject: { n: 1, updatedExisting: true }, value: shape(cmd.new ? r.after : r.before) };
  },

  count(ctx, cmd, db) {
    const name = collectionName(cmd, 'count');
    let limit = intOption(cmd.limit, 'limit', { allowNegative: true }) || 0;
    if (limit < 0) limit = -limit;
    const skip = intOption(cmd.skip, 'skip') || 0;
    const coll = db.get(name);
    if (cmd.hint !== undefined) planner.choosePlan(coll, { rest: {} }, null, cmd.hint); // an unknown hint fails
    if (!coll) return { n: 0 };
    const filter = cmd.query;
    if (!filter || (isPlainObject(filter) && !Object.keys(filter).length)) {
      const n = Math.max(coll.records.size - skip, 0);
      const st = profiler.stats(ctx);
      if (st) st.push({ plan: { type: 'COUNT' }, keysExamined: 0, docsExamined: 0 });
      return { n: limit ? Math.min(n, limit) : n };
    }
    return { n: select(coll, filter, { skip, limit, hint: cmd.hint, stats: profiler.stats(ctx) }).length };
  },

  distinct(ctx, cmd, db) {
    const name = collectionName(cmd, 'distinct');
    if (typeof cmd.key !== 'string') throw fail('FailedToParse', "BSON field 'distinct.key' is missing but a required field");
    const seen = new Map();
    for (const { rec } of select(db.get(name), cmd.query, { hint: cmd.hint, stats: profiler.stats(ctx) })) {
      for (const v of valuesAtPath(rec.doc, cmd.key)) {
        if (v === undefined) continue;
        const k = keyOf(v);
        if (!seen.has(k)) seen.set(k, v);
      }
    }
    return { values: [...seen.values()].sort((a, b) => compareValues(toView(a), toView(b))) };
  },

  aggregate(ctx, cmd, db) {
    if (cmd.explain) return explainCommand(ctx, cmd, db, 'queryPlanner');
    if (!isPlainObject(cmd.cursor)) {
      throw fail('FailedToParse', "The 'cursor' option is required, except for aggregate with the explain argument");
    }
    const target = cmd.aggregate;
    const dbLevel = numericType(target) && toNumber(target) === 1;
    if (!dbLevel) collectionName(cmd, 'aggregate');
    const docs = aggregate(dbLevel ? null : db.get(target), cmd.pipeline, {
      resolveColl: (n) => db.get(n),
      variables: letVariables(cmd),
      hint: cmd.hint,
      stats: profiler.stats(ctx),
      raw: ctx.rawReplies,
    });
    const ns = dbLevel ? `${db.name}.$cmd.aggregate` : `${db.name}.${target}`;
    return ctx.cursors.open(ns, docs, { batchSize: intOption(cmd.cursor.batchSize, 'batchSize'), source: dbLevel ? null : db.get(target) });
  },

  createIndexes(ctx, cmd, db) {
    const name = collectionName(cmd, 'createIndexes');
    if (!Array.isArray(cmd.indexes) || !cmd.indexes.length) throw fail('BadValue', 'Must specify at least one index to create');
    for (const spec of cmd.indexes) {
      if (!isPlainObject(spec) || !isPlainObject(spec.key)) throw fail('FailedToParse', "The 'key' field is a required property of an index specification");
      if (typeof spec.name !== 'string' || !spec.name) {
        throw fail('FailedToParse', "Error in specification: The 'name' field is a required property of an index specification");
      }
      checkCollation(spec.collation);
      new Index(spec); // validates
    }
    const existed = !!db.get(name);
    const coll = db.getOrCreate(name);
    const before = coll.indexes.length;
    let created = 0;
    try {
      for (const spec of cmd.indexes) if (coll.createIndex(spec)) created++;
    } catch (e) {
      coll.indexes.length = before; // all or nothing
      throw e;
    }
    const out = { numIndexesBefore: before, numIndexesAfter: coll.indexes.length, createdCollectionAutomatically: !existed };
    if (!created) out.note = 'all indexes already exist';
    // A build over a filled collection ends a bulk load: its garbage is collected now (server.js).
    else if (ctx.collectSoon && coll.records.size >= BULK_INDEX_DOCS) ctx.collectSoon(`index build on ${name}, ${coll.records.size} documents`);
    return out;
  },

  listIndexes(ctx, cmd, db) {
    const name = collectionName(cmd, 'listIndexes');
    const coll = db.get(name);
    if (!coll) throw fail('NamespaceNotFound', `ns does not exist: ${db.name}.${name}`);
    const batchSize = isPlainObject(cmd.cursor) ? intOption(cmd.cursor.batchSize, 'batchSize') : undefined;
    return ctx.cursors.open(`${db.name}.${name}`, coll.indexes.map((i) => i.describe()), { batchSize });
  },

  dropIndexes(ctx, cmd, db) {
    const name = collectionName(cmd, Object.keys(cmd)[0]);
    const coll = db.get(name);
    if (!coll) throw fail('NamespaceNotFound', `ns not found ${db.name}.${name}`);
    const nIndexesWas = coll.indexes.length;
    const arg = cmd.index;
    if (arg === '*') coll.indexes.length = 1;
    else if (typeof arg === 'string') coll.dropIndex(arg);
    else if (Array.isArray(arg)) arg.forEach((n) => coll.dropIndex(n));
    else if (isPlainObject(arg)) {
      const sig = JSON.stringify(toView(arg));
      const idx = coll.indexes.find((i) => JSON.stringify(i.key) === sig);
      if (!idx) throw fail('IndexNotFound', `can't find index with key: ${JSON.stringify(toView(arg))}`);
      coll.dropIndex(idx.name);
    } else throw fail('TypeMismatch', "BSON field 'dropIndexes.index' is missing or has the wrong type");
    return { nIndexesWas };
  },

  listCollections(ctx, cmd, db) {
    let infos = [...db.collections.values()].map((c) => ({
      name: c.name,
      type: 'collection',
      options: {},
      info: { readOnly: false, uuid: c.uuid || (c.uuid = new UUID()) },
      idIndex: { v: new Int32(2), key: { _id: new Int32(1) }, name: '_id_' },
    }));
    if (isPlainObject(cmd.filter) && Object.keys(cmd.filter).length) {
      const q = newQuery(toView(cmd.filter));
      infos = infos.filter((i) => q.test(toView(i)));
    }
    if (cmd.nameOnly) infos = infos.map(({ name, type }) => ({ name, type }));
    const batchSize = isPlainObject(cmd.cursor) ? intOption(cmd.cursor.batchSize, 'batchSize') : undefined;
    return ctx.cursors.open(`${db.name}.$cmd.listCollections`, infos, { batchSize });
  },

  listDatabases(ctx, cmd) {
    const dbs = [...ctx.store.dbs.values()].filter((d) => d.collections.size > 0);
    const databases = dbs.map((d) => (cmd.nameOnly ? { name: d.name } : { name: d.name, sizeOnDisk: Long.fromNumber(0), empty: false }));
    return cmd.nameOnly ? { databases } : { databases, totalSize: Long.fromNumber(0), totalSizeMb: Long.fromNumber(0) };
  },

  drop(ctx, cmd, db) {
    const name = collectionName(cmd, 'drop');
    const coll = db.get(name);
    if (!coll) throw fail('NamespaceNotFound', 'ns not found');
    db.collections.delete(name);
    coll.dropped();
    return { nIndexesWas: coll.indexes.length, ns: coll.ns };
  },

  dropDatabase(ctx, cmd, db) {
    ctx.store.dbs.delete(db.name);
    for (const coll of db.collections.values()) coll.dropped();
    return { dropped: db.name };
  },

  create(ctx, cmd, db) {
    const name = collectionName(cmd, 'create');
    if (cmd.viewOn !== undefined) throw fail('BadValue', 'views are not supported by the mongo stand-in');
    if (db.get(name)) throw fail('NamespaceExists', `Collection ${db.name}.${name} already exists.`);
    db.getOrCreate(name);
    return {};
  },

  renameCollection(ctx, cmd, db) {
    if (db.name !== 'admin') throw fail('IllegalOperation', 'renameCollection may only be run against the admin database.');
    const split = (ns) => {
      const i = typeof ns === 'string' ? ns.indexOf('.') : -1;
      if (i <= 0) throw fail('InvalidNamespace', `Invalid namespace specified '${ns}'`);
      return [ns.slice(0, i), ns.slice(i + 1)];
    };
    const [fromDb, fromName] = split(cmd.renameCollection);
    const [toDb, toName] = split(cmd.to);
    const src = ctx.store.db(fromDb);
    const coll = src.get(fromName);
    if (!coll) throw fail('NamespaceNotFound', `Source collection ${cmd.renameCollection} does not exist`);
    const dst = ctx.store.db(toDb);
    if (dst.get(toName)) {
      if (!cmd.dropTarget) throw fail('NamespaceExists', 'target namespace exists');
      const target = dst.get(toName);
      dst.collections.delete(toName);
      target.dropped();
    }
    src.collections.delete(fromName);
    coll.db = dst;
    coll.name = toName;
    dst.collections.set(toName, coll);
    return {};
  },

  explain(ctx, cmd, db) {
    if (!isPlainObject(cmd.explain)) throw fail('TypeMismatch', "BSON field 'explain.explain' is the wrong type, expected type 'object'");
    const verbosity = cmd.verbosity === undefined ? 'allPlansExecution' : cmd.verbosity;
    if (!['queryPlanner', 'executionStats', 'allPlansExecution'].includes(verbosity)) {
      throw fail('BadValue', `verbosity string must be one of {'queryPlanner', 'executionStats', 'allPlansExecution'}`);
    }
    return explainCommand(ctx, cmd.explain, db, verbosity);
  },

  profile(ctx, cmd, db) {
    return profiler.command(ctx, cmd, db);
  },

  dbStats(ctx, cmd, db) {
    let objects = 0;
    let indexes = 0;
    for (const c of db.collections.values()) { objects += c.records.size; indexes += c.indexes.length; }
    return {
      db: db.name, collections: db.collections.size, views: 0, objects, avgObjSize: new Double(0),
      dataSize: new Double(0), storageSize: new Double(0), indexes, indexSize: new Double(0),
    };
  },
};

/**
 * explain of a find / aggregate / count / distinct / update / delete / findAndModify command:
 * queryPlanner.winningPlan in MongoDB's shape; executionStats (running the command's read
 * part) unless verbosity is queryPlanner.
 */
function explainCommand(ctx, inner, db, verbosity) {
  const name = Object.keys(inner)[0];
  const target = inner[name];
  const coll = typeof target === 'string' ? db.get(target) : null;
  const ns = `${db.name}.${typeof target === 'string' ? target : '$cmd.aggregate'}`;
  const variables = letVariables(inner);
  let planned;
  let wrap = (x) => x;
  let opts;
  let filter;
  switch (name) {
    case 'find': case 'count': case 'distinct': {
      filter = name === 'find' ? inner.filter : inner.query;
      opts = {
        sort: name === 'find' ? inner.sort : undefined,
        skip: intOption(inner.skip, 'skip') || 0,
        limit: Math.abs(intOption(inner.limit, 'limit', { allowNegative: true }) || 0),
        variables, hint: inner.hint,
      };
      planned = explainSelect(coll, filter, opts);
      if (name === 'count') {
        const empty = !filter || (isPlainObject(filter) && !Object.keys(filter).length);
        if (empty && inner.hint === undefined) planned.plan = { type: 'COUNT' };
        wrap = (p) => (empty && inner.hint === undefined ? { stage: 'RECORD_STORE_FAST_COUNT' } : { stage: 'COUNT', inputStage: p });
      }
      break;
    }
    case 'update': case 'delete': {
      const list = name === 'update' ? inner.updates : inner.deletes;
      if (!Array.isArray(list) || !list.length || !isPlainObject(list[0])) throw fail('FailedToParse', `explain ${name} needs one statement`);
      const s0 = list[0];
      filter = s0.q;
      opts = { limit: name === 'update' ? (s0.multi ? 0 : 1) : toNumber(s0.limit) || 0, variables, hint: s0.hint };
      planned = explainSelect(coll, filter, opts);
      wrap = (p) => ({ stage: name === 'update' ? 'UPDATE' : 'DELETE', inputStage: p });
      break;
    }
    case 'findAndModify': case 'findandmodify': {
      filter = inner.query;
      opts = { sort: inner.sort, limit: 1, variables, hint: inner.hint };
      planned = explainSelect(coll, filter, opts);
      wrap = (p) => ({ stage: inner.remove ? 'DELETE' : 'UPDATE', inputStage: p });
      break;
    }
    case 'aggregate': {
      const a = explainAggregate(coll, inner.pipeline, { variables, hint: inner.hint });
      const qp = queryPlanner(ns, a.filter, wrap(planner.winningPlan(a.plan, { filter: a.filter, sortKeys: a.sortKeys, limit: a.limit })), a.plan);
      const stages = [{ $cursor: { queryPlanner: qp } }, ...a.rest.map((st) => st)];
      return { explainVersion: '1', queryPlanner: qp, stages, command: inner, serverInfo: serverInfo() };
    }
    default:
      throw fail('CommandNotFound', `Explain failed due to unknown command: ${name}`);
  }
  const { plan, f, sortKeys } = planned;
  const qp = queryPlanner(ns, f.rest, wrap(planner.winningPlan(plan, { filter: f.rest, sortKeys, limit: opts.limit, skip: opts.skip })), plan);
  const out = { explainVersion: '1', queryPlanner: qp };
  if (verbosity !== 'queryPlanner') {
    const stats = [];
    const t0 = Date.now();
    const items = select(coll, filter, { ...opts, stats });
    const st = stats[0] || { keysExamined: 0, docsExamined: 0 };
    out.executionStats = {
      executionSuccess: true,
      nReturned: new Int32(items.length),
      executionTimeMillis: new Int32(Date.now() - t0),
      totalKeysExamined: new Int32(st.keysExamined),
      totalDocsExamined: new Int32(st.docsExamined),
    };
  }
  out.command = inner;
  out.serverInfo = serverInfo();
  return out;
}

/**
 * The queryPlanner section. A plan from the plan cache (planner.js cachedPlan) names its shape
 * (planCacheShapeHash, planCacheKey) and says it came from the cache (fromPlanCache, the
 * stand-in's own field: explain reports the plan a query of that shape runs now).
 */
function queryPlanner(namespace, parsedQuery, winningPlan, plan) {
  const hash = plan && plan.shapeHash;
  return {
    namespace,
    indexFilterSet: false,
    parsedQuery: parsedQuery || {},
    planCacheShapeHash: hash || '00000000',
    ...(hash ? { planCacheKey: hash, fromPlanCache: plan.fromPlanCache === true } : {}),
    maxIndexedOrSolutionsReached: false,
    maxIndexedAndSolutionsReached: false,
    maxScansToExplodeReached: false,
    winningPlan,
    rejectedPlans: [],
  };
}

const serverInfo = () => ({ host: 'mongo-standin', port: 0, version: SERVER_VERSION, gitVersion: 'mongo-standin' });

handlers.findandmodify = handlers.findAndModify;
handlers.buildinfo = handlers.buildInfo;
handlers.deleteIndexes = handlers.dropIndexes;

/**
 * The commands above that never change stored data. runCommand sets ctx.wrote for every other
 * one: server.js counts only writes' bytes toward its incremental collections (a read leaves
 * young garbage only).
 */
const READS = new Set(['find', 'getMore', 'aggregate', 'count', 'distinct', 'killCursors', 'explain',
  'listIndexes', 'listCollections', 'listDatabases', 'hello', 'isMaster', 'ismaster', 'ping', 'buildInfo',
  'buildinfo', 'endSessions', 'serverStatus', 'dbStats', 'whatsmyuri', 'connectionStatus', 'getCmdLineOpts']);

/**
 * Runs a command document against database `dbName` and returns the full reply document
 * (with ok). Never throws.
 */
function runCommand(ctx, cmd, dbName) {
  const name = Object.keys(cmd)[0];
  ctx.wrote = !READS.has(name);
  try {
    const handler = name !== undefined && Object.prototype.hasOwnProperty.call(handlers, name) ? handlers[name] : null;
    if (!handler) throw fail('CommandNotFound', `no such command: '${name}'`);
    if (cmd.txnNumber !== undefined || cmd.startTransaction !== undefined || cmd.autocommit !== undefined) noTransactions();
    checkFields(name === 'findandmodify' ? 'findAndModify' : name, cmd);
    checkCollation(cmd.collation);
    const db = ctx.store.db(dbName || 'admin');
    const op = profiler.begin(ctx, name, cmd, db);
    const reply = handler(ctx, cmd, db);
    if (op) profiler.end(ctx, op, reply);
    return { ...reply, ok: new Double(1) };
  } catch (err) {
    ctx.op = null;
    const e = toMongoError(err);
    if ((err instanceof TypeError || err instanceof ReferenceError || err instanceof RangeError) && ctx.log) ctx.log(`command ${name} failed: ${err && err.stack ? err.stack : err}`);
    const reply = { ok: new Double(0), errmsg: e.message, code: e.code, codeName: e.codeName };
    if (e.extra) Object.assign(reply, e.extra);
    return reply;
  }
}

module.exports = { runCommand, handlers, READS, CODES };
