// Reads rate-limit headroom from upstream response headers, so that routing can steer away from
// an endpoint before it starts answering 429.
//
//   OpenAI     x-ratelimit-{limit,remaining,reset}-{requests,tokens}; reset is a Go duration
//              such as "1s", "6m0s", "20ms" or "23h47m36.648s" (platform.openai.com, guides/
//              rate-limits, "Rate limits in headers"). Some OpenAI-compatible servers send plain
//              seconds, and Azure sends -1 for a limit it does not report; -1 is ignored.
//   Anthropic  anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-
//              {limit,remaining,reset}; reset is an RFC 3339 time (docs.anthropic.com, rate
//              limits, "Response headers"). The tightest of the token budgets is kept.
//   Both       retry-after: delay-seconds or an HTTP-date (RFC 9110, section 10.2.3), and the
//              non-standard retry-after-ms, which the OpenAI SDKs prefer when present.

/** Header names in lower case, as undici and node:http deliver them. */
export type HeaderBag = Readonly<Record<string, string | string[] | undefined>>;

export interface RateLimitInfo {
  requestsRemaining?: number;
  requestsLimit?: number;
  /** Time until the request budget is full again. */
  requestsResetMs?: number;
  tokensRemaining?: number;
  tokensLimit?: number;
  /** Time until the token budget is full again. */
  tokensResetMs?: number;
  /** From retry-after-ms or Retry-After: send nothing to this endpoint for this long. */
  retryAfterMs?: number;
}

interface Budget {
  remaining?: number;
  limit?: number;
  resetMs?: number;
}

type ResetReader = (value: string, nowEpochMs: number) => number | undefined;

// [remaining, limit, reset] header names per budget, built once.
const OPENAI_REQUESTS = openAiNames('requests');
const OPENAI_TOKENS = openAiNames('tokens');
const ANTHROPIC_REQUESTS = anthropicNames('requests');
const ANTHROPIC_TOKENS = ['tokens', 'input-tokens', 'output-tokens'].map(anthropicNames);
const RETRY_AFTER_MS = 'retry-after-ms';
const RETRY_AFTER = 'retry-after';

/** Every header name parseRateLimitHeaders reads (a transport may keep only these). */
export const RATE_LIMIT_HEADER_NAMES: readonly string[] = [
  ...OPENAI_REQUESTS,
  ...OPENAI_TOKENS,
  ...ANTHROPIC_REQUESTS,
  ...ANTHROPIC_TOKENS.flat(),
  RETRY_AFTER_MS,
  RETRY_AFTER,
];

/**
 * The rate-limit state the headers report, or undefined when they report none. `nowEpochMs` is
 * the wall-clock time the response arrived, against which absolute reset times are measured.
 */
export function parseRateLimitHeaders(
  headers: HeaderBag,
  nowEpochMs: number,
): RateLimitInfo | undefined {
  const requests =
    readBudget(headers, OPENAI_REQUESTS, nowEpochMs, goDurationMs) ??
    readBudget(headers, ANTHROPIC_REQUESTS, nowEpochMs, rfc3339UntilMs);

  let tokens = readBudget(headers, OPENAI_TOKENS, nowEpochMs, goDurationMs);
  for (const names of ANTHROPIC_TOKENS) {
    tokens = tighter(tokens, readBudget(headers, names, nowEpochMs, rfc3339UntilMs));
  }

  const retryAfterMs = readRetryAfterMs(headers, nowEpochMs);
  if (requests === undefined && tokens === undefined && retryAfterMs === undefined) {
    return undefined;
  }

  const info: RateLimitInfo = {};
  if (requests?.remaining !== undefined) info.requestsRemaining = requests.remaining;
  if (requests?.limit !== undefined) info.requestsLimit = requests.limit;
  if (requests?.resetMs !== undefined) info.requestsResetMs = requests.resetMs;
  if (tokens?.remaining !== undefined) info.tokensRemaining = tokens.remaining;
  if (tokens?.limit !== undefined) info.tokensLimit = tokens.limit;
  if (tokens?.resetMs !== undefined) info.tokensResetMs = tokens.resetMs;
  if (retryAfterMs !== undefined) info.retryAfterMs = retryAfterMs;
  return info;
}

/** retry-after-ms, else Retry-After as seconds or as an HTTP-date; undefined when absent. */
export function readRetryAfterMs(headers: HeaderBag, nowEpochMs: number): number | undefined {
  const ms = first(headers[RETRY_AFTER_MS]);
  if (ms !== undefined && DECIMAL.test(ms)) return Number(ms);

  const value = first(headers[RETRY_AFTER]);
  if (value === undefined) return undefined;
  // RFC 9110 allows whole seconds only; SDKs accept fractions, and so does this.
  if (DECIMAL.test(value)) return Number(value) * 1000;

  const date = httpDateEpochMs(value, nowEpochMs);
  return date === undefined ? undefined : Math.max(0, date - nowEpochMs);
}

