import { describe, expect, it } from 'vitest';
import type { StreamItem } from '../../../sidecar/providers/adapter.js';
import { OpenAIStreamDecoder } from '../../../sidecar/providers/openai/stream-decoder.js';
import { chatStream } from '../../support/mock-openai.js';

const ctx = { providerId: 'p', secrets: [] };

/** What the relay would forward for each item, as text. */
function forwarded(items: StreamItem[]): string[] {
  return items.map((item) => {
    if (item.kind !== 'chunk') return item.kind;
    return `${item.shape}:${item.data}`;
  });
}

function decode(reads: Buffer[]): string[] {
  const decoder = new OpenAIStreamDecoder(ctx);
  const items = reads.flatMap((r) => decoder.push(r));
  return forwarded([...items, ...decoder.end().items]);
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
    expect(whole.filter((f) => f.startsWith('content:')).length).toBeGreaterThan(3);
    expect(whole.at(-1)).toBe('done');
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
});
