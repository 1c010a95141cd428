/**
 * SIGTERM or SIGINT runs `stop` once, then exits 0 (or 1 if stopping failed). A second signal
 * while stopping exits 1 at once: someone does not want to wait for the drain.
 */
export function exitAfterStopOnSignal(stop: () => Promise<void>, onFailure?: (err: unknown) => void): void {
  let stopping = false;
  const handle = (): void => {
    if (stopping) process.exit(1);
    stopping = true;
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        onFailure?.(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);
}
