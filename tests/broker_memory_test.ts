import { MemoryBroker } from "../lib/broker_memory.ts";
import { brokerContract } from "./broker_contract.ts";

brokerContract(
  "memory",
  (settings) =>
    Promise.resolve({ broker: new MemoryBroker(settings), dispose: () => Promise.resolve() }),
);
