import { ConfigError } from '../config';
import { createLogger } from '../logger';

export interface Stoppable {
  stop(): Promise<void>;
}

/**
 * The shape of every `main.ts`: start, then on SIGTERM/SIGINT stop taking work, let in-flight work
 * finish, close connections and exit 0. A configuration error names the setting and exits 1.
 */
export function runService(name: string, start: () => Promise<Stoppable>, graceMs = 15_000): void {
  const logger = createLogger(name);
  let stopping = false;
  const started = start().catch((err: unknown) => {
    if (err instanceof ConfigError) {
      console.error(`${name}: ${err.message}`);
    } else {
      logger.error('failed to start', { err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err) });
    }
    process.exit(1);
  });

  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, graceMs).unref();
    void started
      .then((service) => service.stop())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error('error during shutdown', { err: String(err) });
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('unhandledRejection', (reason) => logger.error('unhandled rejection', { err: String(reason) }));
}
