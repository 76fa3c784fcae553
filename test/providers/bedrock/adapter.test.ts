import type { IncomingMessage } from 'node:http';
import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { ProviderSchema, Protocol } from '../../../proto/gen/modelgate/v1/policy_pb.js';
import type { ChatCall, UpstreamRequest } from '../../../sidecar/providers/adapter.js';
import { createBedrockAdapter } from '../../../sidecar/providers/bedrock/index.js';
import { MODEL_IDS, TEST_AWS, awsEnv, verifySignature } from '../../support/mock-bedrock.js';

const NOW = Date.UTC(2025, 4, 6, 7, 8, 9);

function adapter(opts: {
  env?: Record<string, string>;
  apiKey?: string;
  region?: string;
  baseUrl?: string;
  credentialsEnv?: string;
}) {
  return createBedrockAdapter({
    provider: create(ProviderSchema, {
      id: 'bedrock',
      protocol: Protocol.BEDROCK,
      region: opts.region ?? 'us-west-2',
      credentialsEnv: opts.credentialsEnv ?? '',
    }),
    baseUrl: opts.baseUrl ?? 'https://bedrock-runtime.us-west-2.amazonaws.com',
    apiKey: opts.apiKey,
    env: opts.env ?? awsEnv(TEST_AWS),
    maxStreamEventBytes: 1 << 20,
    clock: () => NOW,
  });
}

function call(target: string, stream = false, passHeaders: [string, string][] = []): ChatCall {
  const body = { model: 'm', messages: [{ role: 'user', content: 'hi' }], stream };
  return {
    raw: Buffer.from(JSON.stringify(body)),
    body,
    model: 'm',
    target,
    stream,
    passHeaders,
  };
}

/** The request as the mock's verifier would see it arrive. */
function asIncoming(req: UpstreamRequest): IncomingMessage {
  const headers = Object.fromEntries(
    Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), v]),
  );
  return {
    method: 'POST',
    url: req.path,
    headers,
    rawHeaders: Object.entries(req.headers).flat(),
  } as unknown as IncomingMessage;
}

describe('Bedrock adapter requests', () => {
  it('posts to /model/{id}/converse with the model id percent-encoded once', () => {
    const req = adapter({}).buildChat(call(MODEL_IDS.claude)) as UpstreamRequest;
    expect(req.origin).toBe('https://bedrock-runtime.us-west-2.amazonaws.com');
    expect(req.path).toBe('/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse');
    expect(req.headers.accept).toBe('application/json');
    expect(JSON.parse(req.body.toString())).toEqual({
      messages: [{ role: 'user', content: [{ text: 'hi' }] }],
    });
  });

  it('streams from /converse-stream and takes inference-profile ids and ARNs', () => {
    const profile = adapter({}).buildChat(call(MODEL_IDS.profile, true)) as UpstreamRequest;
    expect(profile.path).toBe(
      '/model/us.anthropic.claude-3-7-sonnet-20250219-v1%3A0/converse-stream',
    );
    expect(profile.headers.accept).toBe('application/vnd.amazon.eventstream');
    const arn = adapter({}).buildChat(call(MODEL_IDS.arn)) as UpstreamRequest;
    expect(arn.path).toBe(
      '/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-3-haiku-20240307-v1%3A0/converse',
    );
  });

  it('signs with SigV4 for service bedrock, and the independent verifier agrees', () => {
    const req = adapter({}).buildChat(call(MODEL_IDS.claude)) as UpstreamRequest;
    expect(req.headers['x-amz-date']).toBe('20250506T070809Z');
    expect(req.headers.host).toBe('bedrock-runtime.us-west-2.amazonaws.com');
    expect(req.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIAMODELGATETEST001\/20250506\/us-west-2\/bedrock\/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=[0-9a-f]{64}$/,
    );
    const check = verifySignature(
      asIncoming(req),
      Buffer.from(req.body),
      TEST_AWS,
      'us-west-2',
      NOW,
    );
    expect(check.failure).toBeUndefined();
    expect(check.canonicalRequest?.split('\n')[1]).toBe(
      '/model/anthropic.claude-3-5-sonnet-20240620-v1%253A0/converse',
    );
  });

  it('the verifier catches a body changed after signing', () => {
    const req = adapter({}).buildChat(call(MODEL_IDS.claude)) as UpstreamRequest;
    const check = verifySignature(
      asIncoming(req),
      Buffer.from('{"messages":[]}'),
      TEST_AWS,
      'us-west-2',
      NOW,
    );
    expect(check.failure?.error).toBe('InvalidSignatureException');
  });

  it('sends and signs a session token, from credentials under a custom prefix', () => {
    const creds = { ...TEST_AWS, sessionToken: 'FwoGZXIvYXdzEXAMPLETOKEN//==' };
    const req = adapter({ env: awsEnv(creds, 'BEDROCK_'), credentialsEnv: 'BEDROCK_' }).buildChat(
      call(MODEL_IDS.claude),
    ) as UpstreamRequest;
    expect(req.headers['x-amz-security-token']).toBe(creds.sessionToken);
    expect(req.headers.authorization).toContain(
      'SignedHeaders=content-type;host;x-amz-date;x-amz-security-token',
    );
    expect(
      verifySignature(asIncoming(req), Buffer.from(req.body), creds, 'us-west-2', NOW).failure,
    ).toBeUndefined();
  });

  it('uses a Bedrock API key as a bearer token instead of signing', () => {
    const req = adapter({ apiKey: 'ABSK-test-key', env: {} }).buildChat(
      call(MODEL_IDS.claude),
    ) as UpstreamRequest;
    expect(req.headers.authorization).toBe('Bearer ABSK-test-key');
    expect(req.headers['x-amz-date']).toBeUndefined();
  });

  it("lets a caller's x-pass-authorization replace the credential, but not signed headers", () => {
    const req = adapter({}).buildChat(
      call(MODEL_IDS.claude, false, [
        ['authorization', 'Bearer caller-key'],
        ['x-amz-date', '19990101T000000Z'],
        ['x-amzn-trace-id', 'Root=1-abc'],
      ]),
    ) as UpstreamRequest;
    expect(req.headers.authorization).toBe('Bearer caller-key');
    expect(req.headers['x-amz-date']).toBeUndefined();
    expect(req.headers['x-amzn-trace-id']).toBe('Root=1-abc');
  });

  it('reads the region from a standard endpoint and keeps a base path', () => {
    const req = adapter({
      region: '',
      baseUrl: 'https://bedrock-runtime.eu-central-1.amazonaws.com/proxy/',
    }).buildChat(call('amazon.nova-pro-v1:0')) as UpstreamRequest;
    expect(req.path).toBe('/proxy/model/amazon.nova-pro-v1%3A0/converse');
    expect(req.headers.authorization).toContain('/eu-central-1/bedrock/aws4_request');
  });

  it('refuses to start without credentials, naming the variables', () => {
    expect(() => adapter({ env: {} })).toThrow(
      'provider "bedrock": Bedrock needs credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or api_key_env naming a Bedrock API key',
    );
  });

  it('surfaces a translation problem as a 400 before any upstream call', () => {
    const body = { model: 'm', messages: [{ role: 'user', content: 'hi' }], n: 3 };
    expect(() =>
      adapter({}).buildChat({
        ...call(MODEL_IDS.claude),
        body,
        raw: Buffer.from(JSON.stringify(body)),
      }),
    ).toThrow(/one choice/);
  });
});
