// Whether a module is the program node was started with (its `main`), so one file can be both a
// library and a command.
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** True when the module whose `import.meta.url` is given is the script node was started with. */
export function isEntryPoint(metaUrl: string): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return metaUrl === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}
