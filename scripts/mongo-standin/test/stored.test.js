'use strict';
// The stored form (typed.js encodeStored / decodeStored): the numbers a view holds are the
// documents' numbers whatever form V8 keeps them in (small integers, unboxed arrays of
// numbers), and documents come back byte for byte; the string table's restarts change no value.

const test = require('node:test');
const assert = require('node:assert');
const { Int32, Long, Double, Decimal128, serialize } = require('bson');
const { encodeStored, decodeStored, toNumber } = require('../lib/typed');

const hex = (d) => serialize(d).toString('hex');

/** Every number of the view is the typed document's number at the same place (-0 and NaN included). */
function sameNumbers(view, typed, path = '') {
  if (typed !== null && typeof typed === 'object' && ['Int32', 'Long', 'Double'].includes(typed._bsontype)) {
    assert.ok(Object.is(view, toNumber(typed)), `${path}: ${view} for ${typed}`);
    return;
  }
  if (typeof typed === 'number') {
    assert.ok(Object.is(view, typed), `${path}: ${view} for ${typed}`);
    return;
  }
  if (Array.isArray(typed)) {
    assert.ok(Array.isArray(view) && view.length === typed.length, path);
    typed.forEach((x, i) => sameNumbers(view[i], x, `${path}[${i}]`));
    return;
  }
  if (typed !== null && typeof typed === 'object' && typed._bsontype === undefined && !(typed instanceof Date)) {
    for (const k of Object.keys(typed)) sameNumbers(view[k], typed[k], `${path}.${k}`);
  }
}

test('numbers keep their values and types: -0, NaN, integral doubles, int64 edges, arrays of numbers', () => {
  const docs = [
    { _id: 1, a: new Double(-0), b: new Double(0), c: new Double(2), d: new Double(NaN), e: new Double(-Infinity) },
    { _id: 2, a: new Int32(-2147483648), b: new Int32(2147483647), c: Long.fromNumber(2147483648), d: Long.fromNumber(-2147483649) },
    { _id: 3, a: Long.fromString('9007199254740993'), b: Long.fromNumber(-1), c: Long.fromNumber(0), d: Decimal128.fromString('-0') },
    { _id: 4, coordinates: [new Double(13.4), new Double(52.5)], ints: [new Int32(1), Long.fromNumber(2), new Double(3)] },
    { _id: 5, mixed: [new Double(1.5), 'x', new Int32(2), null], zero: [new Double(-0), new Double(0)], nested: [[new Double(1.25)], { x: Long.fromNumber(1e15) }] },
    { _id: 6, plain: -0, p2: 3, p3: 2.5, p4: [0.5, 1, 4294967296], empty: [] }, // in process: plain numbers
  ];
  for (let round = 0; round < 3; round++) { // again with V8's feedback from the earlier rounds
    for (const doc of docs) {
      const s = encodeStored(doc, new Map());
      sameNumbers(s.view, doc, `doc ${doc._id}`);
      const back = decodeStored(s.view, s.sig, s.exact);
      if (doc._id !== 6) assert.strictEqual(hex(back), hex(doc), `doc ${doc._id} round ${round}`);
      else sameNumbers(back.p4.map(toNumber), doc.p4, 'plain numbers come back as typed numbers of their values');
    }
  }
});

test('strings come back equal after the string table starts over', () => {
  const words = ['oak', 'lamp', 'desk'];
  const stored = [];
  for (let i = 0; i < 150000; i++) { // more distinct strings than the table holds (2^16)
    const doc = { _id: `id-${i}`, id: `id-${i}`, w: words[i % 3], t: `title ${i}` };
    const s = encodeStored(doc, null);
    if (i % 9973 === 0) stored.push([doc, s]);
  }
  for (const [doc, s] of stored) assert.strictEqual(hex(decodeStored(s.view, s.sig, s.exact)), hex(doc));
});
