/** Reads the JSON blocks report.html embeds (<script type="application/json" id="…">) back out, as a reader of the page would. */
export function embeddedJson(html: string, id: string): unknown {
  const match = new RegExp(`<script type="application/json" id="${id}">([\\s\\S]*?)</script>`).exec(html);
  if (!match?.[1]) throw new Error(`report.html has no embedded block #${id}`);
  return JSON.parse(match[1]);
}
