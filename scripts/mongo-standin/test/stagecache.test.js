'use strict';
// wire.js parses a command's repeated pipeline stages ($project, $sort, $limit, $skip) once and
// hands out the same frozen object for the same bytes. The command must be what
// BSON.deserialize gives for the whole body (fields, order, BSON types), hit or miss, for
// every shape of body (pipeline first, last, between other fields, stages holding values the
// cache does not take, bodies it does not walk), and browse's replies through handleMessage
// must be the bytes of the same command deserialized whole.

const test = require('node:test');
const assert = require('node:assert');
const BSON = require('bson');
const { Int32, Long, Double, Decimal128, Binary, BSONRegExp, ObjectId, Timestamp, MinKey } = BSON;
const { newServer, opMsg, seeded, bytes } = require('./helpers');
const { handleMessage } = require('../server');
const wire = require('../lib/wire');
const { runCommand } = require('../lib/commands');
const { demoListings, LISTING_INDEXES, BROWSE_PROJECT, browseMix } = require('../tools/demo-docs');

const DESER = { promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: false };
const I = (n) => new Int32(n);

/** The body of an OP_MSG built by helpers.opMsg. */
const bodyOf = (msg) => msg.subarray(21);

/** The elements of a document's BSON (its bytes without the length and the final NUL). */
const elements = (doc) => {
  const b = BSON.serialize(doc);
  return b.subarray(4, b.length - 1);
};

/** An OP_MSG whose body is made of these element bytes, in order (duplicates allowed). */
function rawMsg(parts) {
  const inner = Buffer.concat(parts);
  const body = Buffer.alloc(inner.length + 5);
  body.writeInt32LE(body.length, 0);
  inner.copy(body, 4);
  const head = Buffer.alloc(21);
  head.writeInt32LE(21 + body.length, 0);
  head.writeInt32LE(3, 4);
  head.writeInt32LE(2013, 12);
  return Buffer.concat([head, body]);
}

/** parseMessage's command is BSON.deserialize's (same keys in order, same bytes). */
function sameParse(msg, what) {
  const expected = BSON.deserialize(bodyOf(msg), DESER);
  for (let pass = 0; pass < 2; pass++) { // a miss, then a hit
    const got = wire.parseMessage(msg).command;
    assert.deepStrictEqual(Object.keys(got), Object.keys(expected), `keys: ${what}`);
    assert.strictEqual(bytes(got), bytes(expected), `bytes: ${what} (pass ${pass})`);
  }
}

const PROJECT = { $project: BROWSE_PROJECT };
const SORT = { $sort: { created_us: I(-1), _id: I(-1) } };

