import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { equals } from '@bufbuild/protobuf';
import { afterAll, describe, expect, it } from 'vitest';
import { PolicySchema, Protocol } from '../../proto/gen/modelgate/v1/policy_pb.js';
import { hashKey, KeyRing } from '../../sidecar/auth/keys.js';
import { loadConfigFile, parseConfig } from '../../sidecar/config/load.js';
import { ConfigError, type Env, type Problem } from '../../sidecar/config/validate.js';

const ENV: Env = { OPENAI_API_KEY: 'sk-test-1', AZURE_OPENAI_API_KEY: 'azure-test-1' };
const HASH = hashKey('sk-mg-example');

const YAML_CONFIG = `
listen: { host: 127.0.0.1, port: 4100 }
limits: { max_body_bytes: 4194304, request_timeout_ms: 600000, connect_timeout_ms: 10000 }
providers:
  - id: openai
    protocol: openai            # openai | azure_openai | demo
    base_url: https://api.openai.com/v1
    api_key_env: OPENAI_API_KEY
    headers: { OpenAI-Organization: org-123 }
  - id: azure-east
    protocol: azure_openai
    base_url: https://myres.openai.azure.com
    api_key_env: AZURE_OPENAI_API_KEY
    api_version: 2024-10-21
models:
  - { name: gpt-4o-mini, provider: openai, target: gpt-4o-mini }
  - { name: "openai/*", provider: openai, target: "*" }
  - { name: azure-gpt, provider: azure-east, target: my-gpt4o-deployment }
api_keys:
  - { id: checkout-svc, sha256: ${HASH}, project: checkout, team: payments }
`;

