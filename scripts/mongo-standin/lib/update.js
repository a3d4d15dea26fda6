'use strict';
// Update operators applied directly to typed documents, so numeric BSON types follow
// MongoDB's rules ($inc of two int32 stays int32 unless it overflows, anything with a double
// is a double, ...). Supports replacement documents, the field/array operators, the
// positional operators $, $[] and $[<identifier>] with arrayFilters, and upsert seeding.

const { ObjectId, Timestamp } = require('bson');
const { fail } = require('./errors');
const {
  isPlainObject, isContainer, numericType, toNumber, toView, keyOf, compareValues, cloneTyped,
  formatValue, retype, Int32, Long, Double, Decimal128, INT32_MIN, INT32_MAX,
} = require('./typed');
const { newQuery, newAggregator } = require('./query');
const { deriveHints, hintsOfDocument } = require('./hints');

const isIndex = (s) => /^\d+$/.test(s);
const RANK = { Int32: 0, Long: 1, Double: 2, Decimal128: 3 };

/** Typed arithmetic with MongoDB's result types. */
function arith(a, b, op) {
  const ta = numericType(a);
  const tb = numericType(b);
  const t = RANK[ta] >= RANK[tb] ? ta : tb;
  if (t === 'Decimal128') {
    const r = op === '+' ? toNumber(a) + toNumber(b) : toNumber(a) * toNumber(b);
    return Decimal128.fromString(String(r));
  }
  if (t === 'Double') return new Double(op === '+' ? toNumber(a) + toNumber(b) : toNumber(a) * toNumber(b));
  const la = ta === 'Long' ? a : Long.fromNumber(toNumber(a));
  const lb = tb === 'Long' ? b : Long.fromNumber(toNumber(b));
  const r = op === '+' ? la.add(lb) : la.multiply(lb);
  if (t === 'Int32' && r.greaterThanOrEqual(Long.fromNumber(INT32_MIN)) && r.lessThanOrEqual(Long.fromNumber(INT32_MAX))) {
    return new Int32(r.toNumber());
  }
  return r;
}

function zeroLike(v) {
  switch (numericType(v)) {
    case 'Long': return Long.ZERO;
    case 'Double': return new Double(0);
    case 'Decimal128': return Decimal128.fromString('0');
    default: return new Int32(0);
  }
}

const typeName = (v) => {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (isPlainObject(v)) return 'object';
  if (typeof v === 'object') return v._bsontype ? v._bsontype.toLowerCase() : 'object';
  return typeof v;
};

/**
 * Resolves the container of a concrete path (array of parts), creating subdocuments when
 * `create`. Returns {node, key} or null when a part is missing and not created.
 */
function locate(doc, parts, create) {
  let node = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const p = parts[i];
    let next;
    if (Array.isArray(node)) {
      if (!isIndex(p)) throw fail('PathNotViable', `Cannot create field '${p}' in element {${parts[i - 1]}: ${formatValue(node)}}`);
      next = node[+p];
    } else {
      next = Object.prototype.hasOwnProperty.call(node, p) ? node[p] : undefined;
    }
    if (next === undefined) {
      if (!create) return null;
      next = {};
      assign(node, p, next);
    } else if (!isContainer(next)) {
      if (!create) return null;
      throw fail('PathNotViable', `Cannot create field '${parts[i + 1]}' in element {${p}: ${formatValue(next)}}`);
    }
    node = next;
  }
  const key = parts[parts.length - 1];
  if (Array.isArray(node) && !isIndex(key)) {
    if (!create) return null;
    throw fail('PathNotViable', `Cannot create field '${key}' in element {${parts[parts.length - 2]}: ${formatValue(node)}}`);
  }
  return { node, key };
}

function assign(node, key, value) {
  if (Array.isArray(node)) {
    const i = +key;
    while (node.length < i) node.push(null);
    node[i] = value;
  } else {
    node[key] = value;
  }
}

const read = ({ node, key }) => (Array.isArray(node) ? node[+key] : (Object.prototype.hasOwnProperty.call(node, key) ? node[key] : undefined));

