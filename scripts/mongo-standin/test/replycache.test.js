'use strict';
// The reply cache (lib/replycache.js): replies for the wire copy records' encoded BSON from a
// bounded cache. Every reply must be the bytes of the cache off and of the decoded (general)
// path, for every shape browse sends, cold and warm; every write path must drop the written
// record's bytes; the bound holds.

const test = require('node:test');
const assert = require('node:assert');
const BSON = require('bson');
const { Int32, Long, Double, Decimal128 } = BSON;
const { newServer, pair, opMsg, seeded } = require('./helpers');
const { handleMessage } = require('../server');
const { RawDoc } = require('../lib/bsonwrite');
const { runCommand } = require('../lib/commands');
const { serializeReply, cursorReply } = require('../lib/wire');
const { encodeStored } = require('../lib/typed');
const replyCache = require('../lib/replycache');
const { demoListings, LISTING_INDEXES, BROWSE_PROJECT, browseMix } = require('../tools/demo-docs');

const { ReplyCache } = replyCache;
const DB = 'rc';
const I = (n) => new Int32(n);
const DESERIALIZE = { promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: false };
const OFF = new ReplyCache(0);
const NEWEST = { created_us: I(-1), _id: I(-1) };

function withCache(c, fn) {
  const old = replyCache.use(c);
  try {
    return fn();
  } finally {
    replyCache.use(old);
  }
}


let seedCount = 1;

/** The replies of cmd and its getMores (batchSize), header's ids aside, on ctx with cache c. */
function pages(ctx, c, cmd, batchSize, seed) {
  return withCache(c, () => {
    const out = [];
    let buf = seeded(seed, () => handleMessage(ctx, opMsg(DB, cmd, 7)));
    out.push(buf.subarray(8));
    for (;;) {
      const r = BSON.deserialize(buf.subarray(21), DESERIALIZE);
      const cur = r.cursor;
      if (!cur || cur.id.isZero()) return out;
      const more = { getMore: cur.id, collection: cur.ns.split('.').slice(1).join('.'), batchSize: I(batchSize || 0) };
      buf = handleMessage(ctx, opMsg(DB, more, 7));
      out.push(buf.subarray(8));
    }
  });
}

/**
 * Runs cmd (and its getMores) decoded, raw with the cache off, and raw with cache `c` twice
 * (cold, then warm); requires the same bytes from all four; returns the warm run's misses.
 */
function same(p, c, cmd, batchSize) {
  const seed = seedCount++;
  const what = JSON.stringify(cmd).slice(0, 200);
  const want = pages(p.general.ctx, OFF, cmd, batchSize, seed);
  const check = (got, how) => {
    assert.strictEqual(got.length, want.length, `${how}: replies of ${what}`);
    got.forEach((b, i) => {
      if (b.equals(want[i])) return;
      assert.deepStrictEqual(BSON.deserialize(b.subarray(13)), BSON.deserialize(want[i].subarray(13)), `${how}: ${what}`);
      assert.fail(`${how}: same bytes: ${what}`);
    });
  };
  check(pages(p.raw.ctx, OFF, cmd, batchSize, seed), 'cache off');
  check(pages(p.raw.ctx, c, cmd, batchSize, seed), 'cache cold');
  const misses = c.stats.misses;
  check(pages(p.raw.ctx, c, cmd, batchSize, seed), 'cache warm');
  return c.stats.misses - misses;
}

function loadListings(p, n, seed) {
  const data = demoListings(n, { seed });
  p.general.ok(DB, { createIndexes: 'listings', indexes: LISTING_INDEXES });
  p.general.ok(DB, { insert: 'listings', documents: data.docs });
  return data;
}

const projected = (cmd) => ({ ...cmd, pipeline: [...cmd.pipeline, { $project: BROWSE_PROJECT }] });

