/**
 * Preloaded (`node -r …/orphan-guard.js dist/src/server.js`) into the gateway processes the bench
 * starts: when the parent's IPC channel closes (the bench ended, crashed or was killed), the
 * gateway exits too. It never touches a request; the channel does not keep the process alive.
 */
if (process.send !== undefined) {
  process.on('disconnect', () => process.exit(0));
  process.channel?.unref();
}
export {};
