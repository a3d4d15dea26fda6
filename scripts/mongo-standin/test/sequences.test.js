'use strict';
// OP_MSG document sequences (kind 1: how libmongoc sends an insert's documents and an update's
// statements): each document checked when the message is parsed, a section of at most 16 KB
// kept as checked, a larger one decoded when read (lib/wire.js sequenceOf), and the batched index entries they feed (store.js deferIndexes).

const test = require('node:test');
const assert = require('node:assert');
const BSON = require('bson');
const { Long, Int32 } = BSON;
const wire = require('../lib/wire');
const { handleMessage } = require('../server');
const { newServer, bytes } = require('./helpers');

let requestId = 1;
/** An OP_MSG of body `body` and one document sequence `id` of the documents' bytes. */
function seqMsg(body, id, docBytes) {
  const b = BSON.serialize(body);
  const name = Buffer.from(`${id}\u0000`);
  const seqLen = 4 + name.length + docBytes.reduce((a, d) => a + d.length, 0);
  const head = Buffer.alloc(21);
  head.writeInt32LE(21 + b.length + 1 + seqLen, 0);
  head.writeInt32LE(requestId++, 4);
  head.writeInt32LE(2013, 12);
  const seq = Buffer.alloc(5);
  seq[0] = 1;
  seq.writeInt32LE(seqLen, 1);
  return Buffer.concat([head, b, seq, name, ...docBytes]);
}

const reply = (buf) => BSON.deserialize(buf.subarray(21), { promoteValues: false });

/** A versioned upsert as the projector sends it (src/projector/projections.c). */
const upsert = (id, fields) => ({
  q: { _id: id, version: { $lt: Long.fromNumber(1) } },
  u: { $set: { ...fields, version: Long.fromNumber(1) }, $setOnInsert: { favorites: Long.fromNumber(0) } },
  upsert: true,
});

const uniq = (t) => `${t.name.replace(/\W+/g, '_')}_${process.pid}`;

test('a sequence over 16 KB is an array of its documents, decoded each time one is read (not kept)', () => {
  const docs = [{ a: new Int32(1), s: 'x'.repeat(9000) }, { b: [1, 2, { c: 'é'.repeat(4000) }] }, {}];
  const msg = wire.parseMessage(seqMsg({ insert: 'c', $db: 'd' }, 'documents', docs.map((d) => BSON.serialize(d))));
  const seq = msg.command.documents;
  assert.ok(Array.isArray(seq));
  assert.strictEqual(seq.length, 3);
  assert.deepStrictEqual(Object.keys(seq), ['0', '1', '2']);
  assert.ok(1 in seq && !(3 in seq));
  assert.strictEqual(seq[3], undefined);
  for (let i = 0; i < 3; i++) assert.strictEqual(bytes(seq[i]), bytes(docs[i]));
  assert.strictEqual(bytes([...seq]), bytes(docs));
  assert.strictEqual(bytes(seq.map((d) => d)), bytes(docs));
  // Decoded on each read: the command's reads hold a statement while it is applied, the
  // sequence holds only bytes (before, every document was decoded at parse time and kept).
  assert.notStrictEqual(seq[0], seq[0]);
  assert.throws(() => { 'use strict'; seq[0] = {}; }, TypeError);
});

test('a sequence of at most 16 KB keeps the documents it was checked with (decoded once)', () => {
  const docs = [{ a: new Int32(1), s: 'x' }, { b: [1, 2, { c: 'é' }] }, {}];
  const msg = wire.parseMessage(seqMsg({ insert: 'c', $db: 'd' }, 'documents', docs.map((d) => BSON.serialize(d))));
  const seq = msg.command.documents;
  assert.ok(Array.isArray(seq));
  assert.strictEqual(seq.length, 3);
  for (let i = 0; i < 3; i++) assert.strictEqual(bytes(seq[i]), bytes(docs[i]));
  assert.strictEqual(seq[0], seq[0]); // one decoding, not one per read
  // The same command over the limit is read lazily, with the same documents.
  const big = [...docs, { pad: 'p'.repeat(16 * 1024) }];
  const lazy = wire.parseMessage(seqMsg({ insert: 'c', $db: 'd' }, 'documents', big.map((d) => BSON.serialize(d)))).command.documents;
  assert.notStrictEqual(lazy[0], lazy[0]);
  assert.strictEqual(bytes([...lazy]), bytes(big));
});

