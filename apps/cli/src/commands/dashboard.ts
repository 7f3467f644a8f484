/**
 * `greenraft dashboard --endpoints URL,…`: the dashboard page in live mode against running nodes,
 * served on loopback. The page talks to the nodes' client API itself (over WebSocket, from the
 * browser): it shows them live, hands leadership over, changes the scoring strategy, and proposes
 * trades and runs trading rounds that each node signs with its own participant key. Crashing
 * processes and cutting links need the supervisor of `greenraft cluster`.
 */
import { InvalidArgumentError } from '@greenraft/consensus';
import { serveDashboard } from '@greenraft/dashboard';
import { commandSpec, defineCommand, integerOption, type OptionSpec, optionalIntegerOption, type ParsedCommandLine, required } from '../args.js';
import { print, printError } from '../io.js';
import { dashboardPage } from '../supervisor/page.js';

/** `--endpoints http://127.0.0.1:7101,http://127.0.0.1:7103`: the nodes' client URLs. */
function endpointsOption(): OptionSpec<string[]> {
  return required({
    value: 'URLS',
    help: 'the client URLs of the nodes, comma-separated (http:// or https://, as cluster start prints them)',
    parse: (text, flag) => {
      if (text === undefined) return undefined;
      const urls = text
        .split(',')
        .map((url) => url.trim())
        .filter((url) => url !== '');
      if (urls.length === 0) throw new InvalidArgumentError(`${flag} needs at least one URL`);
      for (const url of urls) {
        if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw new InvalidArgumentError(`${flag}: '${url}' is not an http:// or https:// URL`);
      }
      return [...new Set(urls.map((url) => new URL(url).origin))];
    },
  });
}

/** The table of `greenraft dashboard`. */
export const dashboardSpec = commandSpec({
  name: 'dashboard',
  summary: 'serve the dashboard page, live from running nodes, until Ctrl-C',
  description: [
    'Serves the dashboard (a web page) on loopback and prints its address; open it in a browser. The',
    'page connects to each node in --endpoints over the client WebSocket protocol and shows every node',
    'live: role, term, commit and applied index, vote weight and the scores behind it, the weighted',
    'quorums of recent commits, leaders and elections, commit latency, round trips and event-loop lag,',
    'and the market: the latest round’s settlement, certificates and carbon, and the ledger. Its',
    'controls go through the nodes’ API: hand leadership to a node, change the scoring strategy, and',
    'propose trades and run trading rounds that each node signs with its own participant key',
    '(market.participantKeyFile). Crashing processes and cutting links need greenraft cluster.',
    '',
    'Prints {"url","endpoints"} on stdout once it listens; Ctrl-C or SIGTERM (or --stop-after) stops it.',
  ].join('\n'),
  options: {
    endpoints: endpointsOption(),
    port: integerOption({ value: 'P', help: 'the port to listen on (loopback); 0: a free one', min: 0, max: 65_535, default: 0 }),
    stopAfter: optionalIntegerOption({ value: 'S', help: 'stop by itself after S seconds (default: run until Ctrl-C)', min: 1, max: 31_536_000 }),
  },
  examples: ['greenraft dashboard --endpoints http://127.0.0.1:7101,http://127.0.0.1:7103,http://127.0.0.1:7105'],
  exitStatus: '0 stopped by a signal or --stop-after, 2 bad arguments (or the page is not built).',
});

async function runDashboard({ options }: ParsedCommandLine<typeof dashboardSpec.options>): Promise<number> {
  const server = await serveDashboard({ root: dashboardPage(), host: '127.0.0.1', port: options.port, config: { mode: 'live', endpoints: options.endpoints } });
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const timer = options.stopAfter === undefined ? undefined : setTimeout(stop, options.stopAfter * 1000);
  try {
    print(JSON.stringify({ url: server.url, endpoints: options.endpoints }));
    printError(`greenraft dashboard: ${server.url} shows ${options.endpoints.length} node${options.endpoints.length === 1 ? '' : 's'}; Ctrl-C stops it`);
    await stopped;
    return 0;
  } finally {
    clearTimeout(timer);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await server.close();
  }
}

/** `greenraft dashboard`. */
export const dashboardCommand = defineCommand(dashboardSpec, runDashboard);