/** Equality of two typed values as MongoDB sees it (numbers by value). */
const sameValue = (a, b) => keyOf(a) === keyOf(b);

/** Matcher for $pull conditions on array elements. */
function pullMatcher(cond) {
  if (isPlainObject(cond)) {
    const view = toView(cond);
    const isOps = Object.keys(view).some((k) => k.startsWith('$'));
    const q = newQuery(isOps ? { v: view } : view);
    return isOps ? (x) => q.test({ v: toView(x) }) : (x) => isPlainObject(x) && q.test(toView(x));
  }
  if (cond instanceof RegExp) return (x) => typeof x === 'string' && cond.test(x);
  return (x) => sameValue(x, cond);
}

function requireArray(value, path, doc) {
  if (!Array.isArray(value)) {
    throw fail('BadValue', `The field '${path}' must be an array but is of type ${typeName(value)} in document {_id: ${formatValue(doc._id)}}`);
  }
}

const OPERATORS = {
  $set(doc, parts, arg) {
    assign(locate(doc, parts, true).node, parts[parts.length - 1], cloneTyped(arg));
  },
  $setOnInsert(doc, parts, arg, ctx) {
    if (ctx.isInsert) OPERATORS.$set(doc, parts, arg);
  },
  $unset(doc, parts) {
    const loc = locate(doc, parts, false);
    if (!loc || read(loc) === undefined) return;
    if (Array.isArray(loc.node)) loc.node[+loc.key] = null;
    else delete loc.node[loc.key];
  },
  $inc(doc, parts, arg, ctx, path) { numericOp(doc, parts, arg, ctx, path, '+'); },
  $mul(doc, parts, arg, ctx, path) { numericOp(doc, parts, arg, ctx, path, '*'); },
  $min(doc, parts, arg) { minMax(doc, parts, arg, -1); },
  $max(doc, parts, arg) { minMax(doc, parts, arg, 1); },
  $currentDate(doc, parts, arg) {
    const asTimestamp = isPlainObject(arg) && arg.$type === 'timestamp';
    if (isPlainObject(arg) && arg.$type !== 'timestamp' && arg.$type !== 'date') {
      throw fail('BadValue', "The '$type' string field is required to be 'date' or 'timestamp'");
    }
    const now = new Date();
    const value = asTimestamp ? new Timestamp({ t: Math.floor(now.getTime() / 1000), i: 1 }) : now;
    assign(locate(doc, parts, true).node, parts[parts.length - 1], value);
  },
  $push(doc, parts, arg, ctx, path) {
    const loc = locate(doc, parts, true);
    let arr = read(loc);
    if (arr === undefined) { arr = []; assign(loc.node, loc.key, arr); }
    requireArray(arr, path, ctx.original);
    const mods = isPlainObject(arg) && '$each' in arg ? arg : { $each: [arg] };
    if (!Array.isArray(mods.$each)) throw fail('BadValue', `The argument to $each in $push must be an array but it was of type: ${typeName(mods.$each)}`);
    const items = mods.$each.map(cloneTyped);
    if (mods.$position !== undefined) {
      let pos = toNumber(mods.$position);
      if (pos < 0) pos = Math.max(arr.length + pos, 0);
      arr.splice(Math.min(pos, arr.length), 0, ...items);
    } else {
      arr.push(...items);
    }
    if (mods.$sort !== undefined) {
      const spec = toView(mods.$sort);
      const cmp = isPlainObject(spec)
        ? (a, b) => {
          for (const [f, dir] of Object.entries(spec)) {
            const r = compareValues(toView(readPath(a, f)), toView(readPath(b, f))) * dir;
            if (r) return r;
          }
          return 0;
        }
        : (a, b) => compareValues(toView(a), toView(b)) * spec;
      arr.sort(cmp);
    }
    if (mods.$slice !== undefined) {
      const n = toNumber(mods.$slice);
      const kept = n >= 0 ? arr.slice(0, n) : arr.slice(Math.max(arr.length + n, 0));
      arr.length = 0;
      arr.push(...kept);
    }
  },
  $addToSet(doc, parts, arg, ctx, path) {
    const loc = locate(doc, parts, true);
    let arr = read(loc);
    if (arr === undefined) { arr = []; assign(loc.node, loc.key, arr); }
    requireArray(arr, path, ctx.original);
    const items = isPlainObject(arg) && '$each' in arg ? arg.$each : [arg];
    if (!Array.isArray(items)) throw fail('TypeMismatch', 'The argument to $each in $addToSet must be an array');
    for (const x of items) if (!arr.some((y) => sameValue(x, y))) arr.push(cloneTyped(x));
  },
  $pull(doc, parts, arg, ctx, path) {
    const loc = locate(doc, parts, false);
    const arr = loc && read(loc);
    if (arr === undefined || arr === null) return;
    requireArray(arr, path, ctx.original);
    const match = pullMatcher(arg);
    const kept = arr.filter((x) => !match(x));
    arr.length = 0;
    arr.push(...kept);
  },
  $pullAll(doc, parts, arg, ctx, path) {
    if (!Array.isArray(arg)) throw fail('BadValue', `$pullAll requires an array argument but was given a ${typeName(arg)}`);
    const loc = locate(doc, parts, false);
    const arr = loc && read(loc);
    if (arr === undefined || arr === null) return;
    requireArray(arr, path, ctx.original);
    const kept = arr.filter((x) => !arg.some((y) => sameValue(x, y)));
    arr.length = 0;
    arr.push(...kept);
  },
  $pop(doc, parts, arg, ctx, path) {
    const loc = locate(doc, parts, false);
    const arr = loc && read(loc);
    if (arr === undefined || arr === null) return;
    requireArray(arr, path, ctx.original);
    if (toNumber(arg) >= 0) arr.pop(); else arr.shift();
  },
  $rename(doc, parts, arg, ctx) {
    if (typeof arg !== 'string') throw fail('BadValue', `The 'to' field for $rename must be a string: ${parts.join('.')}: ${formatValue(arg)}`);
    const loc = locate(doc, parts, false);
    const value = loc && read(loc);
    if (value === undefined) return;
    OPERATORS.$unset(doc, parts);
    OPERATORS.$set(doc, arg.split('.'), value, ctx);
  },
  $bit(doc, parts, arg, ctx, path) {
    const loc = locate(doc, parts, true);
    let cur = read(loc);
    if (cur === undefined) cur = new Int32(0);
    if (!['Int32', 'Long'].includes(numericType(cur))) {
      throw fail('BadValue', `Cannot apply $bit to a value of non-integral type. {_id: ${formatValue(ctx.original._id)}} has the field ${path} of non-integer type ${typeName(cur)}`);
    }
    for (const [op, operand] of Object.entries(arg)) {
      const long = numericType(cur) === 'Long' || numericType(operand) === 'Long';
      const a = Long.fromNumber(toNumber(cur));
      const b = numericType(operand) === 'Long' ? operand : Long.fromNumber(toNumber(operand));
      const r = op === 'and' ? a.and(b) : op === 'or' ? a.or(b) : op === 'xor' ? a.xor(b) : null;
      if (!r) throw fail('BadValue', `The $bit modifier only supports 'and', 'or', and 'xor', not '${op}'`);
      cur = long ? r : new Int32(r.toInt());
    }
    assign(loc.node, loc.key, cur);
  },
};

