'use strict';
// $text search over the fields of a collection's text index. Tokens are lower-case,
// diacritic-free runs of letters and digits; English stop words are ignored as in MongoDB.
// There is no stemming (MongoDB would match "bikes" with "bike"): documented limitation.

const { fail } = require('./errors');
const { isPlainObject, valuesAtPath } = require('./typed');

const STOP_WORDS_EN = new Set(`a about above after again against all am an and any are aren't as at be
because been before being below between both but by can't cannot could couldn't did didn't do does
doesn't doing don't down during each few for from further had hadn't has hasn't have haven't having he
he'd he'll he's her here here's hers herself him himself his how how's i i'd i'll i'm i've if in into
is isn't it it's its itself let's me more most mustn't my myself no nor not of off on once only or other
ought our ours ourselves out over own same shan't she she'd she'll she's should shouldn't so some such
than that that's the their theirs them themselves then there there's these they they'd they'll they're
they've this those through to too under until up very was wasn't we we'd we'll we're we've were weren't
what what's when when's where where's which while who who's whom why why's with won't would wouldn't
you you'd you'll you're you've your yours yourself yourselves`.split(/\s+/));

const fold = (s) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

function tokenize(s, language) {
  const words = fold(s).match(/[\p{L}\p{N}]+(?:'[\p{L}]+)?/gu) || [];
  if (language === 'none') return words;
  return words.filter((w) => !STOP_WORDS_EN.has(w));
}

/** Parses a $search string into positive terms, negated terms and phrases. */
function parseSearch(search, language) {
  const phrases = [];
  const rest = search.replace(/"([^"]*)"/g, (_, p) => { if (p.trim()) phrases.push(fold(p)); return ' '; });
  const terms = new Set();
  const negated = new Set();
  for (const raw of rest.split(/\s+/)) {
    if (!raw) continue;
    const neg = raw.startsWith('-');
    for (const t of tokenize(neg ? raw.slice(1) : raw, language)) (neg ? negated : terms).add(t);
  }
  for (const p of phrases) for (const t of tokenize(p, language)) terms.add(t);
  return { terms: [...terms], negated: [...negated], phrases };
}

/** Strings of a view stored at a text-indexed field (arrays of strings count too). */
function stringsAt(doc, field) {
  if (field === '$**') {
    const out = [];
    (function walk(v) {
      if (typeof v === 'string') out.push(v);
      else if (Array.isArray(v)) v.forEach(walk);
      else if (isPlainObject(v)) Object.values(v).forEach(walk);
    })(doc);
    return out;
  }
  return valuesAtPath(doc, field).filter((v) => typeof v === 'string');
}

/**
 * Builds a scorer for a {$search, $language} argument against a text index
 * ({fields: [{field, weight}], language}). The scorer returns null for a non-matching doc and
 * the text score otherwise: per field, weight * sum over matched terms of the term's
 * frequency coefficient (MongoDB's formula shape, without stemming).
 */
function compileTextSearch(arg, index) {
  if (!index) throw fail('IndexNotFound', 'text index required for $text query');
  if (!isPlainObject(arg) || typeof arg.$search !== 'string') {
    throw fail('BadValue', '$search needs a String');
  }
  const language = arg.$language || index.language || 'english';
  const { terms, negated, phrases } = parseSearch(arg.$search, language);
  const termSet = new Set(terms);
  return (doc) => {
    let score = 0;
    let matched = false;
    const raws = [];
    for (const { field, weight } of index.fields) {
      for (const s of stringsAt(doc, field)) {
        raws.push(fold(s));
        const tokens = tokenize(s, language);
        if (!tokens.length) continue;
        const counts = new Map();
        for (const t of tokens) {
          if (negated.includes(t)) return null;
          if (termSet.has(t)) counts.set(t, (counts.get(t) || 0) + 1);
        }
        for (const [, count] of counts) {
          matched = true;
          let freq = 0;
          for (let i = 1; i <= count; i++) freq += 1 / i;
          score += weight * freq * (0.5 * (count / tokens.length) + 0.5);
        }
      }
    }
    if (!matched) return null;
    for (const p of phrases) if (!raws.some((r) => r.includes(p))) return null;
    return score;
  };
}

module.exports = { tokenize, parseSearch, compileTextSearch };
