import { describe, expect, it } from 'vitest';
import type { StreamItem } from '../../../sidecar/providers/adapter.js';
import { OpenAIStreamDecoder } from '../../../sidecar/providers/openai/stream-decoder.js';
import { chatStream } from '../../support/mock-openai.js';

const ctx = { providerId: 'p', secrets: [] };

/** What the relay would forward for each item, as text. */
function forwarded(items: StreamItem[]): string[] {
  return items.map((item) => {
    if (item.kind === 'frames') return `frames:${Buffer.from(item.frames).toString()}`;
    if (item.kind !== 'chunk') return item.kind;
    return `${item.shape}:${item.data}`;
  });
}

/**
 * The bytes a committed relay would send for these items (noise dropped, usage kept), with
 * the shapes of the items up to the first text: how reads are grouped into items may differ,
 * what the client receives and where the stream commits may not.
 */
function relayed(items: StreamItem[]): { bytes: string; beforeText: string[] } {
  let bytes = '';
  const beforeText: string[] = [];
  let sawText = false;
  for (const item of items) {
    if (!sawText) beforeText.push(item.kind === 'chunk' ? item.shape : item.kind);
    if (item.kind === 'frames' || (item.kind === 'chunk' && item.shape === 'content'))
      sawText = true;
    if (item.kind === 'frames') bytes += Buffer.from(item.frames).toString();
    else if (item.kind === 'chunk' && item.shape !== 'noise') bytes += `data: ${item.data}\n\n`;
    else if (item.kind === 'done') bytes += 'data: [DONE]\n\n';
    else if (item.kind === 'error') bytes += `error:${item.failure.code}\n\n`;
  }
  return { bytes, beforeText };
}

function decodeItems(reads: Buffer[], maxEventBytes?: number): StreamItem[] {
  const decoder = new OpenAIStreamDecoder(ctx, maxEventBytes);
  const items = reads.flatMap((r) => decoder.push(r));
  return [...items, ...decoder.end().items];
}

function decode(reads: Buffer[]) {
  return relayed(decodeItems(reads));
}

