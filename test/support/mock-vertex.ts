import { create } from '@bufbuild/protobuf';
import { generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicySchema, Protocol, type Policy } from '../../proto/gen/modelgate/v1/policy_pb.js';
import type { HttpKind } from '../../sidecar/sidecar.js';
import {
  googleError,
  startMockGemini,
  type JsonStep,
  type MockGemini,
  type RecordedRequest,
  type ScriptStep,
} from './mock-gemini.js';
import { startTestSidecar, type TestSidecar } from './sidecar.js';

// A stand-in for Vertex AI: Google's OAuth token endpoint (it verifies the service account's
// RS256 assertion with the account's public key and checks iss, aud, scope and lifetime, as
// oauth2.googleapis.com does), and the Vertex model routes, which accept only bearer tokens
// it issued and has not revoked or seen expire. Gemini routes are the strict Gemini mock;
// the Anthropic routes (rawPredict, streamRawPredict) check Vertex's Anthropic body rules.

export interface ServiceAccountFile {
  /** Path of the JSON key file, in a fresh temp folder. */
  path: string;
  clientEmail: string;
  publicKey: KeyObject;
  privateKeyId: string;
}

/** A throwaway RSA key pair and the key file a service account would download. */
export function makeServiceAccount(tokenUri: string): ServiceAccountFile {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const clientEmail = 'modelgate-test@test-project.iam.gserviceaccount.com';
  const privateKeyId = 'f3a1c2d4e5b60718293a4b5c6d7e8f9012345678';
  const path = join(mkdtempSync(join(tmpdir(), 'mg-vertex-')), 'key.json');
  writeFileSync(
    path,
    JSON.stringify({
      type: 'service_account',
      project_id: 'test-project',
      private_key_id: privateKeyId,
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
      client_email: clientEmail,
      client_id: '100000000000000000001',
      auth_uri: 'https://accounts.google.com/o/oauth2/auth',
      token_uri: tokenUri,
    }),
  );
  return { path, clientEmail, publicKey, privateKeyId };
}

export interface TokenRequest {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  /** The token issued, or undefined when the request was refused. */
  issued?: string;
}

export interface MockVertexOptions {
  project: string;
  location: string;
  strict?: boolean;
  /** The token lifetime announced (expires_in), in seconds. */
  tokenLifetimeS?: number;
  /** Hold token answers this long (to let concurrent requests pile up). */
  tokenDelayMs?: number;
}

export interface MockVertex {
  origin: string;
  tokenUri: string;
  /** Model calls only (token exchanges are in tokenRequests). */
  readonly requests: RecordedRequest[];
  tokenRequests: TokenRequest[];
  /** Makes Vertex refuse a token from now on, as after a revocation. */
  revoke(token: string): void;
  /** Trusts assertions signed by this account from now on. */
  trust(account: ServiceAccountFile): void;
  script(...steps: ScriptStep[]): void;
  pending(): number;
  close(): Promise<void>;
}

const GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const CLOCK_SKEW_S = 300;
const MODEL_ROUTE =
  /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/(google|anthropic)\/models\/([^/:]+):(\w+)$/;
const ROUTES: Record<string, readonly string[]> = {
  google: ['generateContent', 'streamGenerateContent'],
  anthropic: ['rawPredict', 'streamRawPredict'],
};