function problemsOf(run: () => unknown): readonly Problem[] {
  try {
    run();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('reads a valid YAML config into the expected Policy', () => {
    const policy = parseConfig(YAML_CONFIG, 'yaml', 'inline.yaml', { env: ENV });

    expect(policy.listen).toMatchObject({ host: '127.0.0.1', port: 4100 });
    expect(policy.limits).toMatchObject({
      maxBodyBytes: 4194304,
      requestTimeoutMs: 600000,
      connectTimeoutMs: 10000,
      idleTimeoutMs: 0, // absent: left for withDefaultLimits
    });
    expect(policy.providers.map((p) => [p.id, p.protocol, p.baseUrl, p.apiKeyEnv])).toEqual([
      ['openai', Protocol.OPENAI, 'https://api.openai.com/v1', 'OPENAI_API_KEY'],
      [
        'azure-east',
        Protocol.AZURE_OPENAI,
        'https://myres.openai.azure.com',
        'AZURE_OPENAI_API_KEY',
      ],
    ]);
    expect(policy.providers[0].headers).toEqual({ 'OpenAI-Organization': 'org-123' });
    // YAML 1.2: an unquoted date stays a string.
    expect(policy.providers[1].apiVersion).toBe('2024-10-21');
    expect(policy.models.map((m) => [m.name, m.provider, m.target])).toEqual([
      ['gpt-4o-mini', 'openai', 'gpt-4o-mini'],
      ['openai/*', 'openai', '*'],
      ['azure-gpt', 'azure-east', 'my-gpt4o-deployment'],
    ]);
    expect(policy.apiKeys).toMatchObject([
      { id: 'checkout-svc', sha256: HASH, project: 'checkout', team: 'payments' },
    ]);
  });

  it('reads the same config written as JSON into an equal Policy', () => {
    const json = JSON.stringify({
      listen: { host: '127.0.0.1', port: 4100 },
      limits: { max_body_bytes: 4194304, request_timeout_ms: 600000, connect_timeout_ms: 10000 },
      providers: [
        {
          id: 'openai',
          protocol: 'openai',
          base_url: 'https://api.openai.com/v1',
          api_key_env: 'OPENAI_API_KEY',
          headers: { 'OpenAI-Organization': 'org-123' },
        },
        {
          id: 'azure-east',
          protocol: 'azure_openai',
          base_url: 'https://myres.openai.azure.com',
          api_key_env: 'AZURE_OPENAI_API_KEY',
          api_version: '2024-10-21',
        },
      ],
      models: [
        { name: 'gpt-4o-mini', provider: 'openai', target: 'gpt-4o-mini' },
        { name: 'openai/*', provider: 'openai', target: '*' },
        { name: 'azure-gpt', provider: 'azure-east', target: 'my-gpt4o-deployment' },
      ],
      api_keys: [{ id: 'checkout-svc', sha256: HASH, project: 'checkout', team: 'payments' }],
    });
    const fromJson = parseConfig(json, 'json', 'inline.json', { env: ENV });
    const fromYaml = parseConfig(YAML_CONFIG, 'yaml', 'inline.yaml', { env: ENV });
    expect(equals(PolicySchema, fromJson, fromYaml)).toBe(true);
  });

  it('reports a YAML syntax error with its line and column', () => {
    const text = 'listen:\n  host: 127.0.0.1\nmodels: [a, b\nproviders: []\n';
    const problems = problemsOf(() => parseConfig(text, 'yaml', 'bad.yaml', { env: ENV }));
    expect(problems).toHaveLength(1);
    expect(problems[0].path).toBe('');
    expect(problems[0].reason).toMatch(/^YAML syntax error at line 4, column 1: /);
  });

  it('reports a key written twice in YAML', () => {
    const text = 'listen: { port: 1 }\nlisten: { port: 2 }\n';
    const problems = problemsOf(() => parseConfig(text, 'yaml', 'dup.yaml', { env: ENV }));
    expect(problems).toEqual([
      { path: '', reason: 'YAML syntax error at line 2, column 1: Map keys must be unique' },
    ]);
  });

  it('reports a YAML alias bomb as a config problem, not a crash', () => {
    const lines = ['a0: &a0 [x]'];
    for (let i = 1; i < 10; i++) {
      lines.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(',')}]`,
      );
    }
    const problems = problemsOf(() =>
      parseConfig(lines.join('\n'), 'yaml', 'bomb.yaml', { env: ENV }),
    );
    expect(problems).toEqual([
      { path: '', reason: 'YAML: Excessive alias count indicates a resource exhaustion attack' },
    ]);
  });

  it('reports a JSON syntax error with its line and column, without quoting the file', () => {
    const text = '{\n  "listen": { "port": 1 }\n  "models": []\n}';
    const problems = problemsOf(() => parseConfig(text, 'json', 'bad.json', { env: ENV }));
    expect(problems).toEqual([
      {
        path: '',
        reason: "JSON syntax error at line 3, column 3: Expected ',' or '}' after property value",
      },
    ]);
  });

  // Found by the breaker: JSON.parse keeps the last of two equal keys, so a JSON config
  // whose later "api_keys": [] (a template's default, a merge gone wrong) silently dropped
  // every key started a sidecar that took unauthenticated requests. YAML refuses it.
  it('reports a key written twice in JSON, with its path, as YAML does', () => {
    const text =
      '{\n  "providers": [{"id": "demo", "protocol": "demo"}],\n' +
      '  "models": [{"name": "demo/*", "provider": "demo", "target": "*"}],\n' +
      `  "api_keys": [{"id": "a", "sha256": "${HASH}"}],\n` +
      '  "api_keys": []\n}';
    const problems = problemsOf(() => parseConfig(text, 'json', 'dup.json', { env: {} }));
    expect(problems).toEqual([
      { path: 'api_keys', reason: 'written twice, the second time at line 5, column 3' },
    ]);
  });

  it('names the path of a key written twice deep in a JSON config', () => {
    const text = JSON.stringify({
      providers: [{ id: 'demo', protocol: 'demo' }],
      models: [{ name: 'demo/*', provider: 'demo', target: '*' }],
    }).replace('"protocol":"demo"', '"protocol":"demo","id":"other"');
    const problems = problemsOf(() => parseConfig(text, 'json', 'dup.json', { env: {} }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ path: 'providers[0].id' });
    expect(problems[0].reason).toMatch(/^written twice, the second time at line 1, column \d+$/);
  });

  it('takes equal keys in different JSON objects, and strings that hold quotes and braces', () => {
    const text = JSON.stringify({
      providers: [
        { id: 'demo', protocol: 'demo', headers: { 'x-a': '"}, "id": "', 'x-b': 'a\\' } },
        { id: 'd2', protocol: 'demo' },
      ],
      models: [{ name: 'demo/*', provider: 'demo', target: '*' }],
    });
    expect(parseConfig(text, 'json', 'ok.json', { env: {} }).providers).toHaveLength(2);
  });

  it('treats an empty file as an empty policy, which lacks models', () => {
    expect(problemsOf(() => parseConfig('', 'yaml', 'empty.yaml', { env: ENV }))).toEqual([
      { path: 'models', reason: 'must list at least one model' },
    ]);
  });

  it('ignores a leading byte order mark', () => {
    const text =
      '\ufeff{"models": [{"name": "demo/*", "provider": "demo", "target": "*"}],' +
      ' "providers": [{"id": "demo", "protocol": "demo"}]}';
    expect(parseConfig(text, 'json', 'bom.json', { env: {} }).models).toHaveLength(1);
  });
});

describe('loadConfigFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['config.yaml', 'config.yml', 'CONFIG.YML'])('reads %s as YAML', (name) => {
    const path = join(dir, name);
    writeFileSync(path, YAML_CONFIG);
    expect(loadConfigFile(path, { env: ENV }).models).toHaveLength(3);
  });

  it('reads .json as JSON, so YAML in it is a syntax error', () => {
    const path = join(dir, 'config.json');
    writeFileSync(path, YAML_CONFIG);
    const problems = problemsOf(() => loadConfigFile(path, { env: ENV }));
    expect(problems[0].reason).toMatch(/^JSON syntax error/);
  });

  it('refuses an unknown extension', () => {
    expect(problemsOf(() => loadConfigFile(join(dir, 'config.toml')))).toEqual([
      { path: '', reason: 'unknown file extension ".toml": use .yaml, .yml or .json' },
    ]);
  });

  it('reports a missing file as a ConfigError', () => {
    expect(problemsOf(() => loadConfigFile(join(dir, 'absent.yaml')))).toEqual([
      { path: '', reason: 'cannot read the file (ENOENT)' },
    ]);
  });

  it('names the file in the error message', () => {
    const path = join(dir, 'broken.yaml');
    writeFileSync(path, 'listen: { port: 70000 }\nmodels: []\n');
    expect(() => loadConfigFile(path, { env: ENV })).toThrow(
      `${path}: 2 problems in the config:\n` +
        '  listen.port: must be from 0 to 65535 (0 means 4100), got 70000\n' +
        '  models: must list at least one model',
    );
  });
});

describe('examples/modelgate.yaml', () => {
  const path = fileURLToPath(new URL('../../examples/modelgate.yaml', import.meta.url));

  it('loads when the keys it names are in the environment', () => {
    const policy = loadConfigFile(path, { env: ENV });
    expect(policy.providers.map((p) => p.id)).toEqual([
      'openai',
      'azure-east',
      'local-vllm',
      'demo',
    ]);
    expect(policy.models.length).toBeGreaterThan(0);
  });

  it('accepts the documented example key', () => {
    const ring = new KeyRing(loadConfigFile(path, { env: ENV }).apiKeys);
    expect(ring.identify('Bearer sk-mg-example')).toEqual({
      keyId: 'checkout-svc',
      project: 'checkout',
      team: 'payments',
    });
  });

  it('refuses to load without the provider keys', () => {
    const paths = problemsOf(() => loadConfigFile(path, { env: {} })).map((p) => p.path);
    expect(paths).toEqual(['providers[0].api_key_env', 'providers[1].api_key_env']);
  });
});
