// What a model name may hold. Names are routing keys, and they reach log lines, metrics
// labels, response headers and error messages: text that reads other than it is there is
// refused. Requests (api/chat-request.ts) and the config (config/validate.ts) apply this
// one rule, so that every name the config accepts is one a request can use.

const MAX_MODEL_NAME_CHARS = 256;

/**
 * Control characters (C0, DEL, C1), line and paragraph separators, bidirectional overrides
 * and isolates (they make a log line read other than it is), and lone surrogates (not
 * text at all: no UTF-8 encoder can write them).
 */
const UNSAFE_IN_NAME = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]|\p{Cs}/u;

const RULE =
  `at most ${MAX_MODEL_NAME_CHARS} characters of well-formed text, with no control, ` +
  'line-separator or bidirectional-override characters';

/**
 * Why `name` breaks the rule ("must be at most 256 characters ...; it has U+202E at
 * character 4"), or undefined when it does not. The offending character is described,
 * never quoted: quoting it would print it.
 */
export function modelNameProblem(name: string): string | undefined {
  if (name.length > MAX_MODEL_NAME_CHARS) return `must be ${RULE}; it has ${name.length}`;
  const unsafe = UNSAFE_IN_NAME.exec(name);
  if (unsafe === null) return undefined;
  return `must be ${RULE}; it has ${describeCharAt(name, unsafe.index)}`;
}

/** `U+202E at character 4`: the character at UTF-16 index `index`, counted in code points. */
export function describeCharAt(text: string, index: number): string {
  const code = text.codePointAt(index)!.toString(16).toUpperCase().padStart(4, '0');
  return `U+${code} at character ${[...text.slice(0, index)].length + 1}`;
}
