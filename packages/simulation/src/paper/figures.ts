/** One data point of a figure, in long form: one row per series and x value. */
export interface FigurePoint {
  /** The line or bar group the point belongs to (`'classic Raft'`, `'node 17'`). */
  readonly series: string;
  readonly x: number;
  readonly y: number;
  /** The panel of a faceted figure (`'15 nodes'`), when the figure has several. */
  readonly panel?: string;
}

/** One figure's data and how to draw it: enough to build a chart in any plotting library. */
export interface PaperFigure {
  /** A file-name-safe id: `figure-1` … `figure-10` for the paper's, `study-…` for the studies. */
  readonly id: string;
  /** The paper's figure number, for the paper's figures. */
  readonly number?: number;
  readonly title: string;
  /** `'line'`: one line per series. `'bar'`: grouped bars, one group per x value. */
  readonly mark: 'line' | 'bar';
  readonly xTitle: string;
  readonly yTitle: string;
  /** Draw x as categories (bars at 10, 20, 50, …) rather than on a linear scale. */
  readonly xCategorical?: boolean;
  /** Start the y axis at zero. @default false (fit the data) */
  readonly yFromZero?: boolean;
  /** Give each series its own dash pattern too, for series that may lie on top of each other. @default false */
  readonly dashed?: boolean;
  /** The order of the series in the legend. */
  readonly series: readonly string[];
  readonly points: readonly FigurePoint[];
}

/** Long-form points of one series from its y values at x = 1, 2, 3, … */
export function seriesPoints(series: string, values: readonly number[], panel?: string): FigurePoint[] {
  return values.map((y, i) => (panel === undefined ? { series, x: i + 1, y } : { series, x: i + 1, y, panel }));
}
