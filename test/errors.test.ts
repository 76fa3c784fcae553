import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERRORS, GatewayError } from '../sidecar/errors.js';

const ROOT = resolve(import.meta.dirname, '..');

function readmeTable(): Map<string, { status: number; type: string }> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.split('<!-- errors:start -->')[1].split('<!-- errors:end -->')[0];
  const rows = new Map<string, { status: number; type: string }>();
  for (const match of section.matchAll(/^\| `(GW_ERR_\w+)` \| (\d+) \| `(\w+)` \|/gm)) {
    rows.set(match[1], { status: Number(match[2]), type: match[3] });
  }
  return rows;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

describe('the error catalogue', () => {
  it('matches the table in the README, code for code', () => {
    const table = readmeTable();
    expect([...table.keys()].sort()).toEqual(Object.keys(ERRORS).sort());
    for (const [code, spec] of Object.entries(ERRORS)) {
      expect(table.get(code), code).toEqual({ status: spec.status, type: spec.type });
    }
  });

  it('names every code the sidecar uses', () => {
    const used = new Set<string>();
    for (const file of sourceFiles(join(ROOT, 'sidecar'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/GW_ERR_[A-Z_]+/g)) used.add(m[0]);
    }
    expect([...used].filter((code) => !(code in ERRORS))).toEqual([]);
  });

  it('renders the OpenAI envelope and nothing else', () => {
    const err = new GatewayError('GW_ERR_REQ_INVALID_FIELD', 'bad n', {
      param: 'n',
      cause: new Error('secret detail'),
    });
    expect(JSON.parse(JSON.stringify(err))).toEqual({
      error: {
        message: 'bad n',
        type: 'invalid_request_error',
        param: 'n',
        code: 'GW_ERR_REQ_INVALID_FIELD',
      },
    });
  });
});
