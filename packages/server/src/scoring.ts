/**
 * The scoring strategies a market cluster can put in force, by name and version: the built-in
 * ones and the modules a node's configuration names. Which one is in force is replicated state
 * (a `scoring.set` log entry); this registry only says whether this node can compute it.
 */
import { pathToFileURL } from 'node:url';
import { type PaperParameters, type ScoringStrategy, paperScoring, uniformScoring } from '@greenraft/weight-scoring';
import { ConfigError, type ConfigIssue } from './errors.js';
import type { ScoringSelection } from './state-machine.js';

/**
 * A scoring strategy a node can load: what a custom strategy module exports (as its default
 * export or as `strategy`). Every node of a market cluster should name the same modules: a node
 * that lacks the strategy in force refuses to lead rather than score differently.
 *
 * @example
 * ```ts
 * // green-first.mjs, named in each node's config as market.strategies: [{ "module": "./green-first.mjs" }]
 * import { customScoring } from '@greenraft/weight-scoring';
 *
 * export default {
 *   name: 'green-first',
 *   version: '1',
 *   create: (params) => customScoring('green-first', (node, all) => {
 *     const most = Math.max(1, ...all.map((n) => n.greenCertificates));
 *     return (params?.floor ?? 10) + (90 * node.greenCertificates) / most;
 *   }),
 * };
 * ```
 */
export interface ScoringStrategyModule {
  /** The name a `cluster.setScoring` request gives. */
  readonly name: string;
  /** Its version: a change of formula is a new version, so nodes never mix two formulas under one name. */
  readonly version: string;
  /** Builds the strategy for the parameters of the request (validate them: throw on bad ones). */
  create(params: unknown): ScoringStrategy;
}

/** The built-in strategies: `paper` version 1 (params: the paper's factors, `PaperParameters`) and `uniform` version 1 (every weight equal). */
export const BUILTIN_STRATEGIES: readonly ScoringStrategyModule[] = Object.freeze([
  {
    name: 'paper',
    version: '1',
    create(params: unknown): ScoringStrategy {
      if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params))) {
        throw new TypeError('the paper strategy takes an object of its parameters');
      }
      return paperScoring((params ?? {}) as Partial<PaperParameters>);
    },
  },
  { name: 'uniform', version: '1', create: () => uniformScoring() },
]);

function keyOf(name: string, version: string): string {
  return `${name}@${version}`;
}

function isStrategyModule(value: unknown): value is ScoringStrategyModule {
  const candidate = value as Partial<ScoringStrategyModule> | undefined;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.name === 'string' &&
    candidate.name.length > 0 &&
    typeof candidate.version === 'string' &&
    candidate.version.length > 0 &&
    typeof candidate.create === 'function'
  );
}

/** The strategies one node can compute. */
export class ScoringRegistry {
  readonly #modules = new Map<string, ScoringStrategyModule>();
  readonly #built = new Map<string, ScoringStrategy>();

  constructor(modules: readonly ScoringStrategyModule[] = []) {
    for (const module of [...BUILTIN_STRATEGIES, ...modules]) this.#modules.set(keyOf(module.name, module.version), module);
  }

  /** Loads the configuration's strategy modules (absolute paths), after the built-in ones. */
  static async load(paths: readonly string[]): Promise<ScoringRegistry> {
    const modules: ScoringStrategyModule[] = [];
    const issues: ConfigIssue[] = [];
    for (const [index, path] of paths.entries()) {
      try {
        const loaded = (await import(pathToFileURL(path).href)) as { default?: unknown; strategy?: unknown };
        const exported = loaded.default ?? loaded.strategy;
        const list = Array.isArray(exported) ? exported : [exported];
        if (list.length === 0 || !list.every(isStrategyModule)) {
          issues.push({ path: `market.strategies[${index}].module`, message: 'expected a module exporting { name, version, create(params) } as its default export or as "strategy"' });
        } else modules.push(...list);
      } catch (cause) {
        issues.push({ path: `market.strategies[${index}].module`, message: `cannot load ${path}: ${(cause as Error).message}` });
      }
    }
    if (issues.length > 0) throw new ConfigError(issues);
    return new ScoringRegistry(modules);
  }

  /** `name@version` of every strategy this node has. */
  available(): string[] {
    return [...this.#modules.keys()];
  }

  has(name: string, version: string): boolean {
    return this.#modules.has(keyOf(name, version));
  }

  /**
   * The strategy of `selection`, built once per selection.
   * @throws Error when this node lacks it or its parameters are refused (the error says which).
   */
  strategy(selection: ScoringSelection): ScoringStrategy {
    const key = `${keyOf(selection.name, selection.version)}:${JSON.stringify(selection.params ?? null)}`;
    const cached = this.#built.get(key);
    if (cached !== undefined) return cached;
    const module = this.#modules.get(keyOf(selection.name, selection.version));
    if (module === undefined) throw new Error(`this node has no scoring strategy ${keyOf(selection.name, selection.version)}`);
    const strategy = module.create(selection.params);
    if (typeof strategy?.score !== 'function') throw new Error(`strategy ${keyOf(selection.name, selection.version)} did not build a ScoringStrategy`);
    if (this.#built.size > 64) this.#built.clear();
    this.#built.set(key, strategy);
    return strategy;
  }
}
