// Worker-thread entry for sweep variants: registers tsx so the TypeScript worker loads, as bin/tapedeck.js does.
import { register } from "tsx/esm/api";
register();
await import("./sweepWorker.ts");
