'use strict';
// Issue 19, the eighth memory pass: what stored documents and indexes share. The compound
// 2dsphere indexes on one field hold one R-tree item per record (indexes.js soloItem), whose
// box is its point; small containers that repeat across documents are stored once (typed.js
// internBox). Sharing must change no answer: a write to one document leaves the others as
// they were.

const test = require('node:test');
const assert = require('node:assert');
const { Int32, Long, Double, serialize } = require('bson');
const { newServer } = require('./helpers');

const DB = 'share';
const I = (n) => new Int32(n);
const pt = (lon, lat) => ({ type: 'Point', coordinates: [new Double(lon), new Double(lat)] });

/** Every R-tree leaf entry of a GeoIndex (all partitions). */
function leafEntries(structure) {
  const out = [];
  const walk = (node) => {
    for (const c of node.children) {
      if (node.leaf) out.push(c);
      else walk(c);
    }
  };
  for (const part of structure.parts.values()) walk(part.tree.data);
  return out;
}

function geoSetup() {
  const srv = newServer();
  srv.ok(DB, { createIndexes: 'l', indexes: [
    { key: { status: I(1), geo: '2dsphere' }, name: 'status_geo' },
    { key: { status: I(1), keywords: I(1), geo: '2dsphere' }, name: 'status_keywords_geo' },
  ] });
  const docs = [];
  for (let i = 0; i < 40; i++) {
    docs.push({ _id: `d${i}`, status: 'active', keywords: ['bike', `w${i % 3}`], geo: pt(13 + i * 0.01, 52 + (i % 5) * 0.01) });
  }
  srv.ok(DB, { insert: 'l', documents: docs });
  const coll = srv.ctx.store.db(DB).get('l');
  coll.flushIndexes();
  const geo = coll.indexes.filter((ix) => ix.kind === '2dsphere').map((ix) => ix.structure);
  return { srv, coll, geo };
}

const near = (srv, word, lon, lat) => srv.all(DB, { aggregate: 'l', cursor: {}, pipeline: [
  { $geoNear: { near: pt(lon, lat), distanceField: 'd', maxDistance: new Double(50000), spherical: true, key: 'geo', query: { status: 'active', keywords: word } } },
  { $sort: { d: I(1), _id: I(1) } }, { $limit: I(5) }] }).docs.map((d) => d._id);

test('the compound 2dsphere indexes on one field share one item per record, its box its point', () => {
  const { srv, coll, geo } = geoSetup();
  const rec = coll.records.get([...coll.records.keys()][7]);
  const mine = geo.map((st) => leafEntries(st).filter((e) => e.rec === rec));
  assert.strictEqual(mine[0].length, 1); // status_geo: one partition
  assert.strictEqual(mine[1].length, 2); // status_keywords_geo: one per word
  for (const e of [...mine[0], ...mine[1]]) assert.strictEqual(e, mine[0][0]);
  const item = mine[0][0];
  assert.deepStrictEqual(Object.keys(item), ['minX', 'minY', 'rec']); // two stored doubles, not four
  assert.strictEqual(item.maxX, item.minX);
  assert.strictEqual(item.maxY, item.minY);
  assert.strictEqual(rec.geoItem, item);

  // A move: both indexes hold the new point's item, shared again; nothing at the old point.
  const before = near(srv, 'w1', 13.07, 52.02);
  srv.ok(DB, { update: 'l', updates: [{ q: { _id: 'd7' }, u: { $set: { geo: pt(14, 53) } } }] });
  const moved = geo.map((st) => leafEntries(st).filter((e) => e.rec === rec));
  assert.strictEqual(moved[1].length, 2);
  for (const e of [...moved[0], ...moved[1]]) assert.strictEqual(e, moved[0][0]);
  assert.deepStrictEqual([moved[0][0].minX, moved[0][0].minY], [14, 53]);
  assert.ok(!before.includes('d7') || !near(srv, 'w1', 13.07, 52.02).includes('d7'));
  assert.deepStrictEqual(near(srv, 'w1', 14, 53)[0], 'd7');
  srv.close();
});

test('items are shared by an index build too, and removals find them', () => {
  const { srv, coll, geo } = geoSetup();
  srv.ok(DB, { dropIndexes: 'l', index: 'status_keywords_geo' });
  srv.ok(DB, { createIndexes: 'l', indexes: [{ key: { status: I(1), keywords: I(1), geo: '2dsphere' }, name: 'status_keywords_geo' }] });
  const built = coll.indexes.find((ix) => ix.name === 'status_keywords_geo').structure;
  const rec = coll.records.get([...coll.records.keys()][3]);
  const entries = [geo[0], built].flatMap((st) => leafEntries(st).filter((e) => e.rec === rec));
  assert.strictEqual(entries.length, 3);
  for (const e of entries) assert.strictEqual(e, entries[0]);
  srv.ok(DB, { delete: 'l', deletes: [{ q: { _id: 'd3' }, limit: I(1) }] });
  assert.strictEqual([geo[0], built].flatMap((st) => leafEntries(st).filter((e) => e.rec === rec)).length, 0);
  assert.ok(!near(srv, 'bike', 13.03, 52.03).includes('d3'));
  srv.close();
});

test('small containers that repeat are stored once; a write to one document changes no other', () => {
  const srv = newServer();
  const docs = [0, 1, 2].map((i) => ({
    _id: i, path: ['home', 'home/kitchen'], attributes: { brand: 'oak', colour: 'red' },
    rating: { average: null, count: i === 2 ? I(0) : Long.fromNumber(0) }, images: [], z: { v: new Double(i === 1 ? -0 : 0) },
  }));
  srv.ok(DB, { insert: 'c', documents: docs });
  const recs = [...srv.ctx.store.db(DB).get('c').records.values()];
  for (const f of ['path', 'attributes', 'rating', 'images']) assert.strictEqual(recs[0].view[f], recs[1].view[f], f);
  assert.strictEqual(recs[0].view.rating, recs[2].view.rating); // one view; each keeps its own types
  assert.notStrictEqual(recs[0].view.z, recs[1].view.z); // -0 is not 0
  const back = srv.all(DB, { find: 'c', filter: {}, sort: { _id: I(1) } }).docs;
  back.forEach((d, i) => assert.strictEqual(serialize(d).toString('hex'), serialize(docs[i]).toString('hex')));

  srv.ok(DB, { update: 'c', updates: [{ q: { _id: 1 }, u: { $push: { path: 'home/kitchen/pans', images: 'x' }, $set: { 'attributes.colour': 'blue' }, $inc: { 'rating.count': I(1) } } }] });
  const after = srv.all(DB, { find: 'c', filter: {}, sort: { _id: I(1) } }).docs;
  assert.strictEqual(serialize(after[0]).toString('hex'), serialize(docs[0]).toString('hex'));
  assert.strictEqual(serialize(after[2]).toString('hex'), serialize(docs[2]).toString('hex'));
  assert.deepStrictEqual(after[1].path, ['home', 'home/kitchen', 'home/kitchen/pans']);
  assert.deepStrictEqual(after[1].images, ['x']);
  assert.strictEqual(after[1].attributes.colour, 'blue');
  assert.strictEqual(after[1].rating.count.toNumber(), 1);
  assert.strictEqual(srv.all(DB, { find: 'c', filter: { 'attributes.colour': 'red' } }).docs.length, 2);
  srv.close();
});
