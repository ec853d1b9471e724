/** Width used when stdout is not a terminal (a pipe, CI logs, tests). */
export const DEFAULT_WIDTH = 100;
/** Narrower than this, wrapping would put one ID per line anyway: keep lines readable instead. */
const MIN_WIDTH = 40;

/** The terminal's width, or DEFAULT_WIDTH when stdout is not a terminal. */
export function terminalWidth(stream: { columns?: number | undefined } = process.stdout): number {
  const cols = stream.columns;
  return typeof cols === 'number' && cols > 0 ? Math.max(MIN_WIDTH, cols) : DEFAULT_WIDTH;
}

/**
 * Words (instance IDs…) filled into lines of at most `width` characters, every line starting with
 * `indent` (a hanging indent under the line that names them). A word longer than a line gets a
 * line of its own, never cut: IDs stay whole and greppable.
 */
export function wrapWords(words: readonly string[], width: number, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && line.length + 1 + w.length > width) {
      lines.push(line);
      line = '';
    }
    line = line ? `${line} ${w}` : `${indent}${w}`;
  }
  if (line) lines.push(line);
  return lines;
}

/** "1 instance", "3 instances". */
export function instancesCount(n: number): string {
  return `${n} instance${n === 1 ? '' : 's'}`;
}
