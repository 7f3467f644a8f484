/** `greenraft admin status|add-node|remove-node|set-weights|transfer-leader`: a running cluster's membership, weights and leadership. */
import type { ClusterStatus, JsonValue } from '@greenraft/client';
import { InvalidArgumentError } from '@greenraft/consensus';
import { booleanOption, commandSpec, defineCommand, integerOption, type OptionSpec, required } from '../args.js';
import { describeConfiguration } from '../config-text.js';
import { print } from '../io.js';
import { clusterOptions, withClient } from './kv.js';

const EXIT_STATUS = '0 done, 2 bad arguments, no node reachable, a change refused (CONFLICT: another change is in flight), or one whose outcome is unknown.';

function requiredUrl(help: string): OptionSpec<string> {
  return required({
    value: 'URL',
    help,
    parse: (text, flag) => {
      if (text !== undefined && !URL.canParse(text)) throw new InvalidArgumentError(`${flag} takes a URL, not '${text}'`);
      return text;
    },
  });
}

/** What an admin change answered, as one line: the new configuration when it is one. */
function describeAnswer(answer: JsonValue): string {
  const record = answer as Record<string, unknown>;
  const config = (record?.config ?? record) as ClusterStatus['config'];
  if (config !== null && typeof config === 'object' && 'voters' in config) return `configuration: ${describeConfiguration(config)}`;
  return JSON.stringify(answer);
}

/** The table of `greenraft admin status`. */
export const adminStatusSpec = commandSpec({
  name: 'admin status',
  summary: 'show a running cluster’s leader, term, indexes and weights',
  description: 'Prints the connected node’s view of the cluster: role, term, leader, commit and applied index, the voters with their weights, the learners, every member’s URLs (--json: the node’s cluster.status answer).',
  options: { ...clusterOptions },
  examples: ['greenraft admin status --endpoints http://127.0.0.1:7001', 'greenraft admin status --json'],
  exitStatus: '0 done, 2 bad arguments or no node reachable.',
});

/** `greenraft admin status`. */
export const adminStatusCommand = defineCommand(adminStatusSpec, ({ options }) =>
  withClient(options, async (client) => {
    const status = await client.status();
    if (options.json) {
      print(JSON.stringify(status));
      return 0;
    }
    const lines = [
      `node      ${status.node} (${status.role}, term ${status.term})`,
      `leader    ${status.leader ?? 'none known'}`,
      `commit    ${status.commitIndex}, applied ${status.appliedIndex}`,
      `voters    ${describeConfiguration(status.config)}`,
    ];
    for (const [id, member] of Object.entries(status.members ?? {})) lines.push(`member    ${id}  client ${member.clientUrl}  peer ${member.peerUrl}`);
    print(lines.join('\n'));
    return 0;
  }),
);

/** The table of `greenraft admin add-node`. */
export const adminAddNodeSpec = commandSpec({
  name: 'admin add-node',
  summary: 'add a node to a running cluster',
  description: [
    'Adds node ID (started with join: true in its config) to the configuration through the log, as',
    'a voter of --weight or, with --learner, as a learner; it catches up by snapshot. Prints the new',
    'configuration.',
  ].join('\n'),
  options: {
    ...clusterOptions,
    peerUrl: requiredUrl('where the other nodes reach it: ws:// or wss://'),
    clientUrl: requiredUrl('where clients reach it: http:// or https://'),
    weight: integerOption({ value: 'W', help: 'its vote weight', min: 0, max: 1_000_000, default: 1 }),
    learner: booleanOption({ help: 'add it as a learner (replicated to, not voting)' }),
  },
  positionals: [{ name: 'ID', help: 'the new node’s id' }],
  examples: ['greenraft admin add-node n4 --peer-url ws://127.0.0.1:7402 --client-url http://127.0.0.1:7401 --weight 1'],
  exitStatus: EXIT_STATUS,
});

/** `greenraft admin add-node`. */
export const adminAddNodeCommand = defineCommand(adminAddNodeSpec, ({ options, positionals }) => {
  const member = { member: positionals[0]!, peerUrl: options.peerUrl, clientUrl: options.clientUrl, weight: options.weight, learner: options.learner };
  return withClient(options, async (client) => {
    const answer = await client.admin.addMember(member);
    print(options.json ? JSON.stringify(answer) : describeAnswer(answer));
    return 0;
  });
});