/** A Go time.Duration string ("6m0s", "20ms", "1.5s") or bare seconds, in milliseconds. */
export function goDurationMs(value: string): number | undefined {
  if (DECIMAL.test(value)) return Number(value) * 1000;

  let totalMs = 0;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < value.length) {
    const part = DURATION_PART.exec(value);
    if (part === null) return undefined;
    totalMs += Number(part[1]) * DURATION_UNIT_MS[part[2]];
  }
  return value.length > 0 ? totalMs : undefined;
}

/**
 * RFC 9110 HTTP-date in any of its three forms, as epoch milliseconds. `nowEpochMs` places the
 * century of the obsolete two-digit-year form.
 */
export function httpDateEpochMs(value: string, nowEpochMs: number): number | undefined {
  const fix = IMF_FIXDATE.exec(value);
  if (fix) return utc(Number(fix[3]), fix[2], Number(fix[1]), fix[4], fix[5], fix[6]);

  const rfc850 = RFC850_DATE.exec(value);
  if (rfc850) {
    const year = fullYear(Number(rfc850[3]), nowEpochMs);
    return utc(year, rfc850[2], Number(rfc850[1]), rfc850[4], rfc850[5], rfc850[6]);
  }

  const asc = ASCTIME_DATE.exec(value);
  if (asc) return utc(Number(asc[6]), asc[1], Number(asc[2]), asc[3], asc[4], asc[5]);
  return undefined;
}

const DECIMAL = /^\d+(?:\.\d+)?$/;
const COUNT = /^\d+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|us|µs|μs|ns|h|m|s)/y;
const DURATION_UNIT_MS: Record<string, number> = {
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ns: 1e-6,
};
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const LONG_DAY = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH = `(${MONTHS.join('|')})`;
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
const IMF_FIXDATE = new RegExp(`^${DAY}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
const RFC850_DATE = new RegExp(`^${LONG_DAY}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`);
const ASCTIME_DATE = new RegExp(`^${DAY} ${MONTH} ([ \\d]\\d) ${TIME} (\\d{4})$`);

function openAiNames(kind: string): readonly [string, string, string] {
  return [
    `x-ratelimit-remaining-${kind}`,
    `x-ratelimit-limit-${kind}`,
    `x-ratelimit-reset-${kind}`,
  ];
}

function anthropicNames(kind: string): readonly [string, string, string] {
  const prefix = `anthropic-ratelimit-${kind}-`;
  return [`${prefix}remaining`, `${prefix}limit`, `${prefix}reset`];
}

function readBudget(
  headers: HeaderBag,
  [remainingName, limitName, resetName]: readonly [string, string, string],
  nowEpochMs: number,
  readReset: ResetReader,
): Budget | undefined {
  const remaining = count(first(headers[remainingName]));
  const limit = count(first(headers[limitName]));
  const resetText = first(headers[resetName]);
  const resetMs = resetText === undefined ? undefined : readReset(resetText, nowEpochMs);
  if (remaining === undefined && limit === undefined && resetMs === undefined) return undefined;
  return { remaining, limit, resetMs };
}

// The budget closer to running out; one with both numbers beats one without.
function tighter(a: Budget | undefined, b: Budget | undefined): Budget | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  const fa = fraction(a);
  const fb = fraction(b);
  if (fb === undefined) return a;
  if (fa === undefined) return b;
  return fb < fa ? b : a;
}

function fraction({ remaining, limit }: Budget): number | undefined {
  return remaining !== undefined && limit !== undefined && limit > 0
    ? remaining / limit
    : undefined;
}

function rfc3339UntilMs(value: string, nowEpochMs: number): number | undefined {
  if (!RFC3339.test(value)) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowEpochMs);
}

function count(value: string | undefined): number | undefined {
  return value !== undefined && COUNT.test(value) ? Number(value) : undefined;
}

function first(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  return text?.trim();
}

function utc(
  year: number,
  month: string,
  day: number,
  hours: string,
  minutes: string,
  seconds: string,
): number | undefined {
  const at = Date.UTC(year, MONTHS.indexOf(month), day, +hours, +minutes, +seconds);
  return Number.isNaN(at) ? undefined : at;
}

// RFC 9110 section 5.6.7: a two-digit year that would lie more than 50 years in the future
// means the most recent past year with those digits.
function fullYear(twoDigits: number, nowEpochMs: number): number {
  const thisYear = new Date(nowEpochMs).getUTCFullYear();
  let year = Math.floor(thisYear / 100) * 100 + twoDigits;
  if (year > thisYear + 50) year -= 100;
  return year;
}
