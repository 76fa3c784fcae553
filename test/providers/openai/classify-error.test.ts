// What a client reads when an OpenAI-protocol provider refuses a request: the provider's own
// message, whichever of the shapes in use it came in.

import { describe, expect, it } from 'vitest';
import {
  classifyOpenAIError,
  readErrorBody,
} from '../../../sidecar/providers/openai/classify-error.js';

const ctx = { providerId: 'up', secrets: ['sk-live-secret-1234'] };
const refuse = (status: number, json: unknown) =>
  classifyOpenAIError(status, {}, Buffer.from(JSON.stringify(json)), ctx);

/** Mistral's 422, as reports quote it, for the fields given. */
const mistral422 = (fields: { loc: (string | number)[]; input: unknown }[]) => ({
  object: 'error',
  message: {
    detail: fields.map(({ loc, input }) => ({
      type: 'extra_forbidden',
      loc: ['body', ...loc],
      msg: 'Extra inputs are not permitted',
      input,
    })),
  },
  type: 'invalid_request_error',
  param: null,
  code: null,
});

describe('an OpenAI-protocol refusal', () => {
  it("passes on OpenAI's own error object", () => {
    const failure = refuse(400, {
      error: {
        message: "Invalid value for 'n'.",
        type: 'invalid_request_error',
        param: 'n',
        code: 'invalid_value',
      },
    });
    expect(failure).toMatchObject({
      code: 'GW_ERR_UPSTREAM_BAD_REQUEST',
      status: 400,
      message: 'Provider "up": Invalid value for \'n\'.',
      param: 'n',
      detail: 'http_400:invalid_value',
    });
  });

  it("names the field Mistral's validation error names, and makes it the param", () => {
    const failure = refuse(422, mistral422([{ loc: ['logit_bias'], input: { '50256': -100 } }]));
    expect(failure).toMatchObject({
      code: 'GW_ERR_UPSTREAM_BAD_REQUEST',
      status: 400,
      message: 'Provider "up": logit_bias: Extra inputs are not permitted',
      param: 'logit_bias',
    });
  });

  it('quotes no input a validation entry echoes back, and at most five entries', () => {
    const prompt = 'my whole private prompt';
    const fields = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((key) => ({
      loc: [key],
      input: prompt,
    }));
    const failure = refuse(
      422,
      mistral422([{ loc: ['messages', 0, 'name'], input: prompt }, ...fields]),
    );
    expect(failure.message).toBe(
      'Provider "up": messages.0.name: Extra inputs are not permitted; ' +
        'a: Extra inputs are not permitted; b: Extra inputs are not permitted; ' +
        'c: Extra inputs are not permitted; d: Extra inputs are not permitted (and 3 more)',
    );
    expect(failure.message).not.toContain(prompt);
    expect(failure.param).toBe('messages.0.name');
  });

  it("reads FastAPI's bare detail, a list or a string, as a server built on it sends", () => {
    const list = refuse(422, {
      detail: [
        {
          loc: ['body', 'temperature'],
          msg: 'Input should be a valid number',
          type: 'float_parsing',
        },
      ],
    });
    expect(list).toMatchObject({
      message: 'Provider "up": temperature: Input should be a valid number',
      param: 'temperature',
    });
    expect(refuse(404, { detail: 'Not Found' })).toMatchObject({
      code: 'GW_ERR_UPSTREAM_NOT_FOUND',
      message: 'Provider "up": Not Found',
    });
  });

  it('masks a configured credential a validation message quotes', () => {
    const failure = refuse(422, {
      detail: [{ loc: ['header', 'authorization'], msg: 'bad token sk-live-secret-1234' }],
    });
    expect(failure.message).toBe('Provider "up": header.authorization: bad token ***');
  });

  it('reads top-level type and code beside a top-level message', () => {
    expect(
      readErrorBody(
        '{"message":"too long","type":"invalid_request_error","code":"context_length_exceeded"}',
      ),
    ).toEqual({
      message: 'too long',
      type: 'invalid_request_error',
      code: 'context_length_exceeded',
      param: undefined,
    });
    expect(refuse(400, { message: 'too long', code: 'context_length_exceeded' }).code).toBe(
      'GW_ERR_UPSTREAM_CONTEXT_LENGTH',
    );
  });

  it('falls back to the status when the body has no message it can read', () => {
    expect(refuse(422, { message: { detail: [{ nothing: 1 }] } }).message).toBe(
      'Provider "up" answered HTTP 422.',
    );
    expect(classifyOpenAIError(500, {}, Buffer.from('<html>oops</html>'), ctx).message).toBe(
      'Provider "up" answered HTTP 500.',
    );
    expect(refuse(400, [1, 2]).message).toBe('Provider "up" answered HTTP 400.');
  });
});
