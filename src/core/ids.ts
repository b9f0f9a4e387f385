import { randomBytes } from 'node:crypto';

/** Ids come from here so tests can make them deterministic. */
export interface IdGenerator {
  /** A new id with the given prefix, e.g. `ws_…`, `act_…`. Time-ordered, so rows sort by creation. */
  next(prefix: string): string;
}

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case

function base32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

/** 48 bits of milliseconds then 80 random bits, ULID-style. */
export function createIdGenerator(now: () => number = Date.now): IdGenerator {
  return {
    next(prefix) {
      const bytes = randomBytes(16);
      let ms = now();
      for (let i = 5; i >= 0; i--) {
        bytes[i] = ms % 256;
        ms = Math.floor(ms / 256);
      }
      return `${prefix}_${base32(bytes)}`;
    },
  };
}
