import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { base64ByteLength, decodeBase64 } from '../../src/core/base64.js';
import { CodeBuddyError } from '../../src/core/errors.js';

describe('base64 content', () => {
  it('decodes megabytes in linear time (the regex it replaces overflowed V8’s stack at about 3 MB)', () => {
    const bytes = randomBytes(12 * 1024 * 1024);
    const encoded = bytes.toString('base64');
    expect(base64ByteLength(encoded)).toBe(bytes.length);
    expect(decodeBase64(encoded, 'content').equals(bytes)).toBe(true);
    expect(() => decodeBase64(`${encoded.slice(0, -4)}!!!!`, 'content')).toThrow(CodeBuddyError);
  });

  it('takes only the standard padded alphabet, and names the field it refuses', () => {
    for (const [encoded, size] of [['', 0], ['QQ==', 1], ['QUI=', 2], ['QUJD', 3], ['+/+/', 3]] as const) {
      expect(decodeBase64(encoded, 'content').length).toBe(size);
      expect(base64ByteLength(encoded)).toBe(size);
    }
    for (const encoded of ['QQ', 'QQ=', 'QR==', 'QU JD', 'QUJD\n', '-_-_', 'QUJD====', '====']) {
      let refusal: unknown;
      try {
        decodeBase64(encoded, 'content_base64');
      } catch (error) {
        refusal = error;
      }
      expect({ encoded, refusal }).toEqual({ encoded, refusal: new CodeBuddyError('E_INVALID_ARGUMENT', 'content_base64 is not base64 (standard alphabet, padded)', { field: 'content_base64' }) });
    }
  });
});
