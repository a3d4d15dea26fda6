'use strict';
// aggregate: a leading $geoNear or $match (with $text) runs through the planner on the stored
// views — consecutive leading $match stages, and a $sort with its $limit right after them,
// go into that scan (a $limit after $geoNear bounds its search) — the rest of the pipeline
// runs in mingo on fresh views, and results are retyped:
// values passed through keep their stored BSON types, computed numbers take the type the
// pipeline implies (a $sum of int64 is int64, an $avg is a double, ...).

const { fail } = require('./errors');
const { isPlainObject, toView, retype, setPath, cloneTyped, Double } = require('./typed');
const {
  select, explainSelect, newAggregator, compileFilter, newQuery, withRecord, noNearIndex, sortItems,
} = require('./query');
const planner = require('./planner');
const { toNumber } = require('./typed');
const geo = require('./geo');
const { idFirst } = require('./update');
const { deriveHints } = require('./hints');
const { storedDoc } = require('./cursors');
const { projectTop, StoredDoc } = require('./bsonwrite');
const { keysetOf } = require('./geowalk');

const SCORE_FIELD = '__standin_textScore';
const hasOwn = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
const FORBIDDEN_STAGES = new Set(['$out', '$merge', '$currentOp', '$listSessions', '$changeStream', '$collStats', '$indexStats', '$planCacheStats']);

/** Replaces {$meta: "textScore"} in later stages by a reference to the hidden score field. */
function rewriteTextScore(stage) {
  const name = Object.keys(stage)[0];
  if (name === '$sort') {
    const out = {};
    for (const [k, v] of Object.entries(stage.$sort)) {
      if (isPlainObject(v) && v.$meta === 'textScore') out[SCORE_FIELD] = -1;
      else out[k] = v;
    }
    return { $sort: out };
  }
  const walk = (v) => {
    if (Array.isArray(v)) return v.map(walk);
    if (!isPlainObject(v)) return v;
    if (Object.keys(v).length === 1 && v.$meta === 'textScore') return '$' + SCORE_FIELD;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
  };
  return walk(stage);
}

/** Parses a $geoNear stage: {s (view), key, index, near, dist, f, mult}. */
function parseGeoNear(coll, spec) {
  if (!isPlainObject(spec)) throw fail('BadValue', '$geoNear argument must be an object');
  const s = toView(spec);
  if (typeof s.distanceField !== 'string') throw fail('BadValue', '$geoNear requires a \'distanceField\' option as a String');
  if (s.near === undefined) throw fail('BadValue', '$geoNear requires a \'near\' option');
  const indexes = coll ? coll.geoIndexes() : [];
  let key = s.key;
  let index;
  if (key === undefined) {
    if (indexes.length !== 1) {
      throw fail('NoQueryExecutionPlans', indexes.length ? 'There is more than one 2dsphere index; unsure which to use for $geoNear'
        : '$geoNear requires a 2d or 2dsphere index, but none were found');
    }
    [index] = indexes;
    key = Object.keys(index.key).find((f) => typeof index.key[f] === 'string');
  } else {
    index = coll ? indexes.find((i) => typeof i.key[key] === 'string') : null;
    if (!index) throw fail('NoQueryExecutionPlans', `$geoNear requires a 2d or 2dsphere index on ${key}, but none were found`);
  }
  const near = geo.parseNear(key, '$near', { $near: s.near, $maxDistance: s.maxDistance, $minDistance: s.minDistance });
  if (near.legacy && s.spherical) near.spherical = true;
  const dist = geo.distanceFn(near);
  const f = compileFilter(coll, spec.query || {}, undefined, { allowNear: false });
  if (f.text) throw fail('BadValue', '$geoNear is not allowed with $text');
  if (!planner.nearIndexUsable(coll, near, f.rest)) throw noNearIndex();
  const mult = s.distanceMultiplier === undefined ? 1 : s.distanceMultiplier;
  return { s, key, index, near, dist, f, mult };
}

/**
 * The plan of a $geoNear stage (for explain and the profiler): the 2dsphere index on its key
 * whose prefix its query bounds best (planner.nearPlan), as MongoDB plans the $near it
 * rewrites $geoNear into.
 */
