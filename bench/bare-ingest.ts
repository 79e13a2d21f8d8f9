import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The ingest ceiling: a bare node:http server that reads the body, JSON.parse-s it and answers
 * 202, keeping nothing. Prints {"url"} when it listens.
 */
const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    JSON.parse(Buffer.concat(chunks).toString('utf8'));
    response.writeHead(202, { 'Content-Type': 'application/json' });
    response.end('{"accepted":true}');
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(
    `${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`,
  );
});
process.on('SIGTERM', () => process.exit(0));
