'use strict';
// Replies on the wire write stored documents as BSON straight from their stored form
// (lib/bsonwrite.js, cursors.js takeBatch, wire.js replyParts): every reply must be the bytes
// the general path (decode the typed document, serialize the reply with the bson library)
// gives, for find, aggregate and getMore, after updates, with _id first where aggregate puts
// it, and with batches cut at the same document near 16 MiB.

const test = require('node:test');
const assert = require('node:assert');
const BSON = require('bson');
const { Int32, Long, Double, Decimal128, ObjectId, Binary } = BSON;
const { newServer, pair, opMsg, seeded } = require('./helpers');
const { handleMessage } = require('../server');
const { RawDoc, StoredDoc, Writer, writeStored } = require('../lib/bsonwrite');
const { runCommand } = require('../lib/commands');
const { serializeReply, ReplyBuffers, buildMsgReply, headedRun } = require('../lib/wire');
const replyCache = require('../lib/replycache');
const { startServer } = require('../tools/standin-process');
const { WireClient } = require('../tools/wireclient');
const path = require('path');
const { demoListings, LISTING_INDEXES } = require('../tools/demo-docs');

const DB = 'raw';
const I = (n) => new Int32(n);
const DESERIALIZE = { promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: false };


let seedCount = 1;

/** Sends cmd to both; requires the same reply bytes (header's requestID aside); returns the reply. */
function same(p, cmd, what = JSON.stringify(Object.keys(cmd))) {
  const seed = seedCount++;
  const a = seeded(seed, () => handleMessage(p.raw.ctx, opMsg(DB, cmd, 7)));
  const b = seeded(seed, () => handleMessage(p.general.ctx, opMsg(DB, cmd, 7)));
  assert.strictEqual(a.readInt32LE(8), 7);
  if (!a.subarray(8).equals(b.subarray(8))) {
    assert.deepStrictEqual(BSON.deserialize(a.subarray(21)), BSON.deserialize(b.subarray(21)), `same reply: ${what}`);
    assert.fail(`same bytes: ${what}`);
  }
  return BSON.deserialize(b.subarray(21), DESERIALIZE);
}

/** A find or aggregate through both, following getMore with batchSize; returns all documents. */
function sameAll(p, cmd, batchSize) {
  const first = same(p, cmd);
  assert.strictEqual(first.ok.valueOf(), 1, JSON.stringify(first));
  const docs = [...first.cursor.firstBatch];
  let id = first.cursor.id;
  while (!id.isZero()) {
    const m = same(p, { getMore: id, collection: first.cursor.ns.split('.').slice(1).join('.'), batchSize: I(batchSize || 0) });
    docs.push(...m.cursor.nextBatch);
    id = m.cursor.id;
  }
  return docs;
}

/** Documents of every type a stored document can hold, and some the writer hands on. */
function oddDocuments() {
  return [
    { _id: I(1), i: I(-7), l: Long.fromNumber(-5), big: Long.fromString('9223372036854775000'), d: new Double(-0), nan: new Double(NaN), inf: new Double(-Infinity), frac: new Double(0.1) },
    { _id: 'two', s: 'plain', u: 'h\u00e9llo \u2713 \ud83d\ude00', lone: 'a\ud800b', long: 'x'.repeat(300) + '\u00e9', empty: '', nul: 'a\u0000b' },
    { _id: new ObjectId('64b7f0c2a1b2c3d4e5f60718'), when: new Date(1700000000123), before: new Date(-86400000), t: true, f: false, n: null },
    { _id: I(4), nested: { a: [I(1), [Long.fromNumber(2), { b: new Double(3.5) }], []], e: {} }, '\u00fcber': I(1), '10': 'ten', '2': 'two', k: 'v' },
    { _id: I(5), dec: Decimal128.fromString('1.10'), bin: new Binary(Buffer.from('abc')), re: /ab+c/i },
    { _id: I(6), arr: Array.from({ length: 1200 }, (_, i) => I(i)) },
    { _id: Long.fromNumber(7), deep: { x: { y: { z: [{ w: 'deep' }] } } } },
    { _id: new Double(8.5), bad: new Date(NaN) },
  ];
}

