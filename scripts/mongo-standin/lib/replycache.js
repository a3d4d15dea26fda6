'use strict';
// A bounded cache of records' encoded BSON for the wire (issue 19): what a real MongoDB has for
// free (its stored BSON), so that a reply is mostly copies of bytes. A browse page wrote 21
// listings' BSON from their stored views on every query (a third of the stand-in's CPU per
// query); the same listings are asked for again and again.
//
// * Keyed by the Record and the shape of the written document (its top-level inclusion
//   projection and whether _id is put first: StoredDoc fields and idFirst), so another
//   projection never gets these bytes. An entry also holds the view it was written from: a
//   version is never changed in place (a write replaces rec.view), so an entry serves only the
//   version it was written from, and a cursor's StoredDoc of an older version misses.
// * Invalidated on every write to a record (Collection.replace: update, replacement,
//   findAndModify, the bulk and upsert paths; Collection.remove: delete, findAndModify's
//   remove, the profiler's cap; dropped collections and databases: forgetAll): the bytes and
//   the view they pin are released at once, not when eviction reaches them.
// * Bounded: the bytes live in one ring of `maxBytes` (allocated when first used; pages the
//   ring has not reached are not resident), written in order; a new entry evicts the oldest
//   entries its bytes overwrite (FIFO, O(1) per entry evicted). Entries (live or invalidated
//   but not yet overwritten) are also bounded by count, `maxEntries`, so the heap their
//   bookkeeping takes (~150 bytes each) is bounded too. A document over `maxEntryBytes` is
//   not cached.

const DEFAULT_MB = 32;
const BATCH_AREA = 64 * 1024; // the batch writer's first size (cursors.js BATCH)
const MAX_SHAPES = 1024; // distinct projections remembered; beyond, new ones are not cached

class Entry {
  constructor(rec, view, shape, start, len) {
    this.rec = rec;
    this.view = view;
    this.shape = shape;
    this.start = start;
    this.len = len;
    this.next = null; // the next newer entry (the ring's order)
    this.sib = null; // another shape's entry for the same record
    this.live = true;
  }
}

class ReplyCache {
  constructor(maxBytes = DEFAULT_MB * 1024 * 1024, { maxEntries, maxEntryBytes } = {}) {
    this.maxBytes = Math.max(0, Math.floor(maxBytes));
    this.maxEntries = maxEntries || Math.max(16, Math.floor(this.maxBytes / 256));
    this.maxEntryBytes = maxEntryBytes || Math.min(256 * 1024, Math.floor(this.maxBytes / 8));
    this.ring = null;
    this.all = null; // the ring's memory and, past it, batchArea's
    this.area = null;
    this.head = 0; // where the next entry's bytes go
    this.oldest = null; // FIFO of entries in ring order (invalidated ones included)
    this.newest = null;
    this.count = 0; // entries in the FIFO
    this.byRec = new Map(); // Record -> its first live Entry (others through sib)
    this.shapes = new Map(); // projection key -> shape number
    this.fieldShapes = new WeakMap(); // a StoredDoc's fields object -> its shape number
    this.lastFields = null;
    this.lastShape = -1;
    this.stats = { hits: 0, misses: 0, stored: 0, evicted: 0, invalidated: 0, liveBytes: 0, liveEntries: 0 };
  }

  get enabled() { return this.maxBytes > 0; }

  /** The shape of a StoredDoc's output: 0/1 without projection, else 2 * projection + idFirst; -1 for none. */
  shapeOf(doc) {
    const f = doc.fields;
    const first = doc.idFirst ? 1 : 0;
    if (!f) return first;
    // A batch's documents share one projection object: the last one's number is remembered.
    let n = f === this.lastFields ? this.lastShape : this.fieldShapes.get(f);
    if (n === undefined) {
      const key = `${f.id ? 1 : 0}\u0000${[...f.keep].sort().join('\u0000')}`;
      n = this.shapes.get(key);
      if (n === undefined) {
        n = this.shapes.size < MAX_SHAPES ? this.shapes.size + 1 : -1;
        if (n > 0) this.shapes.set(key, n);
      }
      this.fieldShapes.set(f, n);
    }
    this.lastFields = f;
    this.lastShape = n;
    return n < 0 ? -1 : 2 * n + first;
  }

  find(doc, shape) {
    for (let e = this.byRec.get(doc.rec); e; e = e.sib) if (e.shape === shape) return e.view === doc.view ? e : null;
    return null;
  }

  /**
   * Appends the cached bytes of StoredDoc `doc` to writer w; false (nothing written) when
   * they are not cached.
   */
  copyTo(w, doc) {
    const shape = doc.rec && this.ring ? this.shapeOf(doc) : -1;
    const e = shape >= 0 ? this.find(doc, shape) : null;
    if (!e) {
      this.stats.misses++;
      return false;
    }
    w.ensure(e.len);
    // Within the ring's own memory (a writer on batchArea) a copy needs no view of the ring:
    // making one costs about what copying 1 KB does.
    if (w.buf.buffer === this.all.buffer) this.all.copyWithin(w.buf.byteOffset + w.pos, e.start, e.start + e.len);
    else this.ring.copy(w.buf, w.pos, e.start, e.start + e.len);
    w.pos += e.len;
    this.stats.hits++;
    return true;
  }