function geoNearPlan(coll, g) {
  if (coll && g.index && g.index.kind === '2dsphere' && !planner.state.disabled) return planner.nearPlan(coll, g.near, g.f.rest);
  return { type: 'COLLSCAN', geoNear: g.index };
}

/**
 * Runs a $geoNear first stage: typed documents sorted by distance (ties in natural order),
 * with the distance field set. `want` results that pass `after` (later $match stages, run on
 * the output document) are enough: the search stops there, ties included. With `sortKeys`
 * (a pushed $sort: the distance first, see pushedSort) the found records are ordered by them
 * and cut to `limit` before any is decoded: only the documents returned are materialised.
 */
function geoNearStage(coll, g, {
  want = Infinity, after = [], fields = null, sortKeys = null, limit = 0, order = null, stats, rawOut = null,
} = {}) {
  const { s, key, dist, f, mult } = g;
  const plan = geoNearPlan(coll, g);
  const st = { plan, keysExamined: 0, docsExamined: 0 };
  if (stats) stats.push(st);
  const output = (rec, d) => {
    const doc = rec.doc;
    setPath(doc, s.distanceField, new Double(d * mult));
    if (typeof s.includeLocs === 'string') setPath(doc, s.includeLocs, cloneTyped(geo.rawAt(doc, key)));
    return doc;
  };
  const outputs = new Map();
  const test = (rec) => f.test(rec.view);
  const accept = (rec, d) => {
    if (!withRecord(rec, test)) return false;
    if (!after.length) return true;
    if (fields) {
      // What the filters read of the output document, without decoding it: the fields they
      // name, from the stored view, and the distance (see afterFields).
      const v = {};
      for (const k of fields) if (hasOwn(rec.view, k)) v[k] = rec.view[k];
      v[s.distanceField] = d * mult;
      return after.every((q) => q.test(v));
    }
    const doc = output(rec, d);
    const v = toView(doc, true); // registered: $type sees the BSON types
    if (!after.every((q) => q.test(v))) return false;
    outputs.set(rec, doc);
    return true;
  };
  // The stage's own order, (distance, natural order), unless the pushed sort makes it: with
  // unscaled distances its full ties are in natural order (below). A multiplier may tie
  // distinct distances: those keep the stage's order.
  const ordered = !sortKeys || mult !== 1;
  let items;
  if (!coll) items = [];
  else if (plan.type === 'GEO_NEAR') items = planner.nearScan(plan, dist, accept, want, st, ordered, order);
  else {
    items = [];
    for (const rec of coll.records.values()) {
      const d = dist(rec.view);
      if (d === null) continue;
      st.docsExamined++;
      if (accept(rec, d)) items.push({ rec, d });
    }
    if (ordered) items.sort((a, b) => a.d - b.d);
  }
  if (sortKeys) {
    // By the output's distances, then the other keys; full ties in the stage's order, as the
    // engine's stable sort left them.
    const sorted = sortItems(items.map(({ rec, d }) => ({ rec, d, dist: d * mult })), sortKeys, limit, !ordered);
    return finish(sorted);
  }
  return finish(items);

  // rawOut(rec, distance): the output as a StoredDoc with the distance appended, written from
  // the stored bytes (and the reply cache) when no record found has a top-level field of
  // that name (setPath would set it in its place).
  function finish(list) {
    if (rawOut && list.every(({ rec }) => !hasOwn(rec.view, s.distanceField))) return list.map(({ rec, d }) => rawOut(rec, d * mult));
    return list.map(({ rec, d }) => outputs.get(rec) || output(rec, d));
  }
}

/**
 * The top-level fields `after` filters (views) read, when they can be tested on a small view
 * of those fields of the stored view plus the distance instead of a view of the decoded
 * output document; else null. That needs: the distance field a top-level field, no
 * includeLocs, conditions on field paths under $and / $or / $nor only (no $expr, $where,
 * $jsonSchema...: they may read the whole document), and no $type (which reads the BSON types
 * of the typed document: the distance is a double whatever its value).
 */
