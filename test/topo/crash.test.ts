// test/topo: a test process that dies without tearing down leaks nothing. A child Node process
// launches a topology from this harness (transpiled to a temporary directory), starts processes in
// its nodes (one of them detached with setsid) and kills itself with SIGKILL; the holders must
// notice the closed pipe, kill everything in their namespaces and remove the topology directory.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { pidAlive, requireRoot, waitFor } from './index.js';

const skip = requireRoot();
if (skip !== null) console.warn(`[topo] skipping crash-safety test: ${skip}`);

const CHILD = `
import { Topology } from './index.js';
const t = new Topology('crash');
const a = t.node('a');
const b = t.node('b');
t.link(a, b);
await t.launch();
const p = a.spawn('sleep', ['300']);
b.spawn('sh', ['-c', 'setsid sleep 301 & echo $! > ' + b.dir + '/detached.pid; exec sleep 302']);
await new Promise((r) => setTimeout(r, 300));
const detached = Number((await import('node:fs')).readFileSync(b.dir + '/detached.pid', 'utf8'));
console.log(JSON.stringify({ pids: [...t.pids(), detached], dir: t.dir }));
process.kill(process.pid, 'SIGKILL');
`;

describe.skipIf(skip !== null)('crash safety', () => {
  const work = mkdtempSync(join(tmpdir(), 'lodestone-topo-crash-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('a SIGKILLed test process leaves no processes, namespaces or directories', async () => {
    for (const f of ['index', 'proc', 'topology', 'routes']) {
      const src = readFileSync(join(import.meta.dirname, `${f}.ts`), 'utf8');
      const out = ts.transpileModule(src, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      });
      writeFileSync(join(work, `${f}.js`), out.outputText);
    }
    writeFileSync(join(work, 'package.json'), '{"type":"module"}\n');
    writeFileSync(join(work, 'child.mjs'), CHILD);
    const r = spawnSync(process.execPath, [join(work, 'child.mjs')], { encoding: 'utf8', timeout: 20_000 });
    expect(r.signal, r.stderr).toBe('SIGKILL');
    const { pids, dir } = JSON.parse(r.stdout) as { pids: number[]; dir: string };
    expect(pids.length).toBe(5);
    await waitFor(() => pids.every((p) => !pidAlive(p)) && !existsSync(dir), {
      what: `processes ${pids.join(', ')} and ${dir} to vanish after the crash`,
      timeoutMs: 10_000,
      intervalMs: 100,
    });
  });
});
