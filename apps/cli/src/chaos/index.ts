/**
 * The chaos harness of `greenraft chaos` and of the multi-process CI test: node processes behind
 * per-link TCP proxies, a seeded nemesis (kill -9 with lost writes, power loss, SIGSTOP, cut,
 * blackholed and delayed links, weight changes), concurrent clients whose history is checked for
 * linearizability, and the final checks (nothing acknowledged lost, every node converged, one
 * leader per term).
 */
export { CHAOS_BUGS, type ChaosBug, type ChaosInit, type ChaosReport, chaosReplayCommand, runChaos } from './run.js';
export { ChaosSetupError } from './errors.js';
export { type ChaosNetwork, type ChaosNetworkInit, chaosNetwork, type LinkFault, MAX_HELD_BYTES, type ProxyStats } from './proxy.js';
export { ChaosHistory, type Outcome, type RecordedOperation } from './history.js';
export { lostWrites, type LostWrites } from './checks.js';
export { SKIP_FDATASYNC_ENV, SYNC_LOG_ENV, syncedSizes, truncateToSynced, writeSyncPreload } from './durability.js';
