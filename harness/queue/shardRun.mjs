// Worker-thread entry for one queued replay: registers tsx so the TypeScript loads, as bin/tapedeck.js does.
import { register } from "tsx/esm/api";
register();
await import("./shardRun.ts");
