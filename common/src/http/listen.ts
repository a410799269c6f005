import http from 'node:http';

/**
 * Starts `server` on host:port. A port that is taken (or not allowed) rejects with a message naming
 * it and what to do, instead of a process that reports "listening" on a port another one answers.
 */
export function listen(server: http.Server, port: number, host: string, what: string): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE') reject(new Error(`${what}: port ${port} on ${host} is already in use. Stop what holds it (another market stack?) or choose another port.`));
      else if (err.code === 'EACCES') reject(new Error(`${what}: not allowed to listen on port ${port} on ${host}. Choose a port above 1023.`));
      else reject(err);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve(server);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/** An Express app (any request listener) on host:port, as `listen` does it. */
export function listenApp(app: http.RequestListener, port: number, host: string, what: string): Promise<http.Server> {
  return listen(http.createServer(app), port, host, what);
}
