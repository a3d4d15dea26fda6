'use strict';
// A compiled matcher for the filters browse and the projector send most (marketd's search
// pages): conditions on field paths that are equalities with a string, a finite number or a
// boolean, $eq of one, ranges ($gt, $gte, $lt, $lte) with finite numbers, $in of such values
// and $all of strings. Building one is a walk of the filter; mingo's Query compiles its
// operator tree for every query (a tenth of a browse query's CPU in the stand-in).
//
// It answers only where the answer is plain: a document value that is a string, a finite
// number, a boolean, null or missing, or (for equality, $in and $all) an array of such
// scalars ($all on a scalar is mingo's to answer). Anything else (NaN, documents, nested arrays, dates, a range over an array, an
// array met on the way down a dotted path) returns undefined, and the caller asks mingo,
// compiled then. test/matcher.test.js holds it to mingo's answers on generated filters and
// documents.

const { isPlainObject } = require('./typed');

const RANGE = { $gt: (a, b) => a > b, $gte: (a, b) => a >= b, $lt: (a, b) => a < b, $lte: (a, b) => a <= b };
const FIELD = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

const plainScalar = (v) => typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

/** One field's test: (value) => true | false | undefined (ask mingo); null if not compiled. */
function fieldTest(cond) {
  if (plainScalar(cond)) return eqTest(cond);
  if (!isPlainObject(cond)) return null;
  const keys = Object.keys(cond);
  if (!keys.length) return null;
  const tests = [];
  for (const op of keys) {
    const v = cond[op];
    if (op === '$eq') {
      if (!plainScalar(v)) return null;
      tests.push(eqTest(v));
    } else if (RANGE[op]) {
      if (typeof v !== 'number' || !Number.isFinite(v)) return null;
      tests.push(rangeTest(RANGE[op], v));
    } else if (op === '$in') {
      if (!Array.isArray(v) || !v.length || !v.every(plainScalar)) return null;
      tests.push(inTest(v));
    } else if (op === '$all') {
      if (!Array.isArray(v) || !v.length || !v.every((x) => typeof x === 'string')) return null;
      tests.push(allTest(v));
    } else return null;
  }
  if (tests.length === 1) return tests[0];
  return (x) => {
    for (let i = 0; i < tests.length; i++) {
      const r = tests[i](x);
      if (r !== true) return r;
    }
    return true;
  };
}

/** undefined when a value is not one the tests answer for; 1 a scalar, 2 an array of them. */
function plainKind(x) {
  if (x === undefined || x === null || plainScalar(x)) return 1;
  if (!Array.isArray(x)) return 0;
  for (let i = 0; i < x.length; i++) if (!plainScalar(x[i]) && x[i] !== null) return 0;
  return 2;
}

function eqTest(c) {
  return (x) => {
    if (x === c) return true;
    const k = plainKind(x);
    if (k === 1) return false;
    if (k === 2) return x.includes(c);
    return undefined;
  };
}

function rangeTest(cmp, c) {
  return (x) => {
    if (typeof x === 'number') return Number.isNaN(x) ? undefined : cmp(x, c);
    if (x === undefined || x === null || typeof x === 'string' || typeof x === 'boolean') return false;
    return undefined;
  };
}

function inTest(list) {
  const set = new Set(list);
  return (x) => {
    const k = plainKind(x);
    if (k === 1) return set.has(x);
    if (k === 2) {
      for (let i = 0; i < x.length; i++) if (set.has(x[i])) return true;
      return false;
    }
    return undefined;
  };
}

function allTest(list) {
  return (x) => {
    const k = plainKind(x);
    if (k === 2) {
      for (let i = 0; i < list.length; i++) if (!x.includes(list[i])) return false;
      return true;
    }
    if (k === 1 && x !== undefined && x !== null) return undefined; // a scalar: mingo's rules (it differs from mongod)
    if (k === 1) return false;
    return undefined;
  };
}

/** The value at a dotted path of a view; NOT_PLAIN when an array or odd value is on the way. */
const NOT_PLAIN = Symbol('not plain');
function valueAt(view, parts) {
  let v = view;
  for (let i = 0; i < parts.length; i++) {
    if (v === undefined || v === null || typeof v !== 'object') return undefined;
    if (Array.isArray(v) || !isPlainObject(v)) return NOT_PLAIN;
    v = Object.prototype.hasOwnProperty.call(v, parts[i]) ? v[parts[i]] : undefined;
  }
  return v;
}

/**
 * The compiled test of a filter (a view): (view) => true | false | undefined (ask mingo), or
 * null when the filter has a field or operator it does not compile.
 */
function compileMatcher(filter) {
  if (!isPlainObject(filter)) return null;
  const fields = [];
  for (const k of Object.keys(filter)) {
    if (!FIELD.test(k) || k.split('.').includes('__proto__')) return null;
    const test = fieldTest(filter[k]);
    if (!test) return null;
    fields.push({ top: k.indexOf('.') < 0 ? k : null, parts: k.split('.'), test });
  }
  return (view) => {
    let unsure = false;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i];
      const v = f.top !== null ? (Object.prototype.hasOwnProperty.call(view, f.top) ? view[f.top] : undefined) : valueAt(view, f.parts);
      if (v === NOT_PLAIN) {
        unsure = true;
        continue;
      }
      const r = f.test(v);
      if (r === false) return false;
      if (r === undefined) unsure = true;
    }
    return unsure ? undefined : true;
  };
}

module.exports = { compileMatcher };
