import { create } from '@bufbuild/protobuf';
import { describe, expect } from 'vitest';
import { PolicySchema, Protocol } from '../../proto/gen/modelgate/v1/policy_pb.js';
import { itConforms, recordConformance } from '../support/conformance.js';
import { openaiErrors, startMockOpenAI } from '../support/mock-openai.js';
import { startTestSidecar } from '../support/sidecar.js';

describe('a model configured without a chain (routing.auto_chain, on unless set false)', () => {
  itConforms(
    'gets a chain proposed from the catalog, logged at startup, and fails over along it',
    async () => {
      const [openai, mistral] = await Promise.all([startMockOpenAI(), startMockOpenAI()]);
      const policy = create(PolicySchema, {
        providers: [
          { id: 'openai', protocol: Protocol.OPENAI, baseUrl: openai.url },
          { id: 'mistral', protocol: Protocol.OPENAI, baseUrl: mistral.url },
        ],
        models: [{ name: 'gpt-4o-mini', provider: 'openai', target: 'gpt-4o-mini' }],
      });
      const sidecar = await startTestSidecar(policy);
      try {
        const proposal = sidecar.logs.find((l) => l.msg === 'proposed failover chain');
        expect(proposal).toMatchObject({
          model: 'gpt-4o-mini',
          chain: [
            'openai/gpt-4o-mini',
            'mistral/mistral-small-latest',
            'mistral/mistral-medium-latest',
          ],
        });

        openai.script(openaiErrors.overloaded());
        const res = await fetch(`${sidecar.url}/v1/chat/completions`, {
          method: 'POST',
          body: JSON.stringify({
            model: 'gpt-4o-mini',
            messages: [{ role: 'user', content: 'hi' }],
          }),
        });
        expect(res.status).toBe(200);
        recordConformance('CreateChatCompletionResponse', await res.json());
        expect(res.headers.get('x-modelgate-endpoint')).toBe('mistral/mistral-small-latest');
        expect(mistral.requests.at(-1)!.json).toMatchObject({ model: 'mistral-small-latest' });
      } finally {
        await sidecar.stop();
        await Promise.all([openai.close(), mistral.close()]);
      }
    },
  );

  itConforms('leaves single-endpoint routes alone when auto_chain is off', async () => {
    const [openai, mistral] = await Promise.all([startMockOpenAI(), startMockOpenAI()]);
    const policy = create(PolicySchema, {
      providers: [
        { id: 'openai', protocol: Protocol.OPENAI, baseUrl: openai.url },
        { id: 'mistral', protocol: Protocol.OPENAI, baseUrl: mistral.url },
      ],
      models: [{ name: 'gpt-4o-mini', provider: 'openai', target: 'gpt-4o-mini' }],
      routing: { autoChain: false },
    });
    const sidecar = await startTestSidecar(policy);
    try {
      openai.script(openaiErrors.overloaded());
      const res = await fetch(`${sidecar.url}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(res.status).toBe(503);
      const body = await res.json();
      recordConformance('ErrorResponse', body);
      expect(body.error.code).toBe('GW_ERR_UPSTREAM_OVERLOADED');
      expect(mistral.requests).toHaveLength(0);
    } finally {
      await sidecar.stop();
      await Promise.all([openai.close(), mistral.close()]);
    }
  });
});
