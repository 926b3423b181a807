import { RedisStoreError } from './errors.js';

/** Longest caller-supplied key segment; keeps Redis keys and memory use bounded. */
export const MAX_KEY_LENGTH = 512;

const PREFIX_PATTERN = /^[A-Za-z0-9:_.{}-]{0,64}$/;

function invalid(message: string): RedisStoreError {
  return new RedisStoreError('INVALID_REQUEST', message);
}

export function requireKey(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_KEY_LENGTH) {
    throw invalid(`${name} must be a non-empty string of at most ${MAX_KEY_LENGTH} characters`);
  }
  return value;
}

export function requirePrefix(value: unknown): string {
  if (typeof value !== 'string' || !PREFIX_PATTERN.test(value)) {
    throw invalid('prefix must match [A-Za-z0-9:_.{}-] and be at most 64 characters');
  }
  return value;
}

export function requirePositiveNumber(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalid(`${name} must be a positive finite number`);
  }
  return value;
}

export function requirePositiveInt(name: string, value: unknown, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || value > max) {
    throw invalid(`${name} must be an integer between 1 and ${max}`);
  }
  return value;
}
