import http from 'node:http';
import net from 'node:net';
import { listen } from '../src';

test('a port that is taken rejects with a message naming the process, the port and what to do', async () => {
  const holder = net.createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => holder.once('listening', resolve));
  const { port } = holder.address() as net.AddressInfo;
  try {
    const server = http.createServer();
    await expect(listen(server, port, '127.0.0.1', 'api-gateway (PORT)')).rejects.toThrow(`api-gateway (PORT): port ${port} on 127.0.0.1 is already in use`);
    expect(server.listening).toBe(false);
  } finally {
    holder.close();
  }
});

test('a free port resolves with the listening server', async () => {
  const server = await listen(http.createServer(), 0, '127.0.0.1', 'test');
  try {
    expect(server.listening).toBe(true);
  } finally {
    server.close();
  }
});
