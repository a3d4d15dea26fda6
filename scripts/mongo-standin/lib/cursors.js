'use strict';
// Server-side cursors: the remaining documents of a find/aggregate/list* result, handed out
// in batches by getMore. Cursor ids are int64 (bson Long). Idle cursors time out after 10
// minutes like mongod's cursorTimeoutMillis default.

const { calculateObjectSize } = require('bson');
const { Long } = require('bson');
const { fail } = require('./errors');
const {
  StoredDoc, RawDoc, Writer, appendStored, appendExtra, appendIndexHead, storedSize, projectTop,
} = require('./bsonwrite');
const replyCache = require('./replycache');

const DEFAULT_FIRST_BATCH = 101;

// The BSON size of a document read as stored is computed once per stored version, not on
// every batch (it was a fifth of a browse page's time): keyed by the record's view, which
// every write replaces with a new object, and handed to takeBatch through the read copy. It
// is the exact size, as the raw path below counts it, so both cut batches alike.
const SIZE_OF_VIEW = new WeakMap();
const SIZE_OF_DOC = new WeakMap();
const SCRATCH = new Writer(4096);
// Every batch's documents are written into one buffer, kept from batch to batch: a buffer
// per batch was a 64 KB allocation outside the heap per query, and such allocations bring on
// a scavenge of the young generation as its own objects do.
const BATCH = new Writer(64 * 1024);

/**
 * The document of a record as a reply carries it: rec.doc (remembering its size for
 * takeBatch), or with `raw` (replies that go out on the wire as they are) a StoredDoc that
 * takeBatch writes as BSON without decoding it; `idFirst` puts _id first (aggregate's output).
 * `fields`: a top-level inclusion projection pushed into the scan (bsonwrite projectTop;
 * _id first), applied here or by the writer. `extra` ({key, value}, raw only): a double
 * appended as the document's last field ($geoNear's distance; bsonwrite appendExtra).
 */
function storedDoc(rec, raw = false, idFirst = false, fields = null, extra = null) {
  if (raw) return new StoredDoc(rec, idFirst, fields, extra);
  if (fields) {
    const doc = projectTop(rec.doc, fields);
    SIZE_OF_DOC.set(doc, storedSize(rec, SCRATCH, fields));
    return doc;
  }
  const doc = rec.doc;
  let n = SIZE_OF_VIEW.get(rec.view);
  if (n === undefined) {
    n = storedSize(rec, SCRATCH);
    SIZE_OF_VIEW.set(rec.view, n);
  }
  SIZE_OF_DOC.set(doc, n);
  return doc;
}
const MAX_BATCH_BYTES = 16 * 1024 * 1024 - 64 * 1024; // leave room for the reply envelope
const IDLE_TIMEOUT_MS = 10 * 60 * 1000;

class CursorRegistry {
  constructor() {
    this.cursors = new Map(); // id string -> {id, ns, docs, pos, lastUsed}
    this.sweeper = setInterval(() => this.sweep(), 60 * 1000);
    this.sweeper.unref();
  }

  /**
   * Takes up to `limit` docs (and at most ~16 MiB, counting each document's BSON size and its
   * array element's type, index and NUL) from a cursor state. StoredDocs are written as BSON
   * here and come out as RawDocs.
   */
  static takeBatch(state, limit) {
    const batch = [];
    let bytes = 0;
    let w = null;
    const cache = replyCache.cache;
    const cached = cache.enabled;
    while (state.pos < state.docs.length && (limit === undefined || batch.length < limit)) {
      const doc = state.docs[state.pos];
      let size;
      let at = -1;
      let head = -1;
      if (doc instanceof StoredDoc) {
        if (!w) {
          w = BATCH;
          w.reset();
          // Written in the reply cache's memory, hits and misses are copied without views.
          const area = cached ? cache.batchArea() : null;
          if (area) w.buf = area;
        }
        // The array element's head first (what the size below counts for it): a batch of
        // StoredDocs is written as its reply array's elements, copied into the reply at once.
        head = w.pos;
        appendIndexHead(w, batch.length);
        at = w.pos;
        // The record's bytes for this shape from the reply cache, else written and remembered.
        if (!cached || !cache.copyTo(w, doc)) {
          appendStored(w, doc);
          if (cached) cache.put(doc, w.buf, at, w.pos);
        }
        if (doc.extra) appendExtra(w, at, doc.extra);
        size = w.pos - at;
      } else {
        size = SIZE_OF_DOC.get(doc);
        if (size === undefined) size = calculateObjectSize(doc); // over-counts Int32 values: a safe upper bound
      }
      size += 2 + (batch.length < 10 ? 1 : String(batch.length).length);
      if (batch.length > 0 && bytes + size > MAX_BATCH_BYTES) {
        if (at >= 0) w.pos = head;
        break;
      }
      batch.push(at >= 0 ? new RawDoc(doc, w, at, w.pos, head, batch.length) : doc);
      bytes += size;
      state.pos++;
    }
    return batch;
  }

  /**
   * Builds the cursor reply for a fresh result. Keeps a cursor open when documents remain
   * (unless singleBatch). batchSize undefined means the default first batch of 101.
   */
  open(ns, docs, { batchSize, singleBatch = false, source = null } = {}) {
    // source: the collection read (a getMore after it is dropped fails, as on mongod)
    const state = { id: null, ns, docs, pos: 0, lastUsed: Date.now(), source };
    const firstBatch = CursorRegistry.takeBatch(state, batchSize === undefined ? DEFAULT_FIRST_BATCH : batchSize);
    let id = Long.ZERO;
    if (!singleBatch && state.pos < docs.length) {
      do {
        id = Long.fromNumber(Math.floor(Math.random() * 2 ** 52) + 1);
      } while (this.cursors.has(id.toString()));
      state.id = id;
      this.cursors.set(id.toString(), state);
    }
    return { cursor: { firstBatch, id, ns } };
  }

  getMore(id, collection, dbName, batchSize, current) {
    const state = this.cursors.get(id.toString());
    if (!state) throw fail('CursorNotFound', `cursor id ${id.toString()} not found`);
    const ns = `${dbName}.${collection}`;
    if (state.ns !== ns) {
      throw fail('BadValue', `Requested getMore on namespace '${ns}', but cursor belongs to a different namespace ${state.ns}`);
    }
    if (state.source && current !== state.source) {
      this.cursors.delete(id.toString());
      throw fail('QueryPlanKilled', `collection dropped. UUID ${ns}`);
    }
    state.lastUsed = Date.now();
    const nextBatch = CursorRegistry.takeBatch(state, batchSize || undefined);
    let replyId = state.id;
    if (state.pos >= state.docs.length) {
      this.cursors.delete(id.toString());
      replyId = Long.ZERO;
    }
    return { cursor: { nextBatch, id: replyId, ns: state.ns } };
  }

  kill(ids) {
    const killed = [];
    const notFound = [];
    for (const id of ids) {
      if (this.cursors.delete(id.toString())) killed.push(id);
      else notFound.push(id);
    }
    return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [] };
  }

  sweep() {
    const cutoff = Date.now() - IDLE_TIMEOUT_MS;
    for (const [key, state] of this.cursors) if (state.lastUsed < cutoff) this.cursors.delete(key);
  }

  close() { clearInterval(this.sweeper); }
}

module.exports = { storedDoc, CursorRegistry, DEFAULT_FIRST_BATCH };