test('commands with cached stages are what BSON.deserialize gives', () => {
  wire.stageCache.clear();
  const lsid = { id: new Binary(Buffer.alloc(16, 7), 4) };
  const bodies = [];
  for (let i = 0; i < 60; i++) {
    const pipeline = [
      { $match: { status: 'active', price_minor: { $gte: Long.fromNumber(i) }, n: i % 3 ? I(i) : new Double(i) } },
      SORT, { $limit: [I(12), Long.fromNumber(12), new Double(12), I(20 + (i % 4))][i % 4] }, { $skip: I(i % 5) }, PROJECT,
    ];
    bodies.push({ aggregate: 'listings', pipeline, cursor: {} });
    bodies.push({ aggregate: 'listings', cursor: { batchSize: I(i) }, lsid, pipeline, $readPreference: { mode: 'primary' } });
    bodies.push({ pipeline: pipeline.slice(1), aggregate: 'listings', cursor: {}, comment: `c${i}` });
  }
  // Stages the cache does not keep: values other than plain ones, other operators, empty stages.
  const odd = [
    { $project: { a: new Decimal128('1.5') } }, { $project: { a: new BSONRegExp('x', 'i') } },
    { $project: { a: new Binary(Buffer.from('ab')) } }, { $project: { a: new Date(5) } }, { $project: { a: new ObjectId('0123456789abcdef01234567') } },
    { $sort: { a: new Timestamp({ t: 1, i: 2 }) } }, { $limit: new MinKey() }, { $project: { 'a.b': I(1), __proto__x: I(1) } },
    { $addFields: { a: I(1) } }, { $group: { _id: null, n: { $sum: I(1) } } }, {}, { $project: {} }, { $project: { x: [I(1), [I(2), 'y'], { z: null }] } },
  ];
  for (const s of odd) bodies.push({ aggregate: 'c', pipeline: [s, s, PROJECT], cursor: {} });
  // Bodies walked only in part or not at all: no pipeline, a pipeline that is not an array of
  // documents, top-level values of every type, a regex before the pipeline.
  bodies.push({ find: 'c', filter: { a: I(1) } });
  bodies.push({ aggregate: 'c', pipeline: [I(1), PROJECT], cursor: {} });
  bodies.push({ aggregate: 'c', pipeline: 'x', cursor: {} });
  bodies.push({ aggregate: 'c', pipeline: [], cursor: {} });
  bodies.push({
    aggregate: 'c', d: new Double(1.5), s: 'str', o: { a: I(1) }, a: [I(1)], b: new Binary(Buffer.from('x')), oid: new ObjectId(), t: true, dt: new Date(1),
    n: null, i: I(1), ts: new Timestamp({ t: 1, i: 1 }), l: Long.fromNumber(1), dec: new Decimal128('2'), min: new MinKey(), pipeline: [SORT, PROJECT], cursor: {},
  });
  bodies.push({ aggregate: 'c', re: new BSONRegExp('a', 'm'), pipeline: [SORT], cursor: {} });
  for (const [k, b] of bodies.entries()) sameParse(opMsg('db', b, 1), `body ${k}`);

  // Duplicate names: the whole body is parsed, and the last value wins as before.
  const pipe = elements({ pipeline: [SORT, PROJECT] });
  sameParse(rawMsg([elements({ aggregate: 'c' }), pipe, elements({ cursor: {} }), elements({ aggregate: 'd' }), elements({ $db: 'x' })]), 'duplicate field');
  sameParse(rawMsg([elements({ aggregate: 'c' }), pipe, pipe, elements({ $db: 'x' })]), 'duplicate pipeline');
  sameParse(rawMsg([elements({ aggregate: 'c', pipeline: 1 }), pipe, elements({ $db: 'x' })]), 'pipeline twice, types differ');
  // Array keys out of order: BSON.deserialize's answer.
  const swapped = Buffer.from(elements({ pipeline: [SORT, PROJECT] }));
  const at0 = swapped.indexOf(Buffer.from('\u00030\u0000', 'latin1'));
  swapped[at0 + 1] = '1'.charCodeAt(0);
  sameParse(rawMsg([elements({ aggregate: 'c' }), swapped, elements({ $db: 'x' })]), 'array keys out of order');
});

test('a repeated stage is one frozen object; others are parsed each time', () => {
  wire.stageCache.clear();
  const cmd = (n) => ({ aggregate: 'c', pipeline: [{ $match: { a: I(n) } }, SORT, { $limit: I(5) }, PROJECT], cursor: {} });
  const h0 = wire.stageCache.stats.hits;
  const a = wire.parseMessage(opMsg('db', cmd(1), 1)).command;
  const b = wire.parseMessage(opMsg('db', cmd(2), 2)).command;
  assert.strictEqual(wire.stageCache.stats.hits - h0, 3);
  for (const i of [1, 2, 3]) {
    assert.strictEqual(a.pipeline[i], b.pipeline[i]);
    assert.ok(Object.isFrozen(a.pipeline[i]) && Object.isFrozen(Object.values(a.pipeline[i])[0]));
  }
  assert.notStrictEqual(a.pipeline[0], b.pipeline[0]);
  assert.ok(!Object.isFrozen(a.pipeline[0]) && !Object.isFrozen(a) && !Object.isFrozen(a.pipeline));
  assert.throws(() => { 'use strict'; a.pipeline[3].$project.title = 0; }, TypeError);
  // A stage the cache does not take is a fresh, writable object.
  const odd = () => wire.parseMessage(opMsg('db', { aggregate: 'c', pipeline: [{ $project: { a: new Decimal128('1') } }], cursor: {} }, 3)).command.pipeline[0];
  const o1 = odd();
  assert.ok(!Object.isFrozen(o1) && o1 !== odd());
});

