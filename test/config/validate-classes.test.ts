import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../sidecar/config/load.js';
import { ConfigError } from '../../sidecar/config/validate.js';

const base = `
providers:
  - { id: a, protocol: openai, base_url: "http://127.0.0.1:9/v1" }
  - { id: b, protocol: openai, base_url: "http://127.0.0.1:8/v1" }
`;

function problems(yaml: string) {
  try {
    parseConfig(base + yaml, 'yaml', 'test.yaml', { env: {} });
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe('classes in the config', () => {
  it('loads a model routed to a class', () => {
    const policy = parseConfig(
      `${base}
classes:
  - name: smart
    chain: [{ provider: a, target: m1, context_window: 8192 }, { provider: b, target: m2 }]
    timeouts: { first_token_ms: 2000 }
    failover_on_status: [429, 401]
    ordered: true
models:
  - { name: smart, class: smart }
routing: { breaker_failures: 3, explore_share: 0.1, health_window_ms: 30000 }
`,
      'yaml',
      'test.yaml',
      { env: {} },
    );
    expect(policy.classes[0].chain.map((e) => e.target)).toEqual(['m1', 'm2']);
    expect(policy.classes[0].timeouts?.firstTokenMs).toBe(2000);
    expect(policy.models[0].class).toBe('smart');
    expect(policy.routing?.exploreShare).toBeCloseTo(0.1);
  });

  it.each([
    [
      `classes: [{ name: "c\\u202e", chain: [{ provider: a, target: m }] }]\nmodels: [{ name: x, class: "c\\u202e" }]`,
      'classes[0].name',
      'must be at most 256 characters of well-formed text, with no control, line-separator ' +
        'or bidirectional-override characters; it has U+202E at character 2',
    ],
    [
      `classes: [{ name: c, chain: [{ provider: a, target: "m\\r\\n" }] }]\nmodels: [{ name: x, class: c }]`,
      'classes[0].chain[0].target',
      'must be at most 256 characters of well-formed text, with no control, line-separator ' +
        'or bidirectional-override characters; it has U+000D at character 2',
    ],
    [
      `models: [{ name: x, class: nope }]`,
      'models[0].class',
      'no class named "nope" (known: no classes are defined)',
    ],
    [
      `classes: [{ name: c, chain: [{ provider: a, target: m }] }]\nmodels: [{ name: x, class: c, provider: a, target: m }]`,
      'models[0].provider',
      'give either class or provider, not both',
    ],
    [
      `classes: [{ name: c, chain: [{ provider: zz, target: m }] }]\nmodels: [{ name: x, class: c }]`,
      'classes[0].chain[0].provider',
      'no provider with id "zz" (known: a, b)',
    ],
    [
      `classes: [{ name: c, chain: [] }]\nmodels: [{ name: x, class: c }]`,
      'classes[0].chain',
      'must list at least one endpoint',
    ],
    [
      `classes: [{ name: c, chain: [{ provider: a, target: m }, { provider: a, target: m }] }]\nmodels: [{ name: x, class: c }]`,
      'classes[0].chain[1]',
      '"a/m" appears twice in the chain',
    ],
    [
      `classes: [{ name: c, chain: [{ provider: a, target: m }], failover_on_status: [200] }]\nmodels: [{ name: x, class: c }]`,
      'classes[0].failover_on_status[0]',
      'must be an HTTP error status (400-599), got 200',
    ],
    [
      `classes: [{ name: c, chain: [{ provider: a, target: m }], max_attempts: "3" }]\nmodels: [{ name: x, class: c }]`,
      'classes[0].max_attempts',
      'must be a whole number from 1 to 5, got "3"',
    ],
    [
      `classes: [{ name: c, chain: [{ provider: a, target: m }], failover_on_status: ["429"] }]\nmodels: [{ name: x, class: c }]`,
      'classes[0].failover_on_status[0]',
      'must be a whole number from 400 to 599, got "429"',
    ],
    [
      `models: [{ name: x, provider: a, target: m }]\nrouting: { explore_share: 2 }`,
      'routing.explore_share',
      'must be from 0 to 1, got 2',
    ],
  ])('reports %j at %s', (yaml, path, reason) => {
    expect(problems(yaml)).toContainEqual({ path, reason });
  });
});
