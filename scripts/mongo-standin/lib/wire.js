'use strict';
// MongoDB wire protocol framing: OP_MSG (2013) requests and replies, legacy OP_QUERY (2004)
// commands (used by drivers for the first hello) answered with OP_REPLY (1).

const BSON = require('bson');
const { Double, Long } = BSON;
const { RawDoc } = require('./bsonwrite');

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_COMPRESSED = 2012;
const OP_MSG = 2013;

const MSG_CHECKSUM_PRESENT = 1 << 0;
const MSG_MORE_TO_COME = 1 << 1;

const HEADER_SIZE = 16;
const MAX_MESSAGE_SIZE = 48000000;

// Keep BSON numeric types as sent: Int32, Long and Double stay bson objects.
const DESERIALIZE_OPTIONS = { promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: false };
const SERIALIZE_OPTIONS = { checkKeys: false, ignoreUndefined: true, serializeFunctions: false };

class ProtocolError extends Error {}

function readCString(buf, offset) {
  const end = buf.indexOf(0, offset);
  if (end < 0) throw new ProtocolError('unterminated cstring');
  return [buf.toString('utf8', offset, end), end + 1];
}

function readDocument(buf, offset, limit, stages = false) {
  if (offset + 5 > limit) throw new ProtocolError('truncated BSON document');
  const size = buf.readInt32LE(offset);
  if (size < 5 || offset + size > limit) throw new ProtocolError('invalid BSON document size');
  const fast = stages ? withCachedStages(buf, offset, offset + size) : null;
  return [fast || BSON.deserialize(buf.subarray(offset, offset + size), DESERIALIZE_OPTIONS), offset + size];
}

// ---- repeated pipeline stages, parsed once --------------------------------------------------
// marketd sends the same $project of 20 fields, the same $sort and a handful of $limit values
// with every browse query: deserializing them (bson objects for every Int32) was most of the
// command's parse, 10 % of a query's CPU in the stand-in. A command body holding a `pipeline`
// array of documents is parsed here without it (the other fields, as before), and each stage
// whose operator is in CACHED_STAGES is looked up by its bytes: the object deserialized from
// the same bytes before, deep-frozen (a stage is never written to: a write would throw), and
// the same object each time, so what is derived from it can be remembered by identity
// (aggregate.js pushableProject). Anything unusual (another element type at the top level,
// array keys out of order, duplicate names, a stage holding other than plain values) goes
// through BSON.deserialize of the whole document as before.

const CACHED_STAGES = new Set(['$project', '$sort', '$limit', '$skip']);
const STAGE_CACHE_MAX = 512; // distinct stages remembered; the map starts over when full
const STAGE_MAX_BYTES = 2048;
let STAGE_CACHE = new Map();
const stageStats = { hits: 0, misses: 0, restHits: 0 };

/** Where a top-level element's value ends (type at buf[at - ...], value at `at`), or -1 (not walked). */
function valueEnd(buf, type, at, limit) {
  let end;
  switch (type) {
    case 0x01: case 0x09: case 0x11: case 0x12: end = at + 8; break; // double, date, timestamp, int64
    case 0x10: end = at + 4; break;
    case 0x08: end = at + 1; break;
    case 0x0a: case 0x06: case 0x7f: case 0xff: end = at; break; // null, undefined, maxKey, minKey
    case 0x07: end = at + 12; break;
    case 0x13: end = at + 16; break;
    case 0x02: case 0x0d: case 0x0e: // string, code, symbol
      if (at + 4 > limit) return -1;
      end = at + 4 + buf.readInt32LE(at);
      break;
    case 0x03: case 0x04: case 0x0f: // document, array, code with scope
      if (at + 4 > limit) return -1;
      end = at + buf.readInt32LE(at);
      break;
    case 0x05: // binary: length, subtype, bytes
      if (at + 4 > limit) return -1;
      end = at + 5 + buf.readInt32LE(at);
      break;
    default: return -1; // regex, DBPointer, unknown types: parsed whole
  }
  return end > at - 1 && end <= limit ? end : -1;
}

