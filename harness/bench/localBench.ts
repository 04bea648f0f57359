/**
 * `tapedeck bench local`: a GGUF model through the local provider on the
 * device found (GPU when present): load time, prompt tokens/s, generated
 * tokens/s and time to first token at 1..N parallel sequences.
 *
 * Prompt throughput is prompt tokens / time to first token (the prompt is
 * evaluated before the first token comes); generation throughput is output
 * tokens / (latency − TTFT), summed over the parallel sequences for the
 * aggregate. Figures are medians over rounds.
 */
import { basename } from "node:path";
import { LocalModelProvider, type LocalDeviceInfo } from "../../providers/llamaCpp.ts";

export interface LocalBenchOptions {
  modelPath: string;
  parallel: readonly number[];
  rounds?: number;
  maxTokens?: number;
  threads?: number;
  gpu?: "auto" | false;
  /** Approximate prompt length in words. */
  promptWords?: number;
}

export interface LocalBenchRow {
  parallel: number;
  loadMs: number;
  promptTokens: number;
  promptTokensPerSec: number;
  generatedTokensPerSec: number;
  perSequenceTokensPerSec: number;
  ttftMsP50: number;
  outputTokens: number;
}

export interface LocalBenchResult {
  model: string;
  device: LocalDeviceInfo;
  rows: LocalBenchRow[];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length === 0 ? Number.NaN : s.length % 2 ? (s[m] ?? Number.NaN) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};

export async function benchLocal(options: LocalBenchOptions): Promise<LocalBenchResult> {
  const rounds = options.rounds ?? 3;
  const maxTokens = options.maxTokens ?? 128;
  const words = options.promptWords ?? 120;
  const prompt = Array.from({ length: words }, (_, i) => ["Once", "upon", "a", "time", "there", "was", "a", "little", "girl", "named", "Lily."][i % 11]).join(" ");
  const rows: LocalBenchRow[] = [];
  let device: LocalDeviceInfo | undefined;
  for (const parallel of options.parallel) {
    const provider = new LocalModelProvider({
      modelPath: options.modelPath,
      sequences: parallel,
      contextSize: Math.max(512, words * 4 + maxTokens + 64),
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
      ...(options.gpu !== undefined ? { gpu: options.gpu } : {}),
    });
    try {
      device = await provider.device();
      const request = { model: basename(options.modelPath), messages: [{ role: "user" as const, content: prompt }], maxTokens, temperature: 0.8, seed: 1 };
      await provider.complete({ ...request, maxTokens: 8 }); // warm-up
      const promptTps: number[] = [];
      const genTps: number[] = [];
      const seqTps: number[] = [];
      const ttfts: number[] = [];
      let promptTokens = 0;
      let outputTokens = 0;
      for (let round = 0; round < rounds; round++) {
        const started = performance.now();
        const results = await Promise.all(Array.from({ length: parallel }, (_, i) => provider.complete({ ...request, seed: round * 1000 + i })));
        const wall = performance.now() - started;
        const out = results.reduce((n, r) => n + r.usage.outputTokens, 0);
        const maxTtft = Math.max(...results.map((r) => r.ttftMs));
        promptTokens = results[0]?.usage.inputTokens ?? 0;
        outputTokens += out;
        promptTps.push((results.reduce((n, r) => n + r.usage.inputTokens, 0) / maxTtft) * 1000);
        genTps.push((out / Math.max(1e-6, wall - maxTtft)) * 1000);
        for (const r of results) {
          ttfts.push(r.ttftMs);
          seqTps.push((r.usage.outputTokens / Math.max(1e-6, r.latencyMs - r.ttftMs)) * 1000);
        }
      }
      rows.push({
        parallel,
        loadMs: device.loadMs,
        promptTokens,
        promptTokensPerSec: median(promptTps),
        generatedTokensPerSec: median(genTps),
        perSequenceTokensPerSec: median(seqTps),
        ttftMsP50: median(ttfts),
        outputTokens,
      });
    } finally {
      await provider.dispose();
    }
  }
  if (!device) throw new Error("bench local: --parallel named no sequence counts");
  return { model: basename(options.modelPath), device, rows };
}

/** "cpu (2 threads)" or "cuda: NVIDIA H100 (5/5 layers, 1.2 GiB VRAM used of 80)". */
export function describeDevice(d: LocalDeviceInfo): string {
  if (d.backend === "cpu") return `cpu (${d.threads} thread${d.threads === 1 ? "" : "s"})`;
  const gib = (b: number) => (b / 2 ** 30).toFixed(1);
  return `${d.backend}: ${d.deviceNames.join(", ") || "gpu"} (${d.gpuLayers}/${d.totalLayers ?? "?"} layers offloaded, ${gib(d.vramUsedBytes)} GiB VRAM used of ${gib(d.vramTotalBytes)})`;
}
