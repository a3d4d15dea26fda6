'use strict';
// Stored documents written as BSON straight from their stored form (typed.js encodeStored: the
// view, the numeric type signature, the exact values), without rebuilding the typed document
// and without the bson library's generic serializer: over the wire, a browse page's 21
// listings were decoded into typed documents only to be serialized again (decoding, the
// serializer and the garbage they left were half of a query's CPU).
//
// The bytes are those BSON.serialize(decodeStored(view, sig, exact)) gives: a document holding
// anything this writer does not know (a type other than strings, numbers, booleans, null,
// documents, arrays, ObjectId and Date; a key with a NUL character; an object that is not a
// plain one) is handed to that general path whole. test/rawreply.test.js holds them equal.

const BSON = require('bson');
const { decodeStored, isPlainObject } = require('./typed');

const SERIALIZE_OPTIONS = { checkKeys: false, ignoreUndefined: true, serializeFunctions: false };

/** A stored version of a document, to be written as BSON when its batch is built. */
class StoredDoc {
  constructor(rec, idFirst, fields = null, extra = null) {
    // The view, signature and exact values of a version are never changed in place (a write
    // replaces them): holding them is holding the document as it was read. The record itself
    // keys replycache.js's entries (which serve only this view).
    this.rec = rec;
    this.view = rec.view;
    this.sig = rec.sig;
    this.exact = rec.exact;
    this.idFirst = idFirst; // put _id first (aggregate's output), as update.js idFirst does
    this.fields = fields; // a pushed top-level inclusion projection (projectTop), or null
    // {key, value}: a double appended last ($geoNear's distance, a field the stored document
    // lacks), kept only when the projection keeps it; written by appendExtra, after the
    // stored fields (which appendStored and the reply cache write without it).
    this.extra = extra && (!fields || fields.keep.has(extra.key)) ? extra : null;
  }

  /** The typed document (the general path). */
  decode() {
    const doc = decodeStored(this.view, this.sig, this.exact);
    if (this.fields) return projectTop(doc, this.fields);
    if (!this.idFirst || !('_id' in doc) || Object.keys(doc)[0] === '_id') return doc;
    const { _id, ...rest } = doc;
    return { _id, ...rest };
  }
}

/**
 * A batch's document written as BSON: its bytes are [start, end) of the batch writer's buffer
 * while that writer is still at the generation it was written in (the reply is serialized
 * right after the batch is taken); after that, `bytes` writes the document anew. `head` >= 0:
 * the document's array element head (type 0x03, `index` as its key) is at [head, start), so
 * a batch written in order is its reply array's elements as they are (wire.js cursorReply
 * copies them at once).
 */
class RawDoc {
  constructor(doc, w, start, end, head = -1, index = -1) {
    this.doc = doc;
    this.w = w;
    this.gen = w.gen;
    this.start = start;
    this.end = end;
    this.head = head;
    this.index = index;
  }

  /** Whether the writer still holds this document's bytes and their element head. */
  get headed() { return this.head >= 0 && this.w.gen === this.gen; }

  get bytes() {
    if (this.w.gen === this.gen) return this.w.buf.subarray(this.start, this.end);
    const w = new Writer(this.end - this.start);
    appendStored(w, this.doc);
    if (this.doc.extra) appendExtra(w, 0, this.doc.extra);
    return w.buf.subarray(0, w.pos);
  }
}

/**
 * A top-level inclusion projection ({keep: Set of field names, id: _id kept}) of a typed
 * document, as $project gives it: _id first when kept, then the kept fields in the document's
 * order; fields it lacks are left out.
 */
function projectTop(doc, { keep, id }) {
  const out = {};
  if (id && Object.prototype.hasOwnProperty.call(doc, '_id')) out._id = doc._id;
  for (const k of Object.keys(doc)) if (k !== '_id' && keep.has(k)) out[k] = doc[k];
  return out;
}

class Unsupported extends Error {}
const UNSUPPORTED = new Unsupported('not written by bsonwrite');

// Keys as NUL-terminated UTF-8, remembered (a listing's keys are the same on every document).
const KEY_BYTES = new Map();
const KEY_BYTES_MAX = 20000;
const INDEX_BYTES = Array.from({ length: 1000 }, (_, i) => Buffer.from(`${i}\u0000`, 'latin1'));

function keyBytes(k) {
  let b = KEY_BYTES.get(k);
  if (b !== undefined) return b;
  // bson refuses a NUL in a key, and takes a plain object with a _bsontype field for a BSON
  // value: the general path says what it says.
  if (k.includes('\u0000') || k === '_bsontype') throw UNSUPPORTED;
  b = Buffer.from(`${k}\u0000`, 'utf8');
  if (KEY_BYTES.size < KEY_BYTES_MAX) KEY_BYTES.set(k, b);
  return b;
}