test('every browse shape answers the same bytes with the cache cold, warm and off, and the warm run only hits', () => {
  const p = pair();
  const c = new ReplyCache(8 * 1024 * 1024);
  const data = loadListings(p, 600, 5);
  const shapes = Object.entries(browseMix(data));
  let docs = 0;
  for (const [name, make] of shapes) {
    for (let i = 0; i < 6; i++) {
      for (const cmd of [make(i), projected(make(i))]) {
        assert.strictEqual(same(p, c, cmd), 0, `${name} ${i}: the warm run hits every document`);
        const r = withCache(c, () => runCommand(p.raw.ctx, { ...cmd, $db: DB }, DB));
        docs += r.cursor.firstBatch.length;
        // Every shape, $geoNear's too, is written from the stored bytes.
        assert.ok(r.cursor.firstBatch.every((d) => d instanceof RawDoc), `${name}: raw documents`);
        assert.ok(cursorReply({ ...r }), `${name}: the reply's envelope written by hand`);
      }
    }
  }
  assert.ok(docs > 200, `documents returned: ${docs}`);
  assert.ok(c.stats.hits > docs, `hits ${c.stats.hits}`);
  // find with and without a projection, getMore in uneven batches, aggregate without a limit.
  const cat = data.categories[1][0];
  assert.strictEqual(same(p, c, { find: 'listings', filter: { status: 'active', category_path: cat }, sort: NEWEST, batchSize: I(5) }, 7), 0);
  same(p, c, { find: 'listings', filter: { status: 'active' }, projection: { title: 1 } });
  assert.strictEqual(same(p, c, { aggregate: 'listings', pipeline: [{ $match: { status: 'active' } }, { $sort: NEWEST }, { $project: BROWSE_PROJECT }], cursor: { batchSize: I(3) } }, 50), 0);
  p.close();
});

test('$geoNear from stored bytes: the distance appended as a double, alike with projections, includeLocs and odd fields', () => {
  const p = pair();
  const c = new ReplyCache(8 * 1024 * 1024);
  const data = loadListings(p, 400, 6);
  const [lon, lat] = data.docs[0].geo.coordinates;
  const near = (extra = {}) => ({ near: { type: 'Point', coordinates: [new Double(lon), new Double(lat)] }, distanceField: 'dist_m', maxDistance: new Double(80000), spherical: true, key: 'geo', query: { status: 'active' }, ...extra });
  const agg = (pipeline) => ({ aggregate: 'listings', pipeline, cursor: {} });
  const sorted = [{ $sort: { dist_m: I(1), _id: I(1) } }, { $limit: I(21) }];
  const cmds = [
    agg([{ $geoNear: near() }, ...sorted]),
    agg([{ $geoNear: near() }, ...sorted, { $project: BROWSE_PROJECT }]),
    agg([{ $geoNear: near() }, ...sorted, { $project: { title: I(1) } }]), // the distance not kept
    agg([{ $geoNear: near() }, ...sorted, { $project: { _id: I(0), dist_m: I(1), title: I(1) } }]),
    agg([{ $geoNear: near({ distanceMultiplier: new Double(0.001) }) }, { $limit: I(15) }]),
    agg([{ $geoNear: near({ includeLocs: 'loc' }) }, ...sorted]), // typed path
    agg([{ $geoNear: near({ distanceField: 'd.m' }) }, { $limit: I(15) }]), // typed path
    agg([{ $geoNear: near() }, { $match: { price_minor: { $gte: Long.fromNumber(10) } } }, ...sorted]),
  ];
  for (const cmd of cmds) same(p, c, cmd);
  // A document holding the distance field already: the typed path sets it in its place.
  p.general.ok(DB, { insert: 'listings', documents: [{ ...data.docs[0], _id: 'holds-dist', id: 'holds-dist', dist_m: 'stored', status: 'active' }] });
  for (const cmd of cmds) same(p, c, cmd);
  // Odd values beside the geo point (Decimal128: the general path, cached alike).
  p.general.ok(DB, { insert: 'listings', documents: [{ ...data.docs[1], _id: 'odd', id: 'odd', price_minor: Decimal128.fromString('1.5'), status: 'active' }] });
  for (const cmd of cmds) same(p, c, cmd);
  p.close();
});

