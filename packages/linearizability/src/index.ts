/**
 * A linearizability checker (Wing–Gong with memoisation, as porcupine) for register and key-value histories, with Jepsen and EDN history parsers.
 *
 * @packageDocumentation
 */
export {};
