// Ed25519 keys and signed statements (identity tokens, approvals, audit checkpoints), with
// node:crypto only. A statement is `edsig1.<payload>.<signature>`, both base64url: the payload is
// canonical JSON (keys sorted), so what is signed is exactly what is read back.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CodedError } from '../util/coded-error.js';
import { stableStringify } from '../model/hash.js';
import { secretFileProblem } from './files.js';

const PREFIX = 'edsig1';

export interface KeyPairPem {
  privatePem: string;
  publicPem: string;
}

export function generateKeyPair(): KeyPairPem {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** A short, stable name for a public key: the first 16 hex digits of the sha256 of its DER. */
export function keyId(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

/** A private key from a PEM file that only its owner can read (refused otherwise). */
export function loadPrivateKey(file: string): KeyObject {
  const problem = secretFileProblem(file);
  if (problem) throw new CodedError('E_KEY', `${file}: ${problem}`);
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(file));
  } catch (error) {
    throw new CodedError('E_KEY', `${file}: not a private key in PEM form (${(error as Error).message})`, {
      details: ['Make one with `exec-doc keygen <name>`.'],
    });
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new CodedError('E_KEY', `${file}: an ${key.asymmetricKeyType} key, expected an Ed25519 key`);
  return key;
}

export function loadPublicKey(file: string): KeyObject {
  let text: Buffer;
  try {
    text = readFileSync(file);
  } catch (error) {
    throw new CodedError(
      'E_KEY',
      `${file}: cannot read the public key (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  let key: KeyObject;
  try {
    key = createPublicKey(text);
  } catch (error) {
    throw new CodedError('E_KEY', `${file}: not a public key in PEM form (${(error as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new CodedError('E_KEY', `${file}: an ${key.asymmetricKeyType} key, expected an Ed25519 key`);
  return key;
}

const b64 = (data: Buffer | string) => Buffer.from(data).toString('base64url');

export function signStatement(payload: Record<string, unknown>, key: KeyObject): string {
  const body = b64(stableStringify(payload));
  const signature = sign(null, Buffer.from(`${PREFIX}.${body}`), key);
  return `${PREFIX}.${body}.${b64(signature)}`;
}

/** The payload of a statement, unverified (to find out who claims to have signed it). */
export function readStatement(token: string): Record<string, unknown> {
  const parts = token.trim().split('.');
  if (
    parts.length !== 3 ||
    parts[0] !== PREFIX ||
    !/^[A-Za-z0-9_-]+$/.test(parts[1]!) ||
    !/^[A-Za-z0-9_-]+$/.test(parts[2]!)
  )
    throw new CodedError('E_TOKEN', `not a signed statement (expected ${PREFIX}.<payload>.<signature>)`);
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch {
    throw new CodedError('E_TOKEN', "the statement's payload is not JSON");
  }
  if (!payload || typeof payload !== 'object' || Array.isArray(payload))
    throw new CodedError('E_TOKEN', "the statement's payload is not an object");
  // Only the canonical form is accepted: one payload has one encoding, and so has a signature
  // (base64 leaves spare bits in its last character; a changed spare bit is another token).
  if (b64(Buffer.from(parts[2]!, 'base64url')) !== parts[2])
    throw new CodedError('E_TOKEN', 'the signature is not in canonical form');
  if (b64(stableStringify(payload)) !== parts[1])
    throw new CodedError('E_TOKEN', 'the statement is not in canonical form');
  return payload as Record<string, unknown>;
}

/** The payload when `key` signed it; throws E_TOKEN otherwise. */
export function verifyStatement(token: string, key: KeyObject): Record<string, unknown> {
  const payload = readStatement(token);
  const [prefix, body, signature] = token.trim().split('.') as [string, string, string];
  const ok = verify(null, Buffer.from(`${prefix}.${body}`), key, Buffer.from(signature, 'base64url'));
  if (!ok) throw new CodedError('E_TOKEN', 'the signature does not match the payload and the trusted key');
  return payload;
}
