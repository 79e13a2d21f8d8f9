import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ApiKeyConfig, Scope } from './defaults.js';
import { HttpError } from './errors.js';
import { headerValue } from './http-io.js';

/**
 * API keys, as Tiled takes them: `Authorization: Apikey <key>` or `?api_key=<key>`. Only
 * SHA-256 digests of the keys are kept; the presented key is hashed too and compared with
 * timingSafeEqual on two 32-byte digests, so a wrong key of any length costs the same.
 */
export class ApiKeys {
  private readonly keys: Array<{ digest: Buffer; scopes: ReadonlySet<Scope> }>;

  constructor(keys: readonly ApiKeyConfig[]) {
    this.keys = keys.map((entry) => ({ digest: digest(entry.key), scopes: new Set(entry.scopes) }));
  }

  get count(): number {
    return this.keys.length;
  }

  /** Throws 401 unless the request carries a key with `scope`; every failure looks the same. */
  require(request: IncomingMessage, url: URL, scope: Scope): void {
    const presented = presentedKey(request, url);
    if (presented !== null) {
      const wanted = digest(presented);
      let granted = false;
      // Every key is compared, so the time taken does not tell which one matched.
      for (const key of this.keys) {
        if (timingSafeEqual(key.digest, wanted) && key.scopes.has(scope)) granted = true;
      }
      if (granted) return;
    }
    throw new HttpError(
      'unauthorized',
      `Not enough permissions. Requires scopes ['${scope}']: send "Authorization: Apikey <key>" ` +
        'with a key that has this scope.',
      { 'WWW-Authenticate': `Apikey scope="${scope}"` },
    );
  }
}

function presentedKey(request: IncomingMessage, url: URL): string | null {
  const header = headerValue(request, 'authorization');
  if (header !== undefined) {
    const match = /^apikey +(\S+)$/i.exec(header.trim());
    return match?.[1] ?? null;
  }
  return url.searchParams.get('api_key');
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}