export async function startMockVertex(opts: MockVertexOptions): Promise<MockVertex> {
  const tokenRequests: TokenRequest[] = [];
  const valid = new Map<string, number>();
  let account: ServiceAccountFile | undefined;
  let tokenUri = '';
  let issued = 0;

  const tokenEndpoint = (req: RecordedRequest): ScriptStep => {
    const refuse = (error: string, description: string): JsonStep => ({
      status: 400,
      json: { error, error_description: description },
    });
    const form = new URLSearchParams(req.body.toString());
    if (form.get('grant_type') !== GRANT_TYPE) {
      return refuse('unsupported_grant_type', `Invalid grant_type: ${form.get('grant_type')}`);
    }
    const [h, c, s] = (form.get('assertion') ?? '').split('.');
    const record: TokenRequest = { header: decode(h), claims: decode(c) };
    tokenRequests.push(record);
    const ok =
      account !== undefined &&
      record.header.alg === 'RS256' &&
      s !== undefined &&
      verify(
        'RSA-SHA256',
        Buffer.from(`${h}.${c}`),
        account.publicKey,
        Buffer.from(s, 'base64url'),
      );
    if (!ok) return refuse('invalid_grant', 'Invalid JWT Signature.');

    const { iss, aud, scope } = record.claims;
    const iat = Number(record.claims.iat);
    const exp = Number(record.claims.exp);
    const now = Math.floor(Date.now() / 1000);
    if (iss !== account!.clientEmail) return refuse('invalid_grant', 'Invalid JWT: iss.');
    if (aud !== tokenUri) return refuse('invalid_grant', 'Invalid JWT: aud.');
    if (typeof scope !== 'string' || !scope.split(' ').includes(SCOPE)) {
      return refuse('invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
    }
    if (!(exp - iat <= 3600 && exp > iat && Math.abs(iat - now) <= CLOCK_SKEW_S)) {
      return refuse(
        'invalid_grant',
        'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable ' +
          'timeframe. Check your iat and exp values in the JWT claim.',
      );
    }

    const lifetime = opts.tokenLifetimeS ?? 3599;
    const token = `ya29.mock-${++issued}-${Math.random().toString(36).slice(2)}`;
    valid.set(token, Date.now() + lifetime * 1000);
    record.issued = token;
    return {
      status: 200,
      delayBeforeHeadersMs: opts.tokenDelayMs,
      json: { access_token: token, expires_in: lifetime, token_type: 'Bearer' },
    };
  };

  const gate = (req: RecordedRequest): ScriptStep | undefined => {
    if (req.path === '/token' && req.method === 'POST') return tokenEndpoint(req);
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const expires = bearer === undefined ? undefined : valid.get(bearer);
    if (expires === undefined || expires < Date.now()) {
      return {
        status: 401,
        json: googleError(
          401,
          'UNAUTHENTICATED',
          'Request had invalid authentication credentials. Expected OAuth 2 access token, ' +
            'login cookie or other valid authentication credential. See ' +
            'https://developers.google.com/identity/sign-in/web/devconsole-project.',
        ),
      };
    }
    const route = MODEL_ROUTE.exec(req.path);
    if (route === null || !ROUTES[route[3]].includes(route[5])) {
      return { status: 404, json: googleError(404, 'NOT_FOUND', `Method not found: ${req.path}`) };
    }
    if (route[1] !== opts.project || route[2] !== opts.location) {
      return {
        status: 404,
        json: googleError(
          404,
          'NOT_FOUND',
          `Publisher Model \`projects/${route[1]}/locations/${route[2]}/publishers/` +
            `${route[3]}/models/${route[4]}\` not found.`,
        ),
      };
    }
    if (route[3] === 'anthropic' && opts.strict) return anthropicRefusal(req);
    return undefined;
  };

  const gemini: MockGemini = await startMockGemini({
    strict: opts.strict,
    gate,
    defaultFor: anthropicDefault,
  });
  tokenUri = `${gemini.origin}/token`;

  return {
    origin: gemini.origin,
    tokenUri,
    get requests() {
      return gemini.requests.filter((r) => r.path !== '/token');
    },
    tokenRequests,
    revoke: (token) => void valid.delete(token),
    trust: (a) => void (account = a),
    script: gemini.script,
    pending: gemini.pending,
    close: gemini.close,
  };
}

function decode(part: string | undefined): Record<string, unknown> {
  try {
    return JSON.parse(Buffer.from(part ?? '', 'base64url').toString()) as Record<string, unknown>;
  } catch {
    return {};
  }
}

// ---------------------------------------------------------------------------------------------
// Anthropic on Vertex

/** One Anthropic SSE event, as Anthropic (and Vertex's streamRawPredict) frame it. */
export function anthropicEvent(type: string, data: object = {}): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

export function anthropicError(status: number, type: string, message: string): JsonStep {
  return { status, json: { type: 'error', error: { type, message } } };
}

/** Vertex's rules for Anthropic bodies, with Anthropic's error shape. */
function anthropicRefusal(req: RecordedRequest): ScriptStep | undefined {
  const body = req.json as Record<string, unknown> | undefined;
  const bad = (message: string) => anthropicError(400, 'invalid_request_error', message);
  if (typeof body !== 'object' || body === null) return bad('Invalid JSON body.');
  if (body.anthropic_version !== 'vertex-2023-10-16') {
    return bad('anthropic_version: Input should be vertex-2023-10-16');
  }
  if ('model' in body) return bad('model: Extra inputs are not permitted');
  if (typeof body.max_tokens !== 'number') return bad('max_tokens: Field required');
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    return bad('messages: Field required');
  }
  const streaming = req.path.endsWith(':streamRawPredict');
  if ((body.stream === true) !== streaming) {
    return bad(`stream must be ${streaming} on :${streaming ? 'streamRawPredict' : 'rawPredict'}`);
  }
  return undefined;
}

