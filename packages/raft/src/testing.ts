/**
 * Test tools of the greenraft engine, as etcd-io/raft has `rafttest/`: a synchronous network of
 * `RaftCore`s (`coreNetwork`), the scripted-scenario runner behind `packages/raft/testdata/*.txt`
 * (`runScenario`), the storage rules every in-memory store shares (`LogState`), and the known
 * engine bugs the simulator's checkers are proven against (`ENGINE_BUGS`, `engineBugOptions`).
 * Nothing here belongs in production code.
 *
 * @example
 * ```ts
 * import { configuration } from '@greenraft/consensus';
 * import { coreNetwork, utf8 } from '@greenraft/raft/testing';
 *
 * const net = coreNetwork({ bootstrap: configuration(['1', '2', '3']) });
 * net.core('1').campaign();
 * net.stabilize();
 * net.core('1').propose(utf8('meter-7: 12.5 kWh'));
 * net.stabilize();
 * console.log(net.record('3').applied); // [ 'meter-7: 12.5 kWh' ]
 * ```
 *
 * @packageDocumentation
 */
export { coreNetwork, utf8 } from './testing/core-network.js';
export type { CoreNetwork, CoreNetworkInit, NodeRecord, TestCoreOptions } from './testing/core-network.js';
export { runScenario } from './testing/scenario.js';
export type { ScenarioArguments, ScenarioBlock, ScenarioCommand, ScenarioInit, ScenarioResult } from './testing/scenario.js';
export { engineBugOptions, unsafeLocalWeightsOptions } from './testing/engine-bugs.js';
export { ENGINE_BUGS } from './core/engine-bugs.js';
export type { EngineBug } from './core/engine-bugs.js';
export { INITIAL_HARD_STATE, LogState } from './storage/log-state.js';