function readPath(v, path) {
  let node = v;
  for (const p of path.split('.')) {
    if (!isPlainObject(node)) return undefined;
    node = node[p];
  }
  return node;
}

function numericOp(doc, parts, arg, ctx, path, op) {
  const name = op === '+' ? '$inc' : '$mul';
  if (!numericType(arg)) {
    throw fail('TypeMismatch', `Cannot ${op === '+' ? 'increment' : 'multiply'} with non-numeric argument: {${path}: ${formatValue(arg)}}`);
  }
  const loc = locate(doc, parts, true);
  const cur = read(loc);
  if (cur === undefined) {
    assign(loc.node, loc.key, op === '+' ? arg : zeroLike(arg));
    return;
  }
  if (!numericType(cur)) {
    throw fail('TypeMismatch', `Cannot apply ${name} to a value of non-numeric type. {_id: ${formatValue(ctx.original._id)}} has the field '${parts[parts.length - 1]}' of non-numeric type ${typeName(cur)}`);
  }
  assign(loc.node, loc.key, arith(cur, arg, op));
}

function minMax(doc, parts, arg, sign) {
  const loc = locate(doc, parts, true);
  const cur = read(loc);
  if (cur === undefined || compareValues(toView(arg), toView(cur)) * sign > 0) assign(loc.node, loc.key, cloneTyped(arg));
}

