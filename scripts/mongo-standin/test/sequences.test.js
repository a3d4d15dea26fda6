'use strict';
// OP_MSG document sequences of insert, update and delete are decoded statement by statement
// (wire.js SequenceDoc, seqDoc), after the whole message has been checked (plainDocument): the
// replies and the stored documents are those of decoding every document first, and a message
// with a bad document anywhere is refused before any of its statements is applied.

const test = require('node:test');
const assert = require('node:assert');
const BSON = require('bson');
const { Int32, Long, Double, Decimal128, ObjectId, Binary, Timestamp, MinKey, MaxKey, BSONRegExp, Code } = BSON;
const { newServer } = require('./helpers');
const { handleMessage } = require('../server');
const wire = require('../lib/wire');

const DB = 'seq';
const DESERIALIZE = { promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: false };

/** An OP_MSG: body `cmd` and one document sequence `id` of the documents' bytes as given. */
function opMsgSeq(cmd, id, docBytes) {
  const body = BSON.serialize({ ...cmd, $db: DB });
  const ident = Buffer.from(`${id}\u0000`, 'utf8');
  const seqLen = 4 + ident.length + docBytes.reduce((a, d) => a + d.length, 0);
  const head = Buffer.alloc(21);
  head.writeInt32LE(21 + body.length + 1 + seqLen, 0);
  head.writeInt32LE(9, 4);
  head.writeInt32LE(2013, 12);
  const seqHead = Buffer.alloc(5);
  seqHead[0] = 1;
  seqHead.writeInt32LE(seqLen, 1);
  return Buffer.concat([head, body, seqHead, ident, ...docBytes]);
}

const listing = (i) => ({
  _id: `l${i}`, title: `listing ${i}`, price: new Int32(100 + i), big: Long.fromNumber(2 ** 40 + i), d: new Double(i + 0.5),
  words: ['a', 'b', `w${i % 3}`], geo: { type: 'Point', coordinates: [new Double(10 + i / 100), new Double(50)] },
  when: new Date(1700000000000 + i), ok: i % 2 === 0, none: null,
});

const upsert = (i) => ({
  q: { _id: `l${i}`, version: { $lt: Long.fromNumber(2) } },
  u: { $set: { ...listing(i), version: Long.fromNumber(2) }, $setOnInsert: { favorites: Long.fromNumber(0) } },
  upsert: true,
});

/** Every document of DB.listings as BSON bytes, in _id order. */
function stored(s) {
  const r = s.run(DB, { find: 'listings', filter: {}, sort: { _id: 1 }, batchSize: 10000 });
  return r.cursor.firstBatch.map((d) => BSON.serialize(d).toString('hex'));
}

/** The same messages through a server with lazy sequences and one without: replies and stores equal. */
function sameBothWays(messages) {
  const out = [];
  for (const lazy of [true, false]) {
    const s = newServer();
    s.ok(DB, { createIndexes: 'listings', indexes: [{ key: { words: 1, price: -1 }, name: 'w' }, { key: { geo: '2dsphere' }, name: 'g' }] });
    const saved = wire.options.lazySequences;
    wire.options.lazySequences = lazy;
    try {
      const replies = messages.map((m) => BSON.deserialize(handleMessage(s.ctx, m).subarray(21)));
      out.push({ replies: JSON.stringify(replies), docs: stored(s) });
    } finally {
      wire.options.lazySequences = saved;
      s.close();
    }
  }
  assert.strictEqual(out[0].replies, out[1].replies);
  assert.deepStrictEqual(out[0].docs, out[1].docs);
  return out[0];
}

test('the statements of insert, update and delete sequences are left undecoded until their turn', () => {
  const m = opMsgSeq({ update: 'listings', ordered: false }, 'updates', [0, 1, 2].map((i) => BSON.serialize(upsert(i))));
  const msg = wire.parseMessage(m);
  assert.ok(msg.command.updates.every((d) => d instanceof wire.SequenceDoc));
  assert.deepStrictEqual(wire.seqDoc(msg.command.updates, 1), BSON.deserialize(BSON.serialize(upsert(1)), DESERIALIZE));
  // another command's sequence (or a document with a type the check leaves to the decoder) is decoded at once
  const other = wire.parseMessage(opMsgSeq({ find: 'listings' }, 'filter2', [BSON.serialize({ a: 1 })]));
  assert.deepStrictEqual(other.command.filter2, [BSON.deserialize(BSON.serialize({ a: 1 }), DESERIALIZE)]);
  const withRegex = wire.parseMessage(opMsgSeq({ delete: 'listings' }, 'deletes', [BSON.serialize({ q: { t: /x/ }, limit: 0 })]));
  assert.ok(!(withRegex.command.deletes[0] instanceof wire.SequenceDoc));
});

