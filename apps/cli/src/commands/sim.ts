// Placeholder until the 'sim' command lands in this change.
export async function run(_argv: string[]): Promise<number> {
  console.error("greenraft sim: not built yet");
  return 2;
}
