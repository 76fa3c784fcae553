import { describe, expect, it } from 'vitest';
import type { ChatCall } from '../../../sidecar/providers/adapter.js';
import { createAnthropicChatAdapter } from '../../../sidecar/providers/anthropic/index.js';

const call = (extra: Partial<ChatCall> = {}): ChatCall => {
  const body = { model: 'claude', messages: [{ role: 'user', content: 'hi' }] };
  return {
    raw: Buffer.from(JSON.stringify(body)),
    body,
    model: 'claude',
    target: 'claude-target',
    stream: false,
    passHeaders: [],
    ...extra,
  };
};
const adapter = (baseUrl: string, headers?: Record<string, string>) =>
  createAnthropicChatAdapter({
    providerId: 'anthropic',
    baseUrl,
    apiKey: 'sk-ant-key',
    headers,
    clock: () => 1_700_000_000_000,
  });

describe('the Anthropic adapter', () => {
  it.each([
    ['https://api.anthropic.com', 'https://api.anthropic.com', '/v1/messages'],
    ['https://api.anthropic.com/v1/', 'https://api.anthropic.com', '/v1/messages'],
    ['http://127.0.0.1:9000/proxy', 'http://127.0.0.1:9000', '/proxy/v1/messages'],
  ])('posts %s to %s%s', (baseUrl, origin, path) => {
    const req = adapter(baseUrl).buildChat(call()) as { origin: string; path: string };
    expect([req.origin, req.path]).toEqual([origin, path]);
  });

  it('sends the key and API version; policy headers may pin another version', () => {
    const plain = adapter('https://api.anthropic.com').buildChat(call()) as { headers: object };
    expect(plain.headers).toMatchObject({
      'x-api-key': 'sk-ant-key',
      'anthropic-version': '2023-06-01',
      'content-type': 'application/json',
    });
    expect(plain.headers).not.toHaveProperty('authorization');

    const pinned = adapter('https://api.anthropic.com', {
      'anthropic-version': '2024-01-01',
      'anthropic-beta': 'feature-x',
    }).buildChat(call()) as { headers: object };
    expect(pinned.headers).toMatchObject({
      'anthropic-version': '2024-01-01',
      'anthropic-beta': 'feature-x',
    });
  });

  it("lets a client's own credential replace the configured key", () => {
    const req = adapter('https://api.anthropic.com').buildChat(
      call({ passHeaders: [['authorization', 'Bearer user-token']] }),
    ) as { headers: Record<string, string> };
    expect(req.headers.authorization).toBe('Bearer user-token');
    expect(req.headers).not.toHaveProperty('x-api-key');
  });

  it('refuses a 200 body that is not a message', () => {
    const a = adapter('https://api.anthropic.com');
    expect(a.parseChat(Buffer.from('nope'))).toMatchObject({
      code: 'GW_ERR_UPSTREAM_BAD_RESPONSE',
    });
    expect(a.parseChat(Buffer.from('{"type":"completion"}'))).toMatchObject({
      code: 'GW_ERR_UPSTREAM_BAD_RESPONSE',
    });
    expect(
      a.parseChat(
        Buffer.from('{"type":"error","error":{"type":"overloaded_error","message":"x"}}'),
      ),
    ).toMatchObject({ code: 'GW_ERR_UPSTREAM_OVERLOADED' });
  });

  it('stamps created from the injected clock', () => {
    const a = adapter('https://api.anthropic.com');
    const body = {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'm',
      content: [{ type: 'text', text: 'x' }],
      stop_reason: 'end_turn',
      usage: { input_tokens: 1, output_tokens: 1 },
    };
    const parsed = a.parseChat(Buffer.from(JSON.stringify(body))) as { bytes: Uint8Array };
    expect(JSON.parse(Buffer.from(parsed.bytes).toString()).created).toBe(1_700_000_000);
  });
});
