// In-memory forwarding table for tests of the lower half. It behaves like the kernel in the ways
// the synchroniser depends on: `replace` installs whether or not the route was there, deleting a
// missing route fails, and a caller-supplied rule can refuse routes (as the kernel refuses a next
// hop on a missing interface).

import type { FibBackend, FibFailure, FibOp, FibRoute } from './backend.js';
import { prefixKey } from '../types.js';

/** Forwarding table held in a Map. */
export class MemoryFib implements FibBackend {
  readonly name = 'memory';
  readonly routes = new Map<number | string, FibRoute>();
  /** Operations applied (for assertions on batching). */
  applied = 0;
  batches = 0;

  constructor(
    /** Return a reason to refuse a route, as the kernel would. */
    public refuse: (r: FibRoute) => string | undefined = () => undefined,
  ) {}

  apply(ops: readonly FibOp[]): Promise<FibFailure[]> {
    const failed: FibFailure[] = [];
    this.batches++;
    for (const op of ops) {
      this.applied++;
      const k = prefixKey(op.route);
      if (op.op === 'delete') {
        if (!this.routes.delete(k)) failed.push({ op, error: 'No such process' });
        continue;
      }
      const why = this.refuse(op.route);
      if (why !== undefined) failed.push({ op, error: why });
      else this.routes.set(k, op.route);
    }
    return Promise.resolve(failed);
  }

  list(): Promise<FibRoute[]> {
    return Promise.resolve([...this.routes.values()]);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
