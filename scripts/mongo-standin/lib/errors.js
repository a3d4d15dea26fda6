'use strict';
// MongoDB error codes used by the stand-in, with the codeName real servers send.

const CODES = {
  BadValue: 2,
  FailedToParse: 9,
  TypeMismatch: 14,
  IllegalOperation: 20,
  NamespaceNotFound: 26,
  IndexNotFound: 27,
  PathNotViable: 28,
  ConflictingUpdateOperators: 40,
  CursorNotFound: 43,
  NamespaceExists: 48,
  InvalidOptions: 72,
  CommandNotFound: 59,
  ImmutableField: 66,
  InvalidNamespace: 73,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
  NoQueryExecutionPlans: 291,
  QueryPlanKilled: 175,
  BSONObjectTooLarge: 10334,
  Location16020: 16020,
  Location40324: 40324,
  DuplicateKey: 11000,
};

const NAMES = Object.fromEntries(Object.entries(CODES).map(([name, code]) => [code, name]));

/** An error that becomes a MongoDB error document ({ok: 0, errmsg, code, codeName}). */
class MongoError extends Error {
  constructor(code, message, extra) {
    super(message);
    this.code = code;
    this.codeName = NAMES[code] || 'Location' + code;
    this.extra = extra || null; // extra fields such as keyPattern / keyValue
  }
}

const fail = (codeName, message, extra) => new MongoError(CODES[codeName], message, extra);

/** Turns any thrown value (ours or mingo's) into a MongoError. */
function toMongoError(err) {
  if (err instanceof MongoError) return err;
  const msg = err && err.message ? err.message : String(err);
  if (/unregistered pipeline operator/.test(msg)) {
    const m = /operator (\$\w+)/.exec(msg);
    return new MongoError(CODES.Location40324, `Unrecognized pipeline stage name: '${m ? m[1] : '?'}'`);
  }
  // mingo raises MingoError for unknown operators and malformed expressions.
  return new MongoError(CODES.BadValue, msg);
}

module.exports = { CODES, MongoError, fail, toMongoError };
