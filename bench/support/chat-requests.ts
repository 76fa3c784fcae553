// The requests the latency scenario sends, and the check that every target answers them
// properly before any load: a fast error page must not pass for a fast proxy.

import type { Mode } from './latency-report.js';

const MESSAGES = [
  { role: 'system', content: 'You are a terse assistant. Answer in one line.' },
  { role: 'user', content: 'Name three prime numbers larger than one hundred.' },
];

export function requestBody(mode: Mode): string {
  const base = { model: 'bench/gpt-4o-mini', messages: MESSAGES, max_tokens: 64, temperature: 0 };
  // The stream asks for usage itself, so sidecar and passthrough relay identical streams
  // (the sidecar always asks upstream for usage and drops it when the client did not).
  return JSON.stringify(
    mode === 'stream' ? { ...base, stream: true, stream_options: { include_usage: true } } : base,
  );
}

/** One request per target and mode; throws on the first answer that is not right. */
export async function checkAnswers(
  urls: Record<string, string>,
  chunks: number,
  modes: readonly Mode[] = ['non-stream', 'stream'],
): Promise<void> {
  for (const [target, url] of Object.entries(urls)) {
    for (const mode of modes) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: requestBody(mode),
      });
      const text = await res.text();
      const problem = answerProblem(res.status, text, mode, chunks);
      if (problem !== undefined) {
        throw new Error(`${target} ${mode}: ${problem}\n${text.slice(0, 400)}`);
      }
    }
  }
}

function answerProblem(status: number, text: string, mode: Mode, chunks: number) {
  if (status !== 200) return `status ${status}`;
  if (mode === 'non-stream') {
    const body = JSON.parse(text) as { usage?: { completion_tokens?: number } };
    return body.usage?.completion_tokens === chunks ? undefined : 'no usage in the answer';
  }
  const contents = text.split('\n\n').filter((f) => f.includes('"delta":{"content":"')).length;
  if (contents !== chunks) return `${contents} content chunks, expected ${chunks}`;
  if (!text.includes('"usage":{"prompt_tokens"')) return 'no usage chunk';
  return text.endsWith('data: [DONE]\n\n') ? undefined : 'no [DONE] at the end';
}
