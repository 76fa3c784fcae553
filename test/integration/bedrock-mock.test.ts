import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SigV4Signer } from '../../sidecar/providers/bedrock/sigv4.js';
import {
  TEST_AWS,
  converseStream,
  startMockBedrock,
  type MockAwsCredentials,
  type MockBedrock,
} from '../support/mock-bedrock.js';

// The strict mock is only useful if it refuses what Bedrock refuses. These requests go to it
// directly, signed by hand, so each rule is seen to bite.

const TOKEN = 'IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN==';
const CREDS: MockAwsCredentials = { ...TEST_AWS, sessionToken: TOKEN };
const PATH = '/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse';

describe('the strict Bedrock mock', () => {
  let mock: MockBedrock;

  beforeAll(async () => {
    mock = await startMockBedrock({ credentials: CREDS, region: 'eu-west-1' });
  });
  afterAll(() => mock.close());

  async function send(
    body: unknown,
    opts: {
      creds?: MockAwsCredentials;
      region?: string;
      nowMs?: number;
      path?: string;
      sign?: boolean;
    } = {},
  ) {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const path = opts.path ?? PATH;
    const host = new URL(mock.url).host;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (opts.sign !== false) {
      const signer = new SigV4Signer(opts.creds ?? CREDS, {
        region: opts.region ?? 'eu-west-1',
        service: 'bedrock',
      });
      Object.assign(
        headers,
        signer.sign(
          {
            method: 'POST',
            host,
            path,
            headers: { 'content-type': 'application/json' },
            body: text,
          },
          opts.nowMs ?? Date.now(),
        ).headers,
      );
    }
    const res = await fetch(`${mock.url}${path}`, { method: 'POST', headers, body: text });
    const raw = Buffer.from(await res.arrayBuffer());
    const json = res.headers.get('content-type')?.includes('json')
      ? JSON.parse(raw.toString())
      : undefined;
    return {
      status: res.status,
      errorType: res.headers.get('x-amzn-errortype')?.split(':')[0],
      json,
      raw,
      res,
    };
  }

  const user = (text: string) => ({ role: 'user', content: [{ text }] });
  const assistant = (text: string) => ({ role: 'assistant', content: [{ text }] });

  it('answers a correctly signed Converse request', async () => {
    const r = await send({ messages: [user('hi')] });
    expect(r.status).toBe(200);
    expect(r.json.output.message.content).toEqual([{ text: 'Hello from Bedrock.' }]);
    expect(r.res.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses a wrong secret with InvalidSignatureException, quoting the canonical request', async () => {
    const r = await send(
      { messages: [user('hi')] },
      { creds: { ...CREDS, secretAccessKey: 'wrong' } },
    );
    expect(r.status).toBe(403);
    expect(r.errorType).toBe('InvalidSignatureException');
    expect(r.json.message).toMatch(
      /^The request signature we calculated does not match the signature you provided\./,
    );
    expect(r.json.message).toContain(
      '/model/anthropic.claude-3-5-sonnet-20240620-v1%253A0/converse',
    );
  });

  it('refuses a request whose path was signed singly encoded', async () => {
    const signer = new SigV4Signer(CREDS, { region: 'eu-west-1', service: 'bedrock' });
    const body = JSON.stringify({ messages: [user('hi')] });
    // Signed as if the path held a raw ':', sent encoded.
    const signed = signer.sign(
      {
        method: 'POST',
        host: new URL(mock.url).host,
        path: PATH.replace('%3A', ':'),
        headers: { 'content-type': 'application/json' },
        body,
      },
      Date.now(),
    );
    const res = await fetch(`${mock.url}${PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signed.headers },
      body,
    });
    expect(res.status).toBe(403);
  });

  it.each([
    [
      'an expired signature',
      { nowMs: Date.now() - 10 * 60 * 1000 },
      403,
      'InvalidSignatureException',
      /^Signature expired: \d{8}T\d{6}Z is now earlier than/,
    ],
    [
      'another region in the scope',
      { region: 'us-east-1' },
      403,
      'InvalidSignatureException',
      /scoped to a valid region/,
    ],
    [
      'a missing session token',
      { creds: TEST_AWS },
      403,
      'UnrecognizedClientException',
      /security token included in the request is invalid/,
    ],
    [
      'an unknown key id',
      { creds: { ...CREDS, accessKeyId: 'AKIAUNKNOWN000000000' } },
      403,
      'UnrecognizedClientException',
      /security token/,
    ],
    [
      'no signature at all',
      { sign: false },
      403,
      'MissingAuthenticationTokenException',
      /^Missing Authentication Token$/,
    ],
  ])('refuses %s', async (_what, opts, status, type, message) => {
    const r = await send({ messages: [user('hi')] }, opts);
    expect(r.status).toBe(status);
    expect(r.errorType).toBe(type);
    expect(r.json.message).toMatch(message);
  });

  const TOOLS = { tools: [{ toolSpec: { name: 'f', inputSchema: { json: { type: 'object' } } } }] };
  const use = (id: string) => ({ toolUse: { toolUseId: id, name: 'f', input: {} } });
  const result = (id: string) => ({ toolResult: { toolUseId: id, content: [{ text: 'ok' }] } });

  it.each([
    [
      'an unknown field',
      { messages: [user('hi')], temperature: 1 },
      /^Malformed input request: extraneous key \[temperature\] is not permitted/,
    ],
    [
      'an assistant first',
      { messages: [assistant('hi'), user('x')] },
      /^A conversation must start with a user message/,
    ],
    [
      'two user turns in a row',
      { messages: [user('a'), user('b')] },
      /^A conversation must alternate between user and assistant roles/,
    ],
    [
      'a blank text block',
      { messages: [{ role: 'user', content: [{ text: '  ' }] }] },
      /^The text field in the ContentBlock object at messages\.0\.content\.0 is blank/,
    ],
    [
      'a system role',
      { messages: [{ role: 'system', content: [{ text: 'x' }] }] },
      /Member must satisfy enum value set: \[user, assistant\]/,
    ],
    [
      'tool blocks without toolConfig',
      {
        messages: [
          user('a'),
          { role: 'assistant', content: [use('t1')] },
          { role: 'user', content: [result('t1')] },
        ],
      },
      /^The toolConfig field must be defined when using toolUse and toolResult content blocks\.$/,
    ],
    [
      'a toolUse left unanswered',
      {
        messages: [
          user('a'),
          { role: 'assistant', content: [use('t1'), use('t2')] },
          { role: 'user', content: [result('t1')] },
        ],
        toolConfig: TOOLS,
      },
      /^Expected toolResult blocks at messages\.2\.content for the following Ids: t2$/,
    ],
    [
      'a toolResult answering nothing',
      {
        messages: [user('a'), assistant('b'), { role: 'user', content: [result('t9')] }],
        toolConfig: TOOLS,
      },
      /unexpected `tool_use_id` found in `tool_result` blocks: t9/,
    ],
    [
      'image bytes that are not the named format',
      {
        messages: [
          {
            role: 'user',
            content: [
              {
                image: {
                  format: 'png',
                  source: { bytes: Buffer.from('GIF89a......').toString('base64') },
                },
              },
            ],
          },
        ],
      },
      /^Could not process image$/,
    ],
    [
      'a toolChoice naming no given tool',
      { messages: [user('a')], toolConfig: { ...TOOLS, toolChoice: { tool: { name: 'g' } } } },
      /toolChoice was not found/,
    ],
    [
      'an empty text block in a toolResult',
      {
        messages: [
          user('a'),
          { role: 'assistant', content: [use('t1')] },
          { role: 'user', content: [{ toolResult: { toolUseId: 't1', content: [{ text: '' }] } }] },
        ],
        toolConfig: TOOLS,
      },
      /^The model returned the following errors: messages\.2\.content\.0: text content blocks must be non-empty$/,
    ],
    [
      'an empty stop sequence',
      { messages: [user('a')], inferenceConfig: { stopSequences: [''] } },
      /stopSequences/,
    ],
  ])('refuses %s with a ValidationException', async (_what, body, message) => {
    const r = await send(body);
    expect(r.status).toBe(400);
    expect(r.errorType).toBe('ValidationException');
    expect(r.json.message).toMatch(message);
  });

  it('takes a toolResult whose content list is empty, as Claude on Bedrock does', async () => {
    const r = await send({
      messages: [
        user('a'),
        { role: 'assistant', content: [use('t1')] },
        { role: 'user', content: [{ toolResult: { toolUseId: 't1', content: [] } }] },
      ],
      toolConfig: TOOLS,
    });
    expect(r.status).toBe(200);
  });

  it('serves scripted event-stream frames byte for byte, cut where asked', async () => {
    const frames = converseStream({ text: ['a', 'b'] });
    mock.script({ frames, splitAt: [1, 2, 3, 50] });
    const r = await send(
      { messages: [user('hi')] },
      { path: PATH.replace('/converse', '/converse-stream') },
    );
    expect(r.status).toBe(200);
    expect(r.res.headers.get('content-type')).toBe('application/vnd.amazon.eventstream');
    expect(r.raw.equals(Buffer.concat(frames))).toBe(true);
  });
});
