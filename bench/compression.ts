import type { FigureSink } from './lib/report.ts';
export async function benchCompression(_sink: FigureSink): Promise<void> {
  throw new Error('todo');
}
