import net from 'node:net';

/**
 * A TCP proxy a test opens and cuts, to take a dependency away from one client and give it back
 * without touching the shared server: the broker itself never stops.
 */
export class TcpProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  /** A proxy to `target` on a free local port, not yet listening: a client pointed at it finds nothing there. */
  static async to(target: { host: string; port: number }): Promise<TcpProxy> {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const address = probe.address();
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    if (!address || typeof address === 'string') throw new Error('no local port');
    return new TcpProxy(address.port, target);
  }

  /** The target of an AMQP URL (its first node), with `url`'s credentials pointed at this proxy instead. */
  static async forAmqp(url: string): Promise<{ proxy: TcpProxy; url: string }> {
    const target = new URL(url.split(',')[0] ?? url);
    const proxy = await TcpProxy.to({ host: target.hostname || '127.0.0.1', port: Number(target.port || 5672) });
    const via = new URL(target.toString());
    via.hostname = '127.0.0.1';
    via.port = String(proxy.port);
    return { proxy, url: via.toString() };
  }

  get open(): boolean {
    return this.server !== undefined;
  }

  /** Starts accepting connections and passing them on. */
  async start(): Promise<void> {
    if (this.server) return;
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target);
      for (const [from, to] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        this.sockets.add(from);
        from.pipe(to);
        from.on('error', () => to.destroy());
        from.on('close', () => {
          this.sockets.delete(from);
          to.destroy();
        });
      }
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.server = server;
  }

  /** Drops every connection through it and refuses new ones, as a broker that went away would. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
