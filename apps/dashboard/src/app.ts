/**
 * The page: one model fed by one data source, the panels that draw it, and the controls that go
 * through the source. Drawing is throttled (at most every 250 ms), since events come faster.
 */
import { controlRunner, controlRuns } from './control-runs.js';
import { DashboardModel } from './model/model.js';
import type { DataSource } from './sources/source.js';
import { ActivityView } from './views/activity.js';
import { ControlsView, type ExtraControls } from './views/controls.js';
import { setText } from './views/dom.js';
import { LeadersView } from './views/leaders.js';
import { LedgerView, MarketView } from './views/market.js';
import { NodesView } from './views/nodes.js';
import { PerformanceView } from './views/performance.js';
import { QuorumView } from './views/quorum.js';

const REDRAW_MS = 250;

function section(id: string): HTMLElement {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`the page has no #${id}`);
  return element;
}

/** A running dashboard; `stop()` ends its source and its timers. */
export interface Dashboard {
  readonly model: DashboardModel;
  readonly source: DataSource;
  stop(): Promise<void>;
}

/** Mounts the dashboard on the page's sections and starts `source`. */
export async function mountDashboard(source: DataSource, extra: ExtraControls = {}): Promise<Dashboard> {
  const model = new DashboardModel();
  setText(section('mode'), source.mode === 'in-browser' ? `In-browser mode: ${source.description}.` : `Live mode: ${source.description}.`);
  const summary = section('summary');

  let controlsView: ControlsView | undefined;
  // The one place a control's outcome is reported: the status line, and once the activity log.
  const run = controlRunner(
    (text, level) => controlsView?.status(text, level),
    (level, text) => model.apply({ type: 'log', at: Date.now(), level, text }),
  );

  const nodes = new NodesView(
    section('nodes-body'),
    (control, node) => {
      const action = controlRuns[control](source.controls, node);
      void run({
        ...action,
        run: async () => {
          const done = await action.run();
          draw();
          nodes.keepFocus(control, node);
          return done;
        },
      });
    },
    source.controls.supported,
  );
  controlsView = new ControlsView(section('controls-body'), source.controls, run, extra);
  const views = [nodes, controlsView, new QuorumView(section('quorum-body')), new LeadersView(section('leaders-body')), new PerformanceView(section('performance-body')), new MarketView(section('market-body')), new LedgerView(section('ledger-body')), new ActivityView(section('activity-body'))];

  let scheduled: ReturnType<typeof setTimeout> | undefined;
  let drawnAt = 0;
  function draw(): void {
    scheduled = undefined;
    drawnAt = performance.now();
    const leader = model.leader();
    setText(summary, leader === undefined ? `No leader · term ${model.term()}` : `Leader ${leader.id} · term ${leader.term} · commit ${leader.commitIndex}`);
    for (const view of views) {
      try {
        view.render(model);
      } catch (error) {
        console.error('a panel failed to draw', error);
      }
    }
  }
  model.on('change', () => {
    if (scheduled !== undefined) return;
    scheduled = setTimeout(() => requestAnimationFrame(draw), Math.max(0, REDRAW_MS - (performance.now() - drawnAt)));
  });
  const sampler = setInterval(() => model.sample(Date.now()), 1000);
  await source.start((event) => model.apply(event));
  draw();
  return {
    model,
    source,
    async stop() {
      clearInterval(sampler);
      clearTimeout(scheduled);
      await source.stop();
    },
  };
}
