import { duplicateRedis, type RedisClient } from '@app/infra';

export interface ChannelSubscription {
  close(): Promise<void>;
}

/**
 * Listens to one pub/sub channel on a connection of its own that reconnects by itself (on a cluster a classic
 * PUBLISH reaches the subscribers of every node, so any node will do). `onReady` runs after each (re)connect:
 * messages published while the connection was down are lost, so a subscriber catches up there.
 */
export function subscribeChannel(
  redis: RedisClient,
  channel: string,
  connectionName: string,
  onMessage: (message: string) => void,
  onReady: () => void = () => undefined,
): ChannelSubscription {
  const sub = duplicateRedis(redis, { failFast: false, autoPipelining: false, lazyConnect: true, connectionName });
  let closed = false;
  sub.on('message', (ch: string, message: string) => {
    if (ch === channel && !closed) onMessage(message);
  });
  sub.on('ready', () => {
    if (!closed) onReady();
  });
  sub.on('error', () => undefined); // reconnects by itself; the shared connection's health is reported elsewhere
  sub.connect().catch(() => undefined);
  void sub.subscribe(channel).catch(() => undefined);
  return {
    close() {
      closed = true;
      sub.disconnect();
      return Promise.resolve();
    },
  };
}