/** Deep-freezes a deserialized stage; false (left as it is) when it holds other than plain values. */
function freezeStage(v) {
  if (v === null || typeof v !== 'object') return true;
  if (Array.isArray(v) || Object.getPrototypeOf(v) === Object.prototype) {
    for (const k of Object.keys(v)) if (k === '__proto__' || !freezeStage(v[k])) return false;
    Object.freeze(v);
    return true;
  }
  const t = v._bsontype;
  if (t === 'Int32' || t === 'Double' || t === 'Long') {
    Object.freeze(v);
    return true;
  }
  return false;
}

/** The stages of a pipeline array [at, end), or null (parse the whole body). */
function readStages(buf, at, end) {
  const out = [];
  let p = at + 4;
  while (p < end - 1) {
    if (buf[p] !== 0x03) return null;
    const nameEnd = buf.indexOf(0, p + 1);
    if (nameEnd < 0 || nameEnd >= end - 1 || buf.latin1Slice(p + 1, nameEnd) !== String(out.length)) return null;
    const docEnd = valueEnd(buf, 0x03, nameEnd + 1, end - 1);
    if (docEnd < 0 || docEnd - nameEnd - 1 < 5) return null;
    out.push(readStage(buf, nameEnd + 1, docEnd));
    p = docEnd;
  }
  return p === end - 1 && buf[p] === 0 ? out : null;
}

/** One stage document [at, end): from the cache when its operator is one of CACHED_STAGES. */
function readStage(buf, at, end) {
  const opEnd = end - at <= STAGE_MAX_BYTES && at + 5 < end ? buf.indexOf(0, at + 5) : -1;
  if (opEnd < 0 || opEnd >= end || !CACHED_STAGES.has(buf.latin1Slice(at + 5, opEnd))) {
    return BSON.deserialize(buf.subarray(at, end), DESERIALIZE_OPTIONS);
  }
  const key = buf.latin1Slice(at, end);
  let stage = STAGE_CACHE.get(key);
  if (stage !== undefined) {
    stageStats.hits++;
    return stage;
  }
  stageStats.misses++;
  const sub = buf.subarray(at, end); // a view costs about what copying 1 KB does: only on a miss
  stage = BSON.deserialize(sub, DESERIALIZE_OPTIONS);
  if (!freezeStage(stage)) return BSON.deserialize(sub, DESERIALIZE_OPTIONS); // a fresh, unfrozen copy
  if (STAGE_CACHE.size >= STAGE_CACHE_MAX) STAGE_CACHE = new Map();
  STAGE_CACHE.set(key, stage);
  return stage;
}

// The command's other fields ({aggregate, cursor, $db, lsid} from marketd) are the same bytes
// from query to query of a session: deserialized once too, keyed by their bytes, the object
// deep-frozen (an lsid's Binary is frozen as an object; its bytes are never written: nothing
// reads a command's lsid) and the same each time. withCachedStages copies its fields into a
// fresh command object.
const REST_CACHE_MAX = 256;
const REST_MAX_BYTES = 512;
let REST_CACHE = new Map();

/** Deep-freezes a command's other fields as freezeStage does, Binary values (an lsid's UUID) too; false when not kept. */
function freezeOthers(v) {
  if (v !== null && typeof v === 'object' && v._bsontype === 'Binary' && Object.getPrototypeOf(v) !== Object.prototype) {
    Object.freeze(v);
    return true;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v) || Object.getPrototypeOf(v) !== Object.prototype) return freezeStage(v);
  for (const k of Object.keys(v)) if (k === '__proto__' || !freezeOthers(v[k])) return false;
  Object.freeze(v);
  return true;
}