test('shapes are keyed apart: projections and _id first never share bytes', () => {
  const p = pair();
  const c = new ReplyCache(1024 * 1024);
  p.general.ok(DB, { insert: 's', documents: [{ title: 'id second', _id: I(1), a: I(2), b: 'x' }, { _id: I(2), title: 't', a: I(3) }] });
  const cmds = [
    { find: 's', filter: {} }, // stored order
    { aggregate: 's', pipeline: [{ $match: {} }], cursor: {} }, // _id first
    { aggregate: 's', pipeline: [{ $match: {} }, { $project: { a: I(1) } }], cursor: {} },
    { aggregate: 's', pipeline: [{ $match: {} }, { $project: { a: I(1), _id: I(0) } }], cursor: {} },
    { aggregate: 's', pipeline: [{ $match: {} }, { $project: { b: I(1), a: I(1) } }], cursor: {} },
    { aggregate: 's', pipeline: [{ $match: {} }, { $project: { a: I(1), b: I(1) } }], cursor: {} }, // the same shape as the one before
  ];
  for (let round = 0; round < 2; round++) for (const cmd of cmds) same(p, c, cmd);
  const rec = [...p.raw.ctx.store.db(DB).get('s').records.values()][0];
  assert.strictEqual(c.entriesOf(rec), 5, 'one entry per distinct output shape');
  p.close();
});

/** Fills the cache with listing `id` (browse's shape and a find by _id); returns its record. */
function fill(p, c, coll, id) {
  same(p, c, { find: coll, filter: { _id: id } });
  same(p, c, { aggregate: coll, pipeline: [{ $match: { _id: id } }, { $project: BROWSE_PROJECT }], cursor: {} });
  const key = typeof id === 'object' ? id.valueOf() : id;
  const rec = [...p.raw.ctx.store.db(DB).get(coll).records.values()].find((r) => r.view._id === key);
  assert.strictEqual(c.entriesOf(rec), 2, `${id} cached`);
  return rec;
}

test('every write path drops the written record\'s bytes, and later replies are the new version\'s', async (t) => {
  const p = pair();
  const c = new ReplyCache(4 * 1024 * 1024);
  const { docs } = loadListings(p, 120, 8);
  const ids = docs.map((d) => d._id);
  const check = (id) => {
    same(p, c, { find: 'listings', filter: { _id: id } });
    same(p, c, { aggregate: 'listings', pipeline: [{ $match: { _id: id } }, { $project: BROWSE_PROJECT }], cursor: {} });
  };
  const version = (id, v) => ({ q: { _id: id, version: { $lt: Long.fromNumber(v) } }, u: { $set: { title: `v${v}`, version: Long.fromNumber(v) } }, upsert: true });
  const writes = [
    ['update $set', (id) => p.general.ok(DB, { update: 'listings', updates: [{ q: { _id: id }, u: { $set: { title: 'changed', views: I(99) } } }] })],
    ['update replacement', (id) => p.general.ok(DB, { update: 'listings', updates: [{ q: { _id: id }, u: { ...docs.find((d) => d._id === id), title: 'replaced' } }] })],
    ['update pipeline', (id) => p.general.ok(DB, { update: 'listings', updates: [{ q: { _id: id }, u: [{ $set: { title: { $concat: ['$title', '!'] } } }] }] })],
    ['updateMany', (id) => p.general.ok(DB, { update: 'listings', updates: [{ q: { _id: { $in: [id, 'none'] } }, u: { $inc: { favorites: I(1) } }, multi: true }] })],
    ["the projector's versioned upsert", (id) => p.general.ok(DB, { update: 'listings', updates: [version(id, 1000)] })],
    ['a bulk update of several statements', (id) => p.general.ok(DB, { update: 'listings', updates: [version('new-one', 1), version(id, 2000), version('new-two', 1)] })],
    ['findAndModify update', (id) => p.general.ok(DB, { findAndModify: 'listings', query: { _id: id }, update: { $set: { status: 'sold' } }, new: true })],
  ];
  for (const [i, [name, write]] of writes.entries()) await t.test(name, () => {
    const id = ids[i];
    const rec = fill(p, c, 'listings', id);
    const before = c.stats.invalidated;
    withCache(c, () => write(id));
    assert.strictEqual(c.entriesOf(rec), 0, `${name}: the record's bytes dropped`);
    assert.ok(c.stats.invalidated > before, name);
    check(id);
    assert.strictEqual(c.entriesOf(rec), 2, `${name}: cached again, as the new version`);
  });
  const removals = [
    ['delete', (id) => p.general.ok(DB, { delete: 'listings', deletes: [{ q: { _id: id }, limit: I(1) }] })],
    ['delete many', (id) => p.general.ok(DB, { delete: 'listings', deletes: [{ q: { _id: { $in: [id] } }, limit: I(0) }] })],
    ['findAndModify remove', (id) => p.general.ok(DB, { findAndModify: 'listings', query: { _id: id }, remove: true })],
  ];
  for (const [i, [name, write]] of removals.entries()) await t.test(name, () => {
    const id = ids[20 + i];
    const rec = fill(p, c, 'listings', id);
    withCache(c, () => write(id));
    assert.strictEqual(c.entriesOf(rec), 0, `${name}: the record's bytes dropped`);
    check(id);
  });
  p.close();
});

