import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  SigV4Signer,
  amzDate,
  canonicalQuery,
  canonicalUri,
  uriEncode,
} from '../../../sidecar/providers/bedrock/sigv4.js';

// Vectors from AWS's published SigV4 test suite (aws-sig-v4-test-suite: the example key pair,
// 2015-08-30T12:36:00Z, us-east-1, service "service", host example.amazonaws.com). The
// signatures below are the suite's own `.authz` values, so a signer bug cannot hide here.
const SUITE = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const SUITE_TIME = Date.UTC(2015, 7, 30, 12, 36, 0);
const SUITE_TOKEN =
  'AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxf' +
  'pSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KP' +
  'kyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqB' +
  'Az+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==';
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const suiteSigner = (sessionToken?: string) =>
  new SigV4Signer({ ...SUITE, sessionToken }, { region: 'us-east-1', service: 'service' });

const base = { host: 'example.amazonaws.com', headers: {}, body: '' };

const authz = (signedHeaders: string, signature: string) =>
  'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ' +
  `SignedHeaders=${signedHeaders}, Signature=${signature}`;

describe('SigV4 against the AWS test suite', () => {
  it('get-vanilla: canonical request, string to sign and signature', () => {
    const signed = suiteSigner().sign({ ...base, method: 'GET', path: '/' }, SUITE_TIME);
    expect(signed.canonicalRequest).toBe(
      `GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n${EMPTY_SHA256}`,
    );
    expect(signed.stringToSign).toBe(
      'AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n' +
        'bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63',
    );
    expect(signed.headers).toEqual({
      'x-amz-date': '20150830T123600Z',
      authorization: authz(
        'host;x-amz-date',
        '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
      ),
    });
  });

  it('post-vanilla', () => {
    const signed = suiteSigner().sign({ ...base, method: 'POST', path: '/' }, SUITE_TIME);
    expect(
      signed.stringToSign.endsWith(
        '553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87',
      ),
    ).toBe(true);
    expect(signed.headers.authorization).toBe(
      authz('host;x-amz-date', '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b'),
    );
  });

  it('post-x-www-form-urlencoded: a body and a signed content-type', () => {
    const signed = suiteSigner().sign(
      {
        ...base,
        method: 'POST',
        path: '/',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'Param1=value1',
      },
      SUITE_TIME,
    );
    expect(signed.canonicalRequest).toBe(
      'POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\n' +
        'x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n' +
        '9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e',
    );
    expect(signed.headers.authorization).toBe(
      authz(
        'content-type;host;x-amz-date',
        'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a',
      ),
    );
  });

  it('post-sts-header-before: the session token is sent and signed', () => {
    const signed = suiteSigner(SUITE_TOKEN).sign(
      { ...base, method: 'POST', path: '/' },
      SUITE_TIME,
    );
    expect(
      signed.stringToSign.endsWith(
        'c237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6',
      ),
    ).toBe(true);
    expect(signed.headers['x-amz-security-token']).toBe(SUITE_TOKEN);
    expect(signed.headers.authorization).toBe(
      authz(
        'host;x-amz-date;x-amz-security-token',
        '85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead',
      ),
    );
  });

  it('get-vanilla-query-order-key-case: query pairs sorted', () => {
    const signed = suiteSigner().sign(
      { ...base, method: 'GET', path: '/', query: 'Param2=value2&Param1=value1' },
      SUITE_TIME,
    );
    expect(signed.headers.authorization).toBe(
      authz('host;x-amz-date', 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500'),
    );
  });

  it('get-space: a space in the path is encoded as %20', () => {
    const signed = suiteSigner().sign(
      { ...base, method: 'GET', path: '/example space/' },
      SUITE_TIME,
    );
    expect(signed.headers.authorization).toBe(
      authz('host;x-amz-date', '652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741'),
    );
  });
});

describe('SigV4 pieces, derived from the spec by hand', () => {
  it('formats the request time in ISO 8601 basic form', () => {
    expect(amzDate(SUITE_TIME)).toBe('20150830T123600Z');
    expect(amzDate(Date.UTC(2024, 0, 2, 3, 4, 5, 999))).toBe('20240102T030405Z');
  });

  it('encodes everything but the unreserved characters, in upper-case hex', () => {
    expect(uriEncode("AZaz09-._~ !'()*:/@=ሴ")).toBe(
      'AZaz09-._~%20%21%27%28%29%2A%3A%2F%40%3D%E1%88%B4',
    );
  });

  it('encodes a Bedrock path twice: a model id sent as %3A is signed as %253A', () => {
    // Sent: /model/anthropic.claude-3-haiku-20240307-v1%3A0/converse (':' encoded once).
    expect(canonicalUri('/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse')).toBe(
      '/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse',
    );
    // An inference-profile ARN: ':' and '/' inside the one path segment.
    const arn = encodeURIComponent(
      'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-x',
    );
    expect(canonicalUri(`/model/${arn}/converse-stream`)).toBe(
      '/model/arn%253Aaws%253Abedrock%253Aus-east-1%253A123456789012%253Ainference-profile' +
        '%252Fus.anthropic.claude-x/converse-stream',
    );
  });

  it('sorts query pairs by name, then by value', () => {
    expect(canonicalQuery('b=2&a=2&a=1&c')).toBe('a=1&a=2&b=2&c=');
    expect(canonicalQuery('')).toBe('');
  });

  it('trims and collapses header values, and signs a Bedrock request end to end', () => {
    // Worked by hand from the spec's four steps for a Converse call; the signature is the
    // HMAC chain applied to the string to sign shown here.
    const body = '{"messages":[]}';
    const signer = new SigV4Signer(
      { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SUITE.secretAccessKey },
      { region: 'eu-west-3', service: 'bedrock' },
    );
    const signed = signer.sign(
      {
        method: 'POST',
        host: 'bedrock-runtime.eu-west-3.amazonaws.com',
        path: '/model/mistral.mistral-large-2402-v1%3A0/converse',
        headers: { 'content-type': '  application/json  ' },
        body,
      },
      SUITE_TIME,
    );
    const bodyHash = createHash('sha256').update(body).digest('hex');
    expect(signed.canonicalRequest).toBe(
      [
        'POST',
        '/model/mistral.mistral-large-2402-v1%253A0/converse',
        '',
        'content-type:application/json',
        'host:bedrock-runtime.eu-west-3.amazonaws.com',
        'x-amz-date:20150830T123600Z',
        '',
        'content-type;host;x-amz-date',
        bodyHash,
      ].join('\n'),
    );
    const crHash = createHash('sha256').update(signed.canonicalRequest).digest('hex');
    expect(signed.stringToSign).toBe(
      `AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/eu-west-3/bedrock/aws4_request\n${crHash}`,
    );
    expect(signed.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20150830\/eu-west-3\/bedrock\/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=[0-9a-f]{64}$/,
    );
  });

  it('derives the signing key of the AWS documentation example', () => {
    // IAM User Guide example: 20150830 / us-east-1 / iam, string to sign hashing to f5369...
    const signer = new SigV4Signer(SUITE, { region: 'us-east-1', service: 'iam' });
    const signed = signer.sign(
      {
        method: 'GET',
        host: 'iam.amazonaws.com',
        path: '/',
        query: 'Action=ListUsers&Version=2010-05-08',
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body: '',
      },
      SUITE_TIME,
    );
    expect(signed.stringToSign.split('\n')[3]).toBe(
      'f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59',
    );
    expect(signed.headers.authorization).toContain(
      'Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
    );
  });
});
