/**
 * A bad input, located: which file, which row (1-based data row; 0 is a
 * CSV file's header line, null the file as a whole), which field. Importers throw it; the CLI prints `message` as one line.
 */
export interface InputProblem {
  file: string;
  row: number | null;
  field: string;
  message: string;
}

export function formatProblem(p: InputProblem): string {
  const where = p.row === null ? p.file : p.row === 0 ? `${p.file} row 0 (header)` : `${p.file} row ${p.row}`;
  return `${where} field ${p.field}: ${p.message}`;
}

export class InputError extends Error {
  constructor(
    readonly problem: InputProblem,
    readonly moreProblems = 0,
  ) {
    super(formatProblem(problem) + (moreProblems > 0 ? ` (and ${moreProblems} more problem${moreProblems === 1 ? "" : "s"})` : ""));
    this.name = "InputError";
  }
}
