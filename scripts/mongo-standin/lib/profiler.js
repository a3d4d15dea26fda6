'use strict';
// The database profiler (`profile` command, `system.profile`), as far as tests need it:
// level 2 records every find, aggregate, count, distinct, findAndModify, insert, update
// statement and delete statement of the database; level 1 those slower than slowms. Each
// entry has op, ns, command, keysExamined, docsExamined, planSummary ("IXSCAN { a: 1 }",
// "COLLSCAN", "IDHACK", ...), millis and ts. system.profile keeps the newest 10000 entries
// (a real server caps it at 1 MB by default).

const { ObjectId } = require('bson');
const { fail } = require('./errors');
const { toNumber, Int32, Long, Double } = require('./typed');
const planner = require('./planner');

const PROFILED = new Set(['find', 'aggregate', 'count', 'distinct', 'findAndModify', 'findandmodify', 'insert', 'update', 'delete']);
const MAX_ENTRIES = 10000;
const PROFILE_COLLECTION = 'system.profile';

/** The stats list the current operation's selects report into (undefined when not profiling). */
const stats = (ctx) => (ctx.op ? ctx.op.stats : undefined);

function begin(ctx, name, cmd, db) {
  ctx.op = null;
  if (!db.profileLevel || !PROFILED.has(name)) return null;
  const target = cmd[name];
  if (typeof target !== 'string' || target.startsWith('system.')) return null;
  ctx.op = { name, cmd, db, ns: `${db.name}.${target}`, t0: process.hrtime.bigint(), stats: [], statements: [] };
  return ctx.op;
}

/** One update / delete statement's entry (the profiler writes one per statement). */
function statement(ctx, entry) {
  if (ctx.op) ctx.op.statements.push(entry);
}

function summaryOf(list) {
  if (!list.length) return undefined;
  const p = list[0].plan;
  return p.type === 'COUNT' ? 'RECORD_STORE_FAST_COUNT' : planner.planSummary(p);
}

/** planCacheShapeHash and fromPlanCache of a plan the plan cache knows (planner.js). */
function cacheFields(e, list) {
  const p = list.length ? list[0].plan : null;
  if (!p || !p.shapeHash) return;
  e.planCacheShapeHash = p.shapeHash;
  e.fromPlanCache = p.fromPlanCache === true;
}

const sum = (list, k) => list.reduce((a, s) => a + s[k], 0);

function end(ctx, op, reply) {
  ctx.op = null;
  const { db, name, cmd } = op;
  const millis = Number((process.hrtime.bigint() - op.t0) / 1000000n);
  if (db.profileLevel === 1 && millis < (db.slowms === undefined ? 100 : db.slowms)) return;
  const base = () => ({ ts: new Date(), client: ctx.conn ? ctx.conn.remote : '', allUsers: [], user: '' });
  const entries = [];
  if (name === 'update' || name === 'delete') {
    for (const st of op.statements) {
      const e = { op: st.op, ns: op.ns, command: st.command, keysExamined: new Int32(sum(st.stats, 'keysExamined')), docsExamined: new Int32(sum(st.stats, 'docsExamined')) };
      if (st.nMatched !== undefined) { e.nMatched = new Int32(st.nMatched); e.nModified = new Int32(st.nModified); }
      if (st.ndeleted !== undefined) e.ndeleted = new Int32(st.ndeleted);
      const summary = summaryOf(st.stats);
      if (summary) e.planSummary = summary;
      cacheFields(e, st.stats);
      e.millis = new Int32(millis);
      entries.push(Object.assign(e, base()));
    }
  } else if (name === 'insert') {
    const { documents, ...rest } = cmd;
    entries.push(Object.assign({ op: 'insert', ns: op.ns, command: rest, ninserted: new Int32(reply.n || 0), millis: new Int32(millis) }, base()));
  } else {
    const e = { op: name === 'find' ? 'query' : 'command', ns: op.ns, command: cmd };
    e.keysExamined = new Int32(sum(op.stats, 'keysExamined'));
    e.docsExamined = new Int32(sum(op.stats, 'docsExamined'));
    if (reply && reply.cursor && reply.cursor.firstBatch) e.nreturned = new Int32(reply.cursor.firstBatch.length);
    const summary = summaryOf(op.stats);
    if (summary) e.planSummary = summary;
    cacheFields(e, op.stats);
    e.millis = new Int32(millis);
    entries.push(Object.assign(e, base()));
  }
  const coll = db.getOrCreate(PROFILE_COLLECTION);
  for (const e of entries) {
    coll.insert({ _id: new ObjectId(), ...e });
    if (coll.records.size > MAX_ENTRIES) coll.remove(coll.records.values().next().value);
  }
}

/** The `profile` command: {profile: -1 (read) | 0 | 1 | 2, slowms}. */
function command(ctx, cmd, db) {
  const level = toNumber(cmd.profile);
  if (![-1, 0, 1, 2].includes(level)) throw fail('BadValue', 'Invalid profiling level');
  const out = {
    was: new Int32(db.profileLevel || 0),
    slowms: new Int32(db.slowms === undefined ? 100 : db.slowms),
    sampleRate: new Double(1),
  };
  if (level >= 0) db.profileLevel = level;
  if (cmd.slowms !== undefined) db.slowms = toNumber(cmd.slowms);
  return out;
}

module.exports = { begin, end, statement, stats, command, PROFILE_COLLECTION, Long };