function anthropicDefault(req: RecordedRequest): ScriptStep | undefined {
  const route = MODEL_ROUTE.exec(req.path);
  if (route === null || route[3] !== 'anthropic') return undefined;
  const model = route[4];
  const message = {
    id: 'msg_vrtx_01MockMockMock',
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text: 'Hello from Claude on Vertex.' }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 9, output_tokens: 6 },
  };
  if (route[5] === 'rawPredict') return { status: 200, json: message };
  const event = anthropicEvent;
  return {
    sse: [
      event('message_start', {
        message: {
          ...message,
          content: [],
          stop_reason: null,
          usage: { input_tokens: 9, output_tokens: 1 },
        },
      }),
      event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
      event('ping', {}),
      event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hello from' } }),
      event('content_block_delta', {
        index: 0,
        delta: { type: 'text_delta', text: ' Claude on Vertex.' },
      }),
      event('content_block_stop', { index: 0 }),
      event('message_delta', {
        delta: { stop_reason: 'end_turn', stop_sequence: null },
        usage: { output_tokens: 6 },
      }),
      event('message_stop', {}),
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// A sidecar for it

export interface VertexPolicyOptions {
  project?: string;
  location?: string;
  /** Name of the env var holding the key file path (default GOOGLE_APPLICATION_CREDENTIALS). */
  credentialsEnv?: string;
}

/** One Vertex provider "vtx" at `origin`, every model name routed to it, one priced model. */
export function vertexPolicy(origin: string, opts: VertexPolicyOptions = {}): Policy {
  return create(PolicySchema, {
    listen: { host: '127.0.0.1', port: 0 },
    routing: { breakerFailures: 1_000_000, breakerCooldownMs: 1 },
    providers: [
      {
        id: 'vtx',
        protocol: Protocol.VERTEX,
        baseUrl: origin,
        project: opts.project ?? 'test-project',
        region: opts.location ?? 'us-central1',
        credentialsEnv: opts.credentialsEnv ?? '',
      },
    ],
    models: [
      {
        name: 'gemini-2.5-pro',
        provider: 'vtx',
        target: 'gemini-2.5-pro',
        price: { inputPerMtok: 1.25, outputPerMtok: 10 },
      },
      { name: '*', provider: 'vtx', target: '*' },
    ],
  });
}

/**
 * The real sidecar in this process, as test/support/sidecar.ts starts it, with extra
 * environment (the key file's path) that Vertex needs.
 */
export async function startVertexSidecar(
  policy: Policy,
  env: Record<string, string>,
  http: HttpKind = 'auto',
): Promise<TestSidecar> {
  return startTestSidecar(policy, http, env);
}
