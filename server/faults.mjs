// The fault-injection object: validation and normalisation.
//
// {
//   rateLimit:   { probability: 0..1 = 1, retryAfter: "seconds" | "date" | "none" = "seconds", seconds: 2 },
//   serverError: { probability: 0..1 = 1, status: 500..599 = 503, burstEvery?: ms, burstFor?: ms },
//   notFoundFor: ms,      // file/project answer 404 until this long after the job's creation
//   forbidden:   bool,    // 403 on file/project/events
//   slow:        ms,      // delay every file/project response
//   hang:        0..1,    // probability of never answering a file/project request
//   malformed:   0..1,    // probability of a 200 whose body is not JSON / the wrong shape
//   stream:      "ok" | "off" | "never" | "die" | "garbage",
//   fail:        bool,    // the job ends in error
// }
//
// `true` is accepted for rateLimit / serverError (defaults) and hang /
// malformed (probability 1); `false`, `null` and 0 switch a fault off.

export class FaultError extends Error {}

const STREAM_MODES = ["ok", "off", "never", "die", "garbage"];
const RETRY_AFTER = ["seconds", "date", "none"];
const KEYS = ["rateLimit", "serverError", "notFoundFor", "forbidden", "slow", "hang", "malformed", "stream", "fail"];

function probability(v, name) {
  if (v === true) return 1;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || v > 1) {
    throw new FaultError(`${name} must be a probability between 0 and 1`);
  }
  return v;
}

function millis(v, name) {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    throw new FaultError(`${name} must be a number of milliseconds >= 0`);
  }
  return v;
}

function boolean(v, name) {
  if (typeof v !== "boolean") throw new FaultError(`${name} must be true or false`);
  return v;
}

function object(v, name) {
  if (v === true) return {};
  if (typeof v !== "object" || Array.isArray(v)) throw new FaultError(`${name} must be an object`);
  return v;
}

const off = (v) => v === undefined || v === null || v === false || v === 0;

/** Validates a faults object; returns a clean copy holding only active faults. */
export function normalizeFaults(input) {
  if (input === null || input === undefined) return {};
  if (typeof input !== "object" || Array.isArray(input)) throw new FaultError("faults must be an object");
  for (const key of Object.keys(input)) {
    if (!KEYS.includes(key)) throw new FaultError(`unknown fault "${key}" (known: ${KEYS.join(", ")})`);
  }
  const out = {};
  if (!off(input.rateLimit)) {
    const r = object(input.rateLimit, "rateLimit");
    const retryAfter = r.retryAfter ?? "seconds";
    if (!RETRY_AFTER.includes(retryAfter)) {
      throw new FaultError(`rateLimit.retryAfter must be one of ${RETRY_AFTER.join(", ")}`);
    }
    const seconds = r.seconds ?? 2;
    if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) {
      throw new FaultError("rateLimit.seconds must be a number >= 0");
    }
    out.rateLimit = { probability: probability(r.probability ?? 1, "rateLimit.probability"), retryAfter, seconds };
  }
  if (!off(input.serverError)) {
    const s = object(input.serverError, "serverError");
    const status = s.status ?? 503;
    if (!Number.isInteger(status) || status < 500 || status > 599) {
      throw new FaultError("serverError.status must be an integer 500..599");
    }
    out.serverError = { probability: probability(s.probability ?? 1, "serverError.probability"), status };
    // Bursts: errors only while Date.now() % burstEvery < burstFor (real time, the same windows for every job).
    if (s.burstEvery !== undefined || s.burstFor !== undefined) {
      const every = millis(s.burstEvery, "serverError.burstEvery");
      const during = millis(s.burstFor, "serverError.burstFor");
      if (every <= 0 || during > every) throw new FaultError("serverError bursts need 0 < burstFor <= burstEvery");
      out.serverError.burstEvery = every;
      out.serverError.burstFor = during;
    }
  }
  if (!off(input.notFoundFor)) out.notFoundFor = millis(input.notFoundFor, "notFoundFor");
  if (!off(input.forbidden) && boolean(input.forbidden, "forbidden")) out.forbidden = true;
  if (!off(input.slow)) out.slow = millis(input.slow, "slow");
  if (!off(input.hang)) out.hang = probability(input.hang, "hang");
  if (!off(input.malformed)) out.malformed = probability(input.malformed, "malformed");
  if (!off(input.stream)) {
    if (!STREAM_MODES.includes(input.stream)) {
      throw new FaultError(`stream must be one of ${STREAM_MODES.join(", ")}`);
    }
    if (input.stream !== "ok") out.stream = input.stream;
  }
  if (!off(input.fail) && boolean(input.fail, "fail")) out.fail = true;
  return out;
}
