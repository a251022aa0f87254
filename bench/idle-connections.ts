import type { FigureSink } from './lib/report.ts';
export async function benchIdleConnections(_sink: FigureSink): Promise<void> {
  throw new Error('todo');
}