test('a bad document anywhere in a sequence refuses the whole message before anything is applied', (t) => {
  const srv = newServer();
  const good = [upsert(`${uniq(t)}_a`, { n: 1 }), upsert(`${uniq(t)}_b`, { n: 2 })].map((d) => BSON.serialize(d));
  const bad = Buffer.from(BSON.serialize(upsert(`${uniq(t)}_c`, { s: 'abc' })));
  bad[bad.indexOf('abc') + 1] = 0xff; // invalid UTF-8 in a string
  assert.throws(() => handleMessage(srv.ctx, seqMsg({ update: 'c', ordered: false, $db: 'd' }, 'updates', [...good, bad])));
  const truncated = Buffer.from(good[1]);
  truncated.writeInt32LE(truncated.length + 4, 0); // a size beyond the section
  assert.throws(() => handleMessage(srv.ctx, seqMsg({ insert: 'c', $db: 'd' }, 'documents', [good[0], truncated])), wire.ProtocolError);
  const found = srv.all('d', { find: 'c', filter: {} });
  assert.ok(found.docs === undefined || found.docs.length === 0, 'nothing applied');
  srv.close();
});

test('inserts, upserts and deletes from sequences apply as from arrays in the body', (t) => {
  const a = newServer();
  const b = newServer();
  const id = uniq(t);
  const ix = { createIndexes: 'c', indexes: [{ key: { words: 1, n: -1 }, name: 'words_n' }, { key: { n: 1 }, name: 'n' }] };
  a.ok('d', ix);
  b.ok('d', ix);
  const docs = Array.from({ length: 6 }, (_, i) => ({ _id: `${id}_${i}`, n: new Int32(i), words: ['w', `w${i % 2}`] }));
  const ups = Array.from({ length: 8 }, (_, i) => upsert(`${id}_u${i}`, { n: new Int32(10 + i), words: [`w${i % 3}`, 'w'] }));
  ups.push(upsert(`${id}_0`, { n: new Int32(99) })); // exists: version guard, no match, duplicate _id
  const cmds = [
    [{ insert: 'c', ordered: true }, 'documents', docs],
    [{ update: 'c', ordered: false }, 'updates', ups],
    [{ delete: 'c', ordered: true }, 'deletes', [{ q: { _id: `${id}_1` }, limit: new Int32(1) }]],
  ];
  for (const [body, name, list] of cmds) {
    const r1 = reply(handleMessage(a.ctx, seqMsg({ ...body, $db: 'd' }, name, list.map((d) => BSON.serialize(d)))));
    const r2 = a === b ? null : b.run('d', { ...body, [name]: list });
    assert.strictEqual(bytes(r1), bytes(BSON.deserialize(BSON.serialize(r2), { promoteValues: false })));
  }
  for (const filter of [{}, { words: 'w1' }, { words: 'w', n: { $gte: new Int32(12) } }]) {
    for (const hint of ['words_n', 'n', { $natural: 1 }]) {
      const q = { find: 'c', filter, hint, sort: { _id: 1 } };
      assert.strictEqual(bytes(a.all('d', q).docs), bytes(b.all('d', q).docs), JSON.stringify(q));
    }
  }
  a.close();
  b.close();
});

test('a batched upsert whose document has too many index keys fails alone; the others are indexed', (t) => {
  const srv = newServer();
  const id = uniq(t);
  srv.ok('d', { createIndexes: 'c', indexes: [{ key: { x: 1, y: 1 }, name: 'x_y' }] });
  const many = Array.from({ length: 400 }, (_, i) => new Int32(i));
  const ups = [upsert(`${id}_0`, { x: [1, 2], y: 3 }), upsert(`${id}_1`, { x: many, y: many }), upsert(`${id}_2`, { x: 5, y: [6, 7] })];
  const r = reply(handleMessage(srv.ctx, seqMsg({ update: 'c', ordered: false, $db: 'd' }, 'updates', ups.map((d) => BSON.serialize(d)))));
  assert.strictEqual(r.n.valueOf(), 2);
  assert.strictEqual(r.writeErrors.length, 1);
  assert.strictEqual(r.writeErrors[0].index.valueOf(), 1);
  assert.match(r.writeErrors[0].errmsg, /too many index keys/);
  const ids = (filter) => srv.all('d', { find: 'c', filter, hint: 'x_y', sort: { _id: 1 } }).docs.map((d) => d._id);
  assert.deepStrictEqual(ids({ x: 2 }), [`${id}_0`]);
  assert.deepStrictEqual(ids({ y: 7 }), [`${id}_2`]);
  assert.deepStrictEqual(ids({}), [`${id}_0`, `${id}_2`]);
  // One document alone (no batch): its error, and it is not stored either.
  const one = srv.run('d', { insert: 'c', documents: [{ _id: `${id}_3`, x: many, y: many }] });
  assert.match(one.writeErrors[0].errmsg, /too many index keys/);
  assert.deepStrictEqual(srv.all('d', { find: 'c', filter: {}, sort: { _id: 1 } }).docs.map((d) => d._id), [`${id}_0`, `${id}_2`]);
  srv.close();
});
