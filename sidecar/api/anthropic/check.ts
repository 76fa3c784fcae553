// Small checks shared by the Anthropic request translators. Errors name the Anthropic field
// (`messages[2].content[0].source`), since that is what the client sent.

import { GatewayError } from '../../errors.js';
import type { JsonObject } from '../../providers/adapter.js';

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function invalid(param: string | null, message: string): GatewayError {
  return new GatewayError('GW_ERR_REQ_INVALID_FIELD', message, { param });
}

export function missing(param: string): GatewayError {
  return new GatewayError('GW_ERR_REQ_MISSING_FIELD', `'${param}' is required.`, { param });
}

export function unsupported(param: string, message: string): GatewayError {
  return new GatewayError('GW_ERR_REQ_UNSUPPORTED_PARAM', message, { param });
}

/** A required string field. */
export function text(obj: JsonObject, key: string, at: string): string {
  const value = obj[key];
  if (value === undefined || value === null) throw missing(`${at}.${key}`);
  if (typeof value !== 'string') throw invalid(`${at}.${key}`, `'${at}.${key}' must be a string.`);
  return value;
}

/** An optional number within [min, max]; undefined when absent. */
export function numberIn(obj: JsonObject, key: string, min: number, max: number) {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !(value >= min && value <= max)) {
    throw invalid(key, `'${key}' must be a number from ${min} to ${max}.`);
  }
  return value;
}