/**
 * Expands a path with positional operators into concrete paths (arrays of parts) against
 * the document being updated.
 */
function expandPath(doc, path, ctx) {
  const parts = path.split('.');
  if (parts.some((p) => p === '')) throw fail('BadValue', `An empty update path is not valid: '${path}'`);
  if (!parts.some((p) => p.startsWith('$'))) return [parts];
  const out = [];
  (function walk(node, i, prefix) {
    if (i === parts.length) { out.push(prefix); return; }
    const p = parts[i];
    const child = (k) => (isContainer(node) ? (Array.isArray(node) ? node[+k] : node[k]) : undefined);
    if (p === '$') {
      const index = ctx.positionalIndex(prefix, node);
      if (index === null) throw fail('BadValue', 'The positional operator did not find the match needed from the query.');
      walk(child(index), i + 1, [...prefix, String(index)]);
    } else if (p === '$[]' || /^\$\[\w+\]$/.test(p)) {
      if (!Array.isArray(node)) {
        throw fail('BadValue', `The path '${prefix.join('.')}' must exist in the document in order to apply array updates.`);
      }
      const ident = p.slice(2, -1);
      const filter = ident ? ctx.arrayFilter(ident) : null;
      node.forEach((el, idx) => { if (!filter || filter(el)) walk(el, i + 1, [...prefix, String(idx)]); });
    } else if (p.startsWith('$')) {
      throw fail('BadValue', `The dollar ($) prefixed field '${p}' in '${path}' is not valid for storage.`);
    } else {
      walk(child(p), i + 1, [...prefix, p]);
    }
  })(doc, 0, []);
  return out;
}

/** Compiles arrayFilters into ident -> (element) -> bool. */
function compileArrayFilters(arrayFilters) {
  const byIdent = new Map();
  for (const f of arrayFilters || []) {
    const view = toView(f);
    const keys = Object.keys(view);
    if (!keys.length) throw fail('FailedToParse', 'Cannot use an expression without a top-level field name in arrayFilters');
    const ident = keys[0].split('.')[0];
    if (byIdent.has(ident)) throw fail('FailedToParse', `Found multiple array filters with the same top-level field name ${ident}`);
    const q = newQuery(view);
    byIdent.set(ident, (el) => q.test({ [ident]: toView(el) }));
  }
  return byIdent;
}

/**
 * Index of the first element of the array at `prefix` that matched the query, for "$".
 * Uses the filter's conditions on that array field (or its subfields).
 */
