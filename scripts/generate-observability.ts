/**
 * Writes the dashboards, Grafana provisioning and Prometheus rules generated from grafana/as-code.
 * `--check` writes nothing and exits 1 when a committed file has drifted from its source.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedFiles } from '../grafana/as-code/outputs.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const drifted: string[] = [];

for (const [path, content] of generatedFiles()) {
  const target = join(root, path);
  let current: string | undefined;
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === content) continue;
  if (check) {
    drifted.push(path);
  } else {
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
    process.stdout.write(`wrote ${path}\n`);
  }
}

if (drifted.length > 0) {
  process.stderr.write(`out of date (run npm run observability:generate):\n  ${drifted.join('\n  ')}\n`);
  process.exitCode = 1;
}