function afterFields(g, after) {
  const F = g.s.distanceField;
  if (!topField(F) || g.s.includeLocs !== undefined || after.some((m) => mentions(m, '$type'))) return null;
  const fields = new Set();
  const walk = (filter) => {
    if (!isPlainObject(filter)) return false;
    for (const k of Object.keys(filter)) {
      if (k === '$and' || k === '$or' || k === '$nor') {
        if (!Array.isArray(filter[k]) || !filter[k].every(walk)) return false;
      } else if (k.startsWith('$')) return false;
      else {
        const top = k.split('.')[0];
        if (top === '__proto__') return false;
        if (top !== F) fields.add(top);
      }
    }
    return true;
  };
  return after.every(walk) ? [...fields] : null;
}

const topField = (name) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && name !== '__proto__';

/** True when a (view) value holds the key `op` at any depth. */
function mentions(v, op) {
  if (Array.isArray(v)) return v.some((x) => mentions(x, op));
  if (!isPlainObject(v)) return false;
  return Object.keys(v).some((k) => k === op || mentions(v[k], op));
}

/**
 * The keys of a $sort after $geoNear that the scan takes ([{path, dir, meta}], the distance
 * first as meta 'distance'), or null: the distance field a top-level field, its multiplier
 * a number (the sort compares the output's distances), and no other key
 * on or inside it or includeLocs (those are read from the stored view, where the output
 * document has the same values). sk: the $sort's [key, direction] entries.
 */
function pushedSort(g, sk) {
  const F = g.s.distanceField;
  const L = g.s.includeLocs;
  const overlaps = (p, q) => typeof q === 'string' && (p === q || p.startsWith(q + '.') || q.startsWith(p + '.'));
  if (!topField(F) || !Number.isFinite(g.mult) || sk.slice(1).some(([p]) => overlaps(p, F) || overlaps(p, L))) return null;
  return [{ path: F, dir: 1, meta: 'distance' }, ...sk.slice(1).map(([path, dir]) => ({ path, dir, meta: null }))];
}

const positiveInt = (v) => {
  const n = toNumber(v);
  return Number.isInteger(n) && n > 0 ? n : 0;
};

/** A $sort spec the scan can take over: plain 1 / -1 keys on stored fields. */
function pushableSort(spec) {
  if (!isPlainObject(spec)) return false;
  const v = toView(spec);
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => !k.startsWith('$') && (v[k] === 1 || v[k] === -1));
}

/**
 * A last $project the scan can apply as it writes the results: inclusion of top-level
 * fields only (1 or true; `_id` 0/1, false/true), at least one besides _id. Returns
 * {keep, id} (bsonwrite projectTop) or null (the pipeline engine runs it). Browse asks for the
 * listing fields the API shows: the words arrays and the GeoJSON point, most of a listing's
 * bytes, then stay in the store.
 */
function pushableProject(spec) {
  if (!isPlainObject(spec)) return null;
  // A stage from wire.js's stage cache (frozen, the same object for the same bytes): its
  // answer is remembered, so the reply cache finds the same projection object every time
  // (replycache.js shapeOf) instead of a new one to key per query.
  if (!Object.isFrozen(spec)) return projectOf(spec);
  let p = PROJECT_OF.get(spec);
  if (p === undefined) {
    p = projectOf(spec);
    PROJECT_OF.set(spec, p);
  }
  return p;
}
const PROJECT_OF = new WeakMap();

function projectOf(spec) {
  const v = toView(spec);
  const keep = new Set();
  let id = true;
  let idOnly = false; // {_id: 1}: an inclusion of _id alone
  for (const k of Object.keys(v)) {
    const x = v[k];
    if (k === '_id') {
      if (x === 0 || x === false) id = false;
      else if (x === 1 || x === true) idOnly = true;
      else return null;
    } else if (topField(k) && (x === 1 || x === true)) keep.add(k);
    else return null;
  }
  return keep.size || idOnly ? { keep, id } : null;
}

/**
 * How the leading stages run: {kind: 'geoNear'|'match'|'scan', ...}. For $match: the first
 * filter, the further leading $match filters, and a pushed $sort / $limit; `rest` is what
 * mingo still runs.
 */
