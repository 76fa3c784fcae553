import { describe, expect, it } from 'vitest';
import { classifyBedrockError } from '../../../sidecar/providers/bedrock/classify-error.js';

const CTX = { providerId: 'bedrock', secrets: ['SECRET-KEY-123456'] };

function classify(status: number, type: string | undefined, message: string, extra = {}) {
  const headers = type
    ? {
        'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
        ...extra,
      }
    : extra;
  return classifyBedrockError(status, headers, Buffer.from(JSON.stringify({ message })), CTX);
}

describe('Bedrock HTTP errors', () => {
  it.each([
    [400, 'ValidationException', 'messages.0: blank text', 'GW_ERR_UPSTREAM_BAD_REQUEST', 400],
    [
      400,
      'ValidationException',
      'Input is too long for requested model.',
      'GW_ERR_UPSTREAM_CONTEXT_LENGTH',
      400,
    ],
    [
      400,
      'ValidationException',
      'The model returned the following errors: too many tokens',
      'GW_ERR_UPSTREAM_CONTEXT_LENGTH',
      400,
    ],
    [
      404,
      'ResourceNotFoundException',
      'Could not resolve the foundation model',
      'GW_ERR_UPSTREAM_NOT_FOUND',
      404,
    ],
    [
      429,
      'ThrottlingException',
      'Too many requests, please wait before trying again.',
      'GW_ERR_UPSTREAM_RATE_LIMITED',
      429,
    ],
    [429, 'ModelNotReadyException', 'Model is not ready', 'GW_ERR_UPSTREAM_OVERLOADED', 503],
    [
      503,
      'ServiceUnavailableException',
      'Bedrock is unable to process your request.',
      'GW_ERR_UPSTREAM_OVERLOADED',
      503,
    ],
    [408, 'ModelTimeoutException', 'Model has timed out', 'GW_ERR_UPSTREAM_TIMEOUT', 504],
    [500, 'InternalServerException', 'Internal', 'GW_ERR_UPSTREAM_ERROR', 502],
    [424, 'ModelErrorException', 'The model failed', 'GW_ERR_UPSTREAM_ERROR', 502],
    [500, undefined, 'whatever', 'GW_ERR_UPSTREAM_ERROR', 502],
    [429, undefined, 'slow down', 'GW_ERR_UPSTREAM_RATE_LIMITED', 429],
  ])('%i %s "%s" -> %s %i', (status, type, message, code, clientStatus) => {
    const failure = classify(status, type, message);
    expect([failure.code, failure.status]).toEqual([code, clientStatus]);
    expect(failure.message).toBe(`Provider "bedrock": ${message}`);
    expect(failure.upstreamStatus).toBe(status);
  });

  it.each([
    [
      403,
      'AccessDeniedException',
      "You don't have access to the model with the specified model ID.",
    ],
    [403, 'UnrecognizedClientException', 'The security token included in the request is invalid.'],
    [
      403,
      'InvalidSignatureException',
      "The request signature we calculated does not match.\n\nThe Canonical String for this request should have been\n'POST\n/model/x/converse ... SECRET-KEY-123456'",
    ],
    [400, 'IncompleteSignatureException', 'Authorization header requires Credential'],
    [403, 'MissingAuthenticationTokenException', 'Missing Authentication Token'],
    [403, undefined, 'Forbidden'],
  ])(
    '%i %s is the sidecar credential failing: 502, and no upstream text',
    (status, type, message) => {
      const failure = classify(status, type, message);
      expect(failure).toMatchObject({ code: 'GW_ERR_UPSTREAM_AUTH', status: 502 });
      expect(failure.message).toBe('Provider "bedrock" rejected the credential configured for it.');
      expect(failure.detail).toBe(`http_${status}:${type ?? 'unknown'}`);
    },
  );

  it('passes Retry-After on for throttling and masks secrets quoted back', () => {
    const failure = classify(429, 'ThrottlingException', 'key SECRET-KEY-123456 throttled', {
      'retry-after': '3',
    });
    expect(failure.retryAfter).toBe('3');
    expect(failure.message).toBe('Provider "bedrock": key *** throttled');
  });

  it('reads an awsJson __type body when the header is missing', () => {
    const body = Buffer.from(
      JSON.stringify({ __type: 'com.amazon.coral#ThrottlingException', message: 'x' }),
    );
    expect(classifyBedrockError(400, {}, body, CTX).code).toBe('GW_ERR_UPSTREAM_RATE_LIMITED');
  });

  it('survives a body that is not JSON', () => {
    const failure = classifyBedrockError(502, {}, Buffer.from('<html>Bad Gateway</html>'), CTX);
    expect(failure).toMatchObject({ code: 'GW_ERR_UPSTREAM_ERROR', status: 502 });
    expect(failure.message).toBe('Provider "bedrock" answered HTTP 502.');
  });
});
