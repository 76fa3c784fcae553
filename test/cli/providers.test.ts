import { describe, expect, it } from 'vitest';
import { runProvidersCommand } from '../../sidecar/cli/providers.js';
import { CATALOG } from '../../sidecar/providers/catalog.js';

function run(...argv: string[]) {
  const lines: string[] = [];
  const code = runProvidersCommand(argv, (line) => lines.push(line));
  return { code, lines, text: lines.join('\n') };
}

describe('modelgate providers', () => {
  it('prints every catalog entry as an aligned table, with a summary', () => {
    const { code, lines } = run();
    expect(code).toBe(0);
    expect(lines[0]).toMatch(/^ID\s+PROTOCOL\s+AUTH\s+KEY VARIABLE\s+CAPABILITIES$/);
    const rows = lines.slice(1, -2);
    expect(rows).toHaveLength(CATALOG.length);

    // Columns line up: each header starts where its values start.
    const columnAt = ['PROTOCOL', 'AUTH', 'KEY VARIABLE', 'CAPABILITIES'].map((h) =>
      lines[0].indexOf(h),
    );
    const groq = rows.find((r) => r.startsWith('groq '))!;
    expect(columnAt.map((at) => groq.slice(at).split(/\s{2,}/)[0])).toEqual([
      'openai',
      'bearer',
      'GROQ_API_KEY',
      'tools,vision,json_schema,audio',
    ]);
    expect(lines.at(-1)).toMatch(/^\d+ providers: \d+ openai, .*; 21 run locally$/);
  });

  it('shows the credential variable of entries without an API key', () => {
    const { lines } = run('--protocol', 'vertex');
    expect(lines[1]).toMatch(
      /^vertex\s+vertex\s+oauth-service-account\s+GOOGLE_APPLICATION_CREDENTIALS\s/,
    );
    expect(run('--protocol', 'bedrock').lines[1]).toMatch(/\bsigv4\s+AWS_ACCESS_KEY_ID\b/);
    const rerank = run('--capability', 'rerank').lines.slice(1, -2);
    expect(rerank.length).toBeGreaterThan(0);
    for (const row of rerank) expect(row).toMatch(/\brerank\b/);
  });

  it('prints the entries as JSON with --json', () => {
    const { code, lines } = run('--json');
    expect(code).toBe(0);
    expect(lines).toHaveLength(1);
    const entries = JSON.parse(lines[0]) as { id: string }[];
    expect(entries).toEqual(JSON.parse(JSON.stringify(CATALOG)));
  });

  it('filters by protocol', () => {
    const entries = JSON.parse(run('--json', '--protocol', 'cohere').lines[0]) as { id: string }[];
    expect(entries.map((e) => e.id)).toEqual(['cohere']);
  });

  it('filters by every capability asked for', () => {
    const entries = JSON.parse(
      run('--json', '--capability', 'rerank', '--capability', 'embeddings').lines[0],
    ) as { id: string; capabilities: Record<string, boolean> }[];
    expect(entries.length).toBeGreaterThan(0);
    for (const e of entries)
      expect([e.capabilities.rerank, e.capabilities.embeddings]).toEqual([true, true]);
    expect(entries.map((e) => e.id)).toContain('cohere');
  });

  it('prints a Markdown table with --markdown', () => {
    const { lines } = run('--markdown', '--protocol', 'anthropic');
    expect(lines).toEqual([
      '| id | provider | protocol | key variable | capabilities (besides streaming) |',
      '|---|---|---|---|---|',
      '| `anthropic` | [Anthropic](https://docs.anthropic.com/en/api/messages) | anthropic | ' +
        '`ANTHROPIC_API_KEY` | tools, vision, json_schema |',
    ]);
  });

  it.each([
    [['--protocol', 'grpc'], 'unknown protocol "grpc"'],
    [['--capability', 'telepathy'], 'unknown capability "telepathy"'],
    [['--json', '--markdown'], 'choose one of --json and --markdown'],
    [['--frobnicate'], "Unknown option '--frobnicate'"],
  ])('refuses %j with exit code 2 and the usage', (argv, message) => {
    const { code, text } = run(...argv);
    expect(code).toBe(2);
    expect(text).toContain(`modelgate providers: ${message}`);
    expect(text).toContain('Usage: modelgate providers');
  });

  it('prints the usage for --help', () => {
    expect(run('--help')).toMatchObject({ code: 0, text: expect.stringMatching(/^Usage:/) });
  });
});
