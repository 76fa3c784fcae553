import { createHash, createHmac } from 'node:crypto';

// AWS Signature Version 4 over a request's headers, in the Authorization header. Source: IAM
// User Guide, "Create a signed AWS API request"; checked against the published SigV4 test
// suite in test/providers/bedrock/sigv4.test.ts, and by an independent verifier in the mock.

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** STS temporary credentials carry one; it is sent and signed as x-amz-security-token. */
  readonly sessionToken?: string;
}

export interface SignableRequest {
  readonly method: string;
  /** The Host header as sent (with the port when it is not the scheme's default). */
  readonly host: string;
  /** The path exactly as sent: already percent-encoded once. */
  readonly path: string;
  /** The query string as sent, without '?'. */
  readonly query?: string;
  /** Further headers to sign; lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer | string;
}

export interface SigningScope {
  readonly region: string;
  readonly service: string;
}

export interface Signature {
  /** The headers to add: x-amz-date, authorization, and x-amz-security-token with a token. */
  readonly headers: Record<string, string>;
  readonly canonicalRequest: string;
  readonly stringToSign: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';

export class SigV4Signer {
  // The derived key changes once a day; four HMACs saved per request.
  private keyDay = '';
  private key: Buffer = Buffer.alloc(0);

  constructor(
    private readonly credentials: AwsCredentials,
    private readonly scope: SigningScope,
  ) {}

  sign(req: SignableRequest, nowMs: number): Signature {
    const date = amzDate(nowMs);
    const day = date.slice(0, 8);
    const added: Record<string, string> = { 'x-amz-date': date };
    if (this.credentials.sessionToken) {
      added['x-amz-security-token'] = this.credentials.sessionToken;
    }

    const lowered: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) lowered[name.toLowerCase()] = value;
    Object.assign(lowered, { host: req.host }, added);
    const names = Object.keys(lowered).sort();
    const signedHeaders = names.join(';');
    const canonicalRequest = [
      req.method.toUpperCase(),
      canonicalUri(req.path),
      canonicalQuery(req.query ?? ''),
      names.map((name) => `${name}:${canonicalValue(lowered[name])}\n`).join(''),
      signedHeaders,
      sha256Hex(req.body),
    ].join('\n');

    const credentialScope = `${day}/${this.scope.region}/${this.scope.service}/aws4_request`;
    const stringToSign = [ALGORITHM, date, credentialScope, sha256Hex(canonicalRequest)].join('\n');
    const signature = createHmac('sha256', this.signingKey(day)).update(stringToSign).digest('hex');

    added.authorization =
      `${ALGORITHM} Credential=${this.credentials.accessKeyId}/${credentialScope}, ` +
      `SignedHeaders=${signedHeaders}, Signature=${signature}`;
    return { headers: added, canonicalRequest, stringToSign };
  }

  private signingKey(day: string): Buffer {
    if (day !== this.keyDay) {
      const kDate = hmac(`AWS4${this.credentials.secretAccessKey}`, day);
      const kRegion = hmac(kDate, this.scope.region);
      const kService = hmac(kRegion, this.scope.service);
      this.key = hmac(kService, 'aws4_request');
      this.keyDay = day;
    }
    return this.key;
  }
}

/** ISO 8601 basic format in UTC, e.g. 20150830T123600Z. */
export function amzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/**
 * Every service but S3 wants each path segment encoded twice. The path we send is encoded
 * once (a model id's ':' went out as %3A), so encoding it again here gives %253A.
 */
export function canonicalUri(path: string): string {
  if (path === '') return '/';
  return path.split('/').map(uriEncode).join('/');
}

/** Pairs decoded, re-encoded strictly, sorted by name then value. */
export function canonicalQuery(query: string): string {
  if (query === '') return '';
  return query
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq === -1 ? pair : pair.slice(0, eq);
      const value = eq === -1 ? '' : pair.slice(eq + 1);
      return [uriEncode(decode(name)), uriEncode(decode(value))] as const;
    })
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

/** RFC 3986 encoding of every byte but the unreserved A-Z a-z 0-9 - . _ ~ (uppercase hex). */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Trimmed, with inner runs of spaces collapsed to one. */
function canonicalValue(value: string): string {
  return value.trim().replace(/\s+/g, ' ');
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
