// BFD wire format (RFC 5880 §4, §6.7, §6.8.6; RFC 5881; RFC 5883): registries, the Control packet
// codec, authentication and the reception checks. Pure: no sockets, no timers.

export * from './constants.js';
export * from './errors.js';
export * from './control.js';
export * from './auth.js';
export * from './reception.js';
