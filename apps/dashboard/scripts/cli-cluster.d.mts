import type { ChildProcess } from 'node:child_process';

export declare const CLI: string;
export declare function hasBuiltCli(): boolean;
export declare function alive(pid: number): boolean;

export interface StartedCliCluster {
  readonly dir: string;
  readonly nodes: readonly { id: string; pid: number; http: string; ws: string; peer: string; config: string; log: string }[];
  readonly dashboard: string | null;
}

export interface CliCluster {
  readonly child: ChildProcess;
  readonly started: StartedCliCluster;
  stderr(): string;
  stop(stopMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): void;
}

export declare function startCliCluster(args: readonly string[], options?: { timeoutMs?: number }): Promise<CliCluster>;