test('find, aggregate and getMore answer the same bytes from stored BSON as decoded', () => {
  const p = pair();
  const { docs, categories, sellerIds } = demoListings(600, { seed: 7 });
  p.general.ok(DB, { createIndexes: 'listings', indexes: LISTING_INDEXES });
  p.general.ok(DB, { insert: 'listings', documents: docs });
  p.general.ok(DB, { insert: 'odd', documents: oddDocuments() });
  const NEWEST = { created_us: I(-1), _id: I(-1) };
  const cat = categories[3][0];
  const cmds = [
    { aggregate: 'listings', pipeline: [{ $match: { status: 'active', category_path: cat } }, { $sort: NEWEST }, { $limit: I(21) }], cursor: {} },
    { aggregate: 'listings', pipeline: [{ $match: { status: 'active', seller_id: sellerIds[1] } }, { $sort: NEWEST }, { $limit: I(21) }], cursor: {} },
    { aggregate: 'listings', pipeline: [{ $match: { status: 'active', price_minor: { $gte: Long.fromNumber(1000), $lte: Long.fromNumber(90000) } } }, { $sort: { price_minor: I(1), _id: I(1) } }, { $limit: I(21) }], cursor: {} },
    { aggregate: 'listings', pipeline: [{ $match: { status: 'active' } }, { $project: { title: 1, price_minor: 1 } }, { $limit: I(5) }], cursor: {} }, // the engine's output: not raw
    { find: 'listings', filter: { status: 'active', category_path: cat }, sort: NEWEST, limit: I(21) },
    { find: 'listings', filter: { seller_id: sellerIds[2] }, projection: { title: 1 } },
    { find: 'odd', filter: {} },
    { aggregate: 'odd', pipeline: [{ $match: {} }], cursor: {} },
    { find: 'nothing', filter: {} },
  ];
  for (const cmd of cmds) same(p, cmd);
  // The fast path is taken: a reply for the wire holds RawDocs.
  const r = runCommand(p.raw.ctx, { ...cmds[0], $db: DB }, DB);
  assert.ok(r.cursor.firstBatch.length > 0 && r.cursor.firstBatch.every((d) => d instanceof RawDoc), 'raw documents in the batch');
  // Batches and getMore: the default first batch of 101, then small and uneven batches.
  assert.strictEqual(sameAll(p, { find: 'listings', filter: { status: 'active' } }).length, docs.filter((d) => d.status === 'active').length);
  sameAll(p, { find: 'listings', filter: {}, batchSize: I(7) }, 13);
  sameAll(p, { aggregate: 'listings', pipeline: [{ $match: { status: 'active' } }, { $sort: NEWEST }], cursor: { batchSize: I(3) } }, 50);
  assert.strictEqual(sameAll(p, { find: 'odd', filter: {}, batchSize: I(1) }, 1).length, oddDocuments().length);
  // With the profiler on, alike.
  p.general.ok(DB, { profile: 2 });
  same(p, cmds[0]);
  p.general.ok(DB, { profile: 0 });
  p.close();
});

