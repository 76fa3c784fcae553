import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { PolicySchema } from '../../proto/gen/modelgate/v1/policy_pb.js';
import { parseChatRequest } from '../../sidecar/api/chat-request.js';
import {
  ConfigError,
  policyFromDocument,
  validatePolicy,
  type Env,
  type Problem,
} from '../../sidecar/config/validate.js';

const OPENAI_SECRET = 'sk-test-openai-7f3a9c';
const AZURE_SECRET = 'azure-test-secret-91b2';
const ENV: Env = { OPENAI_API_KEY: OPENAI_SECRET, AZURE_OPENAI_API_KEY: AZURE_SECRET };
const HASH = 'a'.repeat(64);

// A valid document as the file would hold it; each test breaks one thing.
function validDoc() {
  return {
    listen: { host: '127.0.0.1', port: 4100 },
    limits: { max_body_bytes: 1024 },
    providers: [
      { id: 'openai', protocol: 'openai', base_url: 'https://api.openai.com/v1' },
      {
        id: 'azure-east',
        protocol: 'azure_openai',
        base_url: 'https://myres.openai.azure.com',
        api_key_env: 'AZURE_OPENAI_API_KEY',
        api_version: '2024-10-21',
      },
    ],
    models: [
      { name: 'gpt-4o-mini', provider: 'openai', target: 'gpt-4o-mini' },
      { name: 'openai/*', provider: 'openai', target: '*' },
    ],
    api_keys: [{ id: 'checkout-svc', sha256: HASH, project: 'checkout', team: 'payments' }],
  } as Record<string, any>; // loose on purpose: tests write wrong types into it
}

function problemsOf(doc: unknown, env: Env = ENV): Problem[] {
  try {
    policyFromDocument(doc, 'test.yaml', { env });
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return [...err.problems];
  }
}

