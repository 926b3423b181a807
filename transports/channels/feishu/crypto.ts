/**
 * Feishu/Lark event-subscription crypto.
 *
 *   encrypted body  {"encrypt":"<base64>"}
 *   base64 decode ─► [ IV: 16 bytes | AES-256-CBC ciphertext, PKCS#7 ]
 *   key = sha256(encryptKey)
 *
 *   X-Lark-Signature = hex sha256(X-Lark-Request-Timestamp + X-Lark-Request-Nonce + encryptKey + raw body)
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

function keyOf(encryptKey: string): Buffer {
  return createHash('sha256').update(encryptKey).digest();
}

/** Decrypts an `encrypt` field; undefined when it is not a valid ciphertext for this key. */
export function decryptFeishu(encryptKey: string, encrypted: string): string | undefined {
  const data = Buffer.from(encrypted, 'base64');
  if (data.length < 32 || data.length % 16 !== 0) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-cbc', keyOf(encryptKey), data.subarray(0, 16));
    return Buffer.concat([decipher.update(data.subarray(16)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

/** Encrypts as the platform does (used by the fake and the tests). */
export function encryptFeishu(encryptKey: string, plain: string): string {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', keyOf(encryptKey), iv);
  return Buffer.concat([iv, cipher.update(plain, 'utf8'), cipher.final()]).toString('base64');
}

export function signFeishu(timestamp: string, nonce: string, encryptKey: string, rawBody: Buffer | string): string {
  return createHash('sha256').update(timestamp + nonce + encryptKey).update(rawBody).digest('hex');
}
