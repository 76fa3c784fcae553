import { describe, expect, it } from 'vitest';
import { buildAnswers } from '../../bench/mocks/openai-mock.js';

/** The data of every event of a stream, parsed; `[DONE]` left out. */
function chunksOf(stream: Buffer): Record<string, unknown>[] {
  const events = stream.toString('utf8').split('\n\n').filter(Boolean);
  expect(events.at(-1)).toBe('data: [DONE]');
  return events.slice(0, -1).map((e) => JSON.parse(e.slice('data: '.length)));
}

describe('the bench mock stamps each answer', () => {
  it('with a new completion id in every chunk and the answer, and the current second', () => {
    const answers = buildAnswers(4);
    const first = chunksOf(answers.stamp(answers.streamWithUsage));
    const firstJson = JSON.parse(answers.stamp(answers.json).toString());
    const second = chunksOf(answers.stamp(answers.streamWithUsage));
    const secondJson = JSON.parse(answers.stamp(answers.json).toString());

    // Role, four tokens, finish, usage: all one completion.
    expect(first).toHaveLength(7);
    expect(new Set(first.map((c) => c.id)).size).toBe(1);
    expect(new Set(second.map((c) => c.id)).size).toBe(1);
    expect(second[0].id).not.toBe(first[0].id);
    expect(secondJson.id).not.toBe(firstJson.id);
    expect(second[0].id).toMatch(/^chatcmpl-mockbench\d{19}$/);

    const now = Math.floor(Date.now() / 1000);
    for (const chunk of [...second, secondJson]) {
      expect(Math.abs((chunk.created as number) - now)).toBeLessThanOrEqual(2);
    }
    // Only the id and the second change: the text is the same.
    expect(second.map((c) => JSON.stringify({ ...c, id: 0, created: 0 }))).toEqual(
      first.map((c) => JSON.stringify({ ...c, id: 0, created: 0 })),
    );
    // Each answer is stamped on its own, with the next id.
    expect(chunksOf(answers.stream)[0].id).toBe('chatcmpl-mockbench' + '0'.repeat(19));
    expect(chunksOf(answers.stamp(answers.stream))[0].id).toMatch(/^chatcmpl-mockbench0+5$/);
  });
});
