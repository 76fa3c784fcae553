// Policy messages made and copied through @bufbuild/protobuf's `reflect` entry point alone.
// Its main entry point (create, clone, ScalarType) also loads the JSON and binary codecs and
// the well-known types, none of which the sidecar runs: importing it cost the running sidecar
// 2 MB of resident memory (idle, a median 70.8 against 68.8 MB over four starts each, taken by
// turns, 2026-12-06).
//
// The Policy is proto3 with no oneof, no 64-bit integer and no bytes field, so a message is a
// plain object whose fields are assigned as they are; any other field stops with an error
// here rather than being built wrong.

import { reflect } from '@bufbuild/protobuf/reflect';
import type {
  DescField,
  DescMessage,
  MessageInitShape,
  MessageShape,
  ScalarType,
} from '@bufbuild/protobuf';

/**
 * ScalarType's numbers, which are those of descriptor.proto's FieldDescriptorProto.Type:
 * fixed by protobuf itself, and checked against the enum by the type annotation.
 */
export const Scalar = {
  DOUBLE: 1,
  FLOAT: 2,
  INT64: 3,
  UINT64: 4,
  INT32: 5,
  FIXED64: 6,
  FIXED32: 7,
  BOOL: 8,
  STRING: 9,
  BYTES: 12,
  UINT32: 13,
  SFIXED32: 15,
  SFIXED64: 16,
  SINT32: 17,
  SINT64: 18,
} as const satisfies Record<string, ScalarType>;

/** The name of a scalar type, for messages. */
export function scalarName(type: ScalarType): string {
  return Object.keys(Scalar).find((name) => Scalar[name as keyof typeof Scalar] === type) ?? '?';
}

/** Scalars whose value would need converting (bigint, Uint8Array): none in the Policy. */
const CONVERTED: ReadonlySet<number> = new Set([
  Scalar.INT64,
  Scalar.UINT64,
  Scalar.FIXED64,
  Scalar.SFIXED64,
  Scalar.SINT64,
  Scalar.BYTES,
]);

type Fields = Record<string, unknown>;

/**
 * A message of `desc` with its defaults, then every field `init` gives. A message-typed
 * value that is already a message is kept as it is; a plain object becomes one.
 */
export function newMessage<Desc extends DescMessage>(
  desc: Desc,
  init?: MessageInitShape<Desc>,
): MessageShape<Desc> {
  return build(desc, init as Fields | undefined, false) as MessageShape<Desc>;
}

/** A deep copy of `message`: nothing in it is shared with the original. */
export function copyMessage<Desc extends DescMessage>(
  desc: Desc,
  message: MessageShape<Desc>,
): MessageShape<Desc> {
  return build(desc, message as unknown as Fields, true) as MessageShape<Desc>;
}

function build(desc: DescMessage, source: Fields | undefined, copy: boolean): Fields {
  const message = reflect(desc).message as Fields;
  if (source === undefined) return message;
  for (const field of desc.fields) {
    if (
      field.oneof !== undefined ||
      (field.fieldKind === 'scalar' && CONVERTED.has(field.scalar))
    ) {
      throw new Error(`${field.toString()} is of a kind config/message.ts does not build`);
    }
    // Skipped when null as well as undefined, as create() skips it.
    const value = source[field.localName];
    if (value != null) message[field.localName] = fieldValue(field, value, copy);
  }
  return message;
}

function fieldValue(field: DescField, value: unknown, copy: boolean): unknown {
  switch (field.fieldKind) {
    case 'message':
      return asMessage(field.message, value, copy);
    case 'list':
      return (value as unknown[]).map((item) =>
        field.listKind === 'message' ? asMessage(field.message, item, copy) : item,
      );
    case 'map': {
      // Assigned key by key, as Object.assign does: a `__proto__` key of a string map is
      // dropped (the Policy's maps are of strings; decode-document refuses the key anyway).
      const entries: Fields = {};
      for (const [key, item] of Object.entries(value as Fields)) {
        entries[key] = field.mapKind === 'message' ? asMessage(field.message, item, copy) : item;
      }
      return entries;
    }
    default:
      return value;
  }
}

function asMessage(desc: DescMessage, value: unknown, copy: boolean): Fields {
  const given = value as Fields;
  if (!copy && given.$typeName === desc.typeName) return given;
  return build(desc, given, copy);
}
