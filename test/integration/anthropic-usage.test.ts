import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect } from 'vitest';
import {
  anthropicMessage,
  anthropicStream,
  type AnthropicUsageInit,
} from '../support/mock-anthropic.js';
import { PRICED, startHarness, type Harness } from '../providers/anthropic/harness.js';
import { itConforms } from '../support/conformance.js';

// G30 and G31: Anthropic's input_tokens excludes cache reads and writes. The client sees
// OpenAI usage (prompt_tokens including the cache), and the log line's cost prices every
// token once, the same streamed and not.

describe('Anthropic usage and cost (G30, G31)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.stop());
  afterEach(() => expect(h.mock.pending()).toBe(0));

  /** One request with the given usage, streamed or not; the usage and log line it produced. */
  async function run(model: string, usage: AnthropicUsageInit, stream: boolean) {
    const requestId = randomUUID();
    const headers = { 'x-request-id': requestId };
    const blocks = [{ type: 'text', text: ['Cached', ' answer'] }] as const;
    const body = { model, messages: [{ role: 'user', content: 'hi' }] };
    let clientUsage: unknown;

    if (stream) {
      // Input counts come in message_start, output in the final message_delta.
      h.mock.script({ sse: anthropicStream({ model, blocks, usage }) });
      const res = await h.stream({ ...body, stream_options: { include_usage: true } }, headers);
      const last = res.chunks.at(-1);
      expect(last.choices).toEqual([]);
      clientUsage = last.usage;
    } else {
      h.mock.script({ status: 200, json: anthropicMessage({ model, blocks, usage }) });
      clientUsage = (await h.post(body, headers)).json.usage;
    }
    return { usage: clientUsage, log: await h.logOf(requestId) };
  }

  describe.each([false, true])('stream %s', (stream) => {
    itConforms('G30: cache writes are prompt tokens priced at the write rate: 54399', async () => {
      const { usage, log } = await run(
        PRICED.g30,
        {
          input_tokens: 3,
          cache_creation_input_tokens: 12304,
          cache_read_input_tokens: 0,
          output_tokens: 550,
        },
        stream,
      );
      expect(usage).toEqual({
        prompt_tokens: 12307,
        completion_tokens: 550,
        total_tokens: 12857,
        prompt_tokens_details: { cached_tokens: 0 },
      });
      // 3 x $3/M + 12304 x $3.75/M + 550 x $15/M = $0.054399
      expect(log.cost_micro_usd).toBe(54399);
      expect(log).toMatchObject({ prompt_tokens: 12307, cache_write_tokens: 12304 });
    });

    itConforms('G30: a 1-hour cache write is priced at 2x input: 82083', async () => {
      const { usage, log } = await run(
        PRICED.g30,
        {
          input_tokens: 3,
          cache_creation_input_tokens: 12304,
          cache_read_input_tokens: 0,
          cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 12304 },
          output_tokens: 550,
        },
        stream,
      );
      expect(usage).toMatchObject({ prompt_tokens: 12307, total_tokens: 12857 });
      // 3 x $3/M + 12304 x $6/M + 550 x $15/M
      expect(log.cost_micro_usd).toBe(82083);
    });

    itConforms('G31: cache reads are cached_tokens priced at the read rate: 292', async () => {
      const { usage, log } = await run(
        PRICED.g31,
        {
          input_tokens: 4,
          cache_read_input_tokens: 2455,
          cache_creation_input_tokens: 0,
          output_tokens: 23,
        },
        stream,
      );
      expect(usage).toEqual({
        prompt_tokens: 2459,
        completion_tokens: 23,
        total_tokens: 2482,
        prompt_tokens_details: { cached_tokens: 2455 },
      });
      // 4 x $0.80/M + 2455 x $0.08/M + 23 x $4/M = $0.0002916
      expect(log.cost_micro_usd).toBe(292);
      expect(log).toMatchObject({
        prompt_tokens: 2459,
        cached_tokens: 2455,
        completion_tokens: 23,
      });
    });
  });

  itConforms('G31: cumulative counts in message_delta replace those of message_start', async () => {
    const requestId = randomUUID();
    h.mock.script({
      sse: anthropicStream({
        model: PRICED.g31,
        blocks: [{ type: 'text', text: 'ok' }],
        usage: { input_tokens: 4, cache_read_input_tokens: 0, output_tokens: 1 },
        deltaUsage: { input_tokens: 4, cache_read_input_tokens: 2455, output_tokens: 23 },
      }),
    });
    await h.stream(
      { model: PRICED.g31, messages: [{ role: 'user', content: 'hi' }] },
      {
        'x-request-id': requestId,
      },
    );
    expect((await h.logOf(requestId)).cost_micro_usd).toBe(292);
  });
});
