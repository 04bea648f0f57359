/**
 * One cheap request to an HTTP endpoint before a long run (a models list):
 * an unreachable server or a refused key fails the run at once with a clear
 * message, instead of 500 abstentions 30 s later. Only network errors and
 * 401/403 fail; any other answer (200, 404 on servers without a models
 * route, a 5xx the router would retry) means the endpoint is there.
 *
 * The headers carry the key: a fetch that cannot even build the request
 * (a key holding a character HTTP forbids) says so quoting the header value,
 * so every header value is redacted from the reason before it travels on.
 */
import { ProviderError } from "./providerError.ts";
import { redactSecrets } from "./redact.ts";

export async function preflightGet(
  provider: string,
  url: string,
  options: { headers?: Record<string, string>; timeoutMs?: number; fetch?: typeof fetch } = {},
): Promise<void> {
  const doFetch = options.fetch ?? fetch;
  let status: number;
  try {
    const response = await doFetch(url, { method: "GET", ...(options.headers ? { headers: options.headers } : {}), signal: AbortSignal.timeout(options.timeoutMs ?? 5_000) });
    status = response.status;
    await response.body?.cancel().catch(() => undefined);
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const secrets = Object.values(options.headers ?? {}).flatMap((value) => [value, value.replace(/^Bearer\s+/i, "")]);
    const why = cause?.code ?? redactSecrets(cause?.message ?? (error as Error).message, secrets);
    const timedOut = (error as Error).name === "TimeoutError";
    throw new ProviderError(timedOut ? "timeout" : "network", `cannot reach ${url} (${timedOut ? "no answer in time" : why})`, { provider });
  }
  if (status === 401 || status === 403) throw new ProviderError("auth", `${url} refused the API key (HTTP ${status})`, { provider, status });
}
