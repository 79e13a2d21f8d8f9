import { sleep, STATUS_API_KEY } from './common.js';

/**
 * What the ingest side says it has taken in: the relay's status endpoint, or the forwarder's,
 * which answers the same path with the same field.
 */

export interface Status {
  events_ingested: number;
  pending_deliveries?: number;
  data_file_bytes?: number;
}

export async function readStatus(url: string): Promise<Status> {
  const response = await fetch(`${url}/api/v1/status`, {
    headers: { Authorization: `Apikey ${STATUS_API_KEY}` },
  });
  if (response.status !== 200) throw new Error(`${url}/api/v1/status answered ${response.status}`);
  return (await response.json()) as Status;
}

/**
 * The count of events taken in once it stops moving. Requests wrk had outstanding when it
 * stopped may still be stored and counted after wrk has returned.
 */
export async function settledEventCount(url: string): Promise<number> {
  let last = (await readStatus(url)).events_ingested;
  for (;;) {
    await sleep(250);
    const now = (await readStatus(url)).events_ingested;
    if (now === last) return now;
    last = now;
  }
}
