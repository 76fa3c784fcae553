// newMessage and copyMessage stand in for protobuf's create and clone on Policy messages
// (see sidecar/config/message.ts for why): each must give what the library's own would.

import { ScalarType, clone, create, type MessageInitShape } from '@bufbuild/protobuf';
import { TimestampSchema, ValueSchema } from '@bufbuild/protobuf/wkt';
import { describe, expect, it } from 'vitest';
import {
  ModelSchema,
  PolicySchema,
  ProviderSchema,
  Protocol,
  type Policy,
} from '../../proto/gen/modelgate/v1/policy_pb.js';
import { Scalar, copyMessage, newMessage, scalarName } from '../../sidecar/config/message.js';

/** A Policy init that sets a field of every kind the Policy has, nested messages as plain objects. */
const INIT: MessageInitShape<typeof PolicySchema> = {
  listen: { host: '127.0.0.1', port: 4100 },
  limits: { maxBodyBytes: 1024 },
  providers: [
    {
      id: 'azure',
      protocol: Protocol.OPENAI,
      baseUrl: 'https://example.invalid',
      headers: { 'x-team': 'search', 'x-tier': 'gold' },
    },
  ],
  models: [
    { name: 'gpt', provider: 'azure', target: 'gpt-4o', price: { inputPerMtok: 2.5 } },
    { name: 'chat', class: 'fast' },
  ],
  apiKeys: [{ id: 'k1', sha256: 'ab'.repeat(32), project: 'p', team: 't' }],
  classes: [
    {
      name: 'fast',
      chain: [{ provider: 'azure', target: 'gpt-4o-mini', contextWindow: 128_000 }],
      failoverOnStatus: [429, 503],
      ordered: true,
    },
  ],
  routing: { breakerFailures: 3, autoChain: false, exploreShare: 0.25 },
};

/** Every object reachable from `value`, the value itself included. */
function objectsIn(value: unknown, found = new Set<object>()): Set<object> {
  if (typeof value !== 'object' || value === null || found.has(value)) return found;
  found.add(value);
  for (const item of Object.values(value)) objectsIn(item, found);
  return found;
}

describe('Scalar', () => {
  it("names each of protobuf's scalar types by its own number", () => {
    const numeric = Object.entries(ScalarType).filter(([, n]) => typeof n === 'number');
    expect(Object.fromEntries(numeric)).toEqual(Scalar);
    expect(scalarName(ScalarType.SFIXED64)).toBe('SFIXED64');
  });
});

describe('newMessage', () => {
  it("gives what protobuf's create gives, for a field of every kind the Policy has", () => {
    const built = newMessage(PolicySchema, INIT);
    expect(built).toStrictEqual(create(PolicySchema, INIT));
    expect(built.routing?.exploreShare).toBe(0.25);
    expect(built.providers[0]?.headers).toEqual({ 'x-team': 'search', 'x-tier': 'gold' });
    expect(built.models[0]?.price?.$typeName).toBe('modelgate.v1.Price');
  });

  it('skips a null field, as create does', () => {
    const init = {
      listen: null,
      providers: [{ id: 'a', baseUrl: null }],
    } as unknown as MessageInitShape<typeof PolicySchema>;
    expect(newMessage(PolicySchema, init)).toStrictEqual(create(PolicySchema, init));
    expect(newMessage(PolicySchema, init).listen).toBeUndefined();
  });

  it('gives the defaults with no init, optional fields unset', () => {
    expect(newMessage(PolicySchema)).toStrictEqual(create(PolicySchema));
    expect(newMessage(PolicySchema).routing).toBeUndefined();
  });

  it('keeps a value that is already a message, as create does', () => {
    const provider = create(ProviderSchema, { id: 'a' });
    const model = create(ModelSchema, { name: 'm' });
    const built = newMessage(PolicySchema, { providers: [provider], models: [model] });
    expect(built.providers[0]).toBe(provider);
    expect(built.models[0]).toBe(model);
  });

  it('refuses a message with a oneof or a 64-bit field rather than build it wrong', () => {
    expect(() => newMessage(ValueSchema, { kind: { case: 'numberValue', value: 1 } })).toThrow(
      /google\.protobuf\.Value\.\w+ is of a kind config\/message\.ts does not build/,
    );
    expect(() => newMessage(TimestampSchema, { seconds: 1n })).toThrow(/Timestamp\.seconds/);
  });
});

describe('copyMessage', () => {
  it("gives what protobuf's clone gives, sharing no object with the original", () => {
    const policy: Policy = create(PolicySchema, INIT);
    const copy = copyMessage(PolicySchema, policy);
    expect(copy).toStrictEqual(clone(PolicySchema, policy));
    const shared = [...objectsIn(copy)].filter((o) => objectsIn(policy).has(o));
    expect(shared).toEqual([]);
  });

  it('leaves the original as it was when the copy changes', () => {
    const policy: Policy = create(PolicySchema, INIT);
    const copy = copyMessage(PolicySchema, policy);
    copy.providers[0]!.headers['x-team'] = 'ads';
    copy.classes[0]!.failoverOnStatus.push(500);
    copy.routing!.breakerFailures = 9;
    expect(policy).toStrictEqual(create(PolicySchema, INIT));
  });

  it('drops a __proto__ map key, as clone does', () => {
    const policy: Policy = create(PolicySchema, { providers: [{ id: 'a' }] });
    Object.defineProperty(policy.providers[0]!.headers, '__proto__', {
      value: 'x',
      enumerable: true,
    });
    const copy = copyMessage(PolicySchema, policy);
    expect(Object.keys(copy.providers[0]!.headers)).toEqual([]);
    expect(copy).toStrictEqual(clone(PolicySchema, policy));
  });
});
