/** Where every command writes: one place, so the tests can capture what a user would see. */

/** One line (or block) of output on stdout. */
export function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** One line on stderr: a message for the user, never a stack trace. */
export function printError(text: string): void {
  process.stderr.write(`${text}\n`);
}
