/**
 * `greenraft restore --snapshot FILE --config FILE`: disaster recovery. Writes a node's new data
 * directory from one snapshot file (`restoreSnapshot` of @greenraft/storage-wal), so that a
 * cluster that lost a quorum's data can start again from the newest snapshot left.
 */
import { type ClusterConfig, configurationToJSON, InvalidArgumentError, StorageError } from '@greenraft/consensus';
import { loadServerConfig } from '@greenraft/server';
import { type RestoredSnapshot, restoreSnapshot } from '@greenraft/storage-wal';
import { booleanOption, commandSpec, defineCommand, type ParsedCommandLine, required, textOption } from '../args.js';
import { describeConfiguration } from '../config-text.js';
import { print, printError } from '../io.js';

/** The table of `greenraft restore`. */
export const restoreSpec = commandSpec({
  name: 'restore',
  summary: 'write a stopped node\u2019s new data directory from a snapshot file (disaster recovery)',
  description: [
    'Writes a new data directory for one node from a snapshot file (snapshot-<index>-<id>.snap, taken',
    'from any node\u2019s data directory): the snapshot at its index and term with its configuration, and',
    'the hard state (that term, no vote, commit at that index). The node started on it loads the',
    'snapshot and takes part in elections from there. The file is checked whole first (header, format',
    'version, CRC32s, configuration); the directory must be new or empty, so nothing is overwritten.',
    '',
    'To start a cluster from one snapshot: stop every node, restore every node from the same file,',
    'then start them. Everything after the snapshot\u2019s index is lost. Do it only when no node with',
    'newer data survives: otherwise rebuild nodes from their peers (docs/operations.md).',
  ].join('\n'),
  options: {
    snapshot: required(textOption({ value: 'FILE', help: 'the snapshot file to restore from' })),
    config: textOption({ value: 'FILE', help: 'the node\u2019s configuration file: restores its dataDir, for its id' }),
    dataDir: textOption({ value: 'DIR', help: 'the data directory to write, instead of --config' }),
    json: booleanOption({ help: 'print one JSON object: {"directory","node","index","term","bytes","config"}' }),
  },
  examples: [
    'greenraft restore --snapshot ./backup/snapshot-0000000000000412-0000000000000003.snap --config ./grid/n1.json',
    'greenraft restore --snapshot ./backup/snapshot-0000000000000412-0000000000000003.snap --data-dir ./grid/data/n1 --json',
  ],
  exitStatus:
    '0 restored, 1 the snapshot file is corrupt or of a newer format, or the directory could not be written (what was written is removed), 2 bad arguments, an invalid configuration, a missing file, a directory that is not empty, or a node the snapshot\u2019s configuration does not name.',
});

/** The configuration in the client protocol's JSON form (ids sorted, as a node's answers have them). */
function configJSON(config: ClusterConfig): Record<string, unknown> {
  return { ...configurationToJSON(config.incoming), outgoing: config.outgoing === undefined ? null : configurationToJSON(config.outgoing) };
}

function report(restored: RestoredSnapshot, node: string | undefined): Record<string, unknown> {
  const { index, term, config } = restored.metadata;
  return { directory: restored.directory, node: node ?? null, index, term, bytes: restored.bytes, config: configJSON(config) };
}

/** Runs `greenraft restore`; resolves with the exit code. */
export async function runRestore({ options }: ParsedCommandLine<typeof restoreSpec.options>): Promise<number> {
  if (options.config !== undefined && options.dataDir !== undefined) throw new InvalidArgumentError('give --config or --data-dir, not both');
  let directory = options.dataDir;
  let node: string | undefined;
  if (options.config !== undefined) {
    // The directory `greenraft node --config` would open, and the id that will run on it.
    const config = await loadServerConfig(options.config);
    directory = config.dataDir;
    node = config.id;
  }
  if (directory === undefined) throw new InvalidArgumentError('--config or --data-dir is required');
  let restored: RestoredSnapshot;
  try {
    restored = await restoreSnapshot({ snapshotFile: options.snapshot, directory, ...(node === undefined ? {} : { nodeId: node }) });
  } catch (error) {
    if (!(error instanceof InvalidArgumentError) && !(error instanceof StorageError)) throw error;
    printError(`greenraft restore: ${error.message.replace(/^restoreSnapshot: /, '')}`);
    return error instanceof InvalidArgumentError ? 2 : 1;
  }
  const { index, term, config } = restored.metadata;
  if (options.json) print(JSON.stringify(report(restored, node)));
  else {
    print(
      `restored ${node === undefined ? '' : `${node} in `}${restored.directory} from ${options.snapshot}: index ${index}, term ${term}, ` +
        `${restored.bytes} bytes of state, voters ${describeConfiguration(configJSON(config))}; start the node to run from it`,
    );
  }
  return 0;
}

/** `greenraft restore`. */
export const restoreCommand = defineCommand(restoreSpec, runRestore);
