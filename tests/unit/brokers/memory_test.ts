import { MemoryBroker } from "../../../lib/brokers/memory.ts";
import { brokerContract } from "../../broker_contract.ts";

brokerContract("memory", (settings) => {
  const broker = new MemoryBroker(settings);
  return Promise.resolve({ broker, [Symbol.asyncDispose]: () => broker.close() });
});