const TWO32 = 4294967296;
const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);

/**
 * Appends documents to one growing buffer. The element writers take the element's type and
 * key bytes (with its NUL) and write byte by byte: Buffer's copy and write methods cost more
 * than they move for a few bytes.
 */
class Writer {
  constructor(size = 64 * 1024) {
    this.size = size;
    this.buf = Buffer.allocUnsafe(size);
    this.pos = 0;
    this.gen = 0;
  }

  /**
   * Empty again, for a new batch (what was written before is no longer read from here), and
   * back to its first size after a batch that made it grow past 1 MiB.
   */
  reset() {
    this.pos = 0;
    this.gen++;
    if (this.buf.length > Math.max(this.size, 1024 * 1024)) this.buf = Buffer.allocUnsafe(this.size);
  }

  ensure(n) {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** The element's type and key; returns the position after them (n more bytes reserved). */
  head(type, kb, n) {
    const k = kb.length;
    this.ensure(1 + k + n);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = type;
    for (let i = 0; i < k; i++) buf[p++] = kb[i];
    return p;
  }

  int32At(p, v) {
    const buf = this.buf;
    buf[p] = v;
    buf[p + 1] = v >>> 8;
    buf[p + 2] = v >>> 16;
    buf[p + 3] = v >>> 24;
  }

  string(kb, s) {
    const n = s.length;
    let p = this.head(0x02, kb, 4 + 3 * n + 1);
    const buf = this.buf;
    const at = p + 4;
    p = at;
    if (n < 32) { // a call to utf8Write costs about what 30 characters by hand do
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[p++] = c;
      }
      if (i < n) p = at + buf.utf8Write(s, at);
    } else {
      p = at + buf.utf8Write(s, at);
    }
    this.int32At(at - 4, p - at + 1);
    buf[p++] = 0;
    this.pos = p;
  }

  int32(kb, v) {
    const p = this.head(0x10, kb, 4);
    this.int32At(p, v);
    this.pos = p + 4;
  }

  int64(type, kb, lo, hi) {
    const p = this.head(type, kb, 8);
    this.int32At(p, lo);
    this.int32At(p + 4, hi);
    this.pos = p + 8;
  }

  double(kb, v) {
    const p = this.head(0x01, kb, 8);
    F64[0] = v;
    const buf = this.buf;
    for (let i = 0; i < 8; i++) buf[p + i] = F64_BYTES[i];
    this.pos = p + 8;
  }

  byte(type, kb, v) {
    const p = this.head(type, kb, 1);
    this.buf[p] = v;
    this.pos = p + 1;
  }

  bytes(type, kb, b) {
    const p = this.head(type, kb, b.length);
    for (let i = 0; i < b.length; i++) this.buf[p + i] = b[i];
    this.pos = p + b.length;
  }
}

/**
 * Writes the stored document (view, sig, exact) at w.pos; returns false (w.pos unchanged)
 * when it holds something the general path must write.
 */
function writeStored(w, view, sig, exact, idFirst, fields = null) {
  const start = w.pos;
  if ((idFirst || fields) && '_id' in view && Object.keys(view)[0] !== '_id') return false;
  if (!isPlainObject(view)) return false;
  const st = { pos: 0, ex: 0 };
  try {
    if (fields) writeProjected(w, view, sig, exact, fields, st);
    else writeObject(w, view, sig, exact, st);
    return true;
  } catch (e) {
    if (!(e instanceof Unsupported)) throw e;
    w.pos = start;
    return false;
  }
}

/** A document (or array): its length, its elements, NUL. */
function writeObject(w, obj, sig, exact, st) {
  w.ensure(4);
  const start = w.pos;
  w.pos += 4;
  if (Array.isArray(obj)) {
    for (let i = 0; i < obj.length; i++) {
      writeValue(w, i < INDEX_BYTES.length ? INDEX_BYTES[i] : keyBytes(String(i)), obj[i], sig, exact, st);
    }
  } else {
    const keys = Object.keys(obj);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      writeValue(w, keyBytes(k), obj[k], sig, exact, st);
    }
  }
  w.ensure(1);
  w.buf[w.pos++] = 0;
  w.int32At(start, w.pos - start);
}

/**
 * The top-level fields of a projection (projectTop) of a stored document: the others are
 * skipped, their numbers' places in the signature and the exact values passed over.
 */
function writeProjected(w, view, sig, exact, { keep, id }, st) {
  w.ensure(4);
  const start = w.pos;
  w.pos += 4;
  const keys = Object.keys(view);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (k === '_id' ? id : keep.has(k)) writeValue(w, keyBytes(k), view[k], sig, exact, st);
    else skipValue(view[k], sig, st);
  }
  w.ensure(1);
  w.buf[w.pos++] = 0;
  w.int32At(start, w.pos - start);
}