test('after updates of the same documents, and for a cursor opened before them, the bytes are the same', () => {
  const p = pair();
  p.general.ok(DB, { insert: 'u', documents: oddDocuments().slice(0, 4).concat([{ _id: I(10), n: I(1), tags: ['a'] }]) });
  const all = { find: 'u', filter: {}, sort: { _id: I(1) } };
  // A cursor left open with documents still to come.
  const open = same(p, { find: 'u', filter: {}, batchSize: I(1) });
  const updates = [
    { q: { _id: I(10) }, u: { $inc: { n: new Double(0.5) } } },
    { q: { _id: I(10) }, u: { $set: { n: Long.fromNumber(2 ** 40), 'sub.x': 'y' }, $push: { tags: I(3) } } },
    { q: { _id: I(10) }, u: { $set: { n: new Double(-0) }, $unset: { tags: 1 } } },
    { q: { _id: I(4) }, u: { $set: { 'nested.a.0': 'one', '3': I(3) } } },
    { q: { _id: I(1) }, u: { k: 'replaced', i: I(2) } },
    { q: { _id: 'two' }, u: [{ $set: { total: { $add: [I(1), Long.fromNumber(2)] } } }] },
  ];
  for (const u of updates) {
    p.general.ok(DB, { update: 'u', updates: [u] });
    same(p, all, JSON.stringify(u.u));
    same(p, { aggregate: 'u', pipeline: [{ $match: {} }, { $sort: { _id: I(1) } }], cursor: {} });
  }
  // The open cursor gives the documents as they were when it was opened, in both.
  let id = open.cursor.id;
  while (!id.isZero()) id = same(p, { getMore: id, collection: 'u', batchSize: I(2) }).cursor.id;
  p.close();
});

test('aggregate puts _id first, find keeps the stored order: alike from stored bytes', () => {
  const p = pair();
  const coll = p.general.ctx.store.db(DB).getOrCreate('order');
  coll.insert({ a: I(1), _id: I(2), b: 'x' }); // stored with _id second (not through insert's idFirst)
  const f = same(p, { find: 'order', filter: {} });
  assert.deepStrictEqual(Object.keys(f.cursor.firstBatch[0]), ['a', '_id', 'b']);
  const a = same(p, { aggregate: 'order', pipeline: [{ $match: {} }], cursor: {} });
  assert.deepStrictEqual(Object.keys(a.cursor.firstBatch[0]), ['_id', 'a', 'b']);
  p.close();
});

test('a batch near 16 MiB stops at the same document from stored bytes as decoded, by exact sizes', () => {
  const p = pair();
  const MAX = 16 * 1024 * 1024 - 64 * 1024; // cursors.js MAX_BATCH_BYTES
  // Each element of a batch counts its document's BSON size, its type byte, index and NUL.
  // (bson's calculateObjectSize over-counts Int32 values: the documents hold some.)
  const docSize = (len) => BSON.serialize({ _id: 'x', n: I(1), s: 'y'.repeat(len) }).length;
  const first = 9 * 1024 * 1024;
  const rest = MAX - (docSize(first) + 3) - 3; // what the second document (element "1") may take
  const fits = rest - docSize(0); // its string's length when it exactly fits
  const doc = (id, len) => ({ _id: id, n: I(1), s: 'y'.repeat(len) });
  p.general.ok(DB, { insert: 'fit', documents: [doc('a', first), doc('b', fits), doc('c', 1)] });
  p.general.ok(DB, { insert: 'over', documents: [doc('a', first), doc('b', fits + 1), doc('c', 1)] });
  const batch = (c) => same(p, { find: c, filter: {}, sort: { _id: I(1) } }).cursor.firstBatch.map((d) => d._id);
  assert.deepStrictEqual(batch('fit'), ['a', 'b']);
  assert.deepStrictEqual(batch('over'), ['a']);
  // A one-byte string becoming a two-byte one: the bytes, not the characters, count.
  p.general.ok(DB, { update: 'fit', updates: [{ q: { _id: 'b' }, u: { $set: { s: 'y'.repeat(fits - 1) + '\u00e9' } } }] });
  assert.deepStrictEqual(batch('fit'), ['a']);
  const agg = same(p, { aggregate: 'over', pipeline: [{ $match: {} }, { $sort: { _id: I(1) } }], cursor: {} });
  assert.deepStrictEqual(agg.cursor.firstBatch.map((d) => d._id), ['a']);
  p.close();
});