/** The body [start, end) without the pipeline element [pipe, pipeEnd), deserialized (from the cache when seen). */
function otherFields(buf, start, pipe, pipeEnd, end) {
  const restLen = end - start - (pipeEnd - pipe);
  const key = restLen <= REST_MAX_BYTES ? buf.latin1Slice(start + 4, pipe) + buf.latin1Slice(pipeEnd, end) : null;
  let others = key === null ? undefined : REST_CACHE.get(key);
  if (others !== undefined) {
    stageStats.restHits++;
    return others;
  }
  const rest = Buffer.allocUnsafe(restLen);
  rest.writeInt32LE(restLen, 0);
  buf.copy(rest, 4, start + 4, pipe);
  buf.copy(rest, 4 + pipe - start - 4, pipeEnd, end);
  others = BSON.deserialize(rest, DESERIALIZE_OPTIONS);
  if (key === null) return others;
  if (!freezeOthers(others)) return BSON.deserialize(rest, DESERIALIZE_OPTIONS); // a fresh, unfrozen copy
  if (REST_CACHE.size >= REST_CACHE_MAX) REST_CACHE = new Map();
  REST_CACHE.set(key, others);
  return others;
}

/**
 * A command body [start, end) holding a `pipeline` array of documents, parsed with its stages
 * from the cache (the other fields by BSON.deserialize, in their order); null otherwise.
 */
function withCachedStages(buf, start, end) {
  if (buf[end - 1] !== 0) return null;
  let at = start + 4;
  let pipe = -1;
  let pipeValue = -1;
  let pipeEnd = -1;
  let pipePos = -1;
  let count = 0;
  while (at < end - 1) {
    const type = buf[at];
    const nameEnd = buf.indexOf(0, at + 1);
    if (nameEnd < 0 || nameEnd >= end - 1) return null;
    const vEnd = valueEnd(buf, type, nameEnd + 1, end - 1);
    if (vEnd < 0) return null;
    if (nameEnd - at - 1 === 8 && buf.latin1Slice(at + 1, nameEnd) === 'pipeline') {
      if (pipe >= 0 || type !== 0x04) return null;
      pipe = at;
      pipeValue = nameEnd + 1;
      pipeEnd = vEnd;
      pipePos = count;
    }
    count++;
    at = vEnd;
  }
  if (pipe < 0 || at !== end - 1) return null;
  const stages = readStages(buf, pipeValue, pipeEnd);
  if (!stages) return null;
  const others = otherFields(buf, start, pipe, pipeEnd, end);
  const keys = Object.keys(others);
  if (keys.length !== count - 1 || keys.includes('__proto__')) return null; // duplicate names: parsed whole
  const out = {};
  for (let i = 0; i < keys.length; i++) {
    if (i === pipePos) out.pipeline = stages;
    out[keys[i]] = others[keys[i]];
  }
  if (pipePos === keys.length) out.pipeline = stages;
  return out;
}

// ---- document sequences, decoded when read -------------------------------------------------
// A write command's statements (libmongoc sends an update's or an insert's batch of up to
// 1,000 as an OP_MSG document sequence) were all decoded when the message was parsed, and all
// lived until the command ended: a batch of 500 listing upserts is several MB of objects,
// more than the young generation (--max-semi-space-size=2), so nearly all of it was promoted
// to the old generation and died there (about 4 of the 16-18 KB promoted per upsert at 100k
// listings, tools/burst-wire.js; a full marking of the ~300 MB heap followed every ~30 MB
// promoted). Now each document is decoded when the message is parsed only to check it (a bad
// document still refuses the whole message before anything is applied; that copy dies at
// once, in the young generation), and decoded again each time the command reads it: the
// command's elements are read through an array proxy holding the message's bytes and where
// each document starts. A statement read once per command (insert, update, delete read each
// once) then lives while it is applied, not while the whole batch is.
// `lazySequences` false: decoded once and kept, as before (tools/burst-wire.js's A/B).
// A section of at most KEEP_DECODED_BYTES keeps the documents it was checked with: a few
// statements' objects are young garbage whatever the command does.
const sequenceOptions = { lazySequences: true };
const KEEP_DECODED_BYTES = 16 * 1024;

const INDEX_KEY = /^(?:0|[1-9][0-9]*)$/;

