/**
 * A worker thread of the process: one whole gateway on the shared port, started by the supervisor
 * with the process's settings. It asks the supervisor for connection slots, readiness and the
 * process's metrics; its broker is its own Redis subscriber, or the supervisor's embedded broker.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { RelayBroker, type RelayCall } from "../../brokers/relay.ts";
import { SharedQueuedBytes } from "../../delivery/shared_queued_bytes.ts";
import type { Readiness } from "../../gateway/gateway.ts";
import { loadConfig } from "../../config/config.ts";
import { Logger } from "../../observe/log.ts";
import { type RunningServer, startGateway } from "../server.ts";
import { Messenger } from "./messenger.ts";
import type {
  SupervisorNotice,
  SupervisorRequest,
  WorkerNotice,
  WorkerRequest,
  WorkerStart,
} from "./protocol.ts";
import { RemoteLimits } from "./remote_limits.ts";

let running: RunningServer | undefined;
let relay: RelayBroker | undefined;
const started = Promise.withResolvers<RunningServer>();

const supervisor = new Messenger<WorkerRequest, WorkerNotice, SupervisorRequest, SupervisorNotice>(
  self,
  {
    request: async (body) => {
      const gateway = await started.promise;
      switch (body.type) {
        case "snapshot":
          return await gateway.gateway.snapshot();
        case "viewers":
          return gateway.gateway.viewers();
        case "local-readiness":
          return gateway.gateway.readiness();
        case "publish":
          return await gateway.publish(body.region, body.payload);
        case "drain":
          return await gateway.close(body.windowMs);
        case "reconfigure": {
          const config = loadConfig({ env: (name) => body.settings[name] });
          return await gateway.reconfigure(body.settings, config);
        }
        case "ping":
          return "pong";
      }
    },
    notice: (body) => {
      switch (body.type) {
        case "start":
          start(body).then(started.resolve, (error) => {
            // The supervisor sees the error event of this worker, and replaces it.
            throw error;
          });
          return;
        case "publication":
          relay?.deliver(body.region, body.payload);
          return;
        case "broker-state":
          relay?.changeState(body.state, body.cause);
          return;
      }
    },
  },
);

async function start(message: WorkerStart): Promise<RunningServer> {
  const config = loadConfig({ env: (name) => message.settings[name] });
  const logger = new Logger(
    config.logLevel,
    (line) => supervisor.notify({ type: "log", line }),
    { worker: message.worker },
  );
  if (message.relayBroker) {
    relay = new RelayBroker(<T>(call: RelayCall) =>
      supervisor.request<T>({ type: "broker", call })
    );
  }
  running = await startGateway(config, logger, {
    ...(relay !== undefined && { broker: relay }),
    limits: new RemoteLimits(supervisor),
    sharedQueuedBytes: new SharedQueuedBytes(message.board, message.worker),
    report: {
      readiness: () => supervisor.request<Readiness>({ type: "readiness" }),
      metrics: () => supervisor.request({ type: "scrape" }),
      status: () => supervisor.request({ type: "status" }),
    },
    reusePort: true,
    announce: false,
  });
  supervisor.notify({ type: "listening", port: running.port });
  return running;
}
