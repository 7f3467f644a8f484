import type { NodeId } from '@greenraft/consensus';

/**
 * The trading round of the paper's Tables 1 and 2 (§5.1): 30 nodes, 1–15 generate and 16–30
 * consume, with their credit weights before the round, and 15 contracts (generator, consumer,
 * unit price in yuan/kWh, contracted, generated and consumed kWh). Nodes 17 and 29 default.
 */
export const PAPER_TABLE_1_ROUND: {
  readonly nodes: readonly { readonly id: NodeId; readonly kind: 'generation' | 'consumption'; readonly creditWeight: number }[];
  readonly contracts: readonly {
    readonly generator: NodeId;
    readonly consumer: NodeId;
    readonly unitPrice: number;
    readonly contractedKWh: number;
    readonly generatedKWh: number;
    readonly consumedKWh: number;
  }[];
} = Object.freeze({
  nodes: (
    [
      97.67, 86.47, 84.71, 70.52, 96.24, 85.58, 76.82, 77.83, 78.88, 83.74, 59.55, 47.47, 81.57, 58.51, 47.09, 95.57, 95.6, 79.3, 79.82,
      91.87, 84.99, 79.95, 79.83, 79.84, 80.55, 65.05, 70.37, 73.27, 64.93, 61.38,
    ] as const
  ).map((creditWeight, position) => ({ id: String(position + 1), kind: position < 15 ? ('generation' as const) : ('consumption' as const), creditWeight })),
  contracts: (
    [
      [1, 16, 0.61, 310, 310, 310],
      [2, 17, 0.63, 200, 200, 180],
      [3, 18, 0.64, 110, 110, 110],
      [4, 19, 0.63, 190, 190, 190],
      [5, 20, 0.61, 290, 290, 290],
      [6, 21, 0.62, 160, 160, 160],
      [7, 22, 0.63, 140, 140, 140],
      [8, 23, 0.61, 110, 110, 110],
      [9, 24, 0.63, 140, 140, 140],
      [10, 25, 0.62, 190, 190, 190],
      [11, 26, 0.67, 60, 60, 80],
      [12, 27, 0.65, 120, 120, 120],
      [13, 28, 0.64, 130, 130, 130],
      [14, 29, 0.66, 60, 60, 50],
      [15, 30, 0.64, 100, 100, 100],
    ] as const
  ).map(([generator, consumer, unitPrice, contractedKWh, generatedKWh, consumedKWh]) => ({
    generator: String(generator),
    consumer: String(consumer),
    unitPrice,
    contractedKWh,
    generatedKWh,
    consumedKWh,
  })),
});