  /**
   * BATCH_AREA bytes past the ring in its memory (null before the ring is made), for the batch
   * writer (cursors.js takeBatch): hits are copied into it, and misses from it, without a view.
   */
  batchArea() {
    if (!this.area && this.all) this.area = this.all.subarray(this.maxBytes);
    return this.area;
  }

  /** Remembers bytes [from, to) of buf as StoredDoc `doc`'s, when it is its record's current version. */
  put(doc, buf, from, to) {
    const len = to - from;
    const rec = doc.rec;
    if (!this.enabled || !rec || rec.view !== doc.view || len > this.maxEntryBytes || len <= 0) return;
    const shape = this.shapeOf(doc);
    if (shape < 0 || this.find(doc, shape)) return;
    if (!this.ring) {
      this.all = Buffer.allocUnsafeSlow(this.maxBytes + BATCH_AREA);
      this.ring = this.all.subarray(0, this.maxBytes);
    }
    if (this.head + len > this.maxBytes) {
      // Wrap: what lies past the head is the oldest.
      while (this.oldest && this.oldest.start >= this.head) this.evictOldest();
      this.head = 0;
    }
    const end = this.head + len;
    while (this.oldest && this.oldest.start >= this.head && this.oldest.start < end) this.evictOldest();
    while (this.count >= this.maxEntries) this.evictOldest();
    const e = new Entry(rec, doc.view, shape, this.head, len);
    if (buf.buffer === this.all.buffer) this.all.copyWithin(this.head, buf.byteOffset + from, buf.byteOffset + to);
    else buf.copy(this.ring, this.head, from, to);
    this.head = end;
    if (this.newest) this.newest.next = e;
    else this.oldest = e;
    this.newest = e;
    this.count++;
    // The record's entries of other shapes (or another version's, found by find's shape only
    // when the view matched: an older version of this shape is dropped here).
    let first = this.byRec.get(rec);
    for (let p = null, x = first; x; p = x, x = x.sib) {
      if (x.shape !== shape) continue;
      this.unlink(x, p);
      first = this.byRec.get(rec);
      break;
    }
    e.sib = first || null;
    this.byRec.set(rec, e);
    this.stats.stored++;
    this.stats.liveEntries++;
    this.stats.liveBytes += len;
  }

  /** Takes live entry e (whose predecessor in its record's chain is p) out of the index. */
  unlink(e, p) {
    if (!e.live) return;
    e.live = false;
    e.view = null;
    if (p) p.sib = e.sib;
    else if (e.sib) this.byRec.set(e.rec, e.sib);
    else this.byRec.delete(e.rec);
    e.sib = null;
    e.rec = null;
    this.stats.liveEntries--;
    this.stats.liveBytes -= e.len;
  }

  evictOldest() {
    const e = this.oldest;
    this.oldest = e.next;
    if (!this.oldest) this.newest = null;
    e.next = null;
    this.count--;
    if (!e.live) return;
    let p = null;
    for (let x = this.byRec.get(e.rec); x && x !== e; x = x.sib) p = x;
    this.unlink(e, p);
    this.stats.evicted++;
  }

  /** A write to record `rec` (its version replaced, or the record removed): its bytes go. */
  forget(rec) {
    let e = this.byRec.get(rec);
    if (e === undefined) return;
    this.byRec.delete(rec);
    while (e) {
      const next = e.sib;
      e.sib = null;
      if (e.live) {
        e.live = false;
        e.view = null;
        e.rec = null;
        this.stats.liveEntries--;
        this.stats.liveBytes -= e.len;
        this.stats.invalidated++;
      }
      e = next;
    }
  }

  /** Every record of a dropped collection. */
  forgetAll(records) {
    if (!this.byRec.size) return;
    for (const rec of records) this.forget(rec);
  }

  /** Entries of `rec` still cached (tests). */
  entriesOf(rec) {
    let n = 0;
    for (let e = this.byRec.get(rec); e; e = e.sib) n++;
    return n;
  }

  /** What serverStatus reports. */
  status() {
    return {
      maxBytes: this.maxBytes,
      maxEntries: this.maxEntries,
      ringAllocated: this.ring ? this.ring.length : 0,
      entries: this.count,
      ...this.stats,
    };
  }
}

/** The process's cache (server.js --reply-cache-mb; STANDIN_REPLY_CACHE_MB; 0 turns it off). */
const fromEnv = process.env.STANDIN_REPLY_CACHE_MB;
let shared = new ReplyCache((fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) : DEFAULT_MB) * 1024 * 1024);

module.exports = {
  ReplyCache,
  DEFAULT_MB,
  get cache() { return shared; },
  /** Replaces the process's cache (a new size; 0: off). */
  configure(maxBytes, opts) {
    shared = new ReplyCache(maxBytes, opts);
    return shared;
  },
  /** Makes `c` the process's cache; returns the one it replaces (tests switch caches). */
  use(c) {
    const old = shared;
    shared = c;
    return old;
  },
};
