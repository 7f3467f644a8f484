// Placeholder until the 'market' command lands in this change.
export async function run(_argv: string[]): Promise<number> {
  console.error("greenraft market: not built yet");
  return 2;
}
