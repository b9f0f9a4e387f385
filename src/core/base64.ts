import { CodeBuddyError } from './errors.js';

/** How many bytes base64 text decodes to, counted without decoding it: a huge one is refused before its bytes are allocated. */
export function base64ByteLength(encoded: string): number {
  return Math.floor((encoded.length * 3) / 4) - (encoded.endsWith('==') ? 2 : encoded.endsWith('=') ? 1 : 0);
}

/**
 * The bytes of base64 text (standard alphabet, padded, as `Buffer#toString('base64')` writes
 * it), or E_INVALID_ARGUMENT naming `field`. `Buffer.from(text, 'base64')` alone skips
 * anything it does not understand, so the bytes are encoded again and must give back the
 * text. Linear, unlike a regex over the whole text (V8 overflows its stack on a few MB).
 */
export function decodeBase64(encoded: string, field: string): Buffer {
  const data = Buffer.from(encoded, 'base64');
  if (data.toString('base64') !== encoded) throw new CodeBuddyError('E_INVALID_ARGUMENT', `${field} is not base64 (standard alphabet, padded)`, { field });
  return data;
}