describe('the OpenAI stream decoder', () => {
  const stream = Buffer.from(
    chatStream({
      model: 'm',
      pieces: ['Hel', 'lo', ' "quoted" ', 'caf\u00e9', ''],
      includeUsage: true,
      toolCalls: [{ id: 'call_1', name: 'f', arguments: ['{"a":', '1}'] }],
      finishReason: 'tool_calls',
    }).join(''),
  );

  it('forwards the same frames, with the same shapes, whether a read is whole or split anywhere', () => {
    const whole = decode([stream]);
    // Every event but the role chunk reaches the client as the upstream wrote it.
    expect(whole.bytes).toBe(stream.toString());
    expect(whole.beforeText).toEqual(['lifecycle', 'content']);
    for (let cut = 1; cut < stream.length; cut += 3) {
      expect(decode([stream.subarray(0, cut), stream.subarray(cut)])).toEqual(whole);
    }
  });

  it('gives the same items when comments, event lines and CRLF sit between plain events', () => {
    const plain = stream.toString();
    const odd = plain.replace('\n\ndata: ', '\n\n: keep-alive\n\nevent: message\ndata: ');
    expect(decode([Buffer.from(odd)])).toEqual(decode([stream]));
    expect(decode([Buffer.from(plain.replace(/\n/g, '\r\n'))])).toEqual(decode([stream]));
  });

  it('ends a stream whose [DONE] has stray whitespace as a whole one, with the exact frame', () => {
    const plain = stream.toString();
    for (const done of ['data: [DONE] \n\n', 'data:  [DONE]\t\n\n']) {
      const odd = plain.replace('data: [DONE]\n\n', done);
      expect(odd).not.toBe(plain);
      expect(decode([Buffer.from(odd)])).toEqual(decode([stream]));
    }
    expect(decode([Buffer.from(plain.replace('data: [DONE]', 'data: [DONE]x'))]).bytes).toMatch(
      /error:GW_ERR_UPSTREAM_BAD_RESPONSE\n\n$/,
    );
  });

  it('reads finishes, usage and errors the full way, never as plain text', () => {
    const decoder = new OpenAIStreamDecoder(ctx);
    const items = decoder.push(
      Buffer.from(
        'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}]}\n\n' +
          'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"y"},"finish_reason":null}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}\n\n' +
          'data: {"error":{"message":"boom","type":"server_error","code":"server_error"}}\n\n',
      ),
    );
    expect(items[0]).toMatchObject({ kind: 'chunk', shape: 'content', finished: [0] });
    expect(items[1]).toMatchObject({ kind: 'chunk', usage: { totalTokens: 3 } });
    expect(items[2]).toMatchObject({ kind: 'error' });
  });

  it('reads an error given as text, or beside choices, as an error; a null one as none', () => {
    const decoder = new OpenAIStreamDecoder(ctx);
    const items = decoder.push(
      Buffer.from(
        'data: {"id":"c","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}],"error":null}\n\n' +
          'data: {"error":"upstream overloaded, try later"}\n\n',
      ),
    );
    expect(items[0]).toMatchObject({ kind: 'chunk', shape: 'content' });
    expect(items[1]).toMatchObject({
      kind: 'error',
      failure: { message: 'Provider "p" failed mid-stream: upstream overloaded, try later' },
    });
    const beside = new OpenAIStreamDecoder(ctx).push(
      Buffer.from(
        'data: {"id":"c","error":{"code":429,"message":"slow down"},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}\n\n',
      ),
    );
    expect(beside[0]).toMatchObject({
      kind: 'error',
      failure: { code: 'GW_ERR_UPSTREAM_RATE_LIMITED', status: 429, detail: 'stream:429' },
    });
  });

  it("keeps the provider's message of an `event: error` whose data has no error member", () => {
    const items = new OpenAIStreamDecoder(ctx).push(
      Buffer.from('event: error\ndata: {"type":"overloaded_error","message":"Overloaded"}\n\n'),
    );
    expect(items[0]).toMatchObject({
      kind: 'error',
      failure: {
        code: 'GW_ERR_UPSTREAM_OVERLOADED',
        message: 'Provider "p" failed mid-stream: Overloaded',
        detail: 'stream:overloaded_error',
      },
    });
  });

  describe('runs of ordinary chunks after the first token', () => {
    const head =
      '{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":';
    const event = (delta: string, finish = 'null', tail = ',"usage":null,"obfuscation":"abc"') =>
      `data: ${head}${delta},"logprobs":null,"finish_reason":${finish}}]${tail}}\n\n`;
    const role = event('{"role":"assistant","content":""}');
    const text = (t: string, obfuscation = 'x') =>
      event(
        `{"content":${JSON.stringify(t)}}`,
        'null',
        `,"usage":null,"obfuscation":"${obfuscation}"`,
      );

    it('forward a run as one item, exactly as it came, whatever the text and padding', () => {
      const tokens = ['Hel', 'lo', ' "q" \\ ', 'caf\u00e9 \u2603', '\n', '","finish_reason":"stop'];
      const body = tokens.map((t, i) => text(t, 'p'.repeat(i))).join('');
      const items = decodeItems([Buffer.from(role + body)]);
      expect(forwarded(items)).toEqual([
        `lifecycle:${role.slice(6, -2)}`,
        `content:${text(tokens[0]).slice(6, -2)}`.replace('"obfuscation":"x"', '"obfuscation":""'),
        `frames:${tokens
          .slice(1)
          .map((t, i) => text(t, 'p'.repeat(i + 1)))
          .join('')}`,
      ]);
      expect(items[2].kind === 'frames' && typeof items[2].frames).toBe('string');
      // Text that spells a finish inside a string is text: nothing finished.
      expect(items.some((i) => i.kind === 'chunk' && i.finished !== undefined)).toBe(false);
    });

    it('are learned from the first chunk with text, not from a reasoning chunk with empty content', () => {
      const thinking = (t: string) =>
        event(`{"role":"assistant","content":"","reasoning":${JSON.stringify(t)}}`);
      const body = [0, 1, 2].map((i) => thinking(`step ${i}`)).join('');
      const answer = ['A', 'n', 's', 'w', 'e', 'r'].map((t) => text(t)).join('');
      const items = decodeItems([Buffer.from(role + body + answer)]);
      // Every reasoning chunk is read in full (each bears content: the reasoning), the first
      // text chunk teaches the template, and the other five go out as one run.
      expect(items.map((i) => (i.kind === 'chunk' ? i.shape : i.kind))).toEqual([
        'lifecycle',
        'content',
        'content',
        'content',
        'content',
        'frames',
      ]);
    });

    it('stop at a finish, a usage chunk, an error or [DONE], and read those in full', () => {
      const finish = event('{}', '"stop"');
      const usage = `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}\n\n`;
      const items = decodeItems([
        Buffer.from(
          role +
            text('a') +
            text('b') +
            text('c') +
            finish +
            text('late') +
            usage +
            'data: [DONE]\n\n',
        ),
      ]);
      expect(items.map((i) => (i.kind === 'chunk' ? i.shape : i.kind))).toEqual([
        'lifecycle',
        'content',
        'frames',
        'lifecycle',
        'frames',
        'usage',
        'done',
      ]);
      expect(items[3]).toMatchObject({ finished: [0] });
      expect(items[5]).toMatchObject({ usage: { totalTokens: 5 } });
      // ASCII runs go on as the bytes they were read from; others as text (previous test).
      expect(items[2].kind === 'frames' && items[2].frames instanceof Uint8Array).toBe(true);
      const error = decodeItems([
        Buffer.from(
          text('a') + text('b') + 'data: {"error":{"message":"x","type":"server_error"}}\n\n',
        ),
      ]);
      expect(error.map((i) => i.kind)).toEqual(['chunk', 'frames', 'error']);
    });

    it('read a chunk that differs from the template anywhere else in full', () => {
      const tool = event('{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}');
      const finishing = text('b').replace('"finish_reason":null', '"finish_reason":"length"');
      const spaced = text('c').replace(
        '"usage":null',
        '"usage": {"prompt_tokens":1,"completion_tokens":1}',
      );
      const items = decodeItems([Buffer.from(text('a') + tool + finishing + spaced + text('d'))]);
      expect(forwarded(items).map((f) => f.split(':')[0])).toEqual([
        'content',
        'content',
        'content',
        'content',
        'frames',
      ]);
      expect(items[2]).toMatchObject({ finished: [0] });
      expect(items[3]).toMatchObject({ usage: { totalTokens: 2 } });
    });

    it('learn no template when the text is not where the probe says', () => {
      // The first "content" after choices is a message's, not the delta's.
      const odd = (t: string) =>
        `data: {"id":"c","choices":[{"index":0,"message":{"content":"m"},"delta":{"content":"${t}"},"finish_reason":null}]}\n\n`;
      const items = decodeItems([Buffer.from(odd('a') + odd('b') + odd('c'))]);
      expect(items.every((i) => i.kind === 'chunk')).toBe(true);
    });

    it('leave an event over the size limit to the parser, which refuses it', () => {
      const decoder = new OpenAIStreamDecoder(ctx, 280);
      expect(decoder.push(Buffer.from(text('a') + text('b'))).map((i) => i.kind)).toEqual([
        'chunk',
        'frames',
      ]);
      expect(decoder.push(Buffer.from(text('y'.repeat(300))))).toMatchObject([
        { kind: 'error', failure: { detail: 'event_too_large' } },
      ]);
    });
  });
});