test('sequences decoded statement by statement give the replies and documents of decoding them first', () => {
  const msgs = [
    opMsgSeq({ insert: 'listings', ordered: true }, 'documents', [100, 101, 102].map((i) => BSON.serialize(listing(i)))),
    opMsgSeq({ update: 'listings', ordered: false }, 'updates', [0, 1, 2, 3, 4, 100].map((i) => BSON.serialize(upsert(i)))),
    // a duplicate _id in an ordered insert stops there; in an unordered one it is one write error
    opMsgSeq({ insert: 'listings', ordered: true }, 'documents', [5, 0, 6].map((i) => BSON.serialize(listing(i)))),
    opMsgSeq({ insert: 'listings', ordered: false }, 'documents', [7, 1, 8].map((i) => BSON.serialize(listing(i)))),
    opMsgSeq({ update: 'listings', ordered: true }, 'updates', [
      BSON.serialize({ q: { words: 'w1' }, u: { $inc: { price: new Int32(1) } }, multi: true }),
      BSON.serialize({ q: { _id: 'l2' }, u: { $set: { 'a.b': 1 } }, bogus: 1 }),
      BSON.serialize({ q: { _id: 'l3' }, u: { $set: { x: 1 } } }),
    ]),
    opMsgSeq({ delete: 'listings', ordered: false }, 'deletes', [
      BSON.serialize({ q: { words: 'w0' }, limit: 1 }),
      BSON.serialize({ q: { _id: 'l7' }, limit: 2 }),
      BSON.serialize({ q: { ok: true }, limit: 0 }),
    ]),
  ];
  const r = sameBothWays(msgs);
  assert.ok(r.docs.length > 0);
});

test('a bad document anywhere in a sequence refuses the message before any statement is applied', () => {
  const good = [0, 1].map((i) => BSON.serialize(listing(i)));
  const badString = BSON.serialize({ _id: 'bad', t: 'xx' });
  badString[badString.indexOf(Buffer.from('xx')) + 1] = 0xff; // invalid UTF-8 in a string value
  const badBool = BSON.serialize({ _id: 'bad', b: true });
  badBool[badBool.length - 2] = 2;
  const badSize = BSON.serialize({ _id: 'bad', s: 'abc' });
  badSize.writeInt32LE(99, badSize.indexOf(Buffer.from('abc')) - 4);
  const badNested = BSON.serialize({ _id: 'bad', n: { m: 'x' } });
  badNested[badNested.indexOf(Buffer.from('x\u0000')) + 1] = 7; // the inner document's terminator
  for (const bad of [badString, badBool, badSize, badNested]) {
    assert.throws(() => BSON.deserialize(bad, DESERIALIZE)); // the decoder refuses it too
    for (const [cmd, id, docs] of [
      [{ insert: 'listings', ordered: false }, 'documents', [...good, bad]],
      [{ update: 'listings', ordered: false }, 'updates', [...[0, 1].map((i) => BSON.serialize(upsert(i))), bad]],
      [{ delete: 'listings', ordered: false }, 'deletes', [BSON.serialize({ q: {}, limit: 0 }), bad]],
    ]) {
      const s = newServer();
      s.ok(DB, { insert: 'listings', documents: [listing(50)] });
      assert.throws(() => handleMessage(s.ctx, opMsgSeq(cmd, id, docs)), `${Object.keys(cmd)[0]} refused`);
      assert.deepStrictEqual(s.ok(DB, { find: 'listings', filter: {} }).cursor.firstBatch.map((d) => d._id), ['l50'], 'nothing applied');
      s.close();
    }
  }
});

/** A small deterministic generator. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a * 1664525 + 1013904223) >>> 0;
    return a / 4294967296;
  };
}

test('plainDocument refuses only what BSON.deserialize refuses, and passes only what it decodes', () => {
  const rand = rng(19);
  const values = [
    () => 'plain', () => 'ünï €', () => '', () => new Int32(-5), () => Long.fromNumber(2 ** 60), () => new Double(-0),
    () => true, () => false, () => null, () => undefined, () => new Date(0), () => new ObjectId('5f1d7a3b2c4e6f8a9b0c1d2e'),
    () => Decimal128.fromString('1.5'), () => new Timestamp({ t: 1, i: 2 }), () => new MinKey(), () => new MaxKey(),
    () => [1, 'two', [3]], () => ({ nested: { deeper: ['x'] } }), () => new BSONRegExp('a+', 'i'),
    () => new Binary(Buffer.from([1, 2, 3])), () => new Code('x'),
  ];
  let refused = 0;
  let passed = 0;
  for (let k = 0; k < 3000; k++) {
    const doc = {};
    const n = 1 + Math.floor(rand() * 6);
    for (let i = 0; i < n; i++) doc[`f${i}`] = values[Math.floor(rand() * values.length)]();
    const buf = Buffer.from(BSON.serialize(doc, { ignoreUndefined: false }));
    const flips = Math.floor(rand() * 3);
    for (let f = 0; f < flips; f++) buf[4 + Math.floor(rand() * (buf.length - 4))] = Math.floor(rand() * 256);
    let decoded = true;
    try {
      BSON.deserialize(buf, DESERIALIZE);
    } catch (_) {
      decoded = false;
    }
    let plain;
    try {
      plain = wire.plainDocument(buf, 0, buf.length, 0);
    } catch (e) {
      assert.ok(e instanceof wire.ProtocolError, e.message);
      plain = 'refused';
    }
    if (plain === 'refused') {
      assert.strictEqual(decoded, false, `refused a document the decoder reads: ${buf.toString('hex')}`);
      refused++;
    } else if (plain === true) {
      assert.strictEqual(decoded, true, `passed a document the decoder refuses: ${buf.toString('hex')}`);
      passed++;
    }
  }
  assert.ok(refused > 100 && passed > 100, `both outcomes exercised (${refused} refused, ${passed} passed)`);
});
