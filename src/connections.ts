/**
 * An undici connection pool that can be closed at once, connections still being made
 * included. undici's own destroy() rejects their requests but leaves each socket to its
 * connect timeout, and the socket keeps the process alive that long: after SIGTERM, a
 * registry that takes the connection and never answers TLS's first message held classops
 * for registry.timeout.
 */
import { Socket } from 'node:net';
import { Agent, buildConnector, type Dispatcher } from 'undici';

export interface Connections {
  readonly dispatcher: Dispatcher;
  /** Ends every request and connection, those still connecting too; once, however often it is called. */
  close(): Promise<void>;
}

export function openConnections(options: Omit<Agent.Options, 'connect'>, connectTimeoutMs: number): Connections {
  const connecting = new Set<Socket>();
  const connector = buildConnector({ timeout: connectTimeoutMs });
  const connect: buildConnector.connector = (target, callback) => {
    // The connector returns the socket it is connecting (its type says void): kept until it is done.
    const attempt: { socket?: unknown; done?: boolean } = {};
    attempt.socket = connector(target, (...args) => {
      attempt.done = true;
      if (attempt.socket instanceof Socket) connecting.delete(attempt.socket);
      callback(...args);
    });
    if (attempt.done !== true && attempt.socket instanceof Socket) connecting.add(attempt.socket);
  };
  const agent = new Agent({ ...options, connect });
  let closed: Promise<void> | undefined;
  return {
    dispatcher: agent,
    close() {
      closed ??= (() => {
        for (const socket of connecting) socket.destroy();
        connecting.clear();
        return agent.destroy();
      })();
      return closed;
    },
  };
}
