// A strict parser of the Prometheus text exposition format 0.0.4 for tests: it checks what a
// scraper relies on (HELP/TYPE before a family's samples, samples under their family's name,
// escapes in label values and help text, numeric values) and returns the families.

export interface ParsedSample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

export interface ParsedFamily {
  help: string;
  type: string;
  readonly samples: ParsedSample[];
}

function unescape(s: string, quote: boolean): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = s[++i];
    if (n === 'n') out += '\n';
    else if (n === '\\') out += '\\';
    else if (n === '"' && quote) out += '"';
    else throw new Error(`bad escape \\${n ?? ''} in ${JSON.stringify(s)}`);
  }
  return out;
}

function parseValue(t: string): number {
  if (t === 'NaN') return NaN;
  if (t === '+Inf') return Infinity;
  if (t === '-Inf') return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) throw new Error(`bad value ${t}`);
  return Number(t);
}

function parseLabels(s: string, line: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < s.length) {
    const m = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(s.slice(i));
    if (m === null) throw new Error(`bad label at ${JSON.stringify(s.slice(i))} in ${line}`);
    i += m[0].length;
    let raw = '';
    while (i < s.length && s[i] !== '"') {
      if (s[i] === '\\') raw += s[i++];
      raw += s[i++];
    }
    if (s[i] !== '"') throw new Error(`unterminated label value in ${line}`);
    i++;
    if (m[1]! in out) throw new Error(`duplicate label ${m[1]} in ${line}`);
    out[m[1]!] = unescape(raw, true);
    if (s[i] === ',') i++;
    else if (i < s.length) throw new Error(`expected ',' in labels of ${line}`);
  }
  return out;
}

/** Parse exposition text into families by name; throws on anything malformed. */
export function parsePrometheus(text: string): Map<string, ParsedFamily> {
  const families = new Map<string, ParsedFamily>();
  if (text !== '' && !text.endsWith('\n')) throw new Error('text must end with a newline');
  let current: string | undefined;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta !== null) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      let f = families.get(name);
      if (f === undefined) {
        f = { help: '', type: '', samples: [] };
        families.set(name, f);
      } else if (f.samples.length > 0) throw new Error(`${kind} for ${name} after its samples`);
      if (kind === 'HELP') f.help = unescape(rest, false);
      else {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest))
          throw new Error(`bad type ${rest}`);
        f.type = rest;
      }
      current = name;
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line);
    if (m === null) throw new Error(`bad sample line ${JSON.stringify(line)}`);
    const name = m[1]!;
    if (name !== current) throw new Error(`sample ${name} outside its family (current ${current ?? 'none'})`);
    families
      .get(name)!
      .samples.push({ name, labels: parseLabels(m[2] ?? '', line), value: parseValue(m[3]!) });
  }
  for (const [name, f] of families) {
    if (f.type === '') throw new Error(`${name} has no TYPE`);
    if (f.help === '') throw new Error(`${name} has no HELP`);
  }
  return families;
}
