import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../sidecar/config/load.js';
import type { UpstreamFailure } from '../../sidecar/providers/adapter.js';
import { Redactor, UPSTREAM_VALUE_CHARS } from '../../sidecar/providers/redact.js';
import { buildProviders } from '../../sidecar/providers/registry.js';

const KEY = 'hunter2/plain-Secret.42';

describe('Redactor.value', () => {
  const redactor = new Redactor([KEY, 'Bearer gateway-token-0001']);

  it('returns a clean value of usual length as it is', () => {
    const id = 'req_0123456789abcdef0123456789abcdef';
    expect(redactor.value(id)).toBe(id);
  });

  it('masks each secret, and the token of a "<scheme> <token>" value on its own', () => {
    expect(redactor.value(`id ${KEY} end`)).toBe('id *** end');
    expect(redactor.value('gateway-token-0001')).toBe('***');
  });

  it('masks key and bearer shapes no one configured', () => {
    expect(redactor.value('sk-live-abcdef123456')).toBe('sk-***');
    expect(redactor.value('Bearer anything.at.all')).toBe('Bearer ***');
  });

  it("masks a Google access token quoted bare (Vertex's, minted at run time)", () => {
    expect(redactor.value('token ya29.a0AfB_byC-x9.Zq end')).toBe('token ya29.*** end');
  });

  it(`cuts a value to ${UPSTREAM_VALUE_CHARS} characters, after masking a key across the cut`, () => {
    expect(redactor.value('r'.repeat(1000))).toBe('r'.repeat(UPSTREAM_VALUE_CHARS));
    const straddling = `${'r'.repeat(UPSTREAM_VALUE_CHARS - 5)}${KEY}`;
    expect(redactor.value(straddling)).toBe(`${'r'.repeat(UPSTREAM_VALUE_CHARS - 5)}***`);
  });

  it('masks a secret whole when it holds a shorter one', () => {
    const nested = new Redactor(['abcd', 'xxabcdxx']);
    expect(nested.value('xxabcdxx')).toBe('***');
  });

  it('leaves secrets shorter than four characters unsearched', () => {
    expect(new Redactor(['abc']).value('abcdef')).toBe('abcdef');
  });
});

describe('Redactor.withPassed', () => {
  const configured = new Redactor([KEY]);

  it('is the same redactor when the caller passed nothing', () => {
    expect(configured.withPassed([])).toBe(configured);
  });

  it("masks the caller's header values and bearer tokens beside the configured secrets", () => {
    const both = configured.withPassed([['authorization', 'Bearer caller/own-key.77']]);
    expect(both.value('caller/own-key.77')).toBe('***');
    expect(both.value(KEY)).toBe('***');
    expect(configured.value('caller/own-key.77')).toBe('caller/own-key.77');
  });
});

describe('Redactor.failure', () => {
  const redactor = new Redactor([KEY]);
  const failure: UpstreamFailure = {
    code: 'GW_ERR_UPSTREAM_BAD_REQUEST',
    status: 400,
    message: `Provider "sk-router-eu": bad ${KEY}`,
    param: KEY,
    detail: `http_400:${KEY}`,
    retryAfter: KEY,
  };

  it('masks secrets in the param, the detail and the message, and drops such a retry-after', () => {
    expect(redactor.failure(failure)).toEqual({
      ...failure,
      message: 'Provider "sk-router-eu": bad ***',
      param: '***',
      detail: 'http_400:***',
      retryAfter: undefined,
    });
  });

  it('keeps a retry-after of seconds or an HTTP date, and drops any other', () => {
    const after = (retryAfter: string) => redactor.failure({ ...failure, retryAfter }).retryAfter;
    expect(after('7')).toBe('7');
    expect(after(' 30 ')).toBe('30');
    expect(after('Sat, 05 Dec 2026 23:10:00 GMT')).toBe('Sat, 05 Dec 2026 23:10:00 GMT');
    expect(after('soon')).toBe(undefined);
    expect(after('7, 8')).toBe(undefined);
  });

  it('passes a param that holds no secret, and a null one, as they are', () => {
    expect(redactor.failure({ ...failure, param: 'messages' }).param).toBe('messages');
    expect(redactor.failure({ ...failure, param: null }).param).toBeNull();
  });

  it('cuts a long upstream code in the detail', () => {
    const long = redactor.failure({ ...failure, detail: `http_400:${'c'.repeat(500)}` });
    expect(long.detail).toHaveLength(UPSTREAM_VALUE_CHARS);
  });
});

describe("a provider's redactor", () => {
  it('knows its api key, the values of the headers its config adds, and its AWS secret', () => {
    const env = {
      GW_KEY: KEY,
      AWS_ACCESS_KEY_ID: 'AKIAMODELGATETEST001',
      AWS_SECRET_ACCESS_KEY: 'aws/secret+KEY0001',
    };
    const yaml = `
providers:
  - id: gw
    protocol: openai
    base_url: "http://127.0.0.1:9/v1"
    api_key_env: GW_KEY
    headers: { cf-aig-authorization: "Bearer gateway-token-0001" }
  - { id: aws, protocol: bedrock, base_url: "http://127.0.0.1:9", region: us-east-1 }
models:
  - { name: a, provider: gw, target: a }
  - { name: b, provider: aws, target: b }
`;
    const policy = parseConfig(yaml, 'yaml', 'test.yaml', { env });
    const providers = buildProviders(policy, {
      env,
      connectTimeoutMs: 1,
      maxStreamEventBytes: 1024,
    });

    const gw = providers.get('gw')!.redactor;
    expect(gw.value(KEY)).toBe('***');
    expect(gw.value('gateway-token-0001')).toBe('***');
    expect(providers.get('aws')!.redactor.value('aws/secret+KEY0001')).toBe('***');
  });
});
