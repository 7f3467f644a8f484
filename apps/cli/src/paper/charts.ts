/**
 * The figures of `greenraft paper`: a vega-lite spec per figure, compiled and rendered to SVG in
 * Node by vega (no browser, no canvas), and the SVG rasterised to PNG by resvg. Text is drawn
 * with a font the machine has: the SVG names a list of common sans-serif families and resvg
 * loads the system's fonts, so nothing is fetched from the network.
 */
import type { PaperFigure } from '@greenraft/simulation';
import type { TopLevelSpec } from 'vega-lite';

/** Sans-serif families tried in order: Linux (DejaVu, Liberation), macOS (Helvetica), Windows (Arial). */
export const CHART_FONT = 'DejaVu Sans, Liberation Sans, Helvetica, Arial, sans-serif';
const FALLBACK_FONT = process.platform === 'darwin' ? 'Helvetica' : process.platform === 'win32' ? 'Arial' : 'DejaVu Sans';
// A fixed palette so that classic Raft, node 1, … keep their colour from figure to figure.
const PALETTE = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2'];

/** The vega-lite spec of one figure: its data inline, one colour per series, panels side by side when faceted. */
export function figureSpec(figure: PaperFigure): TopLevelSpec {
  const faceted = figure.points.some((point) => point.panel !== undefined);
  const panels = [...new Set(figure.points.map((point) => point.panel).filter((panel) => panel !== undefined))];
  const x = figure.xCategorical
    ? { field: 'x', type: 'ordinal' as const, title: figure.xTitle, axis: { labelAngle: 0 } }
    : { field: 'x', type: 'quantitative' as const, title: figure.xTitle };
  const y = { field: 'y', type: 'quantitative' as const, title: figure.yTitle, scale: { zero: figure.yFromZero ?? false } };
  const color = { field: 'series', type: 'nominal' as const, title: null, sort: [...figure.series], scale: { domain: [...figure.series], range: PALETTE } };
  // Points mark the measurements when there are few of them (the studies' figures).
  const mark = figure.mark === 'bar' ? { type: 'bar' as const } : { type: 'line' as const, strokeWidth: 1.8, point: faceted || figure.dashed === true };
  const strokeDash = { field: 'series', type: 'nominal' as const, title: null, sort: [...figure.series], scale: { domain: [...figure.series] } };
  const encoding =
    figure.mark === 'bar'
      ? { x, y, color, xOffset: { field: 'series', type: 'nominal' as const, sort: [...figure.series] } }
      : figure.dashed === true
        ? { x, y, color, strokeDash }
        : { x, y, color };
  const config = {
    font: CHART_FONT,
    background: 'white',
    legend: { orient: 'bottom' as const, labelLimit: 400 },
    title: { anchor: 'start' as const, fontSize: 14, subtitleFontSize: 12, limit: 0, subtitleLimit: 0 },
  };
  // The figure's number as the title and its caption below, never cut short.
  const title = { text: figure.number === undefined ? 'Beyond the paper' : `Figure ${figure.number}`, subtitle: figure.title };
  if (faceted) {
    return {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title,
      data: { values: figure.points.map((point) => ({ ...point })) },
      facet: { field: 'panel', type: 'nominal', title: null, sort: panels },
      columns: panels.length,
      spec: { width: 150, height: 180, mark, encoding },
      config,
    };
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 640,
    height: 300,
    data: { values: figure.points.map((point) => ({ ...point })) },
    mark,
    encoding,
    config,
  };
}

interface Renderers {
  readonly vega: typeof import('vega');
  readonly vegaLite: typeof import('vega-lite');
  readonly Resvg: typeof import('@resvg/resvg-js').Resvg;
}
let renderers: Promise<Renderers> | undefined;

/** vega, vega-lite and resvg, loaded on first use: every other command starts without them (vega alone takes ~0.2 s). */
function loadRenderers(): Promise<Renderers> {
  renderers ??= Promise.all([import('vega'), import('vega-lite'), import('@resvg/resvg-js')]).then(([vega, vegaLite, resvg]) => ({ vega, vegaLite, Resvg: resvg.Resvg }));
  return renderers;
}

/** Renders a vega-lite spec to an SVG document. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const { vega, vegaLite } = await loadRenderers();
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterises an SVG document to PNG at twice its size, with the machine's fonts. */
export async function renderPng(svg: string): Promise<Uint8Array> {
  const { Resvg } = await loadRenderers();
  const resvg = new Resvg(svg, { fitTo: { mode: 'zoom', value: 2 }, font: { loadSystemFonts: true, defaultFontFamily: FALLBACK_FONT, sansSerifFamily: FALLBACK_FONT } });
  return resvg.render().asPng();
}
