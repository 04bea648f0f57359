import { availableParallelism, cpus } from "node:os";

/** How CPU benchmarks name the machine they ran on: "<cores>x <model>". */
export function cpuDevice(): string {
  return `${availableParallelism()}x ${cpus()[0]?.model ?? "cpu"}`;
}
