// Compile once, before any test file starts: several tests spawn bin/conclave or load
// worker threads from dist/, and a build running while another file spawns the binary makes
// the binary fail to load (a flaky exit 3). A type error fails the whole run here.
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

export default function setup(): void {
  const root = resolve(__dirname, '..');
  const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', root], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tsc failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
}