/** The documents of a checked sequence (`starts`: their offsets in `buf`), as an array. */
function sequenceOf(buf, starts) {
  const decode = (i) => BSON.deserialize(buf.subarray(starts[i], starts[i] + buf.readInt32LE(starts[i])), DESERIALIZE_OPTIONS);
  // Own keys, `in` and descriptors as an array of starts.length elements; get decodes.
  const at = (k) => (typeof k === 'string' && INDEX_KEY.test(k) && +k < starts.length ? +k : -1);
  return new Proxy(new Array(starts.length).fill(null), {
    get(target, k, receiver) {
      const i = at(k);
      return i < 0 ? Reflect.get(target, k, receiver) : decode(i);
    },
    getOwnPropertyDescriptor(target, k) {
      const i = at(k);
      const d = Reflect.getOwnPropertyDescriptor(target, k);
      if (i >= 0 && d) d.value = decode(i);
      return d;
    },
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
  });
}

/**
 * Parses one complete message (header included).
 * Returns {requestID, opCode, command, db, moreToCome, legacy} for commands, or
 * {requestID, opCode, unsupported: true}.
 */
function parseMessage(buf) {
  const requestID = buf.readInt32LE(4);
  const opCode = buf.readInt32LE(12);
  if (opCode === OP_MSG) {
    const flags = buf.readUInt32LE(HEADER_SIZE);
    const end = buf.length - (flags & MSG_CHECKSUM_PRESENT ? 4 : 0);
    let offset = HEADER_SIZE + 4;
    let body = null;
    const sequences = [];
    while (offset < end) {
      const kind = buf[offset++];
      if (kind === 0) {
        if (body) throw new ProtocolError('OP_MSG with more than one body section');
        [body, offset] = readDocument(buf, offset, end, true);
      } else if (kind === 1) {
        const size = buf.readInt32LE(offset);
        const sectionEnd = offset + size;
        if (size < 5 || sectionEnd > end) throw new ProtocolError('invalid document sequence size');
        let identifier;
        [identifier, offset] = readCString(buf, offset + 4);
        // Checked now; a small section's documents are kept as checked (the projector's
        // steady state: one statement, which a lazy sequence decoded twice), a larger one's
        // kept as bytes.
        const keep = size <= KEEP_DECODED_BYTES || !sequenceOptions.lazySequences ? [] : null;
        const starts = [];
        while (offset < sectionEnd) {
          let doc;
          starts.push(offset);
          [doc, offset] = readDocument(buf, offset, sectionEnd);
          if (keep) keep.push(doc);
        }
        sequences.push([identifier, keep || sequenceOf(buf, starts)]);
      } else {
        throw new ProtocolError(`unknown OP_MSG section kind ${kind}`);
      }
    }
    if (!body) throw new ProtocolError('OP_MSG without a body section');
    for (const [identifier, docs] of sequences) {
      if (identifier in body) throw new ProtocolError(`duplicate field ${identifier} in OP_MSG`);
      body[identifier] = docs;
    }
    const db = typeof body.$db === 'string' ? body.$db : null;
    return { requestID, opCode, command: body, db, moreToCome: !!(flags & MSG_MORE_TO_COME), legacy: false };
  }
  if (opCode === OP_QUERY) {
    let offset = HEADER_SIZE + 4; // skip flags
    let fullName;
    [fullName, offset] = readCString(buf, offset);
    offset += 8; // numberToSkip, numberToReturn
    let query;
    [query, offset] = readDocument(buf, offset, buf.length);
    if (!fullName.endsWith('.$cmd')) return { requestID, opCode, unsupported: true, legacy: true, fullName };
    // A wrapped command: {$query: {...}, $readPreference: ...}
    const command = query.$query && typeof query.$query === 'object' ? query.$query : query;
    return { requestID, opCode, command, db: fullName.slice(0, -5), moreToCome: false, legacy: true };
  }
  return { requestID, opCode, unsupported: true };
}

let nextRequestId = 1;

function header(buf, length, responseTo, opCode) {
  buf.writeInt32LE(length, 0);
  buf.writeInt32LE(nextRequestId++ & 0x7fffffff, 4);
  buf.writeInt32LE(responseTo, 8);
  buf.writeInt32LE(opCode, 12);
}

