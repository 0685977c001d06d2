/**
 * A TCP relay between one device and the server: the network a phone has.
 * It can drop the device's connections, keep it offline, and deliver what
 * the server sends late and bunched together, as a congested link does.
 */
import { createServer, connect, type Server, type Socket } from "node:net";

export class NetProxy {
  private readonly server: Server;
  private readonly links = new Set<{ client: Socket; upstream: Socket }>();
  private offline = false;
  private bunching?: { match: (text: string) => boolean; holdMs: number; onMatch: () => void };
  readonly base: string;

  private constructor(server: Server, port: number, targetPort: number) {
    this.server = server;
    this.base = `http://127.0.0.1:${port}`;
    server.on("connection", (client) => this.relay(client, targetPort));
  }

  /** Listens on a free port and relays to the server at `targetPort`. */
  static async start(targetPort: number): Promise<NetProxy> {
    const server = createServer();
    const port = await new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port));
    });
    return new NetProxy(server, port, targetPort);
  }

  /** Drops every open connection, as a lost signal does; new ones are let through unless offline. */
  cut(): void {
    for (const { client, upstream } of this.links) {
      client.destroy();
      upstream.destroy();
    }
    this.links.clear();
  }

  /** Offline: connections are dropped and new ones refused until `setOffline(false)`. */
  setOffline(offline: boolean): void {
    this.offline = offline;
    if (offline) this.cut();
  }

  /**
   * The next server chunk whose text satisfies `match` is held for `holdMs`
   * with whatever follows it, then delivered in one write; `onMatch` runs
   * when it is caught.
   */
  bunchAfter(match: (text: string) => boolean, holdMs: number, onMatch: () => void): void {
    this.bunching = { match, holdMs, onMatch };
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(client: Socket, targetPort: number): void {
    if (this.offline) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, "127.0.0.1");
    const link = { client, upstream };
    this.links.add(link);
    const end = () => {
      this.links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    // The upgrade goes out without compression offers, so the relay can read what the server sends.
    client.once("data", (head: Buffer) => {
      upstream.write(head.toString("latin1").replace(/\r\nSec-WebSocket-Extensions:[^\r]*/i, ""), "latin1");
      client.pipe(upstream);
    });
    let held: Buffer[] | undefined;
    upstream.on("data", (chunk: Buffer) => {
      if (held) {
        held.push(chunk);
        return;
      }
      const bunching = this.bunching;
      if (bunching && bunching.match(chunk.toString("latin1"))) {
        this.bunching = undefined;
        held = [chunk];
        setTimeout(() => {
          if (!client.destroyed) client.write(Buffer.concat(held!));
          held = undefined;
        }, bunching.holdMs);
        bunching.onMatch();
        return;
      }
      client.write(chunk);
    });
  }
}
