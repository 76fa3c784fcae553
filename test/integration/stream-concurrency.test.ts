import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { itConforms, recordConformance } from '../support/conformance.js';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai.js';
import {
  PROVIDER_SECRET,
  TEST_KEY,
  startTestSidecar,
  testPolicy,
  type TestSidecar,
} from '../support/sidecar.js';

// Many streams at once, each with its own text, none asking for usage: the sidecar drops
// each one's usage chunk, so what it writes is not one stretch of the provider's read and is
// assembled before the write (on the uWS front, in one buffer every reply shares). Every
// client must get its own text, whole, and nothing of another's.
describe.each(['uws', 'node'] as const)('concurrent streams through the %s front', (http) => {
  let mock: MockOpenAI;
  let sidecar: TestSidecar;
  let client: OpenAI;

  beforeAll(async () => {
    mock = await startMockOpenAI({
      expectApiKey: PROVIDER_SECRET,
      defaultContent: (req) => {
        const tag = String((req.json as { messages: { content: string }[] }).messages[0].content);
        return `${tag}:`.repeat(200);
      },
    });
    sidecar = await startTestSidecar(testPolicy({ upstream: mock.url, withKeys: true }), http);
    client = new OpenAI({ apiKey: TEST_KEY, baseURL: `${sidecar.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await sidecar.stop();
    await mock.close();
  });

  itConforms('gives 48 concurrent streams each its own text and no usage chunk', async () => {
    const one = async (tag: string): Promise<{ text: string; usage: boolean }> => {
      const stream = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: tag }],
        stream: true,
      });
      let text = '';
      let usage = false;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? '';
        if (chunk.usage) usage = true;
        recordConformance('CreateChatCompletionStreamResponse', chunk);
      }
      return { text, usage };
    };
    const tags = Array.from({ length: 48 }, (_, i) => `t${i}`);
    const results = await Promise.all(tags.map(one));
    results.forEach((result, i) => {
      expect(result).toEqual({ text: `${tags[i]}:`.repeat(200), usage: false });
    });
  });
});
