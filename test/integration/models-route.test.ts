import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { itConforms, recordConformance } from '../support/conformance.js';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai.js';
import { startTestSidecar, testPolicy, type TestSidecar } from '../support/sidecar.js';

// `GET /v1/models/` names no model. It is not the list either: the OpenAI Node SDK sends
// exactly this path for `models.retrieve('')` and would read a list as one Model object. So
// it is an unknown path, like every other path with a trailing slash, and says why.

const NO_ID =
  'No route for GET /v1/models/: the path names no model id. GET /v1/models lists the ' +
  'models; GET /v1/models/{id} describes one.';

describe.each([
  ['uws', 'a policy that routes every name', true],
  ['node', 'a policy that routes every name', true],
  ['uws', 'a policy of named models only', false],
] as const)('GET /v1/models/ on the %s front with %s', (http, _, wildcard) => {
  let mock: MockOpenAI;
  let sidecar: TestSidecar;

  beforeAll(async () => {
    mock = await startMockOpenAI();
    const policy = testPolicy({ upstream: mock.url });
    if (!wildcard) policy.models = policy.models.filter((m) => m.name !== '*');
    sidecar = await startTestSidecar(policy, http);
  });
  afterAll(async () => {
    await sidecar.stop();
    await mock.close();
  });

  itConforms.each(['/v1/models/', '/models/'])(
    'answers %s with a 404 saying it names no id',
    async (path) => {
      const res = await fetch(`${sidecar.url}${path}`);
      expect(res.status).toBe(404);
      const body = await res.json();
      recordConformance('ErrorResponse', body);
      expect(body.error).toEqual({
        message: NO_ID.replaceAll('/v1/models', path.slice(0, -1)),
        type: 'invalid_request_error',
        param: null,
        code: 'GW_ERR_ROUTE_NOT_FOUND',
      });
    },
  );

  itConforms('gives the OpenAI SDK’s models.retrieve("") a NotFoundError, not a list', async () => {
    const client = new OpenAI({ apiKey: 'x', baseURL: `${sidecar.url}/v1`, maxRetries: 0 });
    const error = await client.models.retrieve('').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as InstanceType<typeof OpenAI.NotFoundError>).message).toBe(`404 ${NO_ID}`);
    recordConformance('ErrorResponse', { error: (error as { error: unknown }).error });
  });

  itConforms('still lists at /v1/models and describes one at /v1/models/{id}', async () => {
    const list = await fetch(`${sidecar.url}/v1/models`);
    expect(list.status).toBe(200);
    const listed = await list.json();
    recordConformance('ListModelsResponse', listed);
    expect(listed.object).toBe('list');

    const one = await fetch(`${sidecar.url}/v1/models/alias-fast`);
    expect(one.status).toBe(200);
    const model = await one.json();
    expect(model.id).toBe('alias-fast');
  });
});
