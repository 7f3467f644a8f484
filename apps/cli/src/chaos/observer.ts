/**
 * Watches the cluster while the nemesis works: every node that runs is asked for its status a few
 * times a second (`GET /v1/cluster/status`). From the answers it knows the current leader (for
 * the nemesis to aim at), counts elections (terms in which some node was seen leading), and
 * checks Election Safety across the real processes: two nodes never lead in one term.
 */

/** The part of a node's status the chaos run reads. */
export interface NodeStatus {
  readonly node: string;
  readonly role: string;
  readonly term: number;
  readonly leader: string | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  readonly config: { readonly voters: Record<string, number>; readonly outgoing: unknown } | null;
}

/** Fetches one node's status, or `undefined` if it does not answer within `timeoutMs`. */
export async function fetchStatus(clientUrl: string, timeoutMs = 1000): Promise<NodeStatus | undefined> {
  try {
    const response = await fetch(`${clientUrl}/v1/cluster/status`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) {
      await response.arrayBuffer();
      return undefined;
    }
    const body = (await response.json()) as Partial<NodeStatus>;
    if (typeof body.node !== 'string' || typeof body.term !== 'number' || typeof body.role !== 'string') return undefined;
    return body as NodeStatus;
  } catch {
    return undefined;
  }
}

/** Two leaders seen in one term. */
export interface ElectionSafetyViolation {
  readonly term: number;
  readonly leaders: readonly string[];
}

/** Options of {@link ClusterObserver}. */
export interface ClusterObserverInit {
  /** The nodes to ask: id → client URL. */
  readonly nodes: ReadonlyMap<string, string>;
  /** Whether a node runs now (a paused or dead node is not asked). */
  readonly answering: (id: string) => boolean;
  /**
   * Milliseconds between rounds.
   * @default 250
   */
  readonly intervalMs?: number;
}

/** The poller; `start()` it, `stop()` it, read what it saw. */
export class ClusterObserver {
  readonly #init: ClusterObserverInit;
  readonly #leadersByTerm = new Map<number, Set<string>>();
  readonly #latest = new Map<string, NodeStatus>();
  #leader: { id: string; term: number } | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #round: Promise<void> = Promise.resolve();
  #running = false;

  constructor(init: ClusterObserverInit) {
    this.#init = init;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    const loop = () => {
      if (!this.#running) return;
      this.#round = this.poll().finally(() => {
        if (this.#running) this.#timer = setTimeout(loop, this.#init.intervalMs ?? 250);
      });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    await this.#round;
  }

  /** One round: every answering node's status. */
  async poll(): Promise<void> {
    const asked = [...this.#init.nodes].filter(([id]) => this.#init.answering(id));
    const answers = await Promise.all(asked.map(async ([id, url]) => [id, await fetchStatus(url)] as const));
    for (const [id, status] of answers) if (status !== undefined) this.observe(id, status);
  }

  /** Takes one status answer into account. */
  observe(id: string, status: NodeStatus): void {
    this.#latest.set(id, status);
    if (status.role !== 'leader') return;
    let leaders = this.#leadersByTerm.get(status.term);
    if (leaders === undefined) this.#leadersByTerm.set(status.term, (leaders = new Set()));
    leaders.add(id);
    if (this.#leader === undefined || status.term >= this.#leader.term) this.#leader = { id, term: status.term };
  }

  /** The node seen leading in the highest term, if it still answers. */
  leader(): string | undefined {
    const leader = this.#leader;
    return leader !== undefined && this.#init.answering(leader.id) ? leader.id : undefined;
  }

  /** Terms in which some node was seen leading. */
  get elections(): number {
    return this.#leadersByTerm.size;
  }

  /** Terms in which two nodes were seen leading. */
  violations(): ElectionSafetyViolation[] {
    return [...this.#leadersByTerm]
      .filter(([, leaders]) => leaders.size > 1)
      .map(([term, leaders]) => ({ term, leaders: [...leaders].sort() }))
      .sort((a, b) => a.term - b.term);
  }

  /** The latest status of each node. */
  latest(): ReadonlyMap<string, NodeStatus> {
    return this.#latest;
  }
}
