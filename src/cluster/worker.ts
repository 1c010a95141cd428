// One worker of a cluster: the gateway on the shared PORT, without the admin port (the primary
// serves it for all workers), answering the primary's requests for its metrics and report.
import type { GatewayConfig } from '../config/load';
import { exitAfterStopOnSignal } from '../process-signals';
import type { RunningGateway, StartOptions } from '../server';
import { asPrimaryMessage, type PrimaryMessage, type WorkerMessage } from './messages';

export type StartGateway = (config: GatewayConfig, options?: StartOptions) => Promise<RunningGateway>;

function send(message: WorkerMessage): void {
  process.send?.(message);
}

export async function runWorker(config: GatewayConfig, startGateway: StartGateway): Promise<void> {
  // The primary probes V4 for /readyz; a worker's probe would never run and only add a
  // never-up probe gauge to the aggregated metrics.
  const running = await startGateway({ ...config, v4ProbeIntervalMs: 0 }, { adminServer: false });
  // One drain, however it is asked for (the primary's message, a signal, or both: Ctrl-C signals
  // the whole process group), so that a second request waits for it instead of exiting early.
  let stopping: Promise<void> | undefined;
  const stopOnce = (): Promise<void> => (stopping ??= running.shutdown());
  const exitAfterStop = (): void => {
    stopOnce().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  exitAfterStopOnSignal(stopOnce);
  // The primary is gone (killed): nobody routes connections here any more.
  process.on('disconnect', exitAfterStop);
  process.on('message', (raw: unknown) => {
    const message = asPrimaryMessage(raw);
    if (message !== undefined) void handle(message, running, exitAfterStop);
  });
  send({ type: 'legacy-gateway:listening', port: running.port });
}

async function handle(message: PrimaryMessage, running: RunningGateway, exitAfterStop: () => void): Promise<void> {
  switch (message.type) {
    case 'legacy-gateway:collect':
      send({ type: 'legacy-gateway:collected', id: message.id, metrics: await running.metrics.registry.getMetricsAsJSON(), report: running.report.toJson() });
      return;
    case 'legacy-gateway:warm-up':
      // Each worker has its own cache and warms it; the pass logs its own progress and result.
      try {
        send({ type: 'legacy-gateway:warmed-up', id: message.id, report: await running.warmUp(message.authorization) });
      } catch (err) {
        send({ type: 'legacy-gateway:warmed-up', id: message.id, error: err instanceof Error ? err.message : String(err) });
      }
      return;
    case 'legacy-gateway:shutdown':
      exitAfterStop();
      return;
  }
}
