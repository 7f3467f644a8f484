export { FIGURE_7_NODES, FIGURE_9_NODES, PAPER_SCENARIO_LEADERS, paperReproduction } from './reproduction.js';
export type { ConsensusScenarioSeries, PaperProgress, PaperReproduction, PaperReproductionInit, PaperTables, WeightSeries } from './reproduction.js';
export type { FigurePoint, PaperFigure } from './figures.js';
export type { LatencyModel, LatencyModelInit } from './latency.js';
export { PAPER_CONSENSUS_CHECKPOINTS } from './tables.js';
export type { ConsensusTotalRow, ElectionTableRow, SettlementTableRow } from './tables.js';
export { EPOCH_STUDY_INTERVALS, PAPER_STUDIES, SWEEP_SCORINGS, SWEEP_SIZES, SWEEP_SPREADS } from './studies.js';
export type { AvailabilityGuard, AvailabilityRow, AvailabilityStudy, EpochStudyRow, PaperStudies, PaperStudy, SweepRow } from './studies.js';
export type { ScenarioScoring } from './consensus-time.js';
