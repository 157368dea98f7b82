import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileShare {
  name: string;
  /** Share of busy time (idle excluded), 0..1. */
  share: number;
}

export interface ProfileSummary {
  busyMs: number;
  byPackage: ProfileShare[];
  byFunction: ProfileShare[];
}

/** Self time of a V8 .cpuprofile, grouped by where the code lives (npm package, our file, Node internals). */
export async function summariseProfile(path: string, top = 12): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(path, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  // Native frames (writev, HMAC, JSON) are charged to the nearest JavaScript caller: that is what to change.
  const callerOf = (id: number): string => {
    for (let at = parents.get(id); at !== undefined; at = parents.get(at)) {
      const frame = nodes.get(at)?.callFrame;
      if (frame?.url) return locationOf(frame.url, frame.functionName);
    }
    return '(native)';
  };
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const frame = nodes.get(id)?.callFrame;
    const micros = profile.timeDeltas[i] ?? 0;
    if (!frame || frame.functionName === '(idle)') return;
    const native = !frame.url && !frame.functionName.startsWith('(');
    const where = native ? callerOf(id) : locationOf(frame.url, frame.functionName);
    // The probe's own Profiler.stop call lands in the profile; it is not the bot's work.
    if (where === 'node:inspector') return;
    busy += micros;
    byPackage.set(where, (byPackage.get(where) ?? 0) + micros);
    const fn = `${frame.functionName || '(anonymous)'} ${native ? `(native, from ${where})` : where}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + micros);
  });
  const ranked = (map: Map<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]) => ({ name, share: busy ? micros / busy : 0 }));
  return { busyMs: busy / 1000, byPackage: ranked(byPackage), byFunction: ranked(byFunction) };
}

function locationOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules !== -1) {
    const [scope = '', name = ''] = url.slice(modules + 'node_modules/'.length).split('/');
    return scope.startsWith('@') ? `${scope}/${name}` : scope;
  }
  const src = url.indexOf('/src/');
  if (src !== -1) return url.slice(src + 1);
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  return url;
}