function leadingStages(coll, pipeline, variables) {
  const first = pipeline[0] ? Object.keys(pipeline[0])[0] : null;
  if (first === '$geoNear') {
    const g = parseGeoNear(coll, pipeline[0].$geoNear);
    let i = 1;
    const after = [];
    while (pipeline[i] && pipeline[i].$match && !pipeline[i].$match.$text) { after.push(toView(pipeline[i].$match)); i++; }
    let sk = null; // a $sort by the distance first, then other keys: its [key, direction] entries
    if (pipeline[i] && pipeline[i].$sort && pushableSort(pipeline[i].$sort)) {
      sk = Object.entries(toView(pipeline[i].$sort));
      if (sk[0][0] === g.s.distanceField && sk[0][1] === 1) i++;
      else i = -1;
    }
    const limit = i > 0 && pipeline[i] && pipeline[i].$limit !== undefined ? positiveInt(pipeline[i].$limit) : 0;
    // A $limit reached through $match stages (and a $sort by distance) bounds the search: the
    // nearest `limit` and their ties. Not with a multiplier under the sort: it may round
    // distinct distances to one output value.
    const want = limit && (!sk || g.mult === 1) ? limit : Infinity;
    // The $sort and its $limit run in the scan (the $match stages before them too).
    const sortKeys = sk && limit ? pushedSort(g, sk) : null;
    const filters = want !== Infinity || sortKeys ? after : [];
    // {distance: 1, _id: 1} (browse.c's order): the walk takes records in that order and stops
    // at the limit (ties at one point in _id order, geowalk.js), seeking past a keyset cursor.
    const byId = sortKeys && sortKeys.length === 2 && sortKeys[1].path === '_id' && sortKeys[1].dir === 1 && g.mult === 1;
    return {
      order: byId ? { seek: keysetOf(filters, g.s.distanceField) } : null,
      kind: 'geoNear',
      g,
      want,
      limit,
      after: filters.map((m) => newQuery(m, variables)),
      fields: filters.length ? afterFields(g, filters) : null,
      sortKeys,
      rest: pipeline.slice(sortKeys ? i + 1 : 1),
    };
  }
  if (first === '$match') {
    let i = 1;
    const extra = [];
    while (pipeline[i] && pipeline[i].$match && !('$text' in pipeline[i].$match)) { extra.push(pipeline[i].$match); i++; }
    let sort;
    let limit = 0;
    if (pipeline[i] && pipeline[i].$sort && pushableSort(pipeline[i].$sort)) {
      sort = pipeline[i].$sort;
      i++;
      // A valid $limit after the sort is taken by the scan (select applies it exactly), as
      // mongod coalesces $sort + $limit into the query: the pipeline engine is then left
      // nothing to do. An invalid one stays for the engine to refuse.
      if (pipeline[i] && pipeline[i].$limit !== undefined) {
        limit = positiveInt(pipeline[i].$limit);
        if (limit) i++;
      }
    }
    return { kind: 'match', filter: pipeline[0].$match, extra, sort, limit, rest: pipeline.slice(i) };
  }
  return { kind: 'scan', rest: pipeline };
}

/**
 * Runs an aggregation. `coll` may be null (missing collection); `resolveColl(name)` gives
 * other collections of the database for $lookup / $unionWith / $graphLookup.
 */
