import net, { type LookupFunction, type Socket } from 'node:net';
import tls from 'node:tls';
import { BlockedAddressError } from './dial-guard.js';
import { judgeTargetAddress, refusalReason, type UrlPolicy } from './target-url.js';

/**
 * Keep-alive connections to targets, one pool per origin, newest idle connection first (so
 * that a quiet period lets the older ones time out). Every connection's peer is judged against
 * the address policy before a byte of a request goes out on it: once when it connects, and again
 * when it is reused under a policy that a config reload has changed since.
 */

/** What a connection tells the attempt that is using it. */
export interface Exchange {
  /** The connection may carry the request now (it connected, its peer is allowed). */
  ready(): void;
  receive(chunk: Buffer): void;
  /** The connection closed; `error` says why when it failed. */
  closed(error: Error | undefined): void;
}

/** Where a target's connections go, as its URL says. */
export interface Origin {
  /** `http://host:port`, the pool's key. */
  key: string;
  secure: boolean;
  /** The host to dial (no brackets around an IPv6 literal) and the one judged by the policy. */
  hostname: string;
  port: number;
}

/**
 * Idle connections kept over all origins (node:http's agent kept up to 1024 per origin, without
 * a bound on their sum); past it the longest idle one is closed.
 */
const MAX_IDLE_CONNECTIONS = 1024;
/** TCP keep-alive probes start after this long idle, as node:http's agent does. */
const TCP_KEEP_ALIVE_MS = 1_000;
/** Reuse stops this long before the end of the idle time a receiver announced (as node:http). */
const KEEP_ALIVE_MARGIN_MS = 1_000;

export class Connection {
  /** The attempt using the connection; null while it is idle in the pool. */
  exchange: Exchange | null = null;
  /** The policy the peer was last found allowed under; null until it connected. */
  judgedUnder: UrlPolicy | null = null;
  /** After this time (clock milliseconds) an idle connection is no longer reused. */
  reuseUntil = Infinity;
  private failure: Error | undefined;

  constructor(
    readonly socket: Socket,
    readonly origin: Origin,
    private readonly pool: ConnectionPool,
  ) {
    socket.on('data', (chunk: Buffer) => {
      // An idle connection has nothing to say: bytes now mean it cannot be trusted.
      if (this.exchange === null) socket.destroy();
      else this.exchange.receive(chunk);
    });
    socket.on('error', (error: Error) => (this.failure ??= error));
    socket.on('close', () => {
      this.pool.forget(this);
      const exchange = this.exchange;
      this.exchange = null;
      exchange?.closed(this.failure);
    });
  }

  /** True when the peer is allowed under `policy`; judged again only when the policy changed. */
  allowedUnder(policy: UrlPolicy): boolean {
    if (this.judgedUnder === policy) return true;
    const address = this.socket.remoteAddress;
    if (address === undefined) return false;
    const host = this.origin.hostname;
    const verdict = judgeTargetAddress(policy, host, address);
    if (!verdict.allowed) {
      this.socket.destroy(new BlockedAddressError(refusalReason(host, address, verdict)));
      return false;
    }
    this.judgedUnder = policy;
    return true;
  }

  /**
   * False once the socket is destroyed or its peer has ended it, which may be some time before
   * its 'close' event takes it out of the pool.
   */
  get usable(): boolean {
    return !this.socket.destroyed && this.socket.writable && !this.socket.readableEnded;
  }

  destroy(error?: Error): void {
    this.socket.destroy(error);
  }
}

export interface PoolOptions {
  /** Added to every TLS connection's options; tests trust their own certificate with `ca`. */
  tls?: tls.ConnectionOptions;
  /** Idle connections kept over all origins. */
  maxIdle?: number;
}

export class ConnectionPool {
  private readonly tlsOptions: tls.ConnectionOptions;
  private readonly maxIdle: number;

  /**
   * `policy` is the address policy connections are held to; a config reload replaces it, and
   * from then on it holds for connections still being made too. Certificates are verified as
   * tls.connect does by default.
   */
  constructor(
    public policy: UrlPolicy,
    options: PoolOptions = {},
  ) {
    this.tlsOptions = options.tls ?? {};
    this.maxIdle = options.maxIdle ?? MAX_IDLE_CONNECTIONS;
  }

