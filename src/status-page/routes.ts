import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Route } from '../admin-api.js';
import { PAGE_HTML } from './markup.js';
import { PAGE_CSS } from './styles.js';

/**
 * Serves the status page at `GET /`, its stylesheet and its script, without a key: they hold no
 * data and no secret, and the page asks for a key before it reads anything. The script is
 * src/status-page/browser/, bundled by build.mjs into this string at build time.
 */
declare const STATUS_PAGE_SCRIPT: string;

/**
 * Only the relay's own files, and nothing inline: text from the API that slipped into the page as
 * markup could still not run a script. The page may not be framed (clickjacking of its buttons)
 * and forms post nowhere, since the key form is handled by the script.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

interface Asset {
  body: Buffer;
  type: string;
  /** The page itself is never cached; its files are revalidated with their ETag. */
  cache: string;
  etag: string;
}

function asset(text: string, type: string, cache: string): Asset {
  const body = Buffer.from(text);
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  return { body, type, cache, etag };
}

const PAGE = asset(PAGE_HTML, 'text/html; charset=utf-8', 'no-store');
const STYLES = asset(PAGE_CSS, 'text/css; charset=utf-8', 'no-cache');
const SCRIPT = asset(STATUS_PAGE_SCRIPT, 'text/javascript; charset=utf-8', 'no-cache');

const FILES: Array<[RegExp, Asset]> = [
  [/^\/$/, PAGE],
  [/^\/status-page\.css$/, STYLES],
  [/^\/status-page\.js$/, SCRIPT],
];

/**
 * HEAD as well as GET (RFC 9110, section 9.3.2), so a monitor can check that the page is there
 * without loading it; Node sends no body in answer to a HEAD.
 */
export const statusPageRoutes: Route[] = FILES.flatMap(([pattern, file]) =>
  ['GET', 'HEAD'].map((method) => ({ method, pattern, handle: serving(file) })),
);

function serving(file: Asset): Route['handle'] {
  return async (_context, request: IncomingMessage, response: ServerResponse) => {
    const headers = { ...SECURITY_HEADERS, 'Cache-Control': file.cache, ETag: file.etag };
    if (file.cache !== 'no-store' && request.headers['if-none-match'] === file.etag) {
      response.writeHead(304, headers);
      response.end();
      return;
    }
    response.writeHead(200, {
      ...headers,
      'Content-Type': file.type,
      'Content-Length': file.body.length,
    });
    response.end(file.body);
  };
}
