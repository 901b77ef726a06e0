// DDM wire formats: discovery (Maghemite-compatible), the delay probe (ours), and the exchange
// JSON bodies. Pure: no sockets, no timers, no HTTP.

export * from './errors.js';
export * from './discovery.js';
export * from './probe.js';
export * from './exchange.js';
