import type { Figure } from './goals.js';

/**
 * The closing table of `npm run bench`: one row per figure with its goal and verdict, as a
 * Markdown table so that it reads in a terminal and pastes into the README as it is.
 */
export function renderTable(figures: readonly Figure[]): string {
  const rows = [
    ['figure', 'value', 'goal', 'result'],
    ...figures.map((figure) => [figure.figure, figure.value, figure.goal, verdict(figure.pass)]),
  ];
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, column) => (widths[column] = Math.max(widths[column] ?? 0, cell.length)));
  }
  const line = (cells: string[]): string =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  const rule = `| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |`;
  const [header, ...body] = rows.map(line);
  return [header, rule, ...body].join('\n');
}

function verdict(pass: boolean | null): string {
  if (pass === null) return '';
  return pass ? 'pass' : 'FAIL';
}