  private readonly idle = new Map<string, Connection[]>();
  /** The idle connections of every origin, longest idle first. */
  private readonly idleOrder = new Set<Connection>();
  /** Every open connection, idle or in use, so that closing the pool can end them all. */
  private readonly open = new Set<Connection>();
  /** Set once the pool is closed: an attempt cut off then is not sent again. */
  closed = false;

  /** An idle connection to `origin` that may be reused now under the policy, if there is one. */
  take(origin: Origin, now: number): Connection | undefined {
    const idle = this.idle.get(origin.key);
    if (idle === undefined) return undefined;
    for (let connection = idle.pop(); connection !== undefined; connection = idle.pop()) {
      this.idleOrder.delete(connection);
      if (connection.reuseUntil <= now || !connection.usable) {
        connection.destroy();
        continue;
      }
      if (!connection.allowedUnder(this.policy)) continue;
      connection.socket.ref();
      return connection;
    }
    return undefined;
  }

  /**
   * Opens a connection for `exchange`. Host names are resolved through `lookup`, which keeps
   * only allowed addresses; the address reached is judged again before the exchange is told
   * that it may write.
   */
  connect(origin: Origin, lookup: LookupFunction, exchange: Exchange): Connection {
    const options = { host: origin.hostname, port: origin.port, lookup, noDelay: true };
    // SNI carries host names only (RFC 6066, 3); an IP literal is checked against the certificate.
    const servername = net.isIP(origin.hostname) === 0 ? { servername: origin.hostname } : {};
    const socket = origin.secure
      ? tls.connect({ ...this.tlsOptions, ...options, ...servername })
      : net.connect(options);
    const connection = new Connection(socket, origin, this);
    connection.exchange = exchange;
    this.open.add(connection);
    socket.setKeepAlive(true, TCP_KEEP_ALIVE_MS);
    // Put before tls.connect's own listener, which writes the ClientHello: a peer is judged
    // before it is sent a byte, TLS handshake included. Judged under the policy of now, not of
    // when the attempt began: a reload may have tightened it while the name was resolved.
    socket.prependOnceListener('connect', () => {
      if (!connection.allowedUnder(this.policy)) return;
      if (!origin.secure) connection.exchange?.ready();
    });
    if (origin.secure) socket.once('secureConnect', () => connection.exchange?.ready());
    return connection;
  }

  /**
   * Keeps a connection whose answer ended cleanly for the next request to its origin.
   * `keepAliveSeconds` is the idle time the receiver announced in its `Keep-Alive` header.
   */
  release(connection: Connection, now: number, keepAliveSeconds: number | undefined): void {
    connection.exchange = null;
    connection.reuseUntil =
      keepAliveSeconds === undefined
        ? Infinity
        : now + keepAliveSeconds * 1000 - KEEP_ALIVE_MARGIN_MS;
    if (!connection.usable || connection.reuseUntil <= now) {
      connection.destroy();
      return;
    }

    const [longestIdle] = this.idleOrder;
    if (longestIdle !== undefined && this.idleOrder.size >= this.maxIdle) {
      this.removeIdle(longestIdle);
      longestIdle.destroy();
    }
    let idle = this.idle.get(connection.origin.key);
    if (idle === undefined) {
      idle = [];
      this.idle.set(connection.origin.key, idle);
    }
    // An idle connection does not keep the process alive.
    connection.socket.unref();
    idle.push(connection);
    this.idleOrder.add(connection);
  }

  /** Drops a closed connection from the pool. */
  forget(connection: Connection): void {
    this.open.delete(connection);
    this.removeIdle(connection);
  }

  private removeIdle(connection: Connection): void {
    this.idleOrder.delete(connection);
    const idle = this.idle.get(connection.origin.key);
    if (idle === undefined) return;
    const index = idle.lastIndexOf(connection);
    if (index !== -1) idle.splice(index, 1);
    if (idle.length === 0) this.idle.delete(connection.origin.key);
  }

  /** Closes every connection, idle or in use; an attempt under way ends as failed. */
  destroyAll(): void {
    this.closed = true;
    for (const connection of [...this.open]) connection.destroy();
    this.idle.clear();
    this.idleOrder.clear();
  }
}
