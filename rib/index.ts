// The RIB package: shared in-memory RIB, event bus, JSONL recording and the lower half (FIB
// synchroniser with linux and memory backends).

export * from './types.js';
export * from './intern.js';
export * from './decision.js';
export * from './bus.js';
export * from './connected.js';
export * from './rib.js';
export * from './messages.js';
export * from './fib/backend.js';
export * from './fib/memory.js';
export * from './fib/linux.js';
export * from './fib/sync.js';
