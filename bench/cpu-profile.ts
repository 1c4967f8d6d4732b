import { mkdir, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { dirname, relative } from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
  readonly hitCount?: number;
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

export interface SelfTime {
  readonly function: string;
  readonly location: string;
  readonly selfMs: number;
  readonly share: number;
}

export interface AreaTime {
  readonly area: string;
  readonly selfMs: number;
  readonly share: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  /** Self time by code area: our folders, each npm package, node internals, GC, idle. */
  readonly byArea: AreaTime[];
  readonly topFunctions: SelfTime[];
}

export interface CpuProfiler {
  stop(path: string): Promise<ProfileSummary>;
}

/** V8 sampling profiler of this process (not the emulators' child). */
export async function startCpuProfile(intervalUs = 500): Promise<CpuProfiler> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.post('Profiler.start');
  return {
    async stop(path) {
      const { profile } = (await session.post('Profiler.stop')) as unknown as {
        profile: Profile;
      };
      session.disconnect();
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, JSON.stringify(profile));
      return { ...summariseAreas(profile), topFunctions: summarise(profile) };
    },
  };
}

/** Self time per function (summed over its call sites), largest first. */
export function summarise(profile: Profile, top = 15): SelfTime[] {
  const byNode = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i] is the time before sample i; attribute the next delta to sample i.
    const us = deltas[i + 1] ?? 0;
    const node = samples[i] as number;
    byNode.set(node, (byNode.get(node) ?? 0) + us);
  }
  const total = [...byNode.values()].reduce((a, b) => a + b, 0) || 1;
  const byFunction = new Map<string, SelfTime>();
  for (const node of profile.nodes) {
    const us = byNode.get(node.id) ?? 0;
    if (us === 0) continue;
    const name = node.callFrame.functionName || '(anonymous)';
    const url = node.callFrame.url.replace(/^file:\/\//, '');
    const location = url
      ? `${url.startsWith('/') ? relative(process.cwd(), url) : url}:${node.callFrame.lineNumber + 1}`
      : '';
    const key = `${name}@${location}`;
    const prev = byFunction.get(key);
    const selfMs = (prev?.selfMs ?? 0) + us / 1000;
    byFunction.set(key, { function: name, location, selfMs, share: selfMs / (total / 1000) });
  }
  return [...byFunction.values()]
    .sort((a, b) => b.selfMs - a.selfMs)
    .slice(0, top)
    .map((x) => ({ ...x, selfMs: Math.round(x.selfMs), share: Math.round(x.share * 1000) / 10 }));
}

function selfTimeByNode(profile: Profile): Map<number, number> {
  const byNode = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const node = samples[i] as number;
    byNode.set(node, (byNode.get(node) ?? 0) + (deltas[i + 1] ?? 0));
  }
  return byNode;
}

function areaOf(url: string, functionName: string): string {
  const path = url.replace(/^file:\/\//, '');
  if (!path) return functionName.startsWith('(') ? functionName : '(native/V8)';
  if (path.startsWith('node:')) return 'node internals';
  const modules = path.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = path.slice(modules + 'node_modules/'.length).split('/');
    return `npm ${rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  const rel = path.startsWith('/') ? relative(process.cwd(), path) : path;
  const parts = rel.split('/');
  return parts.length > 2 ? `${parts[0]}/${parts[1]}` : (parts[0] ?? rel);
}

export function summariseAreas(profile: Profile, top = 12): Omit<ProfileSummary, 'topFunctions'> {
  const byNode = selfTimeByNode(profile);
  const total = [...byNode.values()].reduce((a, b) => a + b, 0) || 1;
  const areas = new Map<string, number>();
  for (const node of profile.nodes) {
    const us = byNode.get(node.id) ?? 0;
    if (us === 0) continue;
    const area = areaOf(node.callFrame.url, node.callFrame.functionName);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  return {
    totalMs: Math.round(total / 1000),
    byArea: [...areas.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([area, us]) => ({
        area,
        selfMs: Math.round(us / 1000),
        share: Math.round((us / total) * 1000) / 10,
      })),
  };
}
