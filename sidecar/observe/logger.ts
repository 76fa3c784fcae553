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
  const emit = (level: Level, msg: string, data?: object): void => {
    if (RANK[level] < min) return;
    const now = clock();
    if (now !== lastMs) {
      lastMs = now;
      lastIso = new Date(now).toISOString();
    }
    // Built by hand: one request line has ~25 optional fields, most undefined, and
    // JSON.stringify of the whole object was a measurable share of a request's CPU.
    // Field names are ours (plain identifiers), so only values need escaping.
    let line = `{"level":"${level}","time":"${lastIso}","msg":${JSON.stringify(msg)}`;
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
    flush: () => (write as { flush?: () => void }).flush?.(),
  };
}

/**
 * Lines collected during one turn of the event loop go out in one write: at thousands of
 * requests a second, a write per request line was a measurable share of the CPU.
 */
function batchedStdout(): ((line: string) => void) & { flush: () => void } {
  let buffered: string[] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (buffered.length === 0) return;
    const text = buffered.join('');
    buffered = [];
    process.stdout.write(text);
  };
  return Object.assign(
    (line: string): void => {
      buffered.push(line);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
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
