import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  AbortError,
  ConfigurationError,
  GreenraftError,
  InvalidArgumentError,
  InvalidMessageError,
  isGreenraftError,
  NotLeaderError,
  ProposalDroppedError,
  StateMachineError,
  StoppedError,
  StorageError,
  TimeoutError,
  TransportError,
} from './errors.js';

describe('isGreenraftError', () => {
  const every = [
    new NotLeaderError('n2'),
    new TimeoutError(),
    new AbortError(),
    new StoppedError(),
    new StorageError('disk full'),
    new TransportError('refused'),
    new ConfigurationError('no voters'),
    new ProposalDroppedError(),
    new InvalidMessageError('bad term'),
    new InvalidArgumentError('bad seed'),
    new StateMachineError('apply', 'threw'),
  ];

  it('holds for every error class, with and without its code', () => {
    for (const error of every) {
      expect(isGreenraftError(error), error.name).toBe(true);
      expect(isGreenraftError(error, error.code), error.name).toBe(true);
      expect(isGreenraftError(error, error.code === 'TIMEOUT' ? 'ABORTED' : 'TIMEOUT'), error.name).toBe(false);
    }
    // Codes of other packages (a MarketError's, a ScoringError's) go through the base class.
    expect(isGreenraftError(new GreenraftError('INVALID_HISTORY', 'line 3'), 'INVALID_HISTORY')).toBe(true);
  });

  it('is false for anything else, lookalikes included', () => {
    const lookalike = Object.assign(new Error('not the leader'), { name: 'NotLeaderError', code: 'NOT_LEADER', leader: 'n2' });
    for (const value of [lookalike, new Error('x'), { code: 'NOT_LEADER' }, 'NOT_LEADER', null, undefined, 42, Symbol.for('greenraft.error')]) {
      expect(isGreenraftError(value), String(value)).toBe(false);
      expect(isGreenraftError(value, 'NOT_LEADER'), String(value)).toBe(false);
    }
  });

  it('narrows to the class of the code', () => {
    const caught: unknown = new NotLeaderError('n3');
    if (isGreenraftError(caught, 'NOT_LEADER')) {
      expectTypeOf(caught).toEqualTypeOf<NotLeaderError>();
      expect(caught.leader).toBe('n3');
    } else expect.unreachable();
    const other: unknown = new GreenraftError('INVALID_HISTORY', 'line 3');
    if (isGreenraftError(other)) expectTypeOf(other.code).toEqualTypeOf<string>();
    else expect.unreachable();
  });

  it('leaves what an error prints and serialises unchanged: the brand is not enumerable', () => {
    const error = new StorageError('disk full');
    expect(Object.keys(error)).toEqual(['code', 'name']);
    expect(JSON.stringify(error)).toBe('{"code":"STORAGE","name":"StorageError"}');
    expect(Object.getOwnPropertyDescriptor(error, Symbol.for('greenraft.error'))).toMatchObject({ value: true, enumerable: false });
    expect({ ...error }).toEqual({ code: 'STORAGE', name: 'StorageError' });
  });
});

describe('ProposalDroppedError', () => {
  it('says why the proposal was dropped, "dropped" when nothing more precise is known', () => {
    expect(new ProposalDroppedError().reason).toBe('dropped');
    const moving = new ProposalDroppedError('leadership is being transferred to n2', { reason: 'transferring', cause: 'x' });
    expect(moving).toMatchObject({ code: 'PROPOSAL_DROPPED', reason: 'transferring', message: 'leadership is being transferred to n2', cause: 'x' });
    expect(Object.keys(moving)).toEqual(['code', 'name', 'reason']);
  });
});

// The dual package hazard, for real: the ESM and the CommonJS builds loaded in one Node process.
const dist = fileURLToPath(new URL('../dist/', import.meta.url));

describe('across the ESM and CommonJS builds', () => {
  it('recognises an error from either build where instanceof does not', () => {
    if (!existsSync(`${dist}index.cjs`) || !existsSync(`${dist}index.js`)) {
      throw new Error(`${dist} is not built: run 'npx turbo run build --filter=@greenraft/consensus' first`);
    }
    const script = `
      import { createRequire } from 'node:module';
      const esm = await import(${JSON.stringify(`${dist}index.js`)});
      const cjs = createRequire(import.meta.url)(${JSON.stringify(`${dist}index.cjs`)});
      const fromEsm = new esm.NotLeaderError('n2');
      let fromCjs;
      try { cjs.configuration({}); } catch (error) { fromCjs = error; }
      console.log(JSON.stringify({
        distinctClasses: esm.GreenraftError !== cjs.GreenraftError,
        instanceofAcross: fromCjs instanceof esm.GreenraftError || fromEsm instanceof cjs.GreenraftError,
        esmSeesCjs: esm.isGreenraftError(fromCjs) && esm.isGreenraftError(fromCjs, 'CONFIGURATION'),
        cjsSeesEsm: cjs.isGreenraftError(fromEsm) && cjs.isGreenraftError(fromEsm, 'NOT_LEADER'),
        wrongCode: esm.isGreenraftError(fromCjs, 'NOT_LEADER') || cjs.isGreenraftError(fromEsm, 'CONFIGURATION'),
        leader: cjs.isGreenraftError(fromEsm, 'NOT_LEADER') ? fromEsm.leader : null,
      }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(JSON.parse(out)).toEqual({
      distinctClasses: true,
      instanceofAcross: false,
      esmSeesCjs: true,
      cjsSeesEsm: true,
      wrongCode: false,
      leader: 'n2',
    });
  });
});