/** Passes over a value writeValue would write: its numbers' signature and exact places. */
function skipValue(v, sig, st) {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return;
    case 'number': {
      const c = sig.charCodeAt(st.pos++);
      if (c !== 105 && c !== 100 && c !== 108) st.ex++; // L, D: one exact value each
      return;
    }
    case 'object':
      break;
    default:
      throw UNSUPPORTED;
  }
  if (v === null) return;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) skipValue(v[i], sig, st);
    return;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) {
    const keys = Object.keys(v);
    for (let i = 0; i < keys.length; i++) skipValue(v[keys[i]], sig, st);
    return;
  }
  if (v._bsontype === 'ObjectId' || v instanceof Date) return;
  throw UNSUPPORTED; // anything else: the general path decides
}

function writeValue(w, kb, v, sig, exact, st) {
  switch (typeof v) {
    case 'string':
      w.string(kb, v);
      return;
    case 'number':
      writeNumber(w, kb, v, sig.charCodeAt(st.pos++), exact, st);
      return;
    case 'boolean':
      w.byte(0x08, kb, v ? 1 : 0);
      return;
    case 'object':
      break;
    default:
      throw UNSUPPORTED; // undefined, bigint, functions, symbols
  }
  if (v === null) {
    w.pos = w.head(0x0a, kb, 0);
    return;
  }
  if (Array.isArray(v)) {
    w.pos = w.head(0x04, kb, 0);
    writeObject(w, v, sig, exact, st);
    return;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) { // a plain object (typed.js isPlainObject)
    w.pos = w.head(0x03, kb, 0);
    writeObject(w, v, sig, exact, st);
    return;
  }
  if (v._bsontype === 'ObjectId') {
    w.bytes(0x07, kb, v.id);
    return;
  }
  if (v instanceof Date) {
    const ms = v.getTime();
    if (!Number.isSafeInteger(ms)) throw UNSUPPORTED; // an invalid date: as bson writes it
    const hi = Math.floor(ms / TWO32);
    w.int64(0x09, kb, ms - hi * TWO32, hi);
    return;
  }
  throw UNSUPPORTED;
}

function writeNumber(w, kb, v, c, exact, st) {
  switch (c) {
    case 105: // i: Int32
      w.int32(kb, v | 0);
      return;
    case 100: // d: Double
      w.double(kb, v);
      return;
    case 108: { // l: Long, a safe integer (Long.fromNumber(-0) is 0)
      const hi = Math.floor(v / TWO32);
      w.int64(0x12, kb, v - hi * TWO32, hi);
      return;
    }
    default: { // L, D: the exact value kept beside the view
      const x = exact ? exact[st.ex++] : undefined;
      if (x && x._bsontype === 'Long') {
        w.int64(0x12, kb, x.low, x.high);
        return;
      }
      throw UNSUPPORTED; // Decimal128 (and anything unforeseen): the general path
    }
  }
}

/** The stored document's BSON bytes appended to w (by the general path when it must). */
function appendStored(w, d) {
  if (writeStored(w, d.view, d.sig, d.exact, d.idFirst, d.fields)) return;
  const bytes = BSON.serialize(d.decode(), SERIALIZE_OPTIONS);
  w.ensure(bytes.length);
  bytes.copy(w.buf, w.pos);
  w.pos += bytes.length;
}

/**
 * Appends StoredDoc extra {key, value} as a double to the document written at [at, w.pos): its
 * NUL moves after the new element and its length is rewritten. The bytes are those of
 * BSON.serialize of the decoded document with `key` set to new Double(value) (absent before).
 */
function appendExtra(w, at, { key, value }) {
  w.pos--;
  w.double(keyBytes(key), value);
  w.ensure(1);
  w.buf[w.pos++] = 0;
  w.int32At(at, w.pos - at);
}

/** Appends an array element's head: type 0x03 (a document) and index i as its key. */
function appendIndexHead(w, i) {
  w.pos = w.head(0x03, i < INDEX_BYTES.length ? INDEX_BYTES[i] : Buffer.from(`${i}\u0000`, 'latin1'), 0);
}

/** The BSON size of a stored version (what appendStored writes). */
function storedSize(rec, scratch, fields = null) {
  const w = scratch || new Writer(4096);
  w.pos = 0;
  appendStored(w, new StoredDoc(rec, false, fields));
  return w.pos;
}

module.exports = {
  StoredDoc, RawDoc, Writer, writeStored, appendStored, appendExtra, appendIndexHead, storedSize, projectTop, SERIALIZE_OPTIONS,
};
