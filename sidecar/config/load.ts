import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import type { Policy } from '../../proto/gen/modelgate/v1/policy_pb.js';
import { ConfigError, policyFromDocument, type ValidateOptions } from './validate.js';

export type ConfigFormat = 'yaml' | 'json';

/**
 * The YAML parser, loaded with the first YAML file: a sidecar on its embedded defaults or a
 * JSON config never parses YAML, and a module once loaded stays (2 MB of resident memory at
 * idle, a median 68.4 against 66.2 MB over four starts each by turns, 2026-12-06).
 */
let yamlModule: typeof import('yaml') | undefined;
const yaml = (): typeof import('yaml') =>
  (yamlModule ??= createRequire(import.meta.url)('yaml') as typeof import('yaml'));

const FORMATS: Readonly<Record<string, ConfigFormat>> = {
  '.yaml': 'yaml',
  '.yml': 'yaml',
  '.json': 'json',
};

/** Reads a .yaml/.yml/.json config file into a validated Policy, or throws a ConfigError. */
export function loadConfigFile(path: string, options?: ValidateOptions): Policy {
  const extension = extname(path).toLowerCase();
  const format = FORMATS[extension];
  if (format === undefined) {
    const reason = `unknown file extension "${extension}": use .yaml, .yml or .json`;
    throw new ConfigError(path, [{ path: '', reason }]);
  }

  // Synchronous on purpose: this runs once, before the sidecar listens.
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new ConfigError(path, [{ path: '', reason: `cannot read the file (${code})` }]);
  }
  return parseConfig(text, format, path, options);
}

/** Parses config text; `source` names it in error messages (a path, "--config-json", ...). */
export function parseConfig(
  text: string,
  format: ConfigFormat,
  source: string,
  options?: ValidateOptions,
): Policy {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // editors on Windows add a BOM
  const doc = format === 'json' ? parseJson(body, source) : parseYaml(body, source);
  return policyFromDocument(doc, source, options);
}

function parseYaml(text: string, source: string): unknown {
  // YAML 1.2 core schema (the library default): `api_version: 2024-10-21` stays a string and
  // `no` is not a boolean.
  const { LineCounter, parseDocument } = yaml();
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length === 0) {
    try {
      return doc.toJS();
    } catch (err) {
      // Parsed, but refused while building values: aliases expanding past the library's
      // limit (a "billion laughs" file), say.
      throw new ConfigError(source, [{ path: '', reason: `YAML: ${(err as Error).message}` }]);
    }
  }

  // The library's own messages quote the surrounding lines; position and reason are enough.
  const problems = doc.errors.map((error) => {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    return {
      path: '',
      reason: `YAML syntax error at line ${line}, column ${col}: ${error.message}`,
    };
  });
  throw new ConfigError(source, problems);
}

function parseJson(text: string, source: string): unknown {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    // V8 messages end in a quoted excerpt or "at position N"; keep the reason, turn the
    // position into a line and column, and drop the excerpt.
    const message = (err as Error).message;
    const position = /at position (\d+)/.exec(message);
    const reason = message
      .replace(/, ".*" is not valid JSON$/s, '')
      .replace(/ in JSON at position \d+.*$/s, '');
    const where = position ? ` at ${lineAndColumn(text, Number(position[1]))}` : '';
    throw new ConfigError(source, [{ path: '', reason: `JSON syntax error${where}: ${reason}` }]);
  }
  // JSON.parse keeps the last of two equal keys without a word: a second "api_keys": []
  // would switch authentication off. YAML refuses a key written twice; so does JSON here.
  const twice = duplicateKeys(text);
  if (twice.length > 0) {
    throw new ConfigError(
      source,
      twice.map(({ path, at }) => ({
        path,
        reason: `written twice, the second time at ${lineAndColumn(text, at)}`,
      })),
    );
  }
  return doc;
}

/**
 * Every key of a JSON text that its object already holds: the path of the repeated key
 * (as problems name paths) and the offset of its second spelling. `text` is known to parse.
 */
function duplicateKeys(text: string): { path: string; at: number }[] {
  const found: { path: string; at: number }[] = [];
  // One frame per open object or array: the keys seen (objects), the index (arrays), and
  // the path of the value being read.
  const frames: { keys: Set<string> | undefined; index: number; path: string }[] = [];
  let pendingKey: string | undefined;
  const childPath = (): string => {
    const top = frames[frames.length - 1];
    if (top === undefined) return '';
    if (top.keys === undefined) return `${top.path}[${top.index}]`;
    return top.path === '' ? (pendingKey ?? '') : `${top.path}.${pendingKey ?? ''}`;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const start = i;
      for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
      const top = frames[frames.length - 1];
      // A string right after `{` or `,` in an object is a key; any other is a value.
      if (top?.keys !== undefined && pendingKey === undefined) {
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        pendingKey = key;
        if (top.keys.has(key)) found.push({ path: childPath(), at: start });
        top.keys.add(key);
      }
    } else if (c === '{' || c === '[') {
      frames.push({ keys: c === '{' ? new Set() : undefined, index: 0, path: childPath() });
      pendingKey = undefined;
    } else if (c === '}' || c === ']') {
      frames.pop();
    } else if (c === ',') {
      const top = frames[frames.length - 1];
      if (top !== undefined) top.index++;
      pendingKey = undefined;
    }
  }
  return found;
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `line ${line}, column ${column}`;
}