// Note: bson 6's calculateObjectSize miscounts Int32 objects, so replies are serialized
// first and the header is written around the bytes.

const MAX_SERIALIZED = 17 * 1024 * 1024; // bson's own buffer: a reply beyond it fails there too

/** One element {key: value} of a document, as BSON (type, key, value): [] when it is left out. */
function elementBytes(key, value) {
  const one = BSON.serialize({ [key]: value }, SERIALIZE_OPTIONS);
  return one.length > 5 ? [one.subarray(4, one.length - 1)] : [];
}

/** A document's bytes from its elements' parts (each a Buffer). */
function documentOf(parts) {
  let n = 5;
  for (const p of parts) n += p.length;
  const head = Buffer.allocUnsafe(4);
  head.writeInt32LE(n, 0);
  return { parts: [head, ...parts, ZERO], length: n };
}
const ZERO = Buffer.from([0]);
const DOC_ELEMENT = Array.from({ length: 1000 }, (_, i) => Buffer.from(`\u0003${i}\u0000`, 'latin1'));

/** The batch of a cursor reply holding documents written by takeBatch (RawDocs), or null. */
function rawBatchKey(cursor) {
  if (cursor === null || typeof cursor !== 'object') return null;
  for (const k of ['firstBatch', 'nextBatch']) {
    const b = cursor[k];
    if (Array.isArray(b) && b.some((d) => d instanceof RawDoc)) return k;
  }
  return null;
}

/**
 * A reply document as BSON parts: what BSON.serialize(doc) gives, with a cursor batch's
 * RawDocs copied as they are (the other values through the bson library).
 */
function replyParts(doc) {
  const batchKey = rawBatchKey(doc.cursor);
  if (!batchKey) {
    const b = BSON.serialize(doc, SERIALIZE_OPTIONS);
    return { parts: [b], length: b.length };
  }
  const top = [];
  for (const k of Object.keys(doc)) {
    if (k !== 'cursor') { top.push(...elementBytes(k, doc[k])); continue; }
    const inner = [];
    for (const ck of Object.keys(doc.cursor)) {
      if (ck !== batchKey) { inner.push(...elementBytes(ck, doc.cursor[ck])); continue; }
      const elems = [];
      doc.cursor[ck].forEach((d, i) => {
        const bytes = d instanceof RawDoc ? d.bytes : BSON.serialize(d, SERIALIZE_OPTIONS);
        elems.push(i < DOC_ELEMENT.length ? DOC_ELEMENT[i] : Buffer.from(`\u0003${i}\u0000`, 'latin1'), bytes);
      });
      const arr = documentOf(elems);
      inner.push(Buffer.from(`\u0004${ck}\u0000`, 'utf8'), ...arr.parts);
    }
    const sub = documentOf(inner);
    top.push(Buffer.from('\u0003cursor\u0000', 'latin1'), ...sub.parts);
  }
  const out = documentOf(top);
  if (out.length > MAX_SERIALIZED) throw new RangeError('reply over the maximum BSON size');
  return out;
}

const KEY_FIRST = Buffer.from('\u0004firstBatch\u0000', 'latin1');
const KEY_NEXT = Buffer.from('\u0004nextBatch\u0000', 'latin1');

/**
 * A cursor reply of the common shape, {cursor: {firstBatch|nextBatch: [RawDoc...], id: Long,
 * ns: string}, ok: Double} in that order (find, aggregate and getMore): its length and a
 * function writing its bytes at buf[at], without the bson library and the parts of
 * replyParts (a dozen small serializations and buffers per query); null for any other reply.
 * The bytes are BSON.serialize's (test/rawreply.test.js compares them).
 */