function errorOf(doc: unknown, env: Env = ENV): ConfigError {
  try {
    policyFromDocument(doc, 'test.yaml', { env });
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('a valid document', () => {
  it('has no problems', () => {
    expect(problemsOf(validDoc())).toEqual([]);
  });

  it('treats a field written with no value (null) as not set', () => {
    const doc = validDoc();
    doc.providers[0].headers = null;
    doc.limits = null;
    expect(problemsOf(doc)).toEqual([]);
  });
});

describe('shape of the document', () => {
  it('reports an unknown field with the field it most likely meant', () => {
    const doc = validDoc();
    doc.limits = { max_body_byte: 10 };
    expect(problemsOf(doc)).toEqual([
      { path: 'limits.max_body_byte', reason: 'unknown field (did you mean max_body_bytes?)' },
    ]);
  });

  it('suggests the snake_case name for a camelCase field', () => {
    const doc = validDoc();
    doc.providers[0].baseUrl = doc.providers[0].base_url;
    expect(problemsOf(doc)).toContainEqual({
      path: 'providers[0].baseUrl',
      reason: 'unknown field (did you mean base_url?)',
    });
  });

  it('lists the known fields when no field is close to an unknown one', () => {
    const doc = validDoc();
    doc.listen.backlog = 5;
    expect(problemsOf(doc)).toEqual([
      { path: 'listen.backlog', reason: 'unknown field (known: host, port)' },
    ]);
  });

  it('reports a string where a number belongs, with the range the field takes', () => {
    const doc = validDoc();
    doc.listen.port = '4100';
    expect(problemsOf(doc)).toEqual([
      { path: 'listen.port', reason: 'must be a whole number from 0 to 65535, got "4100"' },
    ]);
    doc.listen.port = -1;
    expect(problemsOf(doc)).toEqual([
      { path: 'listen.port', reason: 'must be a whole number from 0 to 65535, got -1' },
    ]);
  });

  it('reports a negative or fractional number', () => {
    const doc = validDoc();
    doc.limits = { idle_timeout_ms: -1, drain_timeout_ms: 1.5 };
    expect(problemsOf(doc)).toEqual([
      {
        path: 'limits.idle_timeout_ms',
        reason: 'must be a whole number from 1 to 4294967295, got -1',
      },
      {
        path: 'limits.drain_timeout_ms',
        reason: 'must be a whole number from 1 to 4294967295, got 1.5',
      },
    ]);
  });

  it.each([
    ['max_body_bytes', 4194304],
    ['request_timeout_ms', 600000],
    ['connect_timeout_ms', 10000],
    ['first_byte_timeout_ms', 60000],
    ['idle_timeout_ms', 60000],
    ['drain_timeout_ms', 30000],
    ['max_stream_event_bytes', 8388608],
  ])('refuses limits.%s: 0, naming the default %i it would silently stand for', (name, value) => {
    const doc = validDoc();
    doc.limits = { [name]: 0 };
    expect(problemsOf(doc)).toEqual([
      {
        path: `limits.${name}`,
        reason:
          'must be from 1 to 4294967295: 0 would not mean "no limit" or "at once" here but ' +
          `the default (${value}), so leave the field out for that`,
      },
    ]);
  });

  it('still reads a policy from the control plane, where 0 is how proto3 says unset', () => {
    const policy = create(PolicySchema, {
      limits: { drainTimeoutMs: 0, maxBodyBytes: 1024 },
      providers: [{ id: 'demo', protocol: 3 }],
      models: [{ name: 'demo/*', provider: 'demo', target: '*' }],
    });
    expect(validatePolicy(policy, { env: {} })).toEqual([]);
  });

  it('reports a mapping where a list belongs', () => {
    const doc = validDoc();
    doc.api_keys = { id: 'x' };
    expect(problemsOf(doc)).toEqual([
      { path: 'api_keys', reason: 'must be a list, got a mapping' },
    ]);
  });

  it('reports a list item that is not a mapping, without follow-on complaints', () => {
    const doc = validDoc();
    doc.models[1] = 'openai/*';
    expect(problemsOf(doc)).toEqual([
      { path: 'models[1]', reason: 'must be a mapping, got "openai/*"' },
    ]);
  });

  it('reports a header value that is not a string', () => {
    const doc = validDoc();
    doc.providers[0].headers = { 'X-Retries': 3 };
    expect(problemsOf(doc)).toEqual([
      { path: 'providers[0].headers.X-Retries', reason: 'must be a string, got 3' },
    ]);
  });

  it('reports a lone surrogate in any string or mapping key with its path, not a crash', () => {
    const doc = validDoc();
    doc.providers[1].api_version = '2024\udc00';
    doc.providers[0].headers = { 'X-\ud800': 'v', 'X-Tag': 'a\ud83d' };
    const err = errorOf(doc);
    expect(err.problems).toEqual([
      {
        path: 'providers[0].headers["X-\\ud800"]',
        reason: 'must be well-formed text; it has U+D800 at character 3',
      },
      {
        path: 'providers[0].headers.X-Tag',
        reason: 'must be well-formed text; it has U+D83D at character 2',
      },
      {
        path: 'providers[1].api_version',
        reason: 'must be well-formed text; it has U+DC00 at character 5',
      },
    ]);
    expect(err.message).not.toMatch(/\p{Cs}/u);
  });

  it('reports an unknown protocol with the one it most likely meant', () => {
    const doc = validDoc();
    doc.providers[0].protocol = 'opnai';
    expect(problemsOf(doc)).toEqual([
      {
        path: 'providers[0].protocol',
        reason:
          'must be one of openai, azure_openai, demo, anthropic, gemini, vertex, bedrock, cohere, got "opnai" (did you mean openai?)',
      },
    ]);
  });

  it('reports a top level that is not a mapping', () => {
    expect(problemsOf(['providers'])).toEqual([
      {
        path: '',
        reason:
          'the config must be a mapping of sections (listen, limits, providers, models, ' +
          'api_keys, classes, routing), got a list',
      },
    ]);
  });
});

describe('listen', () => {
  it('refuses a port above 65535', () => {
    const doc = validDoc();
    doc.listen.port = 70000;
    expect(problemsOf(doc)).toEqual([
      { path: 'listen.port', reason: 'must be from 0 to 65535 (0 means 4100), got 70000' },
    ]);
  });

  it('refuses a host written as a URL', () => {
    const doc = validDoc();
    doc.listen.host = 'http://localhost';
    expect(problemsOf(doc)).toEqual([
      { path: 'listen.host', reason: 'must be a host name or IP address, got "http://localhost"' },
    ]);
  });
});

describe('providers', () => {
  it('refuses a base_url that is not http or https', () => {
    const doc = validDoc();
    doc.providers[1].base_url = 'ftp://x';
    expect(problemsOf(doc)).toEqual([
      {
        path: 'providers[1].base_url',
        reason: 'must be an http:// or https:// URL, got "ftp://x"',
      },
    ]);
  });

  it('refuses a base_url that is not a URL at all', () => {
    const doc = validDoc();
    doc.providers[0].base_url = 'api.openai.com/v1';
    expect(problemsOf(doc)).toEqual([
      {
        path: 'providers[0].base_url',
        reason: 'must be an http:// or https:// URL, got "api.openai.com/v1"',
      },
    ]);
  });

  it('refuses credentials inside base_url without repeating them', () => {
    const doc = validDoc();
    doc.providers[0].base_url = 'https://user:hunter2@api.openai.com/v1';
    const err = errorOf(doc);
    expect(err.problems).toEqual([
      {
        path: 'providers[0].base_url',
        reason: 'must not contain credentials (user:password@); use api_key_env',
      },
    ]);
    expect(err.message).not.toContain('hunter2');
  });

  it.each([
    'http://127.0.0.1:4310/v1?x=1#frag',
    'https://api.openai.com/v1#frag',
    'https://api.openai.com/v1?',
    'https://api.openai.com/v1?key=AIza-do-not-echo',
  ])('refuses the base_url %s, whose query or fragment would be dropped', (url) => {
    const doc = validDoc();
    doc.providers[0].base_url = url;
    const err = errorOf(doc);
    expect(err.problems).toEqual([
      {
        path: 'providers[0].base_url',
        reason: 'must not have a query string or fragment: they would be dropped',
      },
    ]);
    expect(err.message).not.toContain('do-not-echo');
  });

  it('points an api-version in an Azure base_url at api_version', () => {
    const doc = validDoc();
    doc.providers[1].base_url = 'https://myres.openai.azure.com/?api-version=2024-10-21';
    expect(problemsOf(doc)).toEqual([
      {
        path: 'providers[1].base_url',
        reason:
          'must not have a query string or fragment: they would be dropped; ' +
          "Azure's api-version has its own field, api_version (protocol azure_openai)",
      },
    ]);
  });

  it('requires base_url for network protocols', () => {
    const doc = validDoc();
    delete doc.providers[0].base_url;
    expect(problemsOf(doc)).toEqual([
      { path: 'providers[0].base_url', reason: 'required for protocol openai' },
    ]);
  });

  // The reason now also points at the catalog, which can supply the protocol.
  it('requires a protocol', () => {
    const doc = validDoc();
    delete doc.providers[0].protocol;
    expect(problemsOf(doc)).toEqual([
      {
        path: 'providers[0].protocol',
        reason:
          'required: one of openai, azure_openai, demo, anthropic, gemini, vertex, bedrock, ' +
          'cohere (or name a catalog entry)',
      },
    ]);
  });

  it('refuses an id that cannot appear in a model name', () => {
    const doc = validDoc();
    doc.providers[0].id = 'open ai';
    doc.models = [{ name: 'x', provider: 'open ai', target: 'x' }];
    expect(problemsOf(doc)).toEqual([
      {
        path: 'providers[0].id',
        reason: 'must be letters, digits, ".", "_" or "-", got "open ai"',
      },
    ]);
  });

  it('refuses two providers with one id', () => {
    const doc = validDoc();
    doc.providers[1].id = 'openai';
    expect(problemsOf(doc)).toEqual([
      { path: 'providers[1].id', reason: 'duplicate id "openai" (also providers[0])' },
    ]);
  });

  it('requires api_version for azure_openai', () => {
    const doc = validDoc();
    delete doc.providers[1].api_version;
    expect(problemsOf(doc)).toEqual([
      {
        path: 'providers[1].api_version',
        reason: 'required for protocol azure_openai (e.g. 2024-10-21)',
      },
    ]);
  });

  it('refuses api_version on a protocol that ignores it', () => {
    const doc = validDoc();
    doc.providers[0].api_version = '2024-10-21';
    expect(problemsOf(doc)).toEqual([
      {
        path: 'providers[0].api_version',
        reason: 'only used by protocol azure_openai, not openai',
      },
    ]);
  });

  it('requires api_key_env for azure_openai', () => {
    const doc = validDoc();
    delete doc.providers[1].api_key_env;
    expect(problemsOf(doc)).toEqual([
      {
        path: 'providers[1].api_key_env',
        reason: 'required for protocol azure_openai (it sends an api-key header)',
      },
    ]);
  });

  it('refuses a base_url or key on the demo protocol, which makes no network calls', () => {
    const doc = validDoc();
    doc.providers[0].protocol = 'demo';
    doc.providers[0].api_key_env = 'OPENAI_API_KEY';
    expect(problemsOf(doc)).toEqual([
      { path: 'providers[0].base_url', reason: 'not used by protocol demo (no network)' },
      { path: 'providers[0].api_key_env', reason: 'not used by protocol demo (no network)' },
    ]);
  });

  it('refuses an api_key_env naming an unset environment variable', () => {
    const doc = validDoc();
    doc.providers[0].api_key_env = 'OPENAI_API_KEY';
    expect(problemsOf(doc, { AZURE_OPENAI_API_KEY: AZURE_SECRET })).toEqual([
      {
        path: 'providers[0].api_key_env',
        reason: 'environment variable OPENAI_API_KEY is not set: "openai" cannot authenticate',
      },
    ]);
  });

  it('treats an empty environment variable as unset', () => {
    const doc = validDoc();
    expect(problemsOf(doc, { AZURE_OPENAI_API_KEY: '' })).toEqual([
      {
        path: 'providers[1].api_key_env',
        reason:
          'environment variable AZURE_OPENAI_API_KEY is not set: "azure-east" cannot authenticate',
      },
    ]);
  });

  it('refuses a key with a trailing newline, without repeating the key', () => {
    const err = errorOf(validDoc(), { AZURE_OPENAI_API_KEY: `${AZURE_SECRET}\n` });
    expect(err.problems).toEqual([
      {
        path: 'providers[1].api_key_env',
        reason:
          'environment variable AZURE_OPENAI_API_KEY contains whitespace or control characters',
      },
    ]);
    expect(err.message).not.toContain(AZURE_SECRET);
  });

  // Found by the breaker: a key with a pasted ellipsis passed, and every request then
  // failed with 502 "could not be reached" (undici refuses the header it would make).
  it('refuses a key with a character outside printable ASCII, without repeating the key', () => {
    for (const bad of [
      `${AZURE_SECRET}\u2026`,
      `\u201c${AZURE_SECRET}\u201d`,
      `${AZURE_SECRET}\u00e9`,
    ]) {
      const err = errorOf(validDoc(), { AZURE_OPENAI_API_KEY: bad });
      expect(err.problems).toEqual([
        {
          path: 'providers[1].api_key_env',
          reason:
            'environment variable AZURE_OPENAI_API_KEY contains a character outside printable ' +
            'ASCII, which no provider key has',
        },
      ]);
      expect(err.message).not.toContain(AZURE_SECRET);
    }
  });

  it('refuses a key pasted into api_key_env, without repeating it', () => {
    const doc = validDoc();
    doc.providers[0].api_key_env = OPENAI_SECRET;
    const err = errorOf(doc);
    expect(err.problems).toEqual([
      {
        path: 'providers[0].api_key_env',
        reason: 'must name an environment variable (A-Z, 0-9, _), not hold the key itself',
      },
    ]);
    expect(err.message).not.toContain(OPENAI_SECRET);
  });

  it('refuses a header value containing CR or LF, without repeating it', () => {
    const doc = validDoc();
    doc.providers[0].headers = { 'X-Tag': 'a\r\nX-Injected: yes' };
    const err = errorOf(doc);
    expect(err.problems).toEqual([
      { path: 'providers[0].headers.X-Tag', reason: 'value must not contain CR, LF or NUL' },
    ]);
    expect(err.message).not.toContain('X-Injected');
  });

  it.each(['Authorization', 'api-key', 'X-API-Key', 'proxy-authorization'])(
    'refuses the credential header %s in headers',
    (name) => {
      const doc = validDoc();
      doc.providers[0].headers = { [name]: 'Bearer sk-do-not-echo' };
      const err = errorOf(doc);
      expect(err.problems).toEqual([
        {
          path: `providers[0].headers.${name}`,
          reason: 'would carry a credential; secrets belong in api_key_env, never in the config',
        },
      ]);
      expect(err.message).not.toContain('sk-do-not-echo');
    },
  );

  it('refuses headers the gateway sets itself', () => {
    const doc = validDoc();
    doc.providers[0].headers = { 'Content-Length': '10' };
    expect(problemsOf(doc)).toEqual([
      { path: 'providers[0].headers.Content-Length', reason: 'is set by the gateway itself' },
    ]);
  });

  it('refuses an accept-encoding, which would undo the identity the sidecar asks for', () => {
    const doc = validDoc();
    doc.providers[0].headers = { 'Accept-Encoding': 'gzip' };
    expect(problemsOf(doc)).toEqual([
      { path: 'providers[0].headers.Accept-Encoding', reason: 'is set by the gateway itself' },
    ]);
  });

  // Found by the breaker: each of these passed, and every request then failed with 502
  // "could not be reached": undici refuses them when it builds the request.
  it('refuses hop-by-hop headers and values a request header cannot carry', () => {
    const doc = validDoc();
    doc.providers[0].headers = {
      Expect: '100-continue',
      Upgrade: 'h2c',
      'X-Title': 'Mon appli \u2713',
      'X-Del': 'a\u007fb',
      'X-Fine': 'tab\tand spaces ok',
    };
    expect(problemsOf(doc)).toEqual([
      {
        path: 'providers[0].headers.Expect',
        reason: 'is about one connection (hop-by-hop), never a header to send to a provider',
      },
      {
        path: 'providers[0].headers.Upgrade',
        reason: 'is about one connection (hop-by-hop), never a header to send to a provider',
      },
      {
        path: 'providers[0].headers.X-Title',
        reason: 'value must be printable ASCII (percent-encode other text)',
      },
      {
        path: 'providers[0].headers.X-Del',
        reason: 'value must be printable ASCII (percent-encode other text)',
      },
    ]);
  });

  it('refuses a header named __proto__, which request headers could not carry', () => {
    const doc = validDoc();
    // As JSON.parse (and the YAML parser) make it: an own key, not the prototype.
    doc.providers[0].headers = JSON.parse('{"__proto__": "v"}');
    expect(problemsOf(doc)).toEqual([
      {
        path: 'providers[0].headers.__proto__',
        reason: 'is a key JavaScript objects cannot hold as data: use another name',
      },
    ]);
  });

  it('refuses a header name that is not an HTTP token', () => {
    const doc = validDoc();
    doc.providers[0].headers = { 'X Tag': 'v' };
    expect(problemsOf(doc)).toEqual([
      { path: 'providers[0].headers["X Tag"]', reason: 'is not a valid HTTP header name' },
    ]);
  });
});

describe('models', () => {
  it('names the unknown provider and the known ones', () => {
    const doc = validDoc();
    doc.models[0].provider = 'opnai';
    expect(problemsOf(doc)).toEqual([
      {
        path: 'models[0].provider',
        reason: 'no provider with id "opnai" (known: openai, azure-east)',
      },
    ]);
  });

  it('allows "*" only at the end of a name', () => {
    const doc = validDoc();
    doc.models[1].name = 'openai/*-mini';
    expect(problemsOf(doc)).toEqual([
      {
        path: 'models[1].name',
        reason: '"*" is allowed only at the end (a prefix pattern), got "openai/*-mini"',
      },
    ]);
  });

  it('refuses "*" in target when the name is not a pattern', () => {
    const doc = validDoc();
    doc.models[0].target = 'gpt-*';
    expect(problemsOf(doc)).toEqual([
      {
        path: 'models[0].target',
        reason: 'may contain "*" only when name ends in "*", got "gpt-*"',
      },
    ]);
  });

  it('refuses more than one "*" in target', () => {
    const doc = validDoc();
    doc.models[1].target = '*-*';
    expect(problemsOf(doc)).toEqual([
      { path: 'models[1].target', reason: 'may contain "*" at most once, got "*-*"' },
    ]);
  });

  it('refuses two models with one name', () => {
    const doc = validDoc();
    doc.models[1] = { name: 'gpt-4o-mini', provider: 'openai', target: 'gpt-4o' };
    expect(problemsOf(doc)).toEqual([
      { path: 'models[1].name', reason: 'duplicate name "gpt-4o-mini" (also models[0])' },
    ]);
  });

  it('requires name, provider and target', () => {
    const doc = validDoc();
    doc.models[0] = {};
    expect(problemsOf(doc)).toEqual([
      { path: 'models[0].name', reason: 'required' },
      { path: 'models[0].provider', reason: 'required' },
      { path: 'models[0].target', reason: 'required: the model name the provider knows' },
    ]);
  });

  const RULE =
    'must be at most 256 characters of well-formed text, with no control, line-separator or ' +
    'bidirectional-override characters';

  it('refuses names and targets that a request could never use, saying what is wrong', () => {
    const doc = validDoc();
    doc.models = [
      { name: 'bad\u202ename', provider: 'openai', target: 'x' },
      { name: 'ctl\u0007name', provider: 'openai', target: 'y\nz' },
      { name: `${'😀'.repeat(3)}\u2066*`, provider: 'openai', target: '*' },
      { name: 'long', provider: 'openai', target: 'm'.repeat(257) },
    ];
    const err = errorOf(doc);
    expect(err.problems).toEqual([
      { path: 'models[0].name', reason: `${RULE}; it has U+202E at character 4` },
      { path: 'models[1].name', reason: `${RULE}; it has U+0007 at character 4` },
      { path: 'models[1].target', reason: `${RULE}; it has U+000A at character 2` },
      { path: 'models[2].name', reason: `${RULE}; it has U+2066 at character 4` },
      { path: 'models[3].target', reason: `${RULE}; it has 257` },
    ]);
    // Described, never printed: the message itself must not carry the characters.
    expect(err.message).not.toMatch(/[\u0007\u202e\u2066]/);
  });

  it('accepts exactly the names a request accepts', () => {
    const names = ['gpt-4o', 'ünïcödé/模型', 'x\u200dy', 'a'.repeat(256), 'a'.repeat(257)];
    const unsafe = ['\u0000', '\u001f', '\u007f', '\u0085', '\u2028', '\u202a', '\u2069'];
    for (const name of [...names, ...unsafe.map((c) => `m${c}`), 'x\ud800', 'x\udfff']) {
      const doc = validDoc();
      doc.models = [{ name, provider: 'openai', target: 'gpt-4o' }];
      const config = problemsOf(doc).length === 0;
      const body = Buffer.from(
        JSON.stringify({ model: name, messages: [{ role: 'user', content: 'hi' }] }),
      );
      let request = true;
      try {
        parseChatRequest(body);
      } catch (err) {
        request = (err as { param?: string }).param !== 'model';
      }
      expect(config, JSON.stringify(name)).toBe(request);
    }
  });

  it('requires at least one model', () => {
    const doc = validDoc();
    doc.models = [];
    expect(problemsOf(doc)).toEqual([{ path: 'models', reason: 'must list at least one model' }]);
  });
});

describe('api_keys', () => {
  it('refuses a sha256 that is not a hex digest, without repeating it', () => {
    const doc = validDoc();
    doc.api_keys.push({ id: 'b', sha256: 'b'.repeat(64) }, { id: 'c', sha256: 'sk-mg-raw-key' });
    const err = errorOf(doc);
    expect(err.problems).toEqual([
      {
        path: 'api_keys[2].sha256',
        reason:
          'must be 64 lowercase hex characters (the SHA-256 of the key, see "modelgate keys hash")',
      },
    ]);
    expect(err.message).not.toContain('sk-mg-raw-key');
  });

  it('refuses upper-case hex', () => {
    const doc = validDoc();
    doc.api_keys[0].sha256 = 'A'.repeat(64);
    expect(problemsOf(doc).map((p) => p.path)).toEqual(['api_keys[0].sha256']);
  });

  it('refuses two entries with one hash', () => {
    const doc = validDoc();
    doc.api_keys.push({ id: 'other', sha256: HASH });
    expect(problemsOf(doc)).toEqual([
      { path: 'api_keys[1].sha256', reason: 'same hash as api_keys[0]: one key listed twice' },
    ]);
  });

  it('refuses two entries with one id, and an entry with none', () => {
    const doc = validDoc();
    doc.api_keys.push({ id: 'checkout-svc', sha256: 'b'.repeat(64) }, { sha256: 'c'.repeat(64) });
    expect(problemsOf(doc)).toEqual([
      { path: 'api_keys[1].id', reason: 'duplicate id "checkout-svc" (also api_keys[0])' },
      { path: 'api_keys[2].id', reason: 'required' },
    ]);
  });
});

describe('a document with many mistakes', () => {
  it('reports every one of them, one per line', () => {
    const doc = validDoc();
    doc.listen.port = 70000;
    doc.limits = { max_body_byte: 1 };
    doc.providers[0].base_url = 'ftp://x';
    doc.providers[1].api_version = '';
    doc.providers[1].headers = { Authorization: 'Bearer x' };
    doc.models[0].provider = 'opnai';
    doc.models[1].target = 'a*b*';
    doc.api_keys[0].sha256 = 'nope';

    const err = errorOf(doc, {});
    const paths = err.problems.map((p) => p.path);
    expect(paths).toEqual([
      'limits.max_body_byte',
      'listen.port',
      'providers[0].base_url',
      'providers[1].api_version',
      'providers[1].api_key_env',
      'providers[1].headers.Authorization',
      'models[0].provider',
      'models[1].target',
      'api_keys[0].sha256',
    ]);

    const lines = err.message.split('\n');
    expect(lines[0]).toBe('test.yaml: 9 problems in the config:');
    expect(lines.slice(1)).toEqual(err.problems.map((p) => `  ${p.path}: ${p.reason}`));
  });

  it('never repeats an environment variable value in any message', () => {
    const doc = validDoc();
    doc.providers[0].api_key_env = 'OPENAI_API_KEY';
    doc.providers.push({ id: 'x', protocol: 'openai', base_url: 'nope', api_key_env: 'X_KEY' });
    doc.models[0].provider = 'missing';
    const env = { ...ENV, OPENAI_API_KEY: ` ${OPENAI_SECRET} `, X_KEY: 'x-secret-55e1' };

    const err = errorOf(doc, env);
    expect(err.problems.length).toBeGreaterThan(2);
    for (const secret of Object.values(env)) {
      expect(err.message).not.toContain(secret!.trim());
      expect(JSON.stringify(err.problems)).not.toContain(secret!.trim());
    }
  });
});

describe('validatePolicy on a message built elsewhere (control plane)', () => {
  it('applies the same rules with snake_case paths', () => {
    const policy = create(PolicySchema, {
      listen: { host: '127.0.0.1', port: 70000 },
      providers: [{ id: 'demo', protocol: 3 }],
      models: [{ name: 'demo/*', provider: 'demo', target: '*' }],
      apiKeys: [{ id: 'k', sha256: 'short' }],
    });
    expect(validatePolicy(policy, { env: {} }).map((p) => p.path)).toEqual([
      'listen.port',
      'api_keys[0].sha256',
    ]);
  });
});
