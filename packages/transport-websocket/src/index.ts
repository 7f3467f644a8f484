/**
 * greenraft peer transport over WebSocket: authenticated peers, TLS and mutual TLS, msgpack frames checked against the message schema, lanes and bounded queues.
 *
 * @packageDocumentation
 */
export {};
