/**
 * Text from outside (a model's answer, a rationale, a headline) made safe to
 * print on a terminal: control characters other than newline and tab, DEL
 * and the C1 controls become visible escapes (`\x1b`), so a hostile answer
 * cannot move the cursor, recolour the screen or rewrite what `show` printed.
 */
export function terminalSafe(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}
