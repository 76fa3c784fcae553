import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { PolicySchema, Protocol } from '../../proto/gen/modelgate/v1/policy_pb.js';
import { parseConfig } from '../../sidecar/config/load.js';
import { assertValidPolicy, ConfigError, type Problem } from '../../sidecar/config/validate.js';
import { composeHandler } from '../../sidecar/compose.js';
import { memoryLogger } from '../../sidecar/observe/logger.js';

const PROVIDERS = `
providers:
  - { id: a, protocol: openai, base_url: "http://127.0.0.1:9/v1" }
  - { id: b, protocol: openai, base_url: "http://127.0.0.1:8/v1" }
models:
  - { name: smart, class: smart }
`;

/** A config with a two-endpoint class `smart`, plus `extra` lines of YAML. */
function config(extra: string, classExtra = ''): string {
  return `${PROVIDERS}${extra}
classes:
  - name: smart
    chain: [{ provider: a, target: m1 }, { provider: b, target: m2 }]
${classExtra}`;
}

function problemsOf(yaml: string): readonly Problem[] {
  try {
    parseConfig(yaml, 'yaml', 'test.yaml', { env: {} });
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

function zeroReason(range: string, meant: string, standsFor: string): string {
  return (
    `must be from ${range}: 0 would not mean ${meant} here but ${standsFor}, ` +
    'so leave the field out for that'
  );
}

describe('a 0 written in a config file where 0 stands for a default', () => {
  it.each([
    ['breaker_failures', 1, '1 to 4294967295', '"never open the circuit"', 5],
    ['breaker_cooldown_ms', 1, '1 to 4294967295', '"probe at once"', 30000],
    ['health_window_ms', 1200, '1200 to 4294967295', '"no window"', 60000],
  ])(
    'refuses routing.%s: 0 naming its default, and takes %i or the field left out',
    (name, lowest, range, meant, standsFor) => {
      expect(problemsOf(config(`routing: { ${name}: 0 }`))).toEqual([
        {
          path: `routing.${name}`,
          reason: zeroReason(range, meant, `the default (${standsFor})`),
        },
      ]);
      expect(problemsOf(config(`routing: { ${name}: ${lowest} }`))).toEqual([]);
      expect(problemsOf(config('routing: { auto_chain: true }'))).toEqual([]);
    },
  );

  it.each([
    ['connect_ms', 'connect_timeout_ms', 10000],
    ['first_byte_ms', 'first_byte_timeout_ms', 60000],
    ['first_token_ms', 'request_timeout_ms', 600000],
    ['idle_ms', 'idle_timeout_ms', 60000],
    ['total_ms', 'request_timeout_ms', 600000],
  ])(
    'refuses classes[0].timeouts.%s: 0 naming limits.%s (%i), and takes 1 or the field left out',
    (name, limit, fallback) => {
      expect(problemsOf(config('', `    timeouts: { ${name}: 0 }`))).toEqual([
        {
          path: `classes[0].timeouts.${name}`,
          reason: zeroReason(
            '1 to 4294967295',
            '"no timeout"',
            `limits.${limit} (${fallback}, its default)`,
          ),
        },
      ]);
      expect(problemsOf(config('', `    timeouts: { ${name}: 1 }`))).toEqual([]);
      expect(problemsOf(config('', '    timeouts: {}'))).toEqual([]);
    },
  );

  it.each([
    ['connect_ms', 'connect_timeout_ms'],
    ['first_token_ms', 'request_timeout_ms'],
    ['idle_ms', 'idle_timeout_ms'],
  ])(
    'refuses classes[0].timeouts.%s: 0 naming the value this file gives limits.%s',
    (name, limit) => {
      const yaml = config(`limits: { ${limit}: 4321 }`, `    timeouts: { ${name}: 0 }`);
      expect(problemsOf(yaml)).toEqual([
        {
          path: `classes[0].timeouts.${name}`,
          reason: zeroReason(
            '1 to 4294967295',
            '"no timeout"',
            `limits.${limit} (4321, as this file sets it)`,
          ),
        },
      ]);
    },
  );

  it("refuses classes[0].max_attempts: 0 naming the chain's length, and takes 1 or none", () => {
    expect(problemsOf(config('', '    max_attempts: 0'))).toEqual([
      {
        path: 'classes[0].max_attempts',
        reason: zeroReason(
          '1 to 5',
          '"no retries" or "no limit"',
          "the chain's length, at most 5 (here 2)",
        ),
      },
    ]);
    expect(problemsOf(config('', '    max_attempts: 1'))).toEqual([]);
    expect(problemsOf(config('', '    ordered: true'))).toEqual([]);
  });

  it('reports every such 0 in a whole file at once, each with its path', () => {
    const yaml = `
listen: { host: 127.0.0.1, port: 4100 }
limits: { idle_timeout_ms: 45000, drain_timeout_ms: 0 }
providers:
  - { id: a, protocol: openai, base_url: "http://127.0.0.1:9/v1" }
  - { id: b, protocol: openai, base_url: "http://127.0.0.1:8/v1" }
models:
  - { name: smart, class: smart }
  - { name: cheap, class: cheap }
classes:
  - name: smart
    chain: [{ provider: a, target: m1 }, { provider: b, target: m2 }]
    timeouts: { connect_ms: 2000, idle_ms: 0, total_ms: 0 }
    max_attempts: 0
  - name: cheap
    chain: [{ provider: b, target: m3 }]
    timeouts: { first_byte_ms: 0 }
routing:
  breaker_failures: 0
  breaker_cooldown_ms: 0
  auto_chain: false
  explore_share: 0
  health_window_ms: 0
`;
    let message = '';
    try {
      parseConfig(yaml, 'yaml', 'zeros.yaml', { env: {} });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      message = err.message;
    }
    const lines = message.split('\n').map((line) => line.replace(/: must be .*$/, ''));
    expect(lines).toEqual([
      'zeros.yaml: 8 problems in the config:',
      '  limits.drain_timeout_ms',
      '  routing.breaker_failures',
      '  routing.breaker_cooldown_ms',
      '  routing.health_window_ms',
      '  classes[0].max_attempts',
      '  classes[0].timeouts.idle_ms',
      '  classes[0].timeouts.total_ms',
      '  classes[1].timeouts.first_byte_ms',
    ]);
    expect(message).toContain('limits.idle_timeout_ms (45000, as this file sets it)');
    expect(message).toContain('limits.request_timeout_ms (600000, its default)');
    expect(message).toContain("the chain's length, at most 5 (here 2)");
  });

  it('takes the same zeros as "unset" in a policy that does not come from a file', async () => {
    const yaml = config('routing: { breaker_failures: 0 }', '    timeouts: { idle_ms: 0 }');
    expect(problemsOf(yaml).map((p) => p.path)).toEqual([
      'routing.breaker_failures',
      'classes[0].timeouts.idle_ms',
    ]);

    // As the control plane would send it: proto3 puts no zero on the wire, so these read
    // back as unset, and the policy must validate and route on the defaults.
    const pushed = create(PolicySchema, {
      limits: { idleTimeoutMs: 45000 },
      providers: [{ id: 'demo', protocol: Protocol.DEMO }],
      models: [{ name: 'smart', class: 'smart' }],
      classes: [
        {
          name: 'smart',
          chain: [
            { provider: 'demo', target: 'm1' },
            { provider: 'demo', target: 'm2' },
          ],
          timeouts: { connectMs: 0, firstByteMs: 0, firstTokenMs: 0, idleMs: 0, totalMs: 0 },
          maxAttempts: 0,
        },
      ],
      routing: { breakerFailures: 0, breakerCooldownMs: 0, healthWindowMs: 0 },
    });
    const policy = fromBinary(PolicySchema, toBinary(PolicySchema, pushed));
    expect(() => assertValidPolicy(policy, 'control plane', { env: {} })).not.toThrow();

    const { models } = await composeHandler({
      policy,
      logger: memoryLogger('error'),
      env: {},
      isDraining: () => false,
    });
    const route = models.resolve('smart');
    expect(route?.timeouts).toEqual({
      connectMs: 10000,
      firstByteMs: 60000,
      firstTokenMs: 600000,
      idleMs: 45000,
      totalMs: 600000,
    });
    expect(route?.maxAttempts).toBe(2);
  });
});
