/**
 * Preloaded (`node -r …/orphan-guard.js dist/src/server.js`) into the gateway processes the bench
 * starts: when the parent's IPC channel closes (the bench ended, crashed or was killed), the
 * gateway exits too. It never touches a request; the channel does not keep the process alive.
 * Not in a cluster worker (WORKERS > 1; workers inherit the preload): its channel is the one to
 * its primary, which it needs to start listening, and it follows its primary out by itself.
 */
import cluster from 'node:cluster';

if (process.send !== undefined && !cluster.isWorker) {
  process.on('disconnect', () => process.exit(0));
  process.channel?.unref();
}
