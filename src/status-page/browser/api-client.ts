/**
 * Calls the relay's API with the operator's key, as `Authorization: Apikey <key>` (never in the
 * query string, where it would reach access logs). Paths are relative to the page, so the page
 * keeps working when a proxy serves the relay under a prefix such as `/relay/`.
 */

/** An answer other than 2xx, with the relay's `detail` and `code` when it sent them. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | null,
    detail: string,
  ) {
    super(detail);
    this.name = 'ApiError';
  }
}

/** Reads an error answer: the relay's JSON `{detail, code}`, or what its status says. */
export function apiError(status: number, statusText: string, bodyText: string): ApiError {
  let detail: string | null = null;
  let code: string | null = null;
  try {
    const body = JSON.parse(bodyText) as { detail?: unknown; code?: unknown };
    if (typeof body.detail === 'string') detail = body.detail;
    if (typeof body.code === 'string') code = body.code;
  } catch {
    // Not the relay's JSON: a proxy in front of it answered. The status says enough.
  }
  return new ApiError(status, code, detail ?? `the relay answered ${status} ${statusText}`.trim());
}

/** One line for the page: the detail, then the status and code it came with. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const answer = error.code === null ? `${error.status}` : `${error.status} ${error.code}`;
    return `${error.message} (${answer})`;
  }
  // fetch rejects with a TypeError when the relay cannot be reached at all.
  const reason = error instanceof Error ? error.message : String(error);
  return `the relay could not be reached (${reason})`;
}

export type Fetcher = (input: string, init: RequestInit) => Promise<Response>;

export class ApiClient {
  constructor(
    private readonly key: string,
    private readonly base: string,
    private readonly fetcher: Fetcher = (input, init) => fetch(input, init),
  ) {}

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  send<T>(method: 'POST' | 'PATCH', path: string, body: unknown = {}): Promise<T> {
    return this.request<T>(method, path, body);
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Authorization: `Apikey ${this.key}` };
    const init: RequestInit = { method, headers };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }

    const response = await this.fetcher(new URL(path, this.base).href, init);
    const text = await response.text();
    if (!response.ok) throw apiError(response.status, response.statusText, text);
    return JSON.parse(text) as T;
  }
}
