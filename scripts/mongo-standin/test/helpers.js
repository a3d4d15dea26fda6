'use strict';
// In-process access to the stand-in for the node tests: a store and runCommand, no sockets.

const BSON = require('bson');
const { Store } = require('../lib/store');
const { CursorRegistry } = require('../lib/cursors');
const { runCommand } = require('../lib/commands');
const planner = require('../lib/planner');

function newServer() {
  const ctx = { store: new Store(), cursors: new CursorRegistry(), connections: new Set(), conn: { id: 1, remote: 'test' }, log: () => {} };
  const run = (db, cmd) => runCommand(ctx, cmd, db);
  const ok = (db, cmd) => {
    const r = run(db, cmd);
    if (!r.ok || r.ok.valueOf() !== 1) throw new Error(`${Object.keys(cmd)[0]} failed: ${r.errmsg} (${r.code})`);
    return r;
  };
  /** All documents of a find/aggregate, following getMore. */
  const all = (db, cmd) => {
    const r = run(db, cmd);
    if (!r.ok || r.ok.valueOf() !== 1 || !r.cursor) return r;
    const docs = [...r.cursor.firstBatch];
    let id = r.cursor.id;
    while (!id.isZero()) {
      const m = ok(db, { getMore: id, collection: r.cursor.ns.split('.').slice(1).join('.') });
      docs.push(...m.cursor.nextBatch);
      id = m.cursor.id;
    }
    return { ok: 1, docs };
  };
  return { ctx, run, ok, all, close: () => ctx.cursors.close() };
}

/** Two servers on one store: one writes replies from the stored bytes, one decodes. */
function pair() {
  const raw = newServer();
  const general = newServer();
  general.ctx.store = raw.ctx.store;
  raw.ctx.rawReplies = true;
  return { raw, general, close: () => { raw.close(); general.close(); } };
}

/** Runs fn with planner.state[key] set to value, restored after. */
function withPlannerState(key, value, fn) {
  const saved = planner.state[key];
  planner.state[key] = value;
  try {
    return fn();
  } finally {
    planner.state[key] = saved;
  }
}

/** Runs fn with every query planned as a collection scan (the reference behaviour). */
const withoutIndexes = (fn) => withPlannerState('disabled', true, fn);

/** Runs fn without the plan cache and the compiled matcher. */
const withoutCache = (fn) => withPlannerState('cache', false, fn);

/** An OP_MSG request of `cmd` on database `db` (for server.js handleMessage). */
function opMsg(db, cmd, requestID) {
  const body = BSON.serialize({ ...cmd, $db: db });
  const head = Buffer.alloc(21);
  head.writeInt32LE(21 + body.length, 0);
  head.writeInt32LE(requestID, 4);
  head.writeInt32LE(2013, 12);
  return Buffer.concat([head, body]);
}

/** Seeded Math.random for one command (cursor ids): both servers draw the same ids. */
function seeded(seed, fn) {
  const saved = Math.random;
  let a = seed;
  Math.random = () => {
    a = (a * 1103515245 + 12345) % 2147483648;
    return a / 2147483648;
  };
  try {
    return fn();
  } finally {
    Math.random = saved;
  }
}

/** Canonical bytes of a reply or value (numbers keep their BSON types). */
const bytes = (v) => BSON.serialize({ v }).toString('hex');

module.exports = { newServer, pair, withoutIndexes, withoutCache, bytes, opMsg, seeded };
