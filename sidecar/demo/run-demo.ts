// `modelgate demo`: a sidecar, an in-process demo provider and a mock HTTP provider, a few
// requests of each kind, and what came back. Runs offline.

import { PolicySchema, Protocol } from '../../proto/gen/modelgate/v1/policy_pb.js';
import { memoryLogger } from '../observe/logger.js';
import { startSidecar } from '../sidecar.js';
import { newMessage } from '../config/message.js';
import { startMockProvider } from './mock-provider.js';

interface Step {
  title: string;
  body: string;
}

export async function runDemo(print: (line: string) => void): Promise<number> {
  const mock = await startMockProvider();
  const logger = memoryLogger('info');
  const policy = newMessage(PolicySchema, {
    listen: { host: '127.0.0.1', port: 0 },
    providers: [
      { id: 'demo', protocol: Protocol.DEMO },
      { id: 'mock-openai', protocol: Protocol.OPENAI, baseUrl: mock.baseUrl },
    ],
    models: [
      { name: 'demo/*', provider: 'demo', target: '*' },
      { name: 'mock/*', provider: 'mock-openai', target: '*' },
    ],
  });
  const sidecar = await startSidecar({ policy, logger, port: 0 });
  print(`sidecar listening at ${sidecar.url} (http front: ${sidecar.httpKind})`);
  print(`mock OpenAI-protocol provider at ${mock.baseUrl}\n`);

  const chat = (model: string, extra: object = {}): string =>
    JSON.stringify({ model, messages: [{ role: 'user', content: 'Hello, gateway!' }], ...extra });
  const steps: Step[] = [
    { title: 'chat through the in-process demo provider', body: chat('demo/echo') },
    { title: 'chat through a mock HTTP provider', body: chat('mock/gpt-4o-mini') },
    {
      title: 'a streamed chat with usage',
      body: chat('mock/gpt-4o-mini', { stream: true, stream_options: { include_usage: true } }),
    },
    { title: 'an overloaded provider (503 upstream)', body: chat('mock/gpt-4o-overloaded') },
    { title: 'a model nobody configured', body: chat('nope/unknown') },
    { title: 'malformed JSON', body: '{"model": "demo/echo", "messages": [' },
  ];

  let failures = 0;
  for (const step of steps) {
    const res = await fetch(`${sidecar.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: step.body,
    });
    const text = await res.text();
    print(`== ${step.title}`);
    print(`   HTTP ${res.status}  served by: ${res.headers.get('x-modelgate-endpoint') ?? '-'}`);
    print(`   ${summarize(text)}\n`);
    if (res.status >= 500 && !step.title.includes('overloaded')) failures++;
  }

  print('== the sidecar log, one line per request');
  for (const line of logger.lines.filter((l) => l.msg === 'request')) {
    const { status, outcome, model, endpoint, latency_ms, total_tokens, error_code } = line;
    print(
      `   ${status} ${outcome} model=${model ?? '-'} endpoint=${endpoint ?? '-'} ` +
        `tokens=${total_tokens ?? '-'} ${error_code ?? ''} ${latency_ms}ms`,
    );
  }
  await sidecar.drain(1000);
  await mock.close();
  return failures === 0 ? 0 : 1;
}

function summarize(text: string): string {
  if (text.startsWith('data:')) {
    const frames = text.split('\n\n').filter((f) => f.startsWith('data:'));
    const content = frames
      .map((f) => f.slice(6))
      .filter((d) => d !== '[DONE]')
      .map((d) => JSON.parse(d) as { choices: { delta?: { content?: string } }[] })
      .map((c) => c.choices[0]?.delta?.content ?? '')
      .join('');
    return `${frames.length} SSE frames, text: ${JSON.stringify(content)}`;
  }
  const json = JSON.parse(text) as {
    error?: { code: string; message: string };
    choices?: { message: { content: string } }[];
    usage?: { total_tokens: number };
  };
  if (json.error) return `error ${json.error.code}: ${json.error.message}`;
  return `${JSON.stringify(json.choices?.[0]?.message.content)} (${json.usage?.total_tokens} tokens)`;
}
