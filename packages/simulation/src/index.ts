/**
 * Deterministic whole-cluster simulation of greenraft: real `RaftCore` engines on a virtual clock
 * over the in-process network of `@greenraft/transport-memory`, a seeded nemesis (partitions,
 * one-way cuts, bridges, loss, duplication, reordering and delay bursts, crashes that lose unsynced
 * writes, restarts, pauses, membership and weight changes, heals), and checkers for Raft's safety
 * properties after every step: Election Safety, Leader Append-Only, Log Matching, Leader
 * Completeness, State Machine Safety, durability of committed entries, the configuration in use,
 * and liveness once the nemesis heals; key-value clients run throughout and their history is
 * checked for linearizability. A failing seed comes with the `greenraft sim` command that replays
 * it exactly.
 *
 * @example
 * ```ts
 * import { paperElections, runSimulation, runSimulations } from '@greenraft/simulation';
 *
 * const one = await runSimulation({ seed: 42, nodes: 5, steps: 1000, nemesis: 'all' });
 * console.log(one.violation ?? `seed 42: ${one.elections} elections, ${one.commits} entries committed`);
 *
 * const many = await runSimulations({ seeds: 10, nodes: 3, steps: 500, nemesis: 'crash,partition' });
 * for (const violation of many.violations) console.log(violation.property, violation.replay);
 *
 * // Weighted Raft: weights from the paper's scores over a simulated power market, changed by joint consensus.
 * const weighted = await runSimulation({ seed: 42, nodes: 5, steps: 1000, policy: 'weighted', scoring: 'paper' });
 * console.log(weighted.violation ?? `${weighted.stats.weightEpochs} weight epochs, no violation`);
 *
 * // The paper's Tables 3–4: who wins 200 elections among its 30 nodes, classic vs weighted.
 * const { classic, weighted: byWeight } = paperElections({ elections: 200 });
 * console.log(classic['1'], byWeight['1']); // a handful vs most of them
 * ```
 *
 * @packageDocumentation
 */
export { runSimulation, replayCommand, resolveSimulationInit, livenessBound } from './simulation.js';
export type { SimulationInit, SimulationResult, SimulationStats, ResolvedSimulationInit, Violation } from './simulation.js';
export { runSimulations, summarizeRuns } from './batch.js';
export type { SimulationBatchInit, SimulationSummary } from './batch.js';
export { FAULT_KINDS, formatNemesis, nemesisSchedule, parseNemesis } from './nemesis.js';
export type { CrashPoint, FaultKind, NemesisAction, NemesisEvent, NemesisScheduleInit, NodeTarget } from './nemesis.js';
export { SAFETY_PROPERTIES, safetyChecker } from './checkers.js';
export type { LogView, PropertyViolation, SafetyChecker, SafetyProperty } from './checkers.js';
export { chainDigest, entryDigest } from './digest.js';
export { RECONFIGURATION_CHANGES, planReconfiguration } from './reconfig-plan.js';
export type { ReconfigurationChange } from './reconfig-plan.js';
export { SIMULATION_POLICIES, SIMULATION_SCORINGS } from './weighted-epochs.js';
export type { SimulationPolicy, SimulationScoring } from './weighted-epochs.js';
export type { SimulationEvent } from './trace.js';
export { PAPER_RENEWABLE_NODES, PAPER_TABLE_1_ROUND, paperElections } from './scenario-paper-elections.js';
export type { ElectionCounts, PaperElectionEvent, PaperElectionsInit, PaperElectionsResult } from './scenario-paper-elections.js';
export * from './paper/index.js';
