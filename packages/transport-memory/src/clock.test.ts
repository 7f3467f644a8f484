import { InvalidArgumentError } from '@greenraft/consensus';
import { describe, expect, it } from 'vitest';
import { realClock, virtualClock } from './clock.js';

describe('virtualClock', () => {
  it('starts at 0, or at the given start', () => {
    expect(virtualClock().now()).toBe(0);
    expect(virtualClock({ start: 1_700_000_000_000 }).now()).toBe(1_700_000_000_000);
  });

  it('runs due timers in (time, insertion) order and lands exactly on now + ms', () => {
    const clock = virtualClock();
    const log: string[] = [];
    clock.setTimeout(() => log.push(`c@${clock.now()}`), 20);
    clock.setTimeout(() => log.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => log.push(`b@${clock.now()}`), 10);
    clock.setTimeout(() => log.push(`late@${clock.now()}`), 31);
    clock.advance(30);
    expect(log).toEqual(['a@10', 'b@10', 'c@20']);
    expect(clock.now()).toBe(30);
    expect(clock.pendingTimers()).toBe(1);
    expect(clock.nextTimerAt()).toBe(31);
  });

  it('never runs a timer synchronously, even with delay 0', () => {
    const clock = virtualClock();
    let fired = false;
    clock.setTimeout(() => (fired = true), 0);
    expect(fired).toBe(false);
    clock.advance(0);
    expect(fired).toBe(true);
  });

  it('runs timers scheduled while advancing when they fall due within the advance', () => {
    const clock = virtualClock();
    const log: number[] = [];
    const tick = () => {
      log.push(clock.now());
      clock.setTimeout(tick, 4);
    };
    clock.setTimeout(tick, 4);
    clock.advance(13);
    expect(log).toEqual([4, 8, 12]);
    expect(clock.nextTimerAt()).toBe(16);
  });

  it('runNext jumps to the next due time and runs every timer due then, in order', () => {
    const clock = virtualClock({ start: 100 });
    const log: string[] = [];
    clock.setTimeout(() => log.push('x'), 5);
    clock.setTimeout(() => {
      log.push('y');
      clock.setTimeout(() => log.push('y0'), 0); // due at the same instant: runs in the same turn
    }, 5);
    clock.setTimeout(() => log.push('z'), 9);
    expect(clock.runNext()).toBe(true);
    expect(log).toEqual(['x', 'y', 'y0']);
    expect(clock.now()).toBe(105);
    expect(clock.runNext()).toBe(true);
    expect(log.at(-1)).toBe('z');
    expect(clock.now()).toBe(109);
    expect(clock.runNext()).toBe(false);
    expect(clock.now()).toBe(109);
  });

  it('clearTimeout cancels a pending timer and ignores unknown or spent handles', () => {
    const clock = virtualClock();
    const log: string[] = [];
    const keep = clock.setTimeout(() => log.push('keep'), 1);
    const cancel = clock.setTimeout(() => log.push('cancel'), 1);
    clock.clearTimeout(cancel);
    clock.clearTimeout('not a handle');
    clock.clearTimeout(undefined);
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(5);
    clock.clearTimeout(keep);
    expect(log).toEqual(['keep']);
    expect(clock.pendingTimers()).toBe(0);
    expect(clock.nextTimerAt()).toBeUndefined();
  });

  it('keeps order and counts through many resets (heap compaction)', () => {
    const clock = virtualClock();
    const fired: number[] = [];
    // An election timer reset thousands of times: only the last one of each node should fire.
    let handles = [0, 1, 2].map((node) => clock.setTimeout(() => fired.push(node), 150 + node));
    for (let reset = 0; reset < 3000; reset++) {
      handles = handles.map((handle, node) => {
        clock.clearTimeout(handle);
        return clock.setTimeout(() => fired.push(node), 150 + node);
      });
    }
    expect(clock.pendingTimers()).toBe(3);
    clock.advance(1000);
    expect(fired).toEqual([0, 1, 2]);
  });

  it('advanceTo moves to an absolute time', () => {
    const clock = virtualClock({ start: 10 });
    const at: number[] = [];
    clock.setTimeout(() => at.push(clock.now()), 15);
    clock.advanceTo(40);
    expect(at).toEqual([25]);
    expect(clock.now()).toBe(40);
    expect(() => clock.advanceTo(39)).toThrow(InvalidArgumentError);
    expect(clock.now()).toBe(40);
  });

  it('rejects bad arguments with InvalidArgumentError and changes nothing', () => {
    const clock = virtualClock({ start: 5 });
    expect(() => clock.advance(-1)).toThrow(InvalidArgumentError);
    expect(() => clock.advance(Number.NaN)).toThrow(InvalidArgumentError);
    expect(() => clock.advance(Number.POSITIVE_INFINITY)).toThrow(InvalidArgumentError);
    expect(() => clock.setTimeout(() => {}, Number.NaN)).toThrow(InvalidArgumentError);
    expect(() => clock.setTimeout('later' as unknown as () => void, 1)).toThrow(InvalidArgumentError);
    expect(() => virtualClock({ start: Number.NaN })).toThrow(InvalidArgumentError);
    expect(clock.now()).toBe(5);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('treats a negative delay as 0, like the host setTimeout', () => {
    const clock = virtualClock({ start: 50 });
    clock.setTimeout(() => {}, -10);
    expect(clock.nextTimerAt()).toBe(50);
  });

  it('lets an error from a timer propagate, stopping at its time with the rest still scheduled', () => {
    const clock = virtualClock();
    const log: string[] = [];
    clock.setTimeout(() => {
      throw new Error('boom');
    }, 3);
    clock.setTimeout(() => log.push('after'), 7);
    expect(() => clock.advance(10)).toThrow('boom');
    expect(clock.now()).toBe(3);
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(10);
    expect(log).toEqual(['after']);
  });
});

describe('realClock', () => {
  it('reads Date.now and fires and cancels host timers', async () => {
    const clock = realClock();
    const before = Date.now();
    expect(clock.now()).toBeGreaterThanOrEqual(before);
    const fired: string[] = [];
    const cancelled = clock.setTimeout(() => fired.push('cancelled'), 1);
    clock.clearTimeout(cancelled);
    await new Promise<void>((resolve) => {
      clock.setTimeout(() => {
        fired.push('fired');
        resolve();
      }, 2);
    });
    expect(fired).toEqual(['fired']);
  });

  it('runs a zero delay on the next turn of the event loop, in order, and cancels it', async () => {
    const clock = realClock();
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(1), 0);
    const cancelled = clock.setTimeout(() => fired.push(2), 0);
    clock.setTimeout(() => fired.push(3), -5);
    clock.clearTimeout(cancelled);
    clock.clearTimeout(undefined);
    expect(fired).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(fired).toEqual([1, 3]);
  });
});
