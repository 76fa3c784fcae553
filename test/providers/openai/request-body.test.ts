import { describe, expect, it } from 'vitest';
import { parseChatRequest } from '../../../sidecar/api/chat-request.js';
import { upstreamBody } from '../../../sidecar/providers/openai/request-body.js';

const encode = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

function edit(raw: Buffer, target: string, includeUsage = false) {
  const out = upstreamBody(raw, JSON.parse(raw.toString()), { target, includeUsage });
  return { out, json: JSON.parse(out.toString()) as Record<string, unknown> };
}

describe('upstreamBody', () => {
  it('returns the very same bytes when nothing needs to change', () => {
    const raw = encode({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    expect(
      upstreamBody(raw, JSON.parse(raw.toString()), { target: 'gpt-4o', includeUsage: false }),
    ).toBe(raw);
  });

  it('patches only the model value in the original bytes', () => {
    const raw = Buffer.from(
      '{ "model" :  "fast",\n "messages":[{"role":"user","content":"x"}], "temperature": 0.25 }',
    );
    const { out } = edit(raw, 'gpt-4o-mini-2024-07-18');
    expect(out.toString()).toBe(
      '{ "model" :  "gpt-4o-mini-2024-07-18",\n "messages":[{"role":"user","content":"x"}], "temperature": 0.25 }',
    );
  });

  it('does not touch a "model" text inside message content', () => {
    const raw = encode({
      messages: [{ role: 'user', content: 'the "model": "fast" string is just text' }],
      model: 'fast',
    });
    const { json } = edit(raw, 'slow');
    expect(json.model).toBe('slow');
    expect((json.messages as { content: string }[])[0].content).toBe(
      'the "model": "fast" string is just text',
    );
  });

  it('falls back to re-serializing when a nested object has the same model key and value', () => {
    const raw = encode({ model: 'fast', metadata: { model: 'fast' }, messages: [] });
    const { json } = edit(raw, 'slow');
    expect(json).toEqual({ model: 'slow', metadata: { model: 'fast' }, messages: [] });
  });

  it.each([
    ['another model first', '{"model":"pricey","model":"fast","messages":[]}', 'slow'],
    ['the routed name twice', '{"model":"fast","model":"fast","messages":[]}', 'slow'],
    ['the target itself, after another', '{"model":"pricey","model":"slow","messages":[]}', 'slow'],
    ['an escaped key after', '{"model":"pricey","mod\\u0065l":"slow","messages":[]}', 'slow'],
    ['an escaped key before', '{"mod\\u0065l":"pricey","model":"fast","messages":[]}', 'slow'],
    ['one escaped key', '{"\\u006dodel":"fast","messages":[]}', 'slow'],
  ])('sends exactly one plain model key, the target, when the body has %s', (_, text, target) => {
    const raw = Buffer.from(text);
    const parsed = JSON.parse(text) as Record<string, unknown>;
    const out = upstreamBody(raw, parsed, { target, includeUsage: false }).toString();
    expect(out.split('"model"').length - 1).toBe(1);
    expect(out).not.toContain('\\u006');
    expect(JSON.parse(out).model).toBe(target);
  });

  it('patches in the bytes when a tool schema has a "model" property (big numbers kept)', () => {
    const text =
      '{"model":"fast","seed":12345678901234567891,"temperature":1.0,"messages":[],' +
      '"tools":[{"type":"function","function":{"name":"car","parameters":{"type":"object",' +
      '"properties":{"model":{"type":"string"}}}}}]}';
    const raw = Buffer.from(text);
    const out = upstreamBody(raw, JSON.parse(text), { target: 'slow', includeUsage: false });
    expect(out.toString()).toBe(text.replace('"model":"fast"', '"model":"slow"'));
    // The routed name unchanged: the very same bytes.
    const same = upstreamBody(raw, JSON.parse(text), { target: 'fast', includeUsage: false });
    expect(same).toBe(raw);
  });

  it('patches in the bytes when a message quotes \\"model', () => {
    const text =
      '{"model":"fast","messages":[{"role":"user","content":"say \\"model"}],"seed":1.50}';
    const raw = Buffer.from(text);
    const out = upstreamBody(raw, JSON.parse(text), { target: 'slow', includeUsage: false });
    expect(out.toString()).toBe(text.replace('"model":"fast"', '"model":"slow"'));
  });

  it('patches in the bytes when the model value is spelled with escapes (numbers kept)', () => {
    // PHP's json_encode escapes slashes by default; \u escapes and an escaped quote too.
    for (const spelled of ['m\\/ok', 'm\\u002fok', 'a\\"b']) {
      const text = `{"model":"${spelled}","messages":[],"n":9007199254740993,"x":2.50,"y":1e3}`;
      const raw = Buffer.from(text);
      const out = upstreamBody(raw, JSON.parse(text), { target: 'slow', includeUsage: false });
      expect(out.toString()).toBe(
        '{"model":"slow","messages":[],"n":9007199254740993,"x":2.50,"y":1e3}',
      );
    }
  });

  it('keeps the digits of a seed past 2^53 when the body must be reserialized', () => {
    // stream_options without include_usage: the body is reserialized to switch usage on.
    for (const seed of ['9007199254740993', '-9223372036854775808']) {
      const text = `{"model":"m","stream":true,"stream_options":{},"seed":${seed},"messages":[]}`;
      const out = upstreamBody(Buffer.from(text), JSON.parse(text), {
        target: 'slow',
        includeUsage: true,
      }).toString();
      expect(out).toContain(`"seed":${seed}`);
      expect(JSON.parse(out)).toMatchObject({
        model: 'slow',
        stream_options: { include_usage: true },
      });
    }
  });

  it('switches usage on for streams without stream_options, in the bytes', () => {
    const raw = encode({ model: 'm', stream: true, messages: [] });
    const { json } = edit(raw, 'm', true);
    expect(json.stream_options).toEqual({ include_usage: true });
    expect(json.stream).toBe(true);
  });

  it('keeps other stream_options when switching usage on', () => {
    const raw = encode({
      model: 'm',
      stream: true,
      stream_options: { include_obfuscation: false },
    });
    const { json } = edit(raw, 'n', true);
    expect(json).toMatchObject({
      model: 'n',
      stream_options: { include_obfuscation: false, include_usage: true },
    });
  });

  it('replaces an explicit null stream_options instead of adding a duplicate key', () => {
    const raw = encode({ model: 'm', stream: true, stream_options: null });
    const { out, json } = edit(raw, 'm', true);
    expect(json.stream_options).toEqual({ include_usage: true });
    expect(out.toString().match(/stream_options/g)).toHaveLength(1);
  });

  it('drops a client’s stream_options for a vendor that refuses the field, the rest kept', () => {
    const raw = Buffer.from(
      '{"model":"fast","stream":true,"stream_options":{"include_usage":true},' +
        '"seed":12345678901234567890,"messages":[]}',
    );
    const body = JSON.parse(raw.toString());
    const edit = { target: 'm', includeUsage: false, dropStreamOptions: true };
    const out = upstreamBody(raw, body, edit).toString();
    expect(out).toBe('{"seed":12345678901234567890,"model":"m","stream":true,"messages":[]}');
  });

  it('leaves a body without stream_options in its bytes for such a vendor', () => {
    const raw = encode({ model: 'm', stream: true, messages: [] });
    const edit = { target: 'm', includeUsage: false, dropStreamOptions: true };
    expect(upstreamBody(raw, JSON.parse(raw.toString()), edit)).toBe(raw);
  });

  it.each([
    [
      'spaced',
      '{ "temperature": 1 ,\n "model" : "fast", "messages":[{"role":"user","content":"hi"}]}',
    ],
    [
      'after a nested model',
      '{"metadata":{"model":"fast"},"model":"fast","messages":[{"role":"user","content":"hi"}]}',
    ],
    [
      'escaped twice',
      '{"model":"fast","mod\\u0065l":"fast","messages":[{"role":"user","content":"hi"}]}',
    ],
  ])('uses the key offset parseChatRequest found (%s) as its own scan would', (_, text) => {
    const raw = Buffer.from(text);
    const chat = parseChatRequest(raw);
    for (const includeUsage of [false, true]) {
      const handed = upstreamBody(raw, chat.body, {
        target: 'slow',
        includeUsage,
        modelKeyAt: chat.modelKeyAt,
      });
      const own = upstreamBody(raw, chat.body, { target: 'slow', includeUsage });
      expect(handed.toString()).toBe(own.toString());
      expect(JSON.parse(handed.toString()).model).toBe('slow');
    }
  });
});
