// The /metrics endpoint: a plain node:http server on the one configured address. Nothing else
// is served; a bind failure is reported against the config line that asked for it.
import { createServer, type Server } from 'node:http';
import { ConfigError } from '../errors.js';
import type { ListenAddress } from './listen-address.js';

/** `[pban] metrics` as the config read it, with where it was written for messages. */
export interface MetricsConfig {
  readonly listen: ListenAddress;
  readonly file: string;
  readonly line: number | undefined;
}

export interface Scrape {
  readonly contentType: string;
  text(): Promise<string>;
}

const WHY: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'no interface of this host has that address',
  EACCES: 'permission denied',
};

function handler(scrape: Scrape, onError: (err: unknown) => void): Parameters<typeof createServer>[1] {
  return (req, res) => {
    const url = (req.url ?? '').split('?')[0];
    if (url !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('pban serves only /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('use GET\n');
      return;
    }
    scrape.text().then(
      (body) => {
        res.writeHead(200, { 'content-type': scrape.contentType, 'content-length': Buffer.byteLength(body) });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => {
        onError(err);
        res.writeHead(500, { 'content-type': 'text/plain' }).end('collecting metrics failed\n');
      },
    );
  };
}

/** Listens on exactly `cfg.listen`. A failure is a ConfigError naming the file and line of the key. */
export async function listenMetrics(cfg: MetricsConfig, scrape: Scrape, onError: (err: unknown) => void): Promise<Server> {
  const server = createServer(handler(scrape, onError));
  // A scraper that connects and says nothing must not hold a socket for long.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: cfg.listen.host, port: cfg.listen.port, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((err: NodeJS.ErrnoException) => {
    server.close();
    const why = (err.code !== undefined ? WHY[err.code] : undefined) ?? err.message;
    throw new ConfigError('metrics.listen', cfg.file, cfg.line, `pban.metrics: cannot listen on ${cfg.listen.text}: ${why}`, { cause: err });
  });
  server.on('error', onError);
  return server;
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
