import { AsyncLocalStorage } from 'node:async_hooks';
import { it, TestRunner, type TestFunction } from 'vitest';
import { conformanceErrors, specAvailable, SPEC_MISSING_REASON } from './openapi.js';

// Conformance checks as tests of their own. A test declared with `itConforms` runs its
// behaviour assertions as usual and calls `recordConformance` for each response or chunk the
// sidecar produced; right after it comes a second test, "<title> | conforms to the OpenAI
// schema", which validates everything recorded. When the spec file is absent that second test
// is skipped, with the reason in its title, while the behaviour test still runs and counts.
// The second test fails, rather than passes, when the first did not run to its end or
// recorded nothing, so a conformance check can only pass by validating something; and
// `recordConformance` throws outside an `itConforms` test, where nothing would check.
// The check runs the beforeEach/afterEach hooks of its describe blocks like any test, so an
// `itConforms` test belongs where those hooks are cheap, not where they start servers.

/** The schemas of OpenAI's document that sidecar output is checked against. */
export type SchemaName =
  | 'CreateChatCompletionResponse'
  | 'CreateChatCompletionStreamResponse'
  | 'ErrorResponse'
  | 'ListModelsResponse';

/** What one behaviour test recorded, for the conformance test that follows it. */
export interface Ledger {
  /** The behaviour test's title, as vitest reports it. */
  title: string;
  recorded: { schemaName: SchemaName; value: unknown }[];
  /** True once the behaviour test returned without throwing. */
  finished: boolean;
}

const running = new AsyncLocalStorage<Ledger>();

const CONFORMS = 'conforms to the OpenAI schema';

/** The title of the conformance test paired with the behaviour test `title`. */
export function conformanceTitle(title: string): string {
  return specAvailable
    ? `${title} | ${CONFORMS}`
    : `${title} | ${CONFORMS} [skipped: ${SPEC_MISSING_REASON}]`;
}

/**
 * Keeps a copy of `value` for the conformance test paired with the running test. Throws when
 * called outside a test declared with `itConforms`.
 */
export function recordConformance(schemaName: SchemaName, value: unknown): void {
  const ledger = running.getStore();
  if (!ledger) {
    throw new Error(
      `recordConformance('${schemaName}') outside a test declared with itConforms, where ` +
        'nothing would check the value: declare the test with itConforms',
    );
  }
  // A copy: the test may go on to change the object it got.
  ledger.recorded.push({ schemaName, value: structuredClone(value) });
}

/** `recordConformance` for each of `values`. */
export function recordEachConformance(schemaName: SchemaName, values: Iterable<unknown>): void {
  for (const value of values) recordConformance(schemaName, value);
}

/**
 * The conformance test's body: throws unless the behaviour test ran to its end, recorded at
 * least one value, and every value it recorded conforms.
 */
export function checkLedger(ledger: Ledger): void {
  if (!ledger.finished) {
    throw new Error(
      `"${ledger.title}" did not run to its end, so what the sidecar produced in it was not ` +
        'all recorded: nothing is checked (see that test for its failure)',
    );
  }
  if (ledger.recorded.length === 0) {
    throw new Error(
      `"${ledger.title}" recorded nothing to check against the OpenAI schema: call ` +
        'recordConformance in it, or declare it with it() if it has nothing to check',
    );
  }
  const failures: string[] = [];
  ledger.recorded.forEach(({ schemaName, value }, i) => {
    const errors = conformanceErrors(schemaName, value);
    if (errors.length === 0) return;
    failures.push(`value ${i + 1} of ${ledger.recorded.length}, as ${schemaName}:`);
    for (const e of errors.slice(0, 25)) failures.push(`  ${e}`);
    if (errors.length > 25) failures.push(`  ... ${errors.length - 25} more`);
  });
  if (failures.length > 0) {
    const head = `"${ledger.title}" produced values that do not conform to the OpenAI schema`;
    throw new Error(`${head}:\n${failures.join('\n')}`);
  }
}

/** Runs `body` with `ledger` as the one recordConformance writes to, from a clean start. */
async function runRecording(ledger: Ledger, body: () => unknown): Promise<void> {
  ledger.recorded = [];
  ledger.finished = false;
  await running.run(ledger, body);
  ledger.finished = true;
}

/** Declares the check of `ledger`, after the behaviour test `title` that fills it. */
function declareCheck(title: string, ledger: Ledger): void {
  ledger.title = title;
  it.skipIf(!specAvailable)(conformanceTitle(title), () => checkLedger(ledger));
}

function itConformsOne(title: string, fn: TestFunction, timeout?: number): void {
  const ledger: Ledger = { title, recorded: [], finished: false };
  it(title, (context) => runRecording(ledger, () => fn(context)), timeout);
  declareCheck(title, ledger);
}

function itConformsEach(cases: readonly unknown[]) {
  if (!Array.isArray(cases)) throw new Error('itConforms.each takes an array of cases');
  const arrays = cases.filter((c) => Array.isArray(c)).length;
  if (arrays !== 0 && arrays !== cases.length) {
    // it.each spreads the cases only when all are arrays; one case at a time could not tell.
    throw new Error('itConforms.each: the cases must be all arrays or all non-arrays');
  }
  return (template: string, fn: (...args: any[]) => unknown, timeout?: number) => {
    if (template.includes('%#') || template.includes('%$')) {
      throw new Error(`itConforms.each: %# and %$ are not supported ("${template}")`);
    }
    for (const one of cases) {
      // One it.each per case, so that each case's test is followed by its own check.
      const ledger: Ledger = { title: template, recorded: [], finished: false };
      it.each([one])(
        template,
        (...args: unknown[]) => runRecording(ledger, () => fn(...args)),
        timeout,
      );
      // The title vitest formatted from this case, so the check names the same case
      // (formatting the check's title as a template would also mangle a % or $ in the path).
      const declared = TestRunner.getCurrentSuite().tasks.at(-1);
      if (declared?.type !== 'test') throw new Error('itConforms.each: lost the declared test');
      declareCheck(declared.name, ledger);
    }
  };
}

interface ItConforms {
  /** `it(title, fn)`, then the test that checks what `fn` recorded with recordConformance. */
  (title: string, fn: TestFunction, timeout?: number): void;
  /**
   * `it.each(cases)`, each case followed by its own conformance test: the same arguments and
   * titles as `it.each`, but for `%#` and `%$`, which are refused (each case is declared on
   * its own, so they would always read 0 and 1).
   */
  each: typeof it.each;
}

export const itConforms: ItConforms = Object.assign(itConformsOne, {
  each: itConformsEach as unknown as typeof it.each,
});
