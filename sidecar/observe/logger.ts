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
   * A line whose fields the caller wrote as JSON text, `,"name":value` each (the request
   * line, built without an intermediate object). The same allow-list rule applies.
   */
  fields(level: Level, msg: string, json: string): void;
  /** Writes out lines still buffered (call before exiting). */
  flush(): void;
}

export interface LoggerOptions {
  level?: Level;
  /** Where each finished line goes (default: process.stdout). */
  write?: (line: string) => void;
  clock?: () => number;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const min = RANK[opts.level ?? 'info'];
  const write = opts.write ?? batchedStdout();
  const clock = opts.clock ?? Date.now;

  let lastMs = -1;
  let lastIso = '';
  const head = (level: Level, msg: string): string => {
    const now = clock();
    if (now !== lastMs) {
      lastMs = now;
      lastIso = new Date(now).toISOString();
    }
    return `{"level":"${level}","time":"${lastIso}","msg":${JSON.stringify(msg)}`;
  };
  const emit = (level: Level, msg: string, data?: object): void => {
    if (RANK[level] < min) return;
    // Built by hand: JSON.stringify of a whole data object was a measurable share of a
    // request's CPU. Field names are ours (plain identifiers), so only values need escaping.
    let line = head(level, msg);
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
    fields: (level, msg, json) => {
      if (RANK[level] >= min) write(`${head(level, msg)}${json}}\n`);
    },
    flush: () => (write as { flush?: () => void }).flush?.(),
  };
}

/** How long a line may wait for others to share its write, and how many may wait. */
const BATCH_MS = 10;
const BATCH_LINES = 512;

/**
 * Lines go out in batches, one write per 10 ms at most (or per 512 lines): at thousands of
 * requests a second, a write per request line, or even per turn of the event loop, was a
 * measurable share of the CPU (bench/results/latency-*.md). `flush` writes at once; the
 * command line calls it before exiting.
 */
function batchedStdout(): ((line: string) => void) & { flush: () => void } {
  let buffered: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (buffered.length === 0) return;
    const text = buffered.join('');
    buffered = [];
    process.stdout.write(text);
  };
  return Object.assign(
    (line: string): void => {
      buffered.push(line);
      if (buffered.length >= BATCH_LINES) flush();
      else if (timer === undefined) timer = setTimeout(flush, BATCH_MS);
    },
    { flush },
  );
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
