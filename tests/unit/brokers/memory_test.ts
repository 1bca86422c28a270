import { MemoryBroker } from "../../../lib/brokers/memory.ts";
import { brokerContract } from "../../broker_contract.ts";

brokerContract(
  "memory",
  (settings) =>
    Promise.resolve({ broker: new MemoryBroker(settings), dispose: () => Promise.resolve() }),
);