test('the writer takes listings and the common types itself, and hands the rest to the general path', () => {
  const srv = newServer();
  const { docs } = demoListings(200, { seed: 3 });
  srv.ok(DB, { insert: 'listings', documents: docs });
  srv.ok(DB, { insert: 'odd', documents: oddDocuments() });
  const written = (coll) => [...srv.ctx.store.db(DB).get(coll).records.values()].map((rec) => writeStored(new Writer(16), rec.view, rec.sig, rec.exact, false));
  assert.ok(written('listings').every(Boolean), 'every listing by the writer');
  // Decimal128, Binary and RegExp (5) and an invalid Date (8): the general path.
  assert.deepStrictEqual(written('odd'), [true, true, true, true, false, true, true, false]);
  srv.close();
});

// The listing fields browse asks for (src/query/browse.c: the API's fields and the cursor keys).
const BROWSE_PROJECT = Object.fromEntries(['id', 'seller_id', 'title', 'description', 'category', 'condition',
  'price_minor', 'currency', 'location', 'attributes', 'images', 'status', 'version', 'created_at', 'updated_at',
  'seller', 'favorites', 'views', 'created_us', 'dist_m'].map((k) => [k, I(1)]));

/** Reference: a typed document with only _id (first, unless excluded) and the included fields. */
function projectedByHand(doc, spec) {
  const out = {};
  if (spec._id === undefined || Number(spec._id) !== 0) {
    if (Object.keys(doc).includes('_id')) out._id = doc._id;
  }
  for (const [k, v] of Object.entries(doc)) if (k !== '_id' && spec[k] !== undefined && Number(spec[k]) === 1) out[k] = v;
  return out;
}

