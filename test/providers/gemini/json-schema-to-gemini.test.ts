import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../sidecar/errors.js';
import { toGeminiSchema } from '../../../sidecar/providers/gemini/json-schema-to-gemini.js';
import { geminiRefusal } from '../../support/mock-gemini.js';

// Each reduced schema is also put through the strict mock's rules inside a function
// declaration, so "reduced" means "Gemini would take it", not just "looks smaller".
function acceptedByGemini(parameters: unknown): string | undefined {
  return geminiRefusal(
    {
      contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
      tools: [{ functionDeclarations: [{ name: 'f', parameters }] }],
    },
    'gemini-2.5-flash',
  );
}

describe('toGeminiSchema', () => {
  it('keeps the subset Gemini knows and drops the rest, at every depth', () => {
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      additionalProperties: false,
      properties: {
        city: { type: 'string', description: 'City name', default: 'Paris', examples: ['Oslo'] },
        unit: { type: 'string', enum: ['c', 'f'], $comment: 'units' },
        days: { type: 'integer', minimum: 1, maximum: 10, exclusiveMaximum: 11, multipleOf: 1 },
        tags: {
          type: 'array',
          items: { type: 'string', format: 'email', minLength: 1 },
          minItems: 1,
          uniqueItems: true,
        },
      },
      required: ['city', 'ghost'],
    };
    const out = toGeminiSchema(schema, 'tools[0].function.parameters');

    expect(out).toEqual({
      type: 'OBJECT',
      properties: {
        city: { type: 'STRING', description: 'City name' },
        unit: { type: 'STRING', enum: ['c', 'f'] },
        days: { type: 'INTEGER', minimum: 1, maximum: 10 },
        tags: { type: 'ARRAY', items: { type: 'STRING', minLength: 1 }, minItems: 1 },
      },
      required: ['city'],
    });
    expect(acceptedByGemini(out)).toBeUndefined();
    // The unreduced schema is what the strict mock (and Gemini) refuse.
    expect(acceptedByGemini(schema)).toMatch(/Unknown name "\$schema"/);
  });

  it('turns nullable type unions into nullable, and real unions into anyOf', () => {
    expect(toGeminiSchema({ type: ['string', 'null'] }, 'p')).toEqual({
      type: 'STRING',
      nullable: true,
    });
    const out = toGeminiSchema(
      { type: 'object', properties: { v: { type: ['string', 'integer', 'null'] } } },
      'p',
    );
    expect(out.properties).toEqual({
      v: { anyOf: [{ type: 'STRING' }, { type: 'INTEGER' }], nullable: true },
    });
    expect(acceptedByGemini(out)).toBeUndefined();
  });

  it('turns an Optional field (anyOf one schema or null) into that schema, nullable', () => {
    // Pydantic's and zod's shape for `x: str | None = None`. Gemini's Schema requires a
    // type (ai.google.dev/api/caching#Schema), which an anyOf member {type: null} cannot
    // give, and it wants any_of alone on its node; a single schema made nullable says the
    // same thing in Gemini's own terms.
    const schema = {
      type: 'object',
      properties: {
        city: { anyOf: [{ type: 'string' }, { type: 'null' }], default: null, title: 'City' },
        when: { oneOf: [{ type: 'null' }, { $ref: '#/$defs/Slot' }], description: 'Slot' },
      },
      $defs: { Slot: { type: 'object', properties: { hour: { type: 'integer' } } } },
    };
    expect(toGeminiSchema(schema, 'p').properties).toEqual({
      city: { type: 'STRING', title: 'City', nullable: true },
      when: {
        type: 'OBJECT',
        description: 'Slot',
        nullable: true,
        properties: { hour: { type: 'INTEGER' } },
      },
    });
  });

  it('inlines $ref to $defs and definitions, sibling keywords winning', () => {
    const schema = {
      type: 'object',
      properties: {
        home: { $ref: '#/$defs/Address', description: 'Where they live' },
        work: { $ref: '#/definitions/Address' },
      },
      $defs: { Address: { type: 'object', properties: { zip: { type: 'string' } } } },
      definitions: { Address: { type: 'object', properties: { zip: { type: 'string' } } } },
    };
    const out = toGeminiSchema(schema, 'p');
    expect(out).toEqual({
      type: 'OBJECT',
      properties: {
        home: {
          type: 'OBJECT',
          description: 'Where they live',
          properties: { zip: { type: 'STRING' } },
        },
        work: { type: 'OBJECT', properties: { zip: { type: 'STRING' } } },
      },
    });
    expect(acceptedByGemini(out)).toBeUndefined();
  });

  it('refuses a recursive $ref with a 400 naming the parameter', () => {
    const schema = {
      type: 'object',
      properties: { root: { $ref: '#/$defs/Node' } },
      $defs: {
        Node: {
          type: 'object',
          properties: { children: { type: 'array', items: { $ref: '#/$defs/Node' } } },
        },
      },
    };
    let error: unknown;
    try {
      toGeminiSchema(schema, 'tools[0].function.parameters');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe('GW_ERR_REQ_UNSUPPORTED_PARAM');
    expect((error as GatewayError).status).toBe(400);
    expect((error as GatewayError).message).toMatch(/recursive \$ref \(#\/\$defs\/Node\)/);
    expect((error as GatewayError).param).toMatch(/^tools\[0\]\.function\.parameters\.properties/);
  });

  it('refuses an external $ref', () => {
    expect(() => toGeminiSchema({ $ref: 'https://example.com/s.json' }, 'p')).toThrow(
      /the \$ref https:\/\/example.com\/s.json/,
    );
  });

  it('merges allOf of objects (Pydantic) and maps oneOf and const', () => {
    const out = toGeminiSchema(
      {
        allOf: [
          { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] },
          {
            type: 'object',
            properties: { b: { oneOf: [{ type: 'string' }, { type: 'number' }] } },
          },
        ],
        description: 'both',
      },
      'p',
    );
    expect(out).toEqual({
      description: 'both',
      type: 'OBJECT',
      properties: {
        a: { type: 'STRING' },
        b: { anyOf: [{ type: 'STRING' }, { type: 'NUMBER' }] },
      },
      required: ['a'],
    });
    expect(toGeminiSchema({ const: 'x' }, 'p')).toEqual({ type: 'STRING', enum: ['x'] });
  });

  it('leaves out an empty properties map and numeric enums, both of which Gemini refuses', () => {
    const out = toGeminiSchema(
      {
        type: 'object',
        properties: {
          meta: { type: 'object', properties: {} },
          level: { type: 'integer', enum: [1, 2] },
        },
      },
      'p',
    );
    expect(out.properties).toEqual({ meta: { type: 'OBJECT' }, level: { type: 'INTEGER' } });
    expect(acceptedByGemini(out)).toBeUndefined();
    expect(
      acceptedByGemini({ type: 'OBJECT', properties: { m: { type: 'OBJECT', properties: {} } } }),
    ).toMatch(/should be non-empty for OBJECT type/);
  });

  it('gives a tuple array items Gemini can take', () => {
    const out = toGeminiSchema(
      { type: 'array', prefixItems: [{ type: 'number' }, { type: 'string' }] },
      'p',
    );
    expect(out).toEqual({
      type: 'ARRAY',
      items: { anyOf: [{ type: 'NUMBER' }, { type: 'STRING' }] },
    });
  });
});
