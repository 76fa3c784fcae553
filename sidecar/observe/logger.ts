// Structured JSON logs: a fixed message plus a data object, one line each. Callers pass
// only allow-listed fields; nothing here inspects values for secrets, so nothing secret may
// be handed in.

export type Level = 'debug' | 'info' | 'warn' | 'error';

const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  /** True when debug lines are written; check it before building costly data. */
  readonly debugEnabled: boolean;
  debug(msg: string, data?: object): void;
  info(msg: string, data?: object): void;
  warn(msg: string, data?: object): void;
  error(msg: string, data?: object): void;
  /** Whether lines of this level are written; check it before building costly fields. */
  enabled(level: Level): boolean;
  /**
   * A line whose text is written later, when its batch goes out (the request line): its
   * fields come from `entry.fieldsJson()` then, and its time from `entry.atMs`. The entry
   * must not change after this call. The same allow-list rule applies.
   */
  entry(level: Level, msg: string, entry: LateEntry): void;
  /** Writes out lines still buffered (call before exiting). */
  flush(): void;
}

/** What a deferred line is written from. */
export interface LateEntry {
  /** When it happened, in milliseconds since the epoch: the line's time. */
  readonly atMs: number;
  /** The line's fields as JSON text, `,"name":value` for each. */
  fieldsJson(): string;
}

/** Where finished lines go; a batch may also hold entries to be written out at flush. */
interface Sink {
  (line: string): void;
  late?: (level: Level, msg: string, entry: LateEntry) => void;
  flush?: () => void;
}

interface Late {
  level: Level;
  msg: string;
  entry: LateEntry;
}

export interface LoggerOptions {
  level?: Level;
  /** Where each finished line goes (default: process.stdout). */
  write?: (line: string) => void;
  clock?: () => number;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const min = RANK[opts.level ?? 'info'];
  const clock = opts.clock ?? Date.now;
  const head = lineHead();
  const write: Sink = opts.write ?? batchedStdout(head);
  const emit = (level: Level, msg: string, data?: object): void => {
    if (RANK[level] < min) return;
    // Built by hand: JSON.stringify of a whole data object was a measurable share of a
    // request's CPU. Field names are ours (plain identifiers), so only values need escaping.
    let line = head(level, msg, clock());
    if (data !== undefined) {
      for (const key in data) {
        const value = (data as Record<string, unknown>)[key];
        if (value === undefined) continue;
        line += `,"${key}":${typeof value === 'number' && Number.isFinite(value) ? value : JSON.stringify(value)}`;
      }
    }
    write(`${line}}\n`);
  };

  return {
    debugEnabled: min <= RANK.debug,
    debug: (msg, data) => emit('debug', msg, data),
    info: (msg, data) => emit('info', msg, data),
    warn: (msg, data) => emit('warn', msg, data),
    error: (msg, data) => emit('error', msg, data),
    enabled: (level) => RANK[level] >= min,
    entry: (level, msg, entry) => {
      if (RANK[level] < min) return;
      if (write.late === undefined) write(formatLate(head, { level, msg, entry }));
      else write.late(level, msg, entry);
    },
    flush: () => write.flush?.(),
  };
}

/**
 * How long a line may wait for others to share its write, and how many may wait. A waiting
 * request line keeps its RequestContext alive, and a context that outlives two scavenges is
 * promoted into the old generation, which is then collected by mark-compacts. The sidecar
 * allocates about 20 KB a request, so the young generation (`npm start`'s 4 MB semi-space)
 * is collected every 150-200 requests: 64 lines are at most about half that, at any request
 * rate where the count fills before the time. With at most 512 lines over 10 ms, the
 * sidecar promoted 210 KB a scavenge instead of 70 at 64 connections, and ran 2.5 times
 * the mark-compacts. A 2 ms wait did as well for the collector, but writes five times as
 * often at one connection; a quick-rig run read 55 µs of CPU a request there against 51
 * for 64 lines, though the full latency run of the 2 ms build did not (bench/README.md).
 */
export const BATCH_MS = 10;
export const BATCH_LINES = 64;

/**
 * Lines go out in batches, one write per BATCH_MS at most (or per BATCH_LINES): at thousands
 * of requests a second, a write per request line, or even per turn of the event loop, was a
 * measurable share of the CPU. Request lines are also formatted only then, all together:
 * on 2026-12-04 building each one as its request ended cost about a tenth of the sidecar's
 * throughput (bench/results/latency-*.md); on 2026-12-05 one quick-rig A/B on an Intel
 * Xeon (not kept) read 23,390 against 23,429 req/s, no difference. `flush` writes at once;
 * the command line calls it before exiting.
 */
function batchedStdout(head: LineHead): Sink {
  let pending: (string | Late)[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return;
    const items = pending;
    pending = [];
    const lines = items.map((item) => (typeof item === 'string' ? item : safeLate(head, item)));
    process.stdout.write(lines.join(''));
  };
  const add = (item: string | Late): void => {
    pending.push(item);
    if (pending.length >= BATCH_LINES) flush();
    else if (timer === undefined) timer = setTimeout(flush, BATCH_MS);
  };
  return Object.assign((line: string): void => add(line), {
    late: (level: Level, msg: string, entry: LateEntry): void => add({ level, msg, entry }),
    flush,
  });
}

/** A line's opening: level, time and message. */
type LineHead = (level: Level, msg: string, atMs: number) => string;

/** A LineHead that keeps the time's text while the time repeats. */
function lineHead(): LineHead {
  let lastMs = -1;
  let lastIso = '';
  return (level, msg, atMs) => {
    if (atMs !== lastMs) {
      lastMs = atMs;
      lastIso = new Date(atMs).toISOString();
    }
    return `{"level":"${level}","time":"${lastIso}","msg":${JSON.stringify(msg)}`;
  };
}

/**
 * formatLate inside the batch: it runs in a timer, where a throw would end the process and
 * lose the batch, so a line that cannot be built is replaced by one saying so.
 */
function safeLate(head: LineHead, late: Late): string {
  try {
    return formatLate(head, late);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return `${head('error', 'a log line could not be built', Date.now())},"error":${JSON.stringify(reason)}}\n`;
  }
}

function formatLate(head: LineHead, late: Late): string {
  return `${head(late.level, late.msg, late.entry.atMs)}${late.entry.fieldsJson()}}\n`;
}

/** A logger that keeps its lines, for tests and for `modelgate demo`. */
export function memoryLogger(
  level: Level = 'debug',
): Logger & { lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level, write: (line) => void lines.push(JSON.parse(line)) });
  return Object.assign(logger, { lines });
}

export function isLevel(value: string): value is Level {
  return value in RANK;
}
