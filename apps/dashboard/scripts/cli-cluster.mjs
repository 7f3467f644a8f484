// A local cluster of real node processes for the browser tests and the screenshot script:
// `greenraft cluster …` of the built CLI (which serves the page it carries, with its control
// API), in a process group of its own, read until it prints its endpoints, stopped as a terminal
// stops a job (SIGINT to the group) and killed for good if it does not stop in time.
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The built `greenraft` command. */
export const CLI = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));
const PAGE = fileURLToPath(new URL('../../cli/dist/dashboard/index.html', import.meta.url));

/** True when the CLI is built with the dashboard page in it. */
export function hasBuiltCli() {
  return existsSync(CLI) && existsSync(PAGE);
}

/** Whether a process with this pid exists (and is not a zombie). */
export function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/**
 * Starts `greenraft ARGS…` and resolves once it printed its endpoints line:
 * `{ child, started: { dir, nodes: [{ id, pid, http, … }], dashboard }, stderr(), stop(), kill() }`.
 */
export async function startCliCluster(args, { timeoutMs = 90_000 } = {}) {
  const child = spawn(process.execPath, [CLI, ...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk.toString();
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let started;
  const kill = () => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // gone already
    }
    for (const node of started?.nodes ?? []) {
      try {
        process.kill(node.pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    // A killed supervisor cannot remove its temporary directory itself.
    if (started?.dir !== undefined) rmSync(started.dir, { recursive: true, force: true });
  };
  try {
    started = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`greenraft ${args.join(' ')} printed no endpoints within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
      child.stdout.on('data', (chunk) => {
        stdout += chunk.toString();
        const newline = stdout.indexOf('\n');
        if (newline >= 0) {
          clearTimeout(timer);
          try {
            resolve(JSON.parse(stdout.slice(0, newline)));
          } catch (error) {
            reject(error);
          }
        }
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`greenraft ${args.join(' ')} exited before printing its endpoints; stderr: ${stderr}`));
      });
    });
  } catch (error) {
    kill();
    throw error;
  }
  return {
    child,
    started,
    stderr: () => stderr,
    /** Ctrl-C (SIGINT to the group); resolves with how it exited, or kills it all after `stopMs`. */
    async stop(stopMs = 40_000) {
      try {
        process.kill(-child.pid, 'SIGINT');
      } catch {
        // gone already
      }
      let timer;
      const outcome = await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(() => resolve(undefined), stopMs)))]);
      clearTimeout(timer);
      if (outcome === undefined) {
        kill();
        throw new Error(`greenraft ${args.join(' ')} did not stop within ${stopMs} ms after SIGINT; stderr: ${stderr}`);
      }
      return outcome;
    },
    kill,
  };
}