test('a last $project of top-level fields runs in the scan: the typed documents projected, alike from stored BSON as decoded', () => {
  const p = pair();
  const { docs, categories, sellerIds } = demoListings(500, { seed: 11 });
  p.general.ok(DB, { createIndexes: 'listings', indexes: LISTING_INDEXES });
  p.general.ok(DB, { insert: 'listings', documents: docs });
  // Odd documents: the projection keeps some of their fields and skips others (numbers of
  // every type, exact int64 and Decimal128 before and after the kept fields, nested arrays).
  const odd = oddDocuments().concat([
    { _id: I(20), pre: [Long.fromString('9223372036854775000'), { d: Decimal128.fromString('2.5') }, I(3)], title: 'kept', mid: new Double(1.5), price_minor: Long.fromNumber(7), post: [I(1), Long.fromNumber(-2)], created_us: Long.fromString('9223372036854770000') },
    { _id: I(21), title: I(5), price_minor: I(8), location: { lat: new Double(1), lon: I(2), deep: [Long.fromNumber(3)] } },
    { title: 'id second', _id: I(22), price_minor: new Double(9.5) },
    { _id: I(23), dec: Decimal128.fromString('1.10'), title: Decimal128.fromString('3.3') },
  ]);
  p.general.ok(DB, { insert: 'odd', documents: odd });
  const NEWEST = { created_us: I(-1), _id: I(-1) };
  const [c] = docs[0].geo.coordinates;
  const pipelines = [
    ['listings', [{ $match: { status: 'active', category_path: categories[2][0] } }, { $sort: NEWEST }, { $limit: I(21) }]],
    ['listings', [{ $match: { status: 'active', seller_id: sellerIds[0] } }, { $sort: NEWEST }, { $limit: I(21) }]],
    ['listings', [{ $match: { status: 'active', price_minor: { $gte: Long.fromNumber(100) } } }, { $sort: { price_minor: I(1), _id: I(1) } }]],
    ['listings', [{ $geoNear: { near: { type: 'Point', coordinates: [new Double(c), new Double(docs[0].geo.coordinates[1])] }, distanceField: 'dist_m', maxDistance: new Double(50000), spherical: true, key: 'geo', query: { status: 'active' } } }, { $sort: { dist_m: I(1), _id: I(1) } }, { $limit: I(21) }]],
    ['odd', [{ $match: {} }]],
    ['odd', [{ $match: {} }, { $sort: { _id: I(1) } }, { $limit: I(50) }]],
  ];
  const specs = [BROWSE_PROJECT, { title: I(1), price_minor: true }, { _id: I(0), title: I(1), location: I(1) }, { pre: I(1), post: new Double(1) }];
  let pushed = 0;
  for (const [coll, pipeline] of pipelines) {
    const plain = p.general.all(DB, { aggregate: coll, pipeline, cursor: {} }).docs;
    for (const spec of specs) {
      const cmd = { aggregate: coll, pipeline: [...pipeline, { $project: spec }], cursor: {} };
      const what = `${coll} ${JSON.stringify(pipeline[0])} ${JSON.stringify(spec)}`;
      const got = sameAll(p, cmd, 7);
      assert.deepStrictEqual(BSON.serialize({ v: got }), BSON.serialize({ v: plain.map((d) => projectedByHand(d, spec)) }), what);
      const r = runCommand(p.raw.ctx, { ...cmd, $db: DB }, DB);
      if (!pipeline[0].$geoNear && r.cursor.firstBatch.length && r.cursor.firstBatch.every((d) => d instanceof RawDoc)) pushed++;
    }
  }
  // Every $match pipeline took the raw path (the odd documents' Decimal128 or invalid Date
  // in a kept field make a whole document take the general one: still its bytes, above).
  assert.ok(pushed >= 8, `projected replies written from the stored form: ${pushed}`);
  const probe = runCommand(p.raw.ctx, { aggregate: 'listings', pipeline: [...pipelines[0][1], { $project: BROWSE_PROJECT }], cursor: {}, $db: DB }, DB);
  const bytes = probe.cursor.firstBatch.map((d) => d.bytes.length).reduce((a, b) => a + b, 0);
  const full = runCommand(p.raw.ctx, { aggregate: 'listings', pipeline: pipelines[0][1], cursor: {}, $db: DB }, DB)
    .cursor.firstBatch.map((d) => d.bytes.length).reduce((a, b) => a + b, 0);
  assert.ok(bytes < full * 0.7, `browse's projection writes fewer bytes: ${bytes} of ${full}`);
  // Projections the scan does not take stay with the pipeline engine: exclusions, paths,
  // expressions, a $project followed by other stages.
  for (const spec of [{ keywords: I(0) }, { 'location.city': I(1) }, { t: '$title' }, { title: I(1), _id: '$id' }]) {
    const r = runCommand(p.raw.ctx, { aggregate: 'listings', pipeline: [...pipelines[0][1], { $project: spec }], cursor: {}, $db: DB }, DB);
    assert.ok(r.cursor.firstBatch.length && !r.cursor.firstBatch.some((d) => d instanceof RawDoc), JSON.stringify(spec));
    same(p, { aggregate: 'listings', pipeline: [...pipelines[0][1], { $project: spec }], cursor: {} });
  }
  p.close();
});

test('StoredDoc keeps the version it was made from', () => {
  const srv = newServer();
  srv.ok(DB, { insert: 'v', documents: [{ _id: I(1), a: I(1) }] });
  const rec = srv.ctx.store.db(DB).get('v').records.values().next().value;
  const d = new StoredDoc(rec, false);
  srv.ok(DB, { update: 'v', updates: [{ q: { _id: I(1) }, u: { $set: { a: 'changed' } } }] });
  assert.deepStrictEqual(d.decode(), { _id: I(1), a: I(1) });
  srv.close();
});

test('a raw reply serialized after a later batch was taken is still its own', () => {
  const p = pair();
  const { docs, categories } = demoListings(300, { seed: 9 });
  p.general.ok(DB, { insert: 'listings', documents: docs });
  const cmd = (c) => ({ aggregate: 'listings', pipeline: [{ $match: { category_path: c } }, { $sort: { _id: I(1) } }], cursor: {}, $db: DB });
  const first = runCommand(p.raw.ctx, cmd(categories[0][0]), DB);
  runCommand(p.raw.ctx, cmd(categories[1][0]), DB); // writes its batch where the first one's was
  const want = serializeReply(runCommand(p.general.ctx, cmd(categories[0][0]), DB));
  assert.ok(serializeReply(first).equals(want));
  p.close();
});

