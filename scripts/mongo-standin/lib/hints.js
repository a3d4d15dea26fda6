'use strict';
// Numeric type hints for values computed by mingo. mingo computes with JS numbers, so a
// computed number has lost its BSON type; these hints (Map: dotted path -> 'Int32' | 'Long' |
// 'Double' | 'Decimal128') say which type MongoDB would have produced, following its rules:
// arithmetic yields the widest operand type, $avg / $divide yield doubles, a $sum of int64
// is an int64, a renamed field keeps its type.

const { isPlainObject, toView } = require('./typed');

const WIDTH = { Int32: 0, Long: 1, Double: 2, Decimal128: 3 };
const widest = (types) => types.reduce((a, b) => (a === undefined ? b : b === undefined ? a : WIDTH[a] >= WIDTH[b] ? a : b), undefined);

const fieldRef = (v) => (typeof v === 'string' && v.startsWith('$') && !v.startsWith('$$') ? v.slice(1) : null);

const WIDEST_OPS = new Set(['$add', '$subtract', '$multiply', '$sum', '$max', '$min', '$abs', '$ceil', '$floor',
  '$round', '$trunc', '$mod', '$first', '$last', '$arrayElemAt', '$ifNull']);
const DOUBLE_OPS = new Set(['$avg', '$divide', '$sqrt', '$pow', '$exp', '$ln', '$log', '$log10', '$stdDevPop',
  '$stdDevSamp', '$toDouble', '$sin', '$cos', '$tan']);
const CAST_OPS = { $toLong: 'Long', $toInt: 'Int32', $toDecimal: 'Decimal128' };
const COUNT_OPS = new Set(['$size', '$strLenCP', '$strLenBytes', '$indexOfArray', '$indexOfCP', '$count']);

/** BSON numeric type an aggregation expression produces, if it can be told. */
function exprType(expr, h) {
  const ref = fieldRef(expr);
  if (ref) return h.get(ref);
  if (typeof expr === 'number') return Number.isInteger(expr) ? 'Int32' : 'Double';
  if (!isPlainObject(expr)) return undefined;
  const keys = Object.keys(expr);
  if (keys.length !== 1 || !keys[0].startsWith('$')) return undefined;
  const op = keys[0];
  const arg = expr[op];
  if (DOUBLE_OPS.has(op)) return 'Double';
  if (CAST_OPS[op]) return CAST_OPS[op];
  if (COUNT_OPS.has(op)) return 'Int32';
  const args = Array.isArray(arg) ? arg : [arg];
  if (WIDEST_OPS.has(op)) return widest(args.map((a) => exprType(a, h)));
  if (op === '$cond') {
    const branches = Array.isArray(arg) ? arg.slice(1) : [arg.then, arg.else];
    return widest(branches.map((a) => exprType(a, h)));
  }
  return undefined;
}

/** Copies the hints under path `from` to path `to` (for renames such as {x: "$a.b"}). */
function moveHints(src, dst, from, to) {
  for (const [path, t] of src) {
    if (path === from) dst.set(to, t);
    else if (path.startsWith(from + '.')) dst.set(to + path.slice(from.length), t);
  }
}

/** Sets hints for computed fields of $project / $addFields / $set style specs. */
function computedFields(spec, h, nh, prefix = '') {
  for (const [k, v] of Object.entries(spec)) {
    const path = prefix + k;
    if (fieldRef(v)) moveHints(h, nh, fieldRef(v), path);
    else if (isPlainObject(v) && !Object.keys(v).some((x) => x.startsWith('$'))) computedFields(v, h, nh, path + '.');
    else {
      const t = exprType(v, h);
      if (t) nh.set(path, t);
    }
  }
}

/**
 * Hints for the output of a pipeline, derived stage by stage from the input's hints.
 * resolveHints(name) gives the hints of another collection (for $lookup).
 */
function deriveHints(base, stages, resolveHints = () => new Map()) {
  let h = new Map(base);
  for (const stage of stages) {
    const name = Object.keys(stage)[0];
    const spec = stage[name];
    switch (name) {
      case '$group': {
        const nh = new Map();
        for (const [out, acc] of Object.entries(spec)) {
          if (out === '_id') {
            if (fieldRef(acc)) moveHints(h, nh, fieldRef(acc), '_id');
            else if (isPlainObject(acc)) computedFields(acc, h, nh, '_id.');
            continue;
          }
          if (!isPlainObject(acc)) continue;
          const [op] = Object.keys(acc);
          const arg = acc[op];
          if (op === '$count') nh.set(out, 'Int32');
          else if (['$push', '$addToSet', '$first', '$last', '$min', '$max'].includes(op) && fieldRef(arg)) moveHints(h, nh, fieldRef(arg), out);
          else {
            const t = exprType({ [op]: arg }, h);
            if (t) nh.set(out, t);
          }
        }
        h = nh;
        break;
      }
      case '$project': case '$addFields': case '$set': {
        if (!isPlainObject(spec)) break;
        const nh = new Map(h);
        computedFields(spec, h, nh);
        h = nh;
        break;
      }
      case '$replaceRoot': case '$replaceWith': {
        const ref = fieldRef(name === '$replaceRoot' ? spec.newRoot : spec);
        if (ref) {
          const nh = new Map();
          for (const [path, t] of h) if (path.startsWith(ref + '.')) nh.set(path.slice(ref.length + 1), t);
          h = nh;
        }
        break;
      }
      case '$count': h = new Map(); break;
      case '$sortByCount': {
        const nh = new Map();
        if (fieldRef(spec)) moveHints(h, nh, fieldRef(spec), '_id');
        h = nh;
        break;
      }
      case '$lookup': {
        if (typeof spec.from === 'string' && typeof spec.as === 'string') {
          for (const [path, t] of resolveHints(spec.from)) h.set(`${spec.as}.${path}`, t);
        }
        break;
      }
      case '$facet': {
        const nh = new Map();
        for (const [k, sub] of Object.entries(spec)) {
          for (const [path, t] of deriveHints(h, sub, resolveHints)) nh.set(`${k}.${path}`, t);
        }
        h = nh;
        break;
      }
      default: break;
    }
  }
  return h;
}

/** Hints of one typed document (path -> type of the number stored there). */
function hintsOfDocument(doc) {
  const h = new Map();
  toView(doc, false, h);
  return h;
}

module.exports = { deriveHints, exprType, hintsOfDocument };
