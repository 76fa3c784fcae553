import { create } from '@bufbuild/protobuf';
import { expect } from 'vitest';
import { PolicySchema, Protocol, type Policy } from '../../../proto/gen/modelgate/v1/policy_pb.js';
import { startMockAnthropic, type MockAnthropic } from '../../support/mock-anthropic.js';
import { recordConformance } from '../../support/conformance.js';
import { chunksOf, postSse, type SseResponse } from '../../support/sse-client.js';
import {
  PROVIDER_SECRET,
  eventually,
  startTestSidecar,
  type TestSidecar,
} from '../../support/sidecar.js';

// A real sidecar in front of a strict Anthropic mock, and the few calls the Anthropic
// integration tests make through it.

/** Model names with the prices of G30 (Claude 3.7 Sonnet) and G31 (a Haiku-class list). */
export const PRICED = { g30: 'claude-sonnet-priced', g31: 'claude-haiku-priced' } as const;

/** One Anthropic provider at `url`; every model name routes to it, two with prices set. */
export function anthropicPolicy(url: string, headers: Record<string, string> = {}): Policy {
  return create(PolicySchema, {
    listen: { host: '127.0.0.1', port: 0 },
    // Circuit breakers effectively off, so that one scripted failure does not rest the
    // endpoint for the next test. A Retry-After still rests it for that long.
    routing: { breakerFailures: 1_000_000, breakerCooldownMs: 1 },
    providers: [
      {
        id: 'anthropic',
        protocol: Protocol.ANTHROPIC,
        baseUrl: url,
        apiKeyEnv: 'TEST_PROVIDER_KEY',
        headers,
      },
    ],
    models: [
      {
        name: PRICED.g30,
        provider: 'anthropic',
        target: 'claude-3-7-sonnet-20250219',
        // Cache writes 1.25x input (5 minutes) or 2x (1 hour), reads 0.1x.
        price: {
          inputPerMtok: 3,
          outputPerMtok: 15,
          cacheWritePerMtok: 3.75,
          cacheWrite1hPerMtok: 6,
          cacheReadPerMtok: 0.3,
        },
      },
      {
        name: PRICED.g31,
        provider: 'anthropic',
        target: 'claude-3-5-haiku-20241022',
        price: {
          inputPerMtok: 0.8,
          outputPerMtok: 4,
          cacheWritePerMtok: 1,
          cacheReadPerMtok: 0.08,
        },
      },
      { name: '*', provider: 'anthropic', target: '*' },
    ],
  });
}

/** Model `claude-chain`: a failover chain over one Anthropic provider per URL, in order. */
export function anthropicChainPolicy(urls: readonly string[]): Policy {
  // The chain is a primary and its fallbacks, tried in this order: no health reordering and
  // no exploring. (Plain objects, so this compiles whether or not the policy in this tree
  // has `ordered` and `explore_share` yet.)
  const routing = { breakerFailures: 1_000_000, breakerCooldownMs: 1, exploreShare: 0 };
  const chain = {
    name: 'claude-chain',
    ordered: true,
    chain: urls.map((_, i) => ({ provider: `anthropic-${i + 1}`, target: 'claude-x' })),
  };
  return create(PolicySchema, {
    listen: { host: '127.0.0.1', port: 0 },
    routing,
    providers: urls.map((baseUrl, i) => ({
      id: `anthropic-${i + 1}`,
      protocol: Protocol.ANTHROPIC,
      baseUrl,
      apiKeyEnv: 'TEST_PROVIDER_KEY',
    })),
    models: [{ name: 'claude-chain', class: 'claude-chain' }],
    classes: [chain],
  });
}

export interface JsonReply {
  status: number;
  headers: Headers;
  json: Record<string, any>;
}

export interface Harness {
  mock: MockAnthropic;
  sidecar: TestSidecar;
  /** The body the mock received last. */
  sent(): Record<string, any>;
  /**
   * A non-streamed chat. The answer, a completion or an error body, is recorded for the
   * conformance check of the running test, which must be declared with itConforms.
   */
  post(body: object, headers?: Record<string, string>): Promise<JsonReply>;
  /**
   * A streamed chat (`stream: true` added). Every chunk but error events, or the error body of
   * a refused stream, is recorded like post()'s answer.
   */
  stream(body: object, headers?: Record<string, string>): Promise<SseResponse & { chunks: any[] }>;
  /** The log line of the request sent with this x-request-id. */
  logOf(requestId: string): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export async function startHarness(headers: Record<string, string> = {}): Promise<Harness> {
  const mock = await startMockAnthropic({ apiKey: PROVIDER_SECRET });
  const sidecar = await startTestSidecar(anthropicPolicy(mock.url, headers));
  const url = `${sidecar.url}/v1/chat/completions`;

  return {
    mock,
    sidecar,
    sent: () => mock.requests.at(-1)!.json as Record<string, any>,
    async post(body, extra = {}) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...extra },
        body: JSON.stringify(body),
      });
      const json = (await res.json()) as Record<string, any>;
      recordConformance(
        res.status === 200 ? 'CreateChatCompletionResponse' : 'ErrorResponse',
        json,
      );
      expect(JSON.stringify(json)).not.toContain(PROVIDER_SECRET);
      return { status: res.status, headers: res.headers, json };
    },
    async stream(body, extra = {}) {
      const res = await postSse(url, { ...body, stream: true }, extra);
      const chunks = res.status === 200 ? (chunksOf(res) as any[]) : [];
      for (const chunk of chunks) {
        if (!('error' in chunk)) recordConformance('CreateChatCompletionStreamResponse', chunk);
      }
      if (res.status !== 200) recordConformance('ErrorResponse', JSON.parse(res.raw));
      expect(res.raw).not.toContain(PROVIDER_SECRET);
      return { ...res, chunks };
    },
    async logOf(requestId) {
      const find = () => sidecar.requestLogs().find((l) => l.request_id === requestId);
      await eventually(() => find() !== undefined);
      return find()!;
    },
    async stop() {
      await sidecar.stop();
      await mock.close();
    },
  };
}