test('drop, dropDatabase and renameCollection over a target drop their records\' bytes', () => {
  const p = pair();
  const c = new ReplyCache(4 * 1024 * 1024);
  const docs = [{ _id: 'a', t: 'one' }, { _id: 'b', t: 'two' }];
  const filled = (coll) => fill(p, c, coll, 'a');
  const run = (db, cmd) => withCache(c, () => p.general.ok(db, cmd));
  p.general.ok(DB, { insert: 'd1', documents: docs });
  let rec = filled('d1');
  run(DB, { drop: 'd1' });
  assert.strictEqual(c.entriesOf(rec), 0, 'drop');
  p.general.ok(DB, { insert: 'd2', documents: docs });
  rec = filled('d2');
  run(DB, { dropDatabase: 1 });
  assert.strictEqual(c.entriesOf(rec), 0, 'dropDatabase');
  p.general.ok(DB, { insert: 'd3', documents: docs });
  p.general.ok(DB, { insert: 'd4', documents: [{ _id: 'a', t: 'other' }] });
  rec = filled('d4');
  const moved = filled('d3');
  run('admin', { renameCollection: `${DB}.d3`, to: `${DB}.d4`, dropTarget: true });
  assert.strictEqual(c.entriesOf(rec), 0, 'renameCollection dropTarget');
  assert.strictEqual(c.entriesOf(moved), 2, 'the renamed collection\'s records keep theirs (same documents)');
  same(p, c, { find: 'd4', filter: {} });
  // The same names again hold new records: nothing cached answers for them.
  p.general.ok(DB, { insert: 'd1', documents: [{ _id: 'a', t: 'new' }] });
  same(p, c, { find: 'd1', filter: {} });
  p.close();
});

