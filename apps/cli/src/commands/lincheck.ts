// Placeholder until the 'lincheck' command lands in this change.
export async function run(_argv: string[]): Promise<number> {
  console.error("greenraft lincheck: not built yet");
  return 2;
}
