/** Commit latency and throughput over time, event-loop lag (uPlot charts), and peer round-trip times. */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { type DashboardModel, PAGE } from '../model/model.js';
import { el, num, replace, setText, table } from './dom.js';

const PALETTE = ['#0b5fa5', '#b3261e', '#1b7f3b', '#7a4bb0', '#a15c00', '#00727a', '#5a5a5a'];

interface Chart {
  plot: uPlot | undefined;
  readonly holder: HTMLElement;
  readonly reading: HTMLElement;
  readonly key: HTMLElement;
  /** Series names after the x axis; a change rebuilds the chart. */
  names: string[];
}

function chartBox(container: HTMLElement, title: string, id: string): Chart {
  const reading = el('p', { class: 'reading', id: `${id}-reading` });
  const key = el('p', { class: 'key', 'aria-hidden': 'true' });
  const holder = el('div', { class: 'chart', role: 'img', 'aria-labelledby': `${id}-title`, 'aria-describedby': `${id}-reading` });
  container.append(el('figure', { class: 'chart-box' }, el('figcaption', { id: `${id}-title` }, title), holder, key, reading));
  return { plot: undefined, holder, key, reading, names: [] };
}

function draw(chart: Chart, names: string[], unit: string, data: uPlot.AlignedData): void {
  const width = Math.max(200, Math.floor(chart.holder.clientWidth || 300));
  if (chart.plot === undefined || chart.names.join() !== names.join()) {
    chart.plot?.destroy();
    chart.names = names;
    chart.key.replaceChildren(
      ...(names.length < 2 ? [] : names.map((name, i) => el('span', { class: 'key-item' }, el('span', { class: 'swatch', 'data-colour': String(i % PALETTE.length) }), name))),
    );
    for (const swatch of chart.key.querySelectorAll<HTMLElement>('.swatch')) swatch.style.background = PALETTE[Number(swatch.dataset.colour)]!;
    chart.plot = new uPlot(
      {
        width,
        height: 150,
        legend: { show: false },
        cursor: { show: false },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.15)] } },
        axes: [
          { stroke: '#333', grid: { stroke: '#e3e3e3' }, values: (_u, ticks) => ticks.map((tick) => new Date(tick * 1000).toLocaleTimeString('en-GB', { hour12: false })) },
          { stroke: '#333', grid: { stroke: '#e3e3e3' }, size: 56, values: (_u, ticks) => ticks.map((tick) => `${num(tick, tick < 10 && tick !== 0 ? 1 : 0)}${unit}`) },
        ],
        series: [{}, ...names.map((name, i) => ({ label: name, stroke: PALETTE[i % PALETTE.length], width: 2, spanGaps: false }))],
      },
      data,
      chart.holder,
    );
    return;
  }
  if (chart.plot.width !== width) chart.plot.setSize({ width, height: 150 });
  chart.plot.setData(data);
}

export class PerformanceView {
  readonly #latency: Chart;
  readonly #throughput: Chart;
  readonly #lag: Chart;
  readonly #rtt: HTMLElement;

  constructor(container: HTMLElement) {
    const charts = el('div', { class: 'charts' });
    container.append(charts);
    this.#latency = chartBox(charts, 'Commit latency at the leader (append → quorum)', 'latency');
    this.#throughput = chartBox(charts, 'Throughput (entries committed per second)', 'throughput');
    this.#lag = chartBox(charts, 'Event-loop lag', 'lag');
    this.#rtt = el('div', { class: 'rtt' });
    container.append(this.#rtt);
  }

  render(model: DashboardModel): void {
    const series = model.series();
    const times = series.map((point) => point.time);
    const latest = series.at(-1);
    draw(this.#latency, ['mean', 'max'], ' ms', [times, series.map((p) => p.commitLatencyMs), series.map((p) => p.commitLatencyMaxMs)]);
    setText(this.#latency.reading, latest?.commitLatencyMs == null ? 'No commit in the last second.' : `Last second: mean ${num(latest.commitLatencyMs, 1)} ms, max ${num(latest.commitLatencyMaxMs, 1)} ms.`);
    draw(this.#throughput, ['entries/s'], '', [times, series.map((p) => p.throughput)]);
    setText(this.#throughput.reading, latest === undefined ? 'Measuring…' : `Last second: ${num(latest.throughput, 1)} entries/s.`);
    const lagKeys = [...new Set(series.flatMap((point) => Object.keys(point.lagMs)))].sort();
    draw(this.#lag, lagKeys.length === 0 ? [PAGE] : lagKeys, ' ms', [times, ...(lagKeys.length === 0 ? [PAGE] : lagKeys).map((key) => series.map((p) => p.lagMs[key] ?? null))]);
    const lag = model.eventLoopLag();
    setText(
      this.#lag.reading,
      lag.size === 0 ? 'Measuring…' : [...lag].map(([key, value]) => `${key === PAGE ? 'this page (runs every node)' : key}: mean ${num(value.meanMs, 1)} ms, max ${num(value.maxMs, 1)} ms`).join('; '),
    );
    const trips = model.roundTrips();
    replace(
      this.#rtt,
      trips.length === 0
        ? el('p', {}, 'No round trip measured yet.')
        : table(
            'Peer round-trip times',
            ['From', 'To', 'RTT (ms)'],
            trips.map((trip) => [trip.from, trip.to, num(trip.rttMs, 1)]),
            { numeric: [2], className: 'rtt-table' },
          ),
    );
  }
}
