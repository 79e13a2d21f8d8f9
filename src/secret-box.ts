import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Keeps target secrets encrypted at rest with AES-256-GCM. The first of `secretKeys` encrypts,
 * every key decrypts, so keys rotate by putting a new one first. Without keys, secrets are stored
 * as they are (the relay warns at startup and keeps the data file at mode 0600).
 *
 * Stored forms: `plain:<secret>` or `aes256gcm:<key id>:<base64url of iv | tag | ciphertext>`.
 */
export class SecretBox {
  private readonly keys: Array<{ id: string; key: Buffer }>;

  constructor(secretKeys: readonly string[]) {
    this.keys = secretKeys.map((text) => {
      const key = Buffer.from(hkdfSync('sha256', text, 'hookrelay', 'target secrets', 32));
      const id = createHash('sha256').update(key).digest('hex').slice(0, 8);
      return { id, key };
    });
  }

  get encrypts(): boolean {
    return this.keys.length > 0;
  }

  seal(secret: string): string {
    const first = this.keys[0];
    if (first === undefined) return `plain:${secret}`;

    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', first.key, iv);
    const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return `aes256gcm:${first.id}:${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url')}`;
  }

  /** The secret, or null when no configured key opens it (the key was removed from config). */
  open(stored: string): string | null {
    if (stored.startsWith('plain:')) return stored.slice('plain:'.length);

    const [scheme, id, payload] = stored.split(':');
    const entry = this.keys.find((candidate) => candidate.id === id);
    if (scheme !== 'aes256gcm' || entry === undefined || payload === undefined) return null;

    const bytes = Buffer.from(payload, 'base64url');
    try {
      const decipher = createDecipheriv('aes-256-gcm', entry.key, bytes.subarray(0, 12));
      decipher.setAuthTag(bytes.subarray(12, 28));
      const opened = Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]);
      return opened.toString('utf8');
    } catch {
      return null;
    }
  }
}
