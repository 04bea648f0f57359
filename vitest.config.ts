import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/browser/**", "node_modules/**"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // node-llama-cpp and DuckDB are native; forks isolate their threads per file.
    pool: "forks",
    maxWorkers: 2,
  },
});
