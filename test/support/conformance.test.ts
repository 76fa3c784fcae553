import { describe, expect, it } from 'vitest';
import {
  checkLedger,
  conformanceTitle,
  itConforms,
  recordConformance,
  type Ledger,
} from './conformance.js';
import { chatCompletion } from './mock-openai.js';
import { specAvailable, specSuite, SPEC_MISSING_REASON } from './openapi.js';

// The helper that turns conformance checks into tests of their own: these run whether or not
// the spec is there, except the last block, which needs it to validate anything.

const chunk = {
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'gpt-4o',
  choices: [{ index: 0, delta: { content: 'x' }, logprobs: null, finish_reason: null }],
};

const ledger = (over: Partial<Ledger>): Ledger => ({
  title: 'a test',
  recorded: [],
  finished: true,
  ...over,
});

describe('itConforms and recordConformance', () => {
  it('refuses to record outside an itConforms test, where nothing would check', () => {
    expect(() => recordConformance('CreateChatCompletionStreamResponse', chunk)).toThrow(
      /outside a test declared with itConforms/,
    );
  });

  it('fails the check of a test that did not run to its end, with or without records', () => {
    for (const recorded of [[], [{ schemaName: 'ErrorResponse' as const, value: {} }]]) {
      expect(() => checkLedger(ledger({ finished: false, recorded }))).toThrow(
        /"a test" did not run to its end/,
      );
    }
  });

  it('fails the check of a test that recorded nothing', () => {
    expect(() => checkLedger(ledger({}))).toThrow(/"a test" recorded nothing to check/);
  });

  it('names the missing spec and MODELGATE_OPENAPI_SPEC in the title of a skipped check', () => {
    const title = conformanceTitle('answers');
    if (specAvailable) {
      expect(title).toBe('answers | conforms to the OpenAI schema');
    } else {
      expect(title).toBe(
        `answers | conforms to the OpenAI schema [skipped: ${SPEC_MISSING_REASON}]`,
      );
      expect(SPEC_MISSING_REASON).toMatch(/^no OpenAI OpenAPI spec at \/.*MODELGATE_OPENAPI_SPEC/);
    }
  });

  describe('declares each check right after its test', () => {
    itConforms('records a copy, so a later change to the value is not what is checked', () => {
      const value = structuredClone(chunk);
      recordConformance('CreateChatCompletionStreamResponse', value);
      (value as Record<string, unknown>).object = 42;
    });
    itConforms.each([
      ['a', 1],
      ['b', 2],
    ])('case %s with %i', (letter, n) => {
      expect(typeof letter).toBe('string');
      expect(typeof n).toBe('number');
      recordConformance('CreateChatCompletionStreamResponse', { ...chunk, id: `c-${n}` });
    });
    itConforms.each([{ feature: 'tools' }])('$feature', ({ feature }) => {
      expect(feature).toBe('tools');
      recordConformance('CreateChatCompletionStreamResponse', chunk);
    });

    it('in the order test, check, test, check', ({ task }) => {
      const names = task.suite!.tasks.map((t) => t.name);
      expect(names.slice(0, -1)).toEqual(
        [
          'records a copy, so a later change to the value is not what is checked',
          'case a with 1',
          'case b with 2',
          "'tools'",
        ].flatMap((title) => [title, conformanceTitle(title)]),
      );
      const checks = task.suite!.tasks.filter((t) => t.name.includes('| conforms'));
      expect(checks.map((t) => t.mode)).toEqual(checks.map(() => (specAvailable ? 'run' : 'skip')));
    });
  });
});

describe.skipIf(!specAvailable)(specSuite('conformance checks against the spec'), () => {
  it('passes conforming values and fails one with a wrong field type, naming it', () => {
    const good = ledger({
      recorded: [
        { schemaName: 'CreateChatCompletionStreamResponse', value: chunk },
        { schemaName: 'CreateChatCompletionResponse', value: chatCompletion({ model: 'm' }) },
      ],
    });
    expect(() => checkLedger(good)).not.toThrow();

    const bad = ledger({
      recorded: [
        { schemaName: 'CreateChatCompletionStreamResponse', value: chunk },
        { schemaName: 'CreateChatCompletionStreamResponse', value: { ...chunk, created: '1' } },
      ],
    });
    expect(() => checkLedger(bad)).toThrow(
      /"a test" produced values that do not conform to the OpenAI schema:\nvalue 2 of 2, as CreateChatCompletionStreamResponse:\n {2}\/created must be integer/,
    );
  });
});