test("a batch is its reply array's elements in one run (heads and documents), copied at once; gone after a later batch", () => {
  const p = pair();
  const { docs, categories } = demoListings(300, { seed: 11 });
  p.general.ok(DB, { insert: 'listings', documents: docs });
  const cmd = (c) => ({ aggregate: 'listings', pipeline: [{ $match: { category_path: c } }, { $sort: { _id: I(1) } }, { $limit: I(30) }], cursor: {}, $db: DB });
  for (const pass of ['cold', 'warm']) { // the reply cache's misses, then its hits
    const reply = runCommand(p.raw.ctx, cmd(categories[0][0]), DB);
    const batch = reply.cursor.firstBatch;
    assert.ok(batch.length > 10, pass);
    const run = headedRun(batch);
    assert.ok(run, `one run: ${pass}`);
    const want = runCommand(p.general.ctx, cmd(categories[0][0]), DB);
    const arr = BSON.serialize({ a: want.cursor.firstBatch });
    assert.ok(run.buf.subarray(run.from, run.end).equals(arr.subarray(11, arr.length - 2)), `the array's elements: ${pass}`);
    assert.ok(buildMsgReply(5, reply).subarray(8).equals(buildMsgReply(5, want).subarray(8)), `the reply: ${pass}`);
    if (pass === 'warm' && replyCache.cache.enabled) {
      assert.strictEqual(run.buf.buffer, replyCache.cache.batchArea().buffer, 'written in the reply cache memory');
    }
    runCommand(p.raw.ctx, cmd(categories[1][0]), DB); // writes its batch where this one's was
    assert.strictEqual(headedRun(batch), null, pass);
    assert.ok(serializeReply(reply).equals(serializeReply(want)), `still its own: ${pass}`);
  }
  p.close();
});

test('replies written while the client does not read are each intact (reply buffers are not reused under a pending write)', { timeout: 120000 }, async () => {
  const { child, port } = await startServer(path.join(__dirname, '..', 'server.js'), []);
  const c = await WireClient.connect(port);
  try {
    const { docs, categories } = demoListings(2000, { seed: 11 });
    await c.run(DB, { insert: 'listings', documents: docs });
    const cmds = Array.from({ length: 300 }, (_, i) => ({ aggregate: 'listings', pipeline: [{ $match: { category_path: categories[i % categories.length][1] } }, { $sort: { _id: I(i % 2 ? 1 : -1) } }, { $limit: I(40 + (i % 7)) }], cursor: {} }));
    c.socket.pause(); // replies pile up in the server's socket: its writes stay pending
    const replies = cmds.map((cmd) => c.command(DB, cmd));
    await new Promise((r) => setTimeout(r, 300));
    c.socket.resume();
    const got = await Promise.all(replies);
    for (const [i, cmd] of cmds.entries()) {
      const alone = await c.run(DB, cmd);
      assert.ok(BSON.serialize(got[i]).equals(BSON.serialize(alone)), `reply ${i}`);
    }
  } finally {
    c.close();
    child.kill('SIGTERM');
  }
});

test('ReplyBuffers: one buffer while writes complete, a new one after a pending write, none kept over 1 MiB', () => {
  const b = new ReplyBuffers();
  const a1 = b.alloc(100);
  b.released(false);
  const a2 = b.alloc(200);
  assert.strictEqual(a1.buffer, a2.buffer);
  b.released(true);
  const a3 = b.alloc(100);
  assert.notStrictEqual(a3.buffer, a2.buffer);
  const big = b.alloc(2 * 1024 * 1024);
  assert.notStrictEqual(big.buffer, a3.buffer);
  assert.strictEqual(b.alloc(10).buffer, a3.buffer);
});