function positionalResolver(filterView) {
  return (prefix, arr) => {
    if (!Array.isArray(arr)) return null;
    const arrayPath = prefix.filter((p) => !isIndex(p)).join('.');
    const elementCond = {};
    const collect = (filter) => {
      for (const [k, v] of Object.entries(filter || {})) {
        if (k === '$and' && Array.isArray(v)) v.forEach(collect);
        else if (k === arrayPath) {
          if (isPlainObject(v) && v.$elemMatch) Object.assign(elementCond, { $elemMatchDoc: v.$elemMatch });
          else elementCond.v = v;
        } else if (k.startsWith(arrayPath + '.')) {
          elementCond['d.' + k.slice(arrayPath.length + 1)] = v;
        }
      }
    };
    collect(filterView);
    if (!Object.keys(elementCond).length) return null;
    const emDoc = elementCond.$elemMatchDoc;
    delete elementCond.$elemMatchDoc;
    const emOps = emDoc && Object.keys(emDoc).some((k) => k.startsWith('$'));
    const q = Object.keys(elementCond).length ? newQuery(elementCond) : null;
    const em = emDoc ? newQuery(emOps ? { v: emDoc } : Object.fromEntries(Object.entries(emDoc).map(([k, x]) => ['d.' + k, x]))) : null;
    for (let i = 0; i < arr.length; i++) {
      const el = toView(arr[i]);
      const probe = { v: el, d: el };
      if (q && !q.test(probe)) continue;
      if (em && !em.test(probe)) continue;
      return i;
    }
    return null;
  };
}

const isOperatorUpdate = (u) => Object.keys(u).length > 0 && Object.keys(u)[0].startsWith('$');

/** Validates the shape of an update document or pipeline. */
function validateUpdate(u) {
  if (Array.isArray(u)) return 'pipeline';
  if (!isPlainObject(u)) throw fail('FailedToParse', 'Update argument must be either an object or an array');
  if (isOperatorUpdate(u)) {
    for (const [op, fields] of Object.entries(u)) {
      if (!OPERATORS[op]) {
        throw fail('FailedToParse', `Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`);
      }
      if (!isPlainObject(fields)) {
        throw fail('FailedToParse', `Modifiers operate on fields but we found type ${typeName(fields)} instead. For example: {$mod: {<field>: ...}} not {${op}: ${formatValue(fields)}}`);
      }
    }
    return 'operators';
  }
  for (const k of Object.keys(u)) {
    if (k.startsWith('$')) {
      throw fail('BadValue', `The dollar ($) prefixed field '${k}' in '${k}' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith.`);
    }
  }
  return 'replacement';
}

/** Puts _id first, as mongod stores it. */
function idFirst(doc) {
  if (!('_id' in doc) || Object.keys(doc)[0] === '_id') return doc;
  const { _id, ...rest } = doc;
  return { _id, ...rest };
}

/**
 * Applies an update to a typed document and returns the new typed document.
 * ctx: {isInsert, filterView, arrayFilters (typed array)}.
 */
function applyUpdate(doc, update, ctx) {
  const kind = validateUpdate(update);
  let out;
  if (kind === 'replacement') {
    out = cloneTyped(update);
    if ('_id' in doc) {
      if ('_id' in out && !sameValue(out._id, doc._id)) {
        throw fail('ImmutableField', `After applying the update, the (immutable) field '_id' was found to have been altered to _id: ${formatValue(out._id)}`);
      }
      out = { _id: doc._id, ...out };
    }
    return idFirst(out);
  }
  if (kind === 'pipeline') {
    for (const stage of update) {
      const name = Object.keys(stage)[0];
      if (!['$addFields', '$set', '$project', '$unset', '$replaceRoot', '$replaceWith'].includes(name)) {
        throw fail('BadValue', `${name} is not allowed to be used within an update`);
      }
    }
    const stages = update.map((stage) => toView(stage));
    const [res] = newAggregator(stages).run([toView(doc, true)]);
    out = retype(res, doc, deriveHints(hintsOfDocument(doc), stages));
    if ('_id' in doc) {
      if ('_id' in out && !sameValue(out._id, doc._id)) {
        throw fail('ImmutableField', "Performing an update on the path '_id' would modify the immutable field '_id'");
      }
      out = { _id: doc._id, ...out };
    }
    return idFirst(out);
  }
  out = cloneTyped(doc);
  const full = {
    isInsert: !!ctx.isInsert,
    original: doc,
    positionalIndex: positionalResolver(ctx.filterView),
    arrayFilters: compileArrayFilters(ctx.arrayFilters),
    arrayFilter(ident) {
      const f = this.arrayFilters.get(ident);
      if (!f) throw fail('BadValue', `No array filter found for identifier '${ident}' in path`);
      return f;
    },
  };
  const touched = [];
  const checkConflict = (path) => {
    const clean = path.split('.').filter((p) => !p.startsWith('$')).join('.');
    for (const t of touched) {
      if (t === clean || t.startsWith(clean + '.') || clean.startsWith(t + '.')) {
        throw fail('ConflictingUpdateOperators', `Updating the path '${path}' would create a conflict at '${t.length < clean.length ? t : clean}'`);
      }
    }
    touched.push(clean);
  };
  for (const [op, fields] of Object.entries(update)) {
    for (const [path, arg] of Object.entries(fields)) {
      checkConflict(path);
      if (op === '$rename') checkConflict(arg);
      for (const parts of expandPath(out, path, full)) OPERATORS[op](out, parts, arg, full, path);
    }
  }
  if ('_id' in doc && !('_id' in out && sameValue(out._id, doc._id) && numericType(out._id) === numericType(doc._id))) {
    throw fail('ImmutableField', "Performing an update on the path '_id' would modify the immutable field '_id'");
  }
  return idFirst(out);
}

