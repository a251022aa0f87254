/**
 * Top functions of a V8 CPU profile by self time, for reading the profiles BENCH_CPU_PROF=1
 * writes: `node --import tsx bench/lib/cpu-profile-top.ts bench/results/profiles/<file> [count]`.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
}

export function topFunctions(profile: CpuProfile, count: number): { share: number; where: string }[] {
  const byFunction = new Map<string, number>();
  const hits = new Map<number, number>();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules|packages|apps|bench)\//, '$1/');
    const where = `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim();
    byFunction.set(where, (byFunction.get(where) ?? 0) + (hits.get(node.id) ?? 0));
  }
  const total = profile.samples.length || 1;
  return [...byFunction.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([where, n]) => ({ share: n / total, where }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, count = '25'] = process.argv.slice(2);
  if (!file) throw new Error('usage: cpu-profile-top.ts <file.cpuprofile> [count]');
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  for (const { share, where } of topFunctions(profile, Number(count)))
    console.log(`${(share * 100).toFixed(1).padStart(5)}%  ${where}`);
}