function aggregate(coll, pipeline, { resolveColl, variables, hint, stats, raw = false } = {}) {
  if (!Array.isArray(pipeline)) throw fail('TypeMismatch', "'pipeline' option must be specified as an array");
  for (const [i, stage] of pipeline.entries()) {
    if (!isPlainObject(stage) || Object.keys(stage).length !== 1) {
      throw fail('BadValue', 'A pipeline stage specification object must contain exactly one field.');
    }
    const name = Object.keys(stage)[0];
    if (FORBIDDEN_STAGES.has(name)) throw fail('BadValue', `${name} is not supported by the mongo stand-in`);
    if (name === '$geoNear' && i > 0) throw fail('BadValue', '$geoNear is only valid as the first stage in a pipeline');
  }
  let docs; // typed inputs to mingo, in order
  let items = null; // a $match's selection, decoded into docs only when needed
  let scores = null;
  for (const stage of pipeline.slice(1)) {
    if (!stage.$match) continue;
    if (stage.$match.$text) throw fail('BadValue', '$match with $text is only allowed as the first pipeline stage');
    compileFilter(coll, stage.$match, variables, { allowNear: false }); // rejects $near like mongod
  }
  const lead = leadingStages(coll, pipeline, variables);
  let { rest } = lead;
  // A last $project of top-level fields after stages the scan ran: applied to the results
  // as they are written (raw replies skip the other fields without decoding them).
  const textMatch = lead.kind === 'match' && isPlainObject(lead.filter) && '$text' in lead.filter;
  const project = lead.kind !== 'scan' && !textMatch && rest.length === 1 && rest[0].$project
    ? pushableProject(rest[0].$project) : null;
  if (project) rest = [];
  const stages = rest.map((s) => rewriteTextScore(toView(s)));
  const counting = countGroup(stages); // the rest is a count by group (countedGroups can answer it)
  let grouped = null; // the rows of a count by group, when the match's records were counted
  let rawGeo = false;
  if (lead.kind === 'geoNear') {
    const { want, limit, after, fields, sortKeys, order } = lead;
    // A reply for the wire with nothing after the stage (but a pushed $project): the stored
    // documents with the distance (a double) appended (cursors.js takeBatch), as setPath
    // appends it to the decoded document; not with includeLocs or a dotted distance field.
    const F = lead.g.s.distanceField;
    const rawOut = raw && !rest.length && topField(F) && F !== '_bsontype' && lead.g.s.includeLocs === undefined
      ? (rec, dist) => storedDoc(rec, true, true, project, { key: F, value: dist }) : null;
    docs = geoNearStage(coll, lead.g, { want, limit, after, fields, sortKeys, order, stats, rawOut });
    rawGeo = !!rawOut && docs.every((d) => d instanceof StoredDoc);
    if (project && !rawGeo) docs = docs.map((d) => projectTop(d, project));
  } else if (lead.kind === 'match') {
    const opts = { variables, allowNear: false, extra: lead.extra, sort: lead.sort, limit: lead.limit, hint, stats };
    // A count by group straight after the $match: the records are counted as the scan finds
    // them, no selection collected (see select's visit). A group value the counter does not
    // take (numbers, arrays, documents) sends the pipeline the general way.
    const counter = counting && !textMatch ? groupCounter(counting) : null;
    if (counter) {
      items = select(coll, lead.filter, { ...opts, visit: (rec) => counter.add(rec) }); // null when visited
      if (!items) {
        grouped = counter.rows();
        if (!grouped && stats) stats.pop(); // the general way below reports its own scan
      }
    }
    if (!grouped && !items) items = select(coll, lead.filter, opts);
    if (items && items.length && items[0].score !== undefined) scores = items.map((it) => it.score);
  } else {
    if (hint !== undefined) planner.choosePlan(coll, { rest: {} }, null, hint); // an unknown hint fails
    if (stats) stats.push({ plan: { type: 'COLLSCAN' }, keysExamined: 0, docsExamined: coll ? coll.records.size : 0 });
    docs = coll ? [...coll.records.values()].map((r) => r.doc) : [];
  }
  const counted = !grouped && items && !scores ? counting : null;
  // A count (what drivers send for countDocuments), or a count by one field (the projector's
  // recount of every seller's listings at the end of a rebuild): the matched records are
  // counted from their views, never decoded nor turned into views for the pipeline engine
  // (at 100k listings that took minutes and gigabytes).
  if (counted) grouped = countedGroups(items, counted);
  let out = grouped;
  // Nothing left for the pipeline engine (marketd's browse pages: $match, $sort and $limit
  // all ran in the scan): the typed documents are the answer as they are. Turning each into
  // a view and retyping it back was a fifth of such a request's time. With `raw` (a reply
  // for the wire) they are not even decoded: cursors.js writes them as BSON.
  const asIs = !stages.length && !scores;
  if (items && !grouped) docs = items.map((it) => storedDoc(it.rec, raw && asIs, true, project));
  if (asIs) return raw && (items || rawGeo) ? docs : docs.map(idFirst);
  if (!grouped) {
    out = docs.map((d, i) => {
      const v = toView(d, true);
      if (scores) v[SCORE_FIELD] = scores[i];
      return v;
    });
  }
  if (stages.length && !grouped) {
    const collectionResolver = (name) => {
      const c = resolveColl(name);
      return c ? [...c.records.values()].map((r) => toView(r.doc, true)) : [];
    };
    out = newAggregator(stages, { collectionResolver, variables }).run(out);
  }
  const baseHints = new Map(coll ? coll.hints : []);
  baseHints.set(SCORE_FIELD, 'Double');
  const hints = deriveHints(baseHints, stages, (name) => {
    const c = resolveColl(name);
    return c ? c.hints : new Map();
  });
  return out.map((v) => {
    const typed = retype(v, undefined, hints);
    delete typed[SCORE_FIELD];
    return idFirst(typed); // mongod keeps _id first in $project / $addFields output

  });
}

