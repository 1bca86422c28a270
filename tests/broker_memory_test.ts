import { MemoryBroker } from "../lib/broker_memory.ts";
import { brokerContract } from "./broker_contract.ts";

brokerContract(
  "memory",
  () => Promise.resolve({ broker: new MemoryBroker(), dispose: () => Promise.resolve() }),
);