test("a command's other fields are one frozen object for the same bytes; other bytes are parsed anew", () => {
  wire.stageCache.clear();
  const lsid = { id: new Binary(Buffer.alloc(16, 9), 4) };
  const cmd = (n, extra = {}) => ({ aggregate: 'c', pipeline: [{ $match: { a: I(n) } }, SORT], cursor: {}, $db: 'db', lsid, ...extra });
  const r0 = wire.stageCache.stats.restHits;
  const a = wire.parseMessage(opMsg('db', cmd(1), 1)).command;
  const b = wire.parseMessage(opMsg('db', cmd(2), 2)).command;
  assert.strictEqual(wire.stageCache.stats.restHits - r0, 1);
  assert.notStrictEqual(a, b); // the command itself is a fresh object
  assert.strictEqual(a.lsid, b.lsid);
  assert.strictEqual(a.cursor, b.cursor);
  assert.ok(Object.isFrozen(a.lsid) && Object.isFrozen(a.lsid.id) && Object.isFrozen(a.cursor));
  assert.throws(() => { 'use strict'; a.cursor.batchSize = I(1); }, TypeError);
  // Another session, another collection: their own fields.
  const c = wire.parseMessage(opMsg('db', cmd(3, { lsid: { id: new Binary(Buffer.alloc(16, 8), 4) } }), 3)).command;
  assert.notStrictEqual(c.lsid, a.lsid);
  assert.strictEqual(bytes(c.lsid), bytes({ id: new Binary(Buffer.alloc(16, 8), 4) }));
  const d = wire.parseMessage(opMsg('db', { ...cmd(4), aggregate: 'other' }, 4)).command;
  assert.strictEqual(d.aggregate, 'other');
  // Fields the cache does not take (a Decimal128 in `let`) are parsed each time, writable.
  const odd = () => wire.parseMessage(opMsg('db', cmd(5, { let: { x: new Decimal128('1') } }), 5)).command;
  const o1 = odd();
  assert.ok(!Object.isFrozen(o1.let) && o1.let !== odd().let);
  assert.strictEqual(wire.stageCache.stats.restHits - r0, 1);
});

test("browse's pages through the wire are the replies of the command deserialized whole", () => {
  wire.stageCache.clear();
  const srv = newServer();
  srv.ctx.rawReplies = true;
  const DB = 'sc';
  const data = demoListings(1500, { seed: 5 });
  srv.ok(DB, { createIndexes: 'listings', indexes: LISTING_INDEXES });
  srv.ok(DB, { insert: 'listings', documents: data.docs });
  const mix = browseMix(data);
  let seed = 1;
  for (let i = 0; i < 30; i++) {
    for (const [shape, make] of Object.entries(mix)) {
      const cmd = make(i);
      cmd.pipeline.push(PROJECT);
      const msg = opMsg(DB, cmd, 9);
      for (let pass = 0; pass < 2; pass++) {
        const s = seed++;
        const viaWire = seeded(s, () => handleMessage(srv.ctx, msg));
        const whole = seeded(s, () => wire.buildMsgReply(9, runCommand(srv.ctx, BSON.deserialize(bodyOf(msg), DESER), DB)));
        assert.ok(viaWire.subarray(8).equals(whole.subarray(8)), `${shape} #${i} pass ${pass}`);
        const r = BSON.deserialize(viaWire.subarray(21));
        assert.strictEqual(r.ok, 1, `${shape}: ${r.errmsg}`);
        if (r.cursor.id && !r.cursor.id.isZero()) srv.ok(DB, { killCursors: 'listings', cursors: [r.cursor.id] });
      }
    }
  }
  assert.ok(wire.stageCache.stats.hits > 300);
  srv.close();
});
