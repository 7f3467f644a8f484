/**
 * Runs the suites of `greenraft bench`: the limits first (every ratio divides by them, so they are
 * measured in the same run), then each suite asked for, handing each report to `onReport` as soon
 * as it is done.
 */
import { clusterSuite } from './cluster.js';
import { heterogeneousSuite } from './heterogeneous.js';
import { type LimitNeeds, measureLimits } from './limits.js';
import { memorySuite } from './memory.js';
import { SUITES, type SuiteName, type SuiteReport } from './report.js';
import { scaleSuite } from './scale.js';

/** Options of {@link runSuites}. */
export interface RunSuitesInit {
  readonly suites: readonly SuiteName[];
  /** Seconds of each measured window. */
  readonly seconds: number;
  /** Where disk measurements and the cluster's data directories go (the data disk). */
  readonly dataDir: string;
  /** Progress lines. */
  readonly log: (line: string) => void;
  /** Measure only the Raft rows whose name contains this text (the limits are always measured). @default every row */
  readonly only?: string;
  /** Called with each suite's report as soon as it is done (the limits first). */
  readonly onReport: (report: SuiteReport) => void;
}

/** Runs the suites; resolves with every report, the limits first. */
export async function runSuites(init: RunSuitesInit): Promise<SuiteReport[]> {
  // The disk and ws limits take a while; only the limits and cluster suites divide by them.
  const needs: LimitNeeds = init.suites.includes('limits') || init.suites.includes('cluster') ? 'all' : 'in-process';
  const { limits, report } = await measureLimits({ needs, seconds: init.seconds, dataDir: init.dataDir, log: init.log });
  const reports: SuiteReport[] = [report];
  init.onReport(report);
  const suiteInit = { seconds: init.seconds, limits, log: init.log, ...(init.only === undefined ? {} : { only: init.only }) };
  for (const suite of SUITES) {
    if (suite === 'limits' || !init.suites.includes(suite)) continue;
    let done: SuiteReport;
    if (suite === 'memory') done = await memorySuite(suiteInit);
    else if (suite === 'scale') done = await scaleSuite(suiteInit);
    else if (suite === 'heterogeneous') done = await heterogeneousSuite(suiteInit);
    else done = await clusterSuite({ ...suiteInit, dataDir: init.dataDir });
    reports.push(done);
    init.onReport(done);
  }
  return reports;
}
