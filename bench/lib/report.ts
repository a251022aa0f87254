/**
 * The bench's output: one row per figure, printed as a table and written as JSON.
 * A row compares itself to a baseline when it has one (ratio = value / baseline).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname } from 'node:path';

export interface Figure {
  /** `case / what`, e.g. `fan-out / deliveries per s (switchboard)`. */
  name: string;
  value: number;
  unit: string;
  baseline?: number;
  /** value / baseline, when there is a baseline. */
  ratio?: number;
  note?: string;
}

export interface CaseResult {
  case: string;
  figures: Figure[];
  /** Set when the case failed; the figures gathered before the failure are kept. */
  error?: string;
  seconds: number;
  /** 1-minute load average at the start and end: the machine is shared, so a busy one explains noise. */
  loadAverage: [number, number];
}

export function figure(name: string, value: number, unit: string, baseline?: number, note?: string): Figure {
  const row: Figure = { name, value, unit };
  if (baseline !== undefined) {
    row.baseline = baseline;
    row.ratio = baseline === 0 ? Number.NaN : value / baseline;
  }
  if (note !== undefined) row.note = note;
  return row;
}

/** Figures a case collects as it goes, so a failure half-way still reports what was measured. */
export class FigureSink {
  readonly figures: Figure[] = [];

  constructor(private readonly prefix: string) {}

  add(name: string, value: number, unit: string, baseline?: number, note?: string): void {
    this.figures.push(figure(`${this.prefix} / ${name}`, value, unit, baseline, note));
  }
}

function formatNumber(value: number | undefined): string {
  if (value === undefined) return '';
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function printTable(results: CaseResult[]): void {
  const header = ['name', 'value', 'unit', 'baseline', 'ratio', 'note'];
  const rows: string[][] = [];
  for (const result of results) {
    for (const f of result.figures) {
      rows.push([
        f.name,
        formatNumber(f.value),
        f.unit,
        formatNumber(f.baseline),
        f.ratio === undefined ? '' : `${f.ratio.toFixed(2)}x`,
        f.note ?? '',
      ]);
    }
    if (result.error)
      rows.push([`${result.case} / FAILED`, '', '', '', '', result.error.split('\n')[0] ?? '']);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const rightAligned = new Set([1, 3, 4]);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

export function writeJson(file: string, results: CaseResult[]): void {
  mkdirSync(dirname(file), { recursive: true });
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version };
  const body = { date: new Date().toISOString(), machine, results };
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
}
