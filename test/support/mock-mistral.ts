import { randomBytes } from 'node:crypto';
import {
  playStep,
  recordRequest,
  startMockServer,
  type JsonStep,
  type RecordedRequest,
  type ScriptStep,
  type StepStyle,
} from './mock-server.js';

// A stand-in for Mistral's chat completions (api.mistral.ai/v1), which speak OpenAI's protocol
// with two differences that matter to a gateway:
//
// - The request is validated with extra fields forbidden: a field Mistral does not take is a
//   422 whose detail names it (`extra_forbidden`). `stream_options.include_usage`, which
//   OpenAI clients send, is one of them (the 422 body below is the one quoted in reports
//   from 2025 by users of the OpenAI Agents SDK, avante.nvim and llxprt).
// - A stream reports usage unasked: the last chunk carries the last text, the finish reason
//   and `usage` together, then `data: [DONE]` (Mistral release note of 2024-01-16, "token
//   usage in streaming requests", and recorded streams).
//
// The fields taken are those of Mistral's API reference for chat completions; where it is
// unclear whether Mistral takes a field, the mock refuses it (stricter, never looser).

const TAKES = new Set([
  'model',
  'messages',
  'temperature',
  'top_p',
  'max_tokens',
  'stream',
  'stop',
  'random_seed',
  'response_format',
  'tools',
  'tool_choice',
  'presence_penalty',
  'frequency_penalty',
  'n',
  'prediction',
  'parallel_tool_calls',
  'prompt_mode',
  'safe_prompt',
]);

export interface MockMistral {
  /** Base URL ending in /v1. */
  url: string;
  requests: RecordedRequest[];
  script(...steps: ScriptStep[]): void;
  pending(): number;
  close(): Promise<void>;
}

export interface MistralUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

function hexId(): string {
  return randomBytes(16).toString('hex');
}

/** Mistral's 422 for fields it does not take, one detail per field. */
export function extraForbidden(fields: { loc: (string | number)[]; input: unknown }[]): JsonStep {
  const detail = fields.map(({ loc, input }) => ({
    type: 'extra_forbidden',
    loc: ['body', ...loc],
    msg: 'Extra inputs are not permitted',
    input,
  }));
  return {
    status: 422,
    json: {
      object: 'error',
      message: { detail },
      type: 'invalid_request_error',
      param: null,
      code: null,
    },
  };
}

/** A Mistral stream: role chunk, one chunk per piece, the last with finish and usage. */
export function mistralStream(init: {
  model: string;
  pieces: readonly string[];
  usage: MistralUsage;
  finishReason?: string;
}): string[] {
  const id = hexId();
  const created = Math.floor(Date.now() / 1000);
  const chunk = (delta: object, finish: string | null, usage?: MistralUsage) => {
    const body: Record<string, unknown> = {
      id,
      object: 'chat.completion.chunk',
      created,
      model: init.model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    };
    if (usage) {
      body.usage = {
        prompt_tokens: usage.prompt_tokens,
        total_tokens: usage.prompt_tokens + usage.completion_tokens,
        completion_tokens: usage.completion_tokens,
      };
    }
    return `data: ${JSON.stringify(body)}\n\n`;
  };

  const out = [chunk({ role: 'assistant', content: '' }, null)];
  init.pieces.forEach((piece, i) => {
    const last = i === init.pieces.length - 1;
    out.push(
      last
        ? chunk({ content: piece }, init.finishReason ?? 'stop', init.usage)
        : chunk({ content: piece }, null),
    );
  });
  out.push('data: [DONE]\n\n');
  return out;
}

/** The fields of a chat request Mistral would refuse, as its 422 names them. */
function refusedFields(body: Record<string, unknown>) {
  const refused: { loc: (string | number)[]; input: unknown }[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (key === 'stream_options' && typeof value === 'object' && value !== null) {
      // Reported with the location of the key inside the object, not of stream_options.
      for (const [inner, input] of Object.entries(value)) {
        refused.push({ loc: ['stream_options', inner], input });
      }
    } else if (!TAKES.has(key)) {
      refused.push({ loc: [key], input: value });
    }
  }
  return refused;
}

export async function startMockMistral(
  opts: { content?: string; usage?: MistralUsage } = {},
): Promise<MockMistral> {
  const content = opts.content ?? 'Bonjour from Mistral.';
  const usage = opts.usage ?? { prompt_tokens: 11, completion_tokens: 4 };

  const defaultAnswer = (req: RecordedRequest): ScriptStep => {
    const body = req.json as Record<string, unknown>;
    const model = String(body.model);
    if (body.stream === true) {
      return { sse: mistralStream({ model, pieces: content.match(/\s*\S+/g) ?? [], usage }) };
    }
    return {
      status: 200,
      json: {
        id: hexId(),
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content, tool_calls: null },
            finish_reason: 'stop',
          },
        ],
        usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
      },
    };
  };

  const server = await startMockServer<RecordedRequest, ScriptStep>({
    record: recordRequest,
    answer: (record, res, ctx) => {
      const style: StepStyle = {
        idHeaders: () => ({ 'mistral-correlation-id': hexId() }),
        jsonType: 'application/json',
        sseHeaders: { 'content-type': 'text/event-stream; charset=utf-8' },
        defaultAnswer: () => defaultAnswer(record),
      };
      const body = record.json;
      const chat = record.method === 'POST' && record.path === '/v1/chat/completions';
      if (!chat || typeof body !== 'object' || body === null || Array.isArray(body)) {
        return playStep({ status: 404, json: { detail: 'Not Found' } }, record, res, ctx, style);
      }
      const refused = refusedFields(body as Record<string, unknown>);
      const step =
        refused.length > 0 ? extraForbidden(refused) : (ctx.next() ?? defaultAnswer(record));
      return playStep(step, record, res, ctx, style);
    },
  });

  return {
    url: `${server.origin}/v1`,
    requests: server.requests,
    script: server.script,
    pending: server.pending,
    close: server.close,
  };
}
