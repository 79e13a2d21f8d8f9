import { closeSync, fdatasync, mkdtempSync, openSync, rmSync, write } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listenLocal } from './common.js';

/**
 * What durability costs at all on this machine, for context beside the ingest ceiling: a bare
 * node:http server that parses each body and appends it to a file, the requests in flight
 * together with one write and one fdatasync, and answers 202 once that sync is done. It checks
 * no signature and keeps no state, so the relay can at best match it. Prints {"url"}.
 */

interface Waiting {
  line: string;
  response: ServerResponse;
}

const folder = mkdtempSync(join(tmpdir(), 'hookrelay-batched-'));
const fd = openSync(join(folder, 'events.jsonl'), 'a');
let queue: Waiting[] = [];
let writing = false;

function flush(): void {
  if (writing || queue.length === 0) return;
  writing = true;
  const batch = queue;
  queue = [];
  write(fd, Buffer.from(batch.map((waiting) => waiting.line).join('')), (error) => {
    if (error) throw error;
    fdatasync(fd, (syncError) => {
      if (syncError) throw syncError;
      writing = false;
      for (const { response } of batch) {
        response.writeHead(202, { 'Content-Type': 'application/json' });
        response.end('{"accepted":true}');
      }
      flush();
    });
  });
}

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const text = Buffer.concat(chunks).toString('utf8');
    JSON.parse(text);
    queue.push({ line: `${JSON.stringify({ body: text })}\n`, response });
    flush();
  });
});

const url = await listenLocal(server);
process.stdout.write(`${JSON.stringify({ url })}\n`);
process.on('SIGTERM', () => {
  closeSync(fd);
  rmSync(folder, { recursive: true, force: true });
  process.exit(0);
});