function cursorReply(doc) {
  const cur = doc.cursor;
  if (cur === null || typeof cur !== 'object' || !(doc.ok instanceof Double)) return null;
  const top = Object.keys(doc);
  if (top.length !== 2 || top[0] !== 'cursor' || top[1] !== 'ok') return null;
  const keys = Object.keys(cur);
  const batchKey = keys[0] === 'firstBatch' ? KEY_FIRST : keys[0] === 'nextBatch' ? KEY_NEXT : null;
  if (!batchKey || keys.length !== 3 || keys[1] !== 'id' || keys[2] !== 'ns') return null;
  const batch = cur[keys[0]];
  const { id, ns } = cur;
  if (!Array.isArray(batch) || !Long.isLong(id) || typeof ns !== 'string') return null;
  // The batch's elements as takeBatch wrote them, heads and documents in order in one
  // buffer: one copy (else each document's bytes after its element head from DOC_ELEMENT).
  const run = headedRun(batch);
  let elems = 0;
  let docs = null;
  if (run) {
    elems = run.end - run.from;
  } else {
    docs = new Array(batch.length);
    for (let i = 0; i < batch.length; i++) {
      const d = batch[i];
      if (!(d instanceof RawDoc) || i >= DOC_ELEMENT.length) return null;
      docs[i] = d.bytes;
      elems += DOC_ELEMENT[i].length + docs[i].length;
    }
  }
  const nsBytes = Buffer.byteLength(ns, 'utf8');
  const arrayLen = 4 + elems + 1;
  const cursorLen = 4 + batchKey.length + arrayLen + 4 + 8 + 4 + 4 + nsBytes + 1 + 1;
  const length = 4 + 8 + cursorLen + 4 + 8 + 1;
  if (length > MAX_SERIALIZED) return null; // replyParts refuses it
  const fill = (buf, at) => {
    let p = at;
    buf.writeInt32LE(length, p);
    p += 4;
    p += CURSOR_KEY.copy(buf, p);
    buf.writeInt32LE(cursorLen, p);
    p += 4;
    p += batchKey.copy(buf, p);
    buf.writeInt32LE(arrayLen, p);
    p += 4;
    if (run) {
      p += run.buf.copy(buf, p, run.from, run.end);
    } else {
      for (let i = 0; i < docs.length; i++) {
        p += DOC_ELEMENT[i].copy(buf, p);
        p += docs[i].copy(buf, p);
      }
    }
    buf[p++] = 0;
    p += ID_KEY.copy(buf, p);
    buf.writeInt32LE(id.low, p);
    buf.writeInt32LE(id.high, p + 4);
    p += 8;
    p += NS_KEY.copy(buf, p);
    buf.writeInt32LE(nsBytes + 1, p);
    p += 4;
    p += buf.utf8Write(ns, p);
    buf[p++] = 0;
    buf[p++] = 0; // the cursor document's end
    p += OK_KEY.copy(buf, p);
    buf.writeDoubleLE(doc.ok.value, p);
    p += 8;
    buf[p] = 0;
  };
  return { length, fill };
}
/**
 * {buf, from, end} when batch is RawDocs each right after the one before it in one writer's
 * buffer, with its element head for its index (RawDoc head): the array's elements are
 * buf[from, end) as they are; null otherwise.
 */
function headedRun(batch) {
  const n = batch.length;
  if (n === 0) return null;
  let prev = null;
  for (let i = 0; i < n; i++) {
    const d = batch[i];
    if (!(d instanceof RawDoc) || d.index !== i || !d.headed || (prev && (d.w !== prev.w || d.head !== prev.end))) return null;
    prev = d;
  }
  return { buf: batch[0].w.buf, from: batch[0].head, end: prev.end };
}

const CURSOR_KEY = Buffer.from('\u0003cursor\u0000', 'latin1');
const ID_KEY = Buffer.from('\u0012id\u0000', 'latin1');
const NS_KEY = Buffer.from('\u0002ns\u0000', 'latin1');
const OK_KEY = Buffer.from('\u0001ok\u0000', 'latin1');

/** The reply document's BSON (tests compare it with BSON.serialize's). */
function serializeReply(doc) {
  const { parts, length } = replyParts(doc);
  return parts.length === 1 ? parts[0] : Buffer.concat(parts, length);
}

/**
 * The buffers of one connection's replies: one is written over reply after reply while every
 * write completes at once (a reply of 30 KB allocated outside the heap per query brought on a
 * scavenge every 20 queries); a write left pending keeps its buffer, and the next reply gets
 * a new one. alloc(n) -> a buffer of n bytes; released(pending) after the socket's write.
 */
