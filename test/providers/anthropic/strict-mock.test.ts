import { describe, expect, it } from 'vitest';
import { bodyProblem, startMockAnthropic } from '../../support/mock-anthropic.js';

// The strict Anthropic mock is only useful if it refuses what Anthropic refuses: each rule
// the translation tests lean on is checked here against a body that breaks it.

const base = { model: 'claude-x', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] };
const toolTurn = (ids: string[]) => ({
  role: 'assistant',
  content: ids.map((id) => ({ type: 'tool_use', id, name: 'f', input: {} })),
});
const results = (ids: string[]) => ({
  role: 'user',
  content: ids.map((id) => ({ type: 'tool_result', tool_use_id: id, content: 'ok' })),
});
const problem = (body: object, issued: string[] = []) => bodyProblem(body, new Set(issued));

describe('the strict Anthropic mock refuses', () => {
  it('accepts a valid body', () => {
    expect(problem(base)).toBeUndefined();
  });

  it.each([
    ['a missing max_tokens', { model: 'm', messages: base.messages }, 'max_tokens: Field required'],
    ['an OpenAI field', { ...base, n: 1 }, 'n: Extra inputs are not permitted'],
    [
      'a system role in messages',
      { ...base, messages: [{ role: 'system', content: 'x' }, ...base.messages] },
      "messages.0.role: Input should be 'user' or 'assistant'",
    ],
    [
      'an empty stop sequence',
      { ...base, stop_sequences: ['', 'END'] },
      'stop_sequences: each stop sequence must be non-empty',
    ],
    [
      'a whitespace-only stop sequence (G15)',
      { ...base, stop_sequences: ['\n'] },
      'stop_sequences: each stop sequence must contain non-whitespace',
    ],
    [
      'a tool_choice of type function (G19)',
      { ...base, tool_choice: { type: 'function', name: 'f' } },
      "tool_choice: Input tag 'function'",
    ],
    [
      'a temperature above 1',
      { ...base, temperature: 1.5 },
      'temperature: Input should be less than or equal to 1',
    ],
    [
      'an empty text block',
      { ...base, messages: [{ role: 'user', content: [{ type: 'text', text: '' }] }] },
      'text content blocks must be non-empty',
    ],
    [
      'a budget not below max_tokens',
      { ...base, thinking: { type: 'enabled', budget_tokens: 2048 } },
      '`max_tokens` must be greater than `thinking.budget_tokens`',
    ],
  ])('%s', (_, body, message) => {
    expect(problem(body)).toContain(message);
  });

  it('G17: tool results split over two user turns', () => {
    const body = {
      ...base,
      messages: [base.messages[0], toolTurn(['a', 'b']), results(['a']), results(['b'])],
    };
    expect(problem(body)).toContain(
      'messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: b.',
    );
    const together = {
      ...base,
      messages: [base.messages[0], toolTurn(['a', 'b']), results(['a', 'b'])],
    };
    expect(problem(together)).toBeUndefined();
  });

  it('G17: a tool result that answers no tool_use of the turn before', () => {
    const body = { ...base, messages: [base.messages[0], toolTurn(['a']), results(['a', 'zzz'])] };
    expect(problem(body)).toContain('messages.2.content.1: unexpected `tool_use_id`');
  });

  it('G11: with thinking on, a tool loop whose assistant turn does not start with thinking', () => {
    const thinkingOn = {
      ...base,
      max_tokens: 3000,
      thinking: { type: 'enabled', budget_tokens: 1024 },
    };
    const bare = { ...thinkingOn, messages: [base.messages[0], toolTurn(['a']), results(['a'])] };
    expect(problem(bare)).toContain(
      'messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found `tool_use`',
    );

    const signed = (signature: string) => ({
      ...thinkingOn,
      messages: [
        base.messages[0],
        {
          role: 'assistant',
          content: [{ type: 'thinking', thinking: 't', signature }, ...toolTurn(['a']).content],
        },
        results(['a']),
      ],
    });
    expect(problem(signed('sig_ok'), ['sig_ok'])).toBeUndefined();
    expect(problem(signed('sig_forged'), ['sig_ok'])).toContain(
      'Invalid `signature` in `thinking` block',
    );
  });

  it('an image whose bytes do not match its media type', () => {
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB';
    const image = (media_type: string) => ({
      ...base,
      messages: [
        {
          role: 'user',
          content: [{ type: 'image', source: { type: 'base64', media_type, data: png } }],
        },
      ],
    });
    expect(problem(image('image/jpeg'))).toContain(
      'specified using the image/jpeg media type, but the image appears to be a image/png',
    );
    expect(problem(image('image/png'))).toBeUndefined();
  });

  it('accepts consecutive turns of one role (Anthropic merges them)', () => {
    const body = { ...base, messages: [base.messages[0], { role: 'user', content: 'again' }] };
    expect(problem(body)).toBeUndefined();
  });
});

describe('the strict Anthropic mock over HTTP', () => {
  it('answers 401 without or with a wrong key, 400 without a version', async () => {
    const mock = await startMockAnthropic({ apiKey: 'right' });
    const send = (headers: Record<string, string>) =>
      fetch(`${mock.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(base),
      }).then(async (r) => ({ status: r.status, json: await r.json() }));
    try {
      expect(await send({})).toMatchObject({
        status: 401,
        json: {
          type: 'error',
          error: { type: 'authentication_error', message: 'x-api-key header is required' },
        },
      });
      expect(await send({ 'x-api-key': 'wrong', 'anthropic-version': '2023-06-01' })).toMatchObject(
        {
          status: 401,
          json: { error: { type: 'authentication_error', message: 'invalid x-api-key' } },
        },
      );
      expect(await send({ 'x-api-key': 'right' })).toMatchObject({
        status: 400,
        json: {
          error: {
            type: 'invalid_request_error',
            message: 'anthropic-version: header is required',
          },
        },
      });
      expect(await send({ 'x-api-key': 'right', 'anthropic-version': '2023-06-01' })).toMatchObject(
        {
          status: 200,
          json: { type: 'message', content: [{ type: 'text', text: 'Hello from the mock.' }] },
        },
      );
    } finally {
      await mock.close();
    }
  });
});