/** The table of `greenraft admin remove-node`. */
export const adminRemoveNodeSpec = commandSpec({
  name: 'admin remove-node',
  summary: 'remove a node from a running cluster',
  description: 'Removes node ID from the configuration through the log and prints the new configuration. A removed leader hands over first.',
  options: { ...clusterOptions },
  positionals: [{ name: 'ID', help: 'the node to remove' }],
  examples: ['greenraft admin remove-node n4'],
  exitStatus: EXIT_STATUS,
});

/** `greenraft admin remove-node`. */
export const adminRemoveNodeCommand = defineCommand(adminRemoveNodeSpec, ({ options, positionals }) =>
  withClient(options, async (client) => {
    const answer = await client.admin.removeMember(positionals[0]!);
    print(options.json ? JSON.stringify(answer) : describeAnswer(answer));
    return 0;
  }),
);

/** `n1=3,n2=2` → `{ n1: 3, n2: 2 }`. */
export function parseWeights(text: string): Record<string, number> {
  const weights: Record<string, number> = {};
  for (const pair of text.split(',')) {
    const match = /^\s*([^=\s]+)\s*=\s*(\d+)\s*$/.exec(pair);
    if (match === null) throw new InvalidArgumentError(`WEIGHTS takes ID=W[,ID=W…] with whole-number weights, not '${pair}'`);
    const [, id, weight] = match as unknown as [string, string, string];
    if (id in weights) throw new InvalidArgumentError(`WEIGHTS names ${id} twice`);
    weights[id] = Number(weight);
  }
  return weights;
}

/** The table of `greenraft admin set-weights`. */
export const adminSetWeightsSpec = commandSpec({
  name: 'admin set-weights',
  summary: 'change the vote weights of a running cluster',
  description: [
    'Sets the voters’ weights by joint consensus (C(old,new), then C(new)) and prints the new',
    'configuration. Weights are whole numbers ≥ 0 with a positive total; every voter is named.',
  ].join('\n'),
  options: { ...clusterOptions },
  positionals: [{ name: 'WEIGHTS', help: 'ID=W[,ID=W…], e.g. n1=3,n2=2,n3=1' }],
  examples: ['greenraft admin set-weights n1=2,n2=2,n3=1'],
  exitStatus: EXIT_STATUS,
});

/** `greenraft admin set-weights`. */
export const adminSetWeightsCommand = defineCommand(adminSetWeightsSpec, ({ options, positionals }) => {
  const weights = parseWeights(positionals[0]!);
  return withClient(options, async (client) => {
    const answer = await client.admin.setWeights(weights);
    print(options.json ? JSON.stringify(answer) : describeAnswer(answer));
    return 0;
  });
});

/** The table of `greenraft admin transfer-leader`. */
export const adminTransferLeaderSpec = commandSpec({
  name: 'admin transfer-leader',
  summary: 'hand leadership of a running cluster to a node',
  description: 'Asks the leader to hand leadership to node ID (a voter that is up to date) and prints the leader after it.',
  options: { ...clusterOptions },
  positionals: [{ name: 'ID', help: 'the node to lead' }],
  examples: ['greenraft admin transfer-leader n2'],
  exitStatus: '0 done, 2 bad arguments, no node reachable, or the transfer did not happen.',
});

/** `greenraft admin transfer-leader`. */
export const adminTransferLeaderCommand = defineCommand(adminTransferLeaderSpec, ({ options, positionals }) =>
  withClient(options, async (client) => {
    const answer = await client.admin.transferLeader(positionals[0]!);
    const leader = (answer as { leader?: unknown }).leader;
    print(options.json ? JSON.stringify(answer) : `leader ${typeof leader === 'string' ? leader : JSON.stringify(answer)}`);
    return 0;
  }),
);

/** Every `greenraft admin` command. */
export const adminCommands = [adminStatusCommand, adminAddNodeCommand, adminRemoveNodeCommand, adminSetWeightsCommand, adminTransferLeaderCommand];