class ReplyBuffers {
  constructor() {
    this.buf = null;
    this.alloc = (n) => {
      if (n > REPLY_BUFFER_KEEP) return Buffer.allocUnsafe(n);
      if (!this.buf || this.buf.length < n) this.buf = Buffer.allocUnsafe(Math.max(n, 64 * 1024));
      return this.buf.subarray(0, n);
    };
  }

  released(pending) {
    if (pending) this.buf = null;
  }
}
const REPLY_BUFFER_KEEP = 1024 * 1024;

/** A message: header, `prefix` bytes (written by fill), then the reply document. */
function message(responseTo, opCode, prefix, fill, doc, alloc = Buffer.allocUnsafe) {
  const fast = cursorReply(doc);
  if (fast) {
    const buf = alloc(HEADER_SIZE + prefix + fast.length);
    header(buf, buf.length, responseTo, opCode);
    fill(buf);
    fast.fill(buf, HEADER_SIZE + prefix);
    return buf;
  }
  const { parts, length } = replyParts(doc);
  const buf = alloc(HEADER_SIZE + prefix + length);
  header(buf, buf.length, responseTo, opCode);
  fill(buf);
  let at = HEADER_SIZE + prefix;
  for (const p of parts) {
    p.copy(buf, at);
    at += p.length;
  }
  return buf;
}

/** OP_MSG reply with a single body section (alloc: see ReplyBuffers). */
function buildMsgReply(responseTo, doc, alloc) {
  return message(responseTo, OP_MSG, 5, (buf) => {
    buf.writeUInt32LE(0, HEADER_SIZE);
    buf[HEADER_SIZE + 4] = 0;
  }, doc, alloc);
}

/** OP_REPLY with one document; queryFailure sets the QueryFailure response flag. */
function buildOpReply(responseTo, doc, queryFailure = false, alloc = undefined) {
  return message(responseTo, OP_REPLY, 20, (buf) => {
    buf.writeInt32LE(queryFailure ? 2 : 0, HEADER_SIZE); // responseFlags
    buf.writeBigInt64LE(0n, HEADER_SIZE + 4); // cursorID
    buf.writeInt32LE(0, HEADER_SIZE + 12); // startingFrom
    buf.writeInt32LE(1, HEADER_SIZE + 16); // numberReturned
  }, doc, alloc);
}

/**
 * Splits a byte stream into messages. push() returns complete messages; throws
 * ProtocolError on an impossible length.
 */
class MessageReader {
  constructor() {
    this.chunks = [];
    this.length = 0;
  }

  push(chunk) {
    this.chunks.push(chunk);
    this.length += chunk.length;
    const out = [];
    while (this.length >= 4) {
      const head = this.chunks[0].length >= 4 ? this.chunks[0] : this.flatten();
      const size = head.readInt32LE(0);
      if (size < HEADER_SIZE || size > MAX_MESSAGE_SIZE) throw new ProtocolError(`invalid message length ${size}`);
      if (this.length < size) break;
      const buf = this.chunks[0].length >= size ? this.chunks[0] : this.flatten();
      out.push(buf.subarray(0, size));
      if (buf.length === size) {
        this.chunks.shift();
      } else {
        this.chunks[0] = buf.subarray(size);
      }
      this.length -= size;
    }
    return out;
  }

  flatten() {
    const all = Buffer.concat(this.chunks, this.length);
    this.chunks = [all];
    return all;
  }
}

module.exports = {
  OP_REPLY, OP_QUERY, OP_MSG, OP_COMPRESSED, ProtocolError, parseMessage, buildMsgReply, buildOpReply,
  serializeReply, cursorReply, headedRun, ReplyBuffers, MessageReader,
  /** The stage cache's counters, and emptying it (tests). */
  stageCache: { stats: stageStats, clear() { STAGE_CACHE = new Map(); REST_CACHE = new Map(); } },
  sequenceOptions,
};
