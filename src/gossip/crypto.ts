import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

// memberlist's AES-GCM (gossip-protocol.md §5): version byte 1, 12-byte random nonce, the
// ciphertext, a 16-byte tag. UDP has no frame around it and no AAD; a TCP stream message is
// framed `0a | len:u32` and those five bytes are the AAD. The primary key encrypts; every
// installed key is tried to decrypt.

export const ENCRYPT_VERSION = 1;
const NONCE = 12;
const TAG = 16;
export const ENCRYPT_OVERHEAD = 1 + NONCE + TAG;
const STREAM_TYPE_ENCRYPT = 10;
/** memberlist refuses encrypted stream frames larger than this. */
export const MAX_STREAM_FRAME = 20 * 1024 * 1024;

export class CryptoError extends Error {}

function algorithm(key: Uint8Array): "aes-128-gcm" | "aes-192-gcm" | "aes-256-gcm" {
  if (key.length === 16) return "aes-128-gcm";
  if (key.length === 24) return "aes-192-gcm";
  if (key.length === 32) return "aes-256-gcm";
  throw new CryptoError(`invalid key size ${key.length}: must be 16, 24 or 32 bytes`);
}

function seal(key: Uint8Array, plain: Uint8Array, aad: Uint8Array, nonce: Uint8Array): Uint8Array {
  const cipher = createCipheriv(algorithm(key), key, nonce);
  if (aad.length > 0) cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([Buffer.from([ENCRYPT_VERSION]), nonce, body, cipher.getAuthTag()]);
}

function open(keys: Uint8Array[], sealed: Uint8Array, aad: Uint8Array): Uint8Array {
  if (sealed.length < ENCRYPT_OVERHEAD) throw new CryptoError("Payload is too small to decrypt");
  if (sealed[0] !== ENCRYPT_VERSION) throw new CryptoError(`Unsupported encryption version ${sealed[0]}`);
  const nonce = sealed.subarray(1, 1 + NONCE);
  const body = sealed.subarray(1 + NONCE, sealed.length - TAG);
  const tag = sealed.subarray(sealed.length - TAG);
  for (const key of keys) {
    try {
      const decipher = createDecipheriv(algorithm(key), key, nonce);
      if (aad.length > 0) decipher.setAAD(aad);
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]);
    } catch {
      // next key
    }
  }
  throw new CryptoError("No installed keys could decrypt the message");
}

/** A UDP packet: `1 | nonce | ciphertext | tag`. `nonce` is for tests; real use draws it. */
export function encryptPacket(key: Uint8Array, plain: Uint8Array, nonce: Uint8Array = randomBytes(NONCE)): Uint8Array {
  return seal(key, plain, new Uint8Array(0), nonce);
}

export function decryptPacket(keys: Uint8Array[], packet: Uint8Array): Uint8Array {
  return open(keys, packet, new Uint8Array(0));
}

/** A stream frame: `0a | len:u32 | 1 | nonce | ciphertext | tag`, the first five bytes as AAD. */
export function encryptStream(key: Uint8Array, plain: Uint8Array, nonce: Uint8Array = randomBytes(NONCE)): Uint8Array {
  const head = new Uint8Array(5);
  head[0] = STREAM_TYPE_ENCRYPT;
  new DataView(head.buffer).setUint32(1, plain.length + ENCRYPT_OVERHEAD);
  return Buffer.concat([head, seal(key, plain, head, nonce)]);
}

/** Opens one stream frame (the whole frame, header included). */
export function decryptStream(keys: Uint8Array[], frame: Uint8Array): Uint8Array {
  if (frame.length < 5 || frame[0] !== STREAM_TYPE_ENCRYPT) throw new CryptoError("not an encrypted stream frame");
  const len = new DataView(frame.buffer, frame.byteOffset).getUint32(1);
  if (len > MAX_STREAM_FRAME) throw new CryptoError(`Remote message is larger than the ${MAX_STREAM_FRAME} byte limit`);
  if (frame.length !== 5 + len) throw new CryptoError("truncated encrypted stream frame");
  return open(keys, frame.subarray(5), frame.subarray(0, 5));
}