/** Seeds an upsert's new document from the equality conditions of a typed filter. */
function seedFromFilter(filter) {
  const out = {};
  const put = (path, v) => {
    const parts = path.split('.');
    let node = out;
    for (let i = 0; i < parts.length - 1; i++) {
      if (!isPlainObject(node[parts[i]])) node[parts[i]] = {};
      node = node[parts[i]];
    }
    node[parts[parts.length - 1]] = cloneTyped(v);
  };
  (function collect(f) {
    for (const [k, v] of Object.entries(f || {})) {
      if (k === '$and' && Array.isArray(v)) v.forEach(collect);
      else if (k.startsWith('$')) continue;
      else if (isPlainObject(v) && Object.keys(v).some((x) => x.startsWith('$'))) {
        if ('$eq' in v) put(k, v.$eq);
        else if (Array.isArray(v.$in) && v.$in.length === 1 && Object.keys(v).length === 1) put(k, v.$in[0]);
      } else if (!(v instanceof RegExp)) {
        put(k, v);
      }
    }
  })(filter);
  return out;
}

/**
 * True when an operator update only sets top-level fields with $set and $setOnInsert, each
 * field once and none of them _id: on insert, applyUpdate would assign each value (a copy)
 * to the seed in that order and find nothing to refuse.
 */
function plainSets(update) {
  let seen = null;
  for (const op of Object.keys(update)) {
    if (op !== '$set' && op !== '$setOnInsert') return false;
    const fields = update[op];
    if (!isPlainObject(fields)) return false;
    for (const k of Object.keys(fields)) {
      if (k === '' || k === '_id' || k === '__proto__' || k.includes('.') || k.includes('$')) return false;
      if (!seen) seen = new Set();
      if (seen.has(k)) return false;
      seen.add(k);
    }
  }
  return true;
}

/** The new document an upsert inserts. */
function buildUpsert(filter, update, ctx) {
  const seed = seedFromFilter(filter);
  let doc;
  if (isPlainObject(update) && isOperatorUpdate(update) && plainSets(update)) {
    // The projector's upserts: the seed and the fields, the values shared with the statement
    // (not copied: nothing changes a statement after its command, and the store encodes the
    // document into its own representation).
    doc = seed;
    for (const op of Object.keys(update)) {
      const fields = update[op];
      for (const k of Object.keys(fields)) doc[k] = fields[k];
    }
  } else if (!Array.isArray(update) && isPlainObject(update) && !isOperatorUpdate(update)) {
    validateUpdate(update);
    doc = cloneTyped(update);
    if (!('_id' in doc) && '_id' in seed) doc = { _id: seed._id, ...doc };
  } else {
    doc = applyUpdate(seed, update, { ...ctx, isInsert: true });
  }
  if (!('_id' in doc)) doc = { _id: new ObjectId(), ...doc };
  return idFirst(doc);
}

module.exports = { applyUpdate, buildUpsert, validateUpdate, isOperatorUpdate, idFirst, arith };