test('an entry serves only the version it was written from (a write that bypassed invalidation, a cursor opened before a write)', () => {
  const p = pair();
  const c = new ReplyCache(4 * 1024 * 1024);
  p.general.ok(DB, { insert: 'v', documents: [{ _id: I(1), a: 'one' }, { _id: I(2), a: 'two' }, { _id: I(3), a: 'three' }] });
  const rec = fill(p, c, 'v', I(2));
  // A new version set without telling the cache: its view is another object, so it misses.
  const s = encodeStored({ _id: I(2), a: 'sneaked' }, new Map());
  rec.view = s.view;
  rec.sig = s.sig;
  rec.exact = s.exact;
  same(p, c, { find: 'v', filter: {} });
  // A cursor opened before an update, read after the new version is cached: its own version.
  const first = withCache(c, () => runCommand(p.raw.ctx, { find: 'v', filter: {}, batchSize: I(1), $db: DB }, DB));
  const gfirst = runCommand(p.general.ctx, { find: 'v', filter: {}, batchSize: I(1), $db: DB }, DB);
  withCache(c, () => p.general.ok(DB, { update: 'v', updates: [{ q: { _id: I(2) }, u: { $set: { a: 'later' } } }] }));
  same(p, c, { find: 'v', filter: {} });
  const more = (ctx, id) => runCommand(ctx, { getMore: id, collection: 'v', $db: DB }, DB);
  const got = serializeReply(withCache(c, () => more(p.raw.ctx, first.cursor.id)));
  const want = serializeReply(more(p.general.ctx, gfirst.cursor.id));
  assert.deepStrictEqual(BSON.deserialize(got).cursor.nextBatch.map((d) => d.a), ['sneaked', 'three']);
  assert.deepStrictEqual(BSON.deserialize(got).cursor.nextBatch, BSON.deserialize(want).cursor.nextBatch);
  p.close();
});

test('the bound: bytes, entries and entry size stay within the cache\'s limits, evicting the oldest', () => {
  const p = pair();
  const data = loadListings(p, 600, 9);
  const shapes = Object.values(browseMix(data));
  const small = new ReplyCache(64 * 1024);
  const few = new ReplyCache(4 * 1024 * 1024, { maxEntries: 40 });
  for (const c of [small, few]) {
    for (let i = 0; i < 40; i++) {
      const make = shapes[i % shapes.length];
      same(p, c, i % 2 ? projected(make(i)) : make(i));
      assert.ok(c.stats.liveBytes <= c.maxBytes, `live bytes ${c.stats.liveBytes} within ${c.maxBytes}`);
      assert.ok(c.count <= c.maxEntries, `entries ${c.count} within ${c.maxEntries}`);
      assert.ok(c.stats.liveEntries <= c.count);
    }
    assert.strictEqual(c.ring.length, c.maxBytes, 'one ring of the bound');
    assert.ok(c.stats.evicted > 0, 'the oldest were evicted');
    assert.ok(c.stats.hits > 0, 'and it still hits');
    // What is live is what a full scan of the index finds, and the bytes add up.
    let live = 0;
    let bytes = 0;
    for (const rec of p.raw.ctx.store.db(DB).get('listings').records.values()) {
      live += c.entriesOf(rec);
    }
    for (let e = c.oldest; e; e = e.next) if (e.live) bytes += e.len;
    assert.strictEqual(live, c.stats.liveEntries);
    assert.strictEqual(bytes, c.stats.liveBytes);
  }
  // A document over maxEntryBytes is answered, not cached.
  const tiny = new ReplyCache(64 * 1024, { maxEntryBytes: 100 });
  same(p, tiny, { find: 'listings', filter: {}, limit: I(3) });
  assert.strictEqual(tiny.stats.liveEntries, 0);
  // Off: nothing allocated.
  same(p, OFF, { find: 'listings', filter: {}, limit: I(3) });
  assert.strictEqual(OFF.ring, null);
  p.close();
});

test('serverStatus reports the cache; --reply-cache-mb sets its bound and refuses nonsense', () => {
  const { parseArgs } = require('../server');
  assert.strictEqual(parseArgs(['--reply-cache-mb', '0']).replyCacheMb, 0);
  assert.strictEqual(parseArgs(['--reply-cache-mb', '16']).replyCacheMb, 16);
  assert.throws(() => parseArgs(['--reply-cache-mb', '-1']), /reply-cache-mb/);
  assert.throws(() => parseArgs(['--reply-cache-mb', 'x']), /reply-cache-mb/);
  const srv = newServer();
  const c = new ReplyCache(2 * 1024 * 1024);
  const st = withCache(c, () => srv.ok('admin', { serverStatus: 1 })).standinReplyCache;
  assert.strictEqual(Number(st.maxBytes), 2 * 1024 * 1024);
  assert.strictEqual(Number(st.hits), 0);
  srv.close();
});
