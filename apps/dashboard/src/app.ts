/**
 * The page: one model fed by one data source, the panels that draw it, and the controls that go
 * through the source. Drawing is throttled (at most every 250 ms), since events come faster.
 */
import { isGreenraftError } from '@greenraft/consensus';
import { DashboardModel } from './model/model.js';
import type { ControlName, DataSource } from './sources/source.js';
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
  const run = async (control: ControlName, label: string, action: () => Promise<string>): Promise<void> => {
    controlsView?.status(`${label}…`, 'busy');
    try {
      const done = await action();
      controlsView?.status(done, 'ok');
    } catch (error) {
      const code = isGreenraftError(error) ? ` (${error.code})` : '';
      controlsView?.status(`${label} failed${code}: ${(error as Error).message}`, 'error');
      model.apply({ type: 'log', at: Date.now(), level: 'warn', text: `${control} failed: ${(error as Error).message}` });
    }
  };

  const nodes = new NodesView(
    section('nodes-body'),
    (control, node) => {
      const label = control === 'crash' ? `Crashing ${node}` : control === 'restart' ? `Restarting ${node}` : `Handing leadership to ${node}`;
      void run(control, label, async () => {
        if (control === 'crash') await source.controls.crash(node);
        else if (control === 'restart') await source.controls.restart(node);
        else await source.controls.transferLeadership(node);
        draw();
        nodes.keepFocus(control, node);
        return control === 'crash' ? `${node} crashed; its storage is kept.` : control === 'restart' ? `${node} restarted.` : `${node} leads.`;
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
