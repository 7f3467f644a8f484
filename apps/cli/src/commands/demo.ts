// Placeholder until the 'demo' command lands in this change.
export async function run(_argv: string[]): Promise<number> {
  console.error("greenraft demo: not built yet");
  return 2;
}
