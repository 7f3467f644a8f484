import { isMainThread } from 'node:worker_threads';
import { describeFailure, runCli, wantsDebug } from './cli.js';

const argv = process.argv.slice(2);

if (isMainThread) {
  // `greenraft demo | head -4`: once the reader is gone, nobody wants the rest; end quietly.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  // A closed stderr must not crash the command either; the exit code still tells the outcome.
  process.stderr.on('error', () => {});
  // Whatever escapes the command's own handling is still one line, never a crash with a stack.
  const fail = (error: unknown) => {
    process.stderr.write(`${describeFailure('greenraft', error, wantsDebug(argv))}\n`);
    process.exit(2);
  };
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
}

runCli(argv).then((code) => {
  process.exitCode = code;
});
