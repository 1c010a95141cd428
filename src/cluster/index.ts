// WORKERS > 1: this process is either the cluster's primary or one of its workers.
import cluster from 'node:cluster';
import type http from 'node:http';
import type { GatewayConfig } from '../config/load';
import { runPrimary } from './primary';
import { runWorker, type StartGateway } from './worker';

export interface ClusterDeps {
  readonly startGateway: StartGateway;
  /** The server with the gateway's limits (src/server.ts createServer), for the admin port. */
  readonly createServer: (listener: http.RequestListener) => http.Server;
}

export function startCluster(config: GatewayConfig, deps: ClusterDeps): Promise<void> {
  return cluster.isPrimary ? runPrimary(config, { createServer: deps.createServer }) : runWorker(config, deps.startGateway);
}
