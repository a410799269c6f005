// What every baseline process shares: listen on PORT, and on SIGTERM/SIGINT stop accepting,
// run the baseline's own cleanup, and exit 0 — the same shutdown shape as the project's services,
// so bench/run.mjs stops baselines and services the same way.

/** Starts `app` on `port`; `onStop` (optional) runs after the server closed, before exit. */
export function serve(name, app, port, onStop = async () => {}) {
  const server = app.listen(port, '127.0.0.1', () => console.log(`${name} listening on ${port}`));
  server.on('error', (err) => {
    console.error(`${name}: ${err.message}`);
    process.exit(1);
  });
  onSignal(async () => {
    await new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await onStop();
  });
  return server;
}

/** Runs `stop` once on SIGTERM or SIGINT, then exits (1 when cleanup failed). */
export function onSignal(stop) {
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    stop().then(
      () => process.exit(0),
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

/** Same connection settings the project's own MySQL pools use (common/src/db). */
export function mysqlOptions(database, connectionLimit = 10) {
  const url = new URL(process.env.MYSQL_URL ?? 'mysql://root@localhost:3306');
  return {
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username || 'root'),
    password: decodeURIComponent(url.password),
    ...(database ? { database } : {}),
    timezone: 'Z',
    supportBigNumbers: true,
    connectionLimit,
  };
}