/**
 * {id, fields} when stages are a single {$group: {_id: <constant>, f: {$sum: 1}, ...}};
 * {path, fields} for {_id: "$field"} (a top-level field); else null.
 */
function countGroup(stages) {
  if (stages.length !== 1 || !isPlainObject(stages[0].$group)) return null;
  const g = stages[0].$group;
  const id = g._id;
  let path;
  if (typeof id === 'string' && id.startsWith('$')) {
    path = id.slice(1);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(path)) return null; // $$variables, dotted paths: the engine
  } else if (isPlainObject(id) || Array.isArray(id)) return null;
  const fields = Object.keys(g).filter((k) => k !== '_id');
  if (!fields.length) return null;
  for (const f of fields) {
    const acc = g[f];
    if (!isPlainObject(acc) || Object.keys(acc).length !== 1 || acc.$sum !== 1) return null;
  }
  return path === undefined ? { id, fields } : { path, fields };
}

/**
 * The groups of a countGroup over selected records, as views (retyped by the caller), in the
 * order the engine makes them (first seen first); null when a record's group value is other
 * than a string, null or missing (numbers, arrays, documents: the engine's rules decide).
 */
function countedGroups(items, counted) {
  const c = groupCounter(counted);
  for (const { rec } of items) c.add(rec);
  return c.rows();
}

/**
 * The counting of countedGroups, a record at a time in any order: add(rec), then rows() (null
 * when a group value was other than a string, null or missing). The groups come out in the
 * order of their first record in natural order, as the engine would make them from records
 * in that order.
 */
function groupCounter({ id, path, fields }) {
  const row = (key, n) => Object.fromEntries([['_id', key], ...fields.map((f) => [f, n])]);
  const groups = new Map(); // group value -> [count, lowest seq]
  let total = 0;
  let odd = false;
  return {
    add(rec) {
      total++;
      if (path === undefined || odd) return;
      const v = Object.prototype.hasOwnProperty.call(rec.view, path) ? rec.view[path] : null;
      if (v !== null && typeof v !== 'string') {
        odd = true;
        return;
      }
      const g = groups.get(v);
      if (g === undefined) groups.set(v, [1, rec.seq]);
      else {
        g[0]++;
        if (rec.seq < g[1]) g[1] = rec.seq;
      }
    },
    rows() {
      if (path === undefined) return total ? [row(id, total)] : [];
      if (odd) return null;
      return [...groups].sort((a, b) => a[1][1] - b[1][1]).map(([key, [n]]) => row(key, n));
    },
  };
}

/** queryPlanner of an aggregation's first stage(s): {plan, filter, sortKeys, limit, rest}. */
function explainAggregate(coll, pipeline, { variables, hint } = {}) {
  if (!Array.isArray(pipeline)) throw fail('TypeMismatch', "'pipeline' option must be specified as an array");
  const lead = leadingStages(coll, pipeline, variables);
  if (lead.kind === 'geoNear') {
    // A pushed $sort and $limit show as the scan's SORT stage (the distance as its first key).
    const sortKeys = lead.sortKeys && lead.sortKeys.map(({ path, dir }) => ({ path, dir, meta: null }));
    return { plan: geoNearPlan(coll, lead.g), filter: lead.g.f.rest, sortKeys, limit: sortKeys ? lead.limit : 0, rest: lead.rest };
  }
  if (lead.kind === 'match') {
    const { plan, f, sortKeys } = explainSelect(coll, lead.filter, { variables, allowNear: false, sort: lead.sort, hint });
    return { plan, filter: f.rest, sortKeys, limit: lead.limit, rest: lead.rest };
  }
  return { plan: hint !== undefined ? planner.choosePlan(coll, { rest: {} }, null, hint) : { type: 'COLLSCAN' }, filter: {}, sortKeys: null, limit: 0, rest: lead.rest };
}

module.exports = { pushableProject, aggregate, explainAggregate, SCORE_FIELD };
