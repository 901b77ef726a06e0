// test/topo: topology files for the CLI (shape checks, building) and the example files.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireRoot } from './proc.js';
import { TopologyFileError, buildTopology, parseTopologyFile } from './spec.js';

const dir = join(import.meta.dirname, 'topologies');

describe('topology files', () => {
  it('every example file parses and builds', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const topo = buildTopology(parseTopologyFile(JSON.parse(readFileSync(join(dir, f), 'utf8'))));
      expect(topo.nodes.length, f).toBeGreaterThan(1);
      expect(topo.links.length, f).toBeGreaterThan(0);
    }
  });

  it('builds nodes, links, options and addresses from the description', () => {
    const topo = buildTopology(
      parseTopologyFile({
        name: 't',
        nodes: ['a', { name: 'b', loopback4: '192.0.2.9', forwarding: false }],
        links: [{ a: 'a', b: 'b', rate: { rate: '1mbit' }, mtu: 1400 }],
      }),
    );
    const [a, b] = topo.nodes;
    expect(b!.loopback4).toBe('192.0.2.9');
    expect(b!.forwarding).toBe(false);
    expect(a!.loopback6).toBe('fd00:ff::1');
    expect(topo.links[0]!.options).toEqual({ rate: { rate: '1mbit' }, mtu: 1400 });
    expect(topo.describe().links[0]).toMatchObject({ a: 'a:eth0', b: 'b:eth0', prefix4: '10.0.1.0/30' });
  });

  it('rejects malformed files with a typed error', () => {
    expect(() => parseTopologyFile({ name: 't', nodes: 'a', links: [] })).toThrow(TopologyFileError);
    expect(() => parseTopologyFile({ name: 't', nodes: [], links: [{ a: 'a' }] })).toThrow(/links\[0\]/);
    expect(() => parseTopologyFile({ name: 't', nodes: [], links: [{ a: 'a', b: 'b', rate: 5 }] })).toThrow(
      /rate/,
    );
    expect(() =>
      buildTopology(parseTopologyFile({ name: 't', nodes: ['a'], links: [{ a: 'a', b: 'x' }] })),
    ).toThrow(/no node 'x'/);
  });
});

describe('skip reasons', () => {
  it('names what is missing in one line', () => {
    const why = requireRoot('lodestone-no-such-binary');
    expect(why).not.toBeNull();
    expect(why!.split('\n')).toHaveLength(1);
    if (process.getuid?.() === 0) expect(why).toContain("'lodestone-no-such-binary'");
    else expect(why).toContain('root');
  });
});
