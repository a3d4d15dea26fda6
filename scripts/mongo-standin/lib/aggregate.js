'use strict';
// aggregate: a leading $geoNear or $match (with $text / _id lookups) runs on the stored
// views, the rest of the pipeline runs in mingo on fresh views, and results are retyped:
// values passed through keep their stored BSON types, computed numbers take the type the
// pipeline implies (a $sum of int64 is int64, an $avg is a double, ...).

const { fail } = require('./errors');
const { isPlainObject, toView, retype, setPath, cloneTyped, Double } = require('./typed');
const { select, newAggregator, compileFilter } = require('./query');
const geo = require('./geo');
const { idFirst } = require('./update');
const { deriveHints } = require('./hints');

const SCORE_FIELD = '__standin_textScore';
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

/** Runs a $geoNear first stage: [{view (fresh, registered), doc}] sorted by distance. */
function geoNearStage(coll, spec) {
  if (!isPlainObject(spec)) throw fail('BadValue', '$geoNear argument must be an object');
  const s = toView(spec);
  if (typeof s.distanceField !== 'string') throw fail('BadValue', '$geoNear requires a \'distanceField\' option as a String');
  if (s.near === undefined) throw fail('BadValue', '$geoNear requires a \'near\' option');
  const indexes = coll ? coll.geoIndexes() : [];
  let key = s.key;
  if (key === undefined) {
    if (indexes.length !== 1) {
      throw fail('NoQueryExecutionPlans', indexes.length ? 'There is more than one 2dsphere index; unsure which to use for $geoNear'
        : '$geoNear requires a 2d or 2dsphere index, but none were found');
    }
    key = Object.keys(indexes[0].key).find((f) => typeof indexes[0].key[f] === 'string');
  } else if (!coll || !indexes.some((i) => typeof i.key[key] === 'string')) {
    throw fail('NoQueryExecutionPlans', `$geoNear requires a 2d or 2dsphere index on ${key}, but none were found`);
  }
  const near = geo.parseNear(key, '$near', { $near: s.near, $maxDistance: s.maxDistance, $minDistance: s.minDistance });
  if (near.legacy && s.spherical) near.spherical = true;
  const dist = geo.distanceFn(near);
  const filter = spec.query || {};
  const f = compileFilter(coll, filter, undefined, { allowNear: false });
  if (f.text) throw fail('BadValue', '$geoNear is not allowed with $text');
  const mult = s.distanceMultiplier === undefined ? 1 : s.distanceMultiplier;
  const items = [];
  if (coll) {
    for (const rec of coll.records.values()) {
      if (!f.test(rec.view)) continue;
      const d = dist(rec.view);
      if (d !== null) items.push({ rec, d });
    }
  }
  items.sort((a, b) => a.d - b.d);
  return items.map(({ rec, d }) => {
    const doc = cloneTyped(rec.doc);
    setPath(doc, s.distanceField, new Double(d * mult));
    if (typeof s.includeLocs === 'string') setPath(doc, s.includeLocs, cloneTyped(geo.rawAt(rec.doc, key)));
    return doc;
  });
}

/**
 * Runs an aggregation. `coll` may be null (missing collection); `resolveColl(name)` gives
 * other collections of the database for $lookup / $unionWith / $graphLookup.
 */
function aggregate(coll, pipeline, { resolveColl, variables } = {}) {
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
  let scores = null;
  let rest = pipeline;
  const first = pipeline[0] ? Object.keys(pipeline[0])[0] : null;
  if (first === '$geoNear') {
    docs = geoNearStage(coll, pipeline[0].$geoNear);
    rest = pipeline.slice(1);
  } else if (first === '$match') {
    const items = select(coll, pipeline[0].$match, { variables, allowNear: false });
    docs = items.map((it) => it.rec.doc);
    if (items.length && items[0].score !== undefined) scores = items.map((it) => it.score);
    rest = pipeline.slice(1);
  } else {
    docs = coll ? [...coll.records.values()].map((r) => r.doc) : [];
  }
  for (const stage of rest) {
    if (!stage.$match) continue;
    if (stage.$match.$text) throw fail('BadValue', '$match with $text is only allowed as the first pipeline stage');
    compileFilter(coll, stage.$match, variables, { allowNear: false }); // rejects $near like mongod
  }
  const views = docs.map((d, i) => {
    const v = toView(d, true);
    if (scores) v[SCORE_FIELD] = scores[i];
    return v;
  });
  const stages = rest.map((s) => rewriteTextScore(toView(s)));
  let out = views;
  if (stages.length) {
    const collectionResolver = (name) => {
      const c = resolveColl(name);
      return c ? [...c.records.values()].map((r) => toView(r.doc, true)) : [];
    };
    out = newAggregator(stages, { collectionResolver, variables }).run(views);
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

module.exports = { aggregate, SCORE_FIELD };
