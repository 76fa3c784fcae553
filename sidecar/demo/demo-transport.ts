// The demo provider: an OpenAI-protocol "server" inside the process, so a newcomer gets a
// working sidecar with no network and no keys. Every answer says it came from the demo.

import { randomUUID } from 'node:crypto';
import type { Transport, UpstreamRequest, UpstreamResponse } from '../providers/adapter.js';

export const DEMO_BASE_URL = 'http://demo.modelgate.invalid/v1';
/** Listed by /v1/models; any other demo/ name works the same way. */
export const DEMO_MODELS = ['demo/echo'] as const;

interface DemoRequest {
  model?: string;
  stream?: boolean;
  n?: number;
  stream_options?: { include_usage?: boolean };
  messages?: { role?: string; content?: unknown }[];
  tools?: { function?: { name?: string } }[];
}

const utf8 = new TextEncoder();

export class DemoTransport implements Transport {
  async request(req: UpstreamRequest): Promise<UpstreamResponse> {
    const body = JSON.parse(req.body.toString()) as DemoRequest;
    const model = body.model ?? 'demo/echo';
    const reply = demoReply(body);
    const id = `chatcmpl-demo-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const usage = {
      prompt_tokens: countTokens(JSON.stringify(body.messages ?? [])),
      completion_tokens: countTokens(reply.text),
      total_tokens: 0,
    };
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    const n = body.n ?? 1;

    if (!body.stream) {
      const choices = Array.from({ length: n }, (_, index) => ({
        index,
        message: { role: 'assistant', content: reply.text, refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      }));
      const completion = {
        id,
        object: 'chat.completion',
        created,
        model,
        choices,
        usage,
        system_fingerprint: 'modelgate-demo',
      };
      return respond('application/json', [utf8.encode(JSON.stringify(completion))]);
    }

    const chunk = (choices: unknown[], extra: object = {}): Uint8Array =>
      utf8.encode(
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'modelgate-demo', choices, ...extra })}\n\n`,
      );
    const frames: Uint8Array[] = [];
    for (let index = 0; index < n; index++) {
      frames.push(
        chunk([{ index, delta: { role: 'assistant', content: '' }, finish_reason: null }]),
      );
      for (const piece of reply.text.match(/\S+\s*/g) ?? []) {
        frames.push(chunk([{ index, delta: { content: piece }, finish_reason: null }]));
      }
      frames.push(chunk([{ index, delta: {}, finish_reason: 'stop' }]));
    }
    if (body.stream_options?.include_usage) frames.push(chunk([], { usage }));
    frames.push(utf8.encode('data: [DONE]\n\n'));
    return respond('text/event-stream', frames);
  }

  async close(): Promise<void> {}
}

function demoReply(body: DemoRequest): { text: string } {
  const last = [...(body.messages ?? [])].reverse().find((m) => m.role === 'user');
  const said = typeof last?.content === 'string' ? last.content : '(non-text content)';
  return { text: `[modelgate demo provider] You said: ${said}` };
}

/** A rough count (4 characters a token) so that demo usage is plausible, not exact. */
function countTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function respond(contentType: string, frames: Uint8Array[]): UpstreamResponse {
  return {
    status: 200,
    headers: { 'content-type': contentType },
    body: (async function* () {
      yield* frames;
    })(),
    discard: () => {},
  };
}
