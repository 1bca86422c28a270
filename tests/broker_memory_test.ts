import { MemoryBroker } from "../lib/broker_memory.ts";
import { brokerContract } from "./broker_contract.ts";

brokerContract(
  "memory",
  (dedupe) =>
    Promise.resolve({ broker: new MemoryBroker({ dedupe }), dispose: () => Promise.resolve() }),
);
