import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { Policy } from '../../proto/gen/modelgate/v1/policy_pb.js';
import { ConfigError, policyFromDocument, type ValidateOptions } from './validate.js';

export type ConfigFormat = 'yaml' | 'json';

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
  try {
    return JSON.parse(text);
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
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `line ${line}, column ${column}`;
}
