/** Failing functions: errors naming the function, retries, timeouts, cancellation, no leaks between runs. */
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { FlowRegistry, NonRetryableError, defineFunction, type FunctionSummary } from '../src/index.js';
import { expectFailure, flow, func, kisConfig, memoryLogger, single } from './support/config-builders.js';

describe('errors and retries', () => {
  it('a throwing function fails the run and the error names the function', async () => {
    const boom = defineFunction({
      name: 'boom',
      handler: () => {
        throw new Error('disk full');
      },
    });
    const result = await single(boom).run('f', { rows: [1] });
    expect(result).toMatchObject({
      ok: false,
      status: 'failed',
      error: { code: 'FUNCTION_FAILED', funcName: 'boom', step: 0 },
    });
    expect(expectFailure(result).error.message).toMatch(/boom.*disk full/);
  });

  it('retries retryTimes times with retryDelayMs between attempts, then succeeds', async () => {
    const calls: number[] = [];
    const flaky = defineFunction({
      name: 'flaky',
      handler: (ctx) => {
        calls.push(performance.now());
        ctx.commit(`attempt ${calls.length}`);
        if (calls.length < 3) throw new Error('transient');
      },
    });
    const { logger, lines } = memoryLogger();
    const registry = new FlowRegistry({ logger });
    const result = await single(flaky, { retryTimes: 3, retryDelayMs: 30 }, registry).run('f', { rows: [1] });
    // only the successful attempt's commits survive
    expect(result).toMatchObject({ ok: true, output: ['attempt 3'] });
    expect(result.functions[0]?.attempts).toBe(3);
    expect(calls).toHaveLength(3);
    expect((calls[1] ?? 0) - (calls[0] ?? 0)).toBeGreaterThanOrEqual(25);
    expect(lines.filter((l) => l.level === 'warn' && l.msg.includes('retrying'))).toHaveLength(2);
  });

  it('fails after 1 + retryTimes attempts', async () => {
    let attempts = 0;
    const always = defineFunction({
      name: 'always',
      handler: () => {
        attempts++;
        throw new Error('nope');
      },
    });
    const result = await single(always, { retryTimes: 2 }).run('f', { rows: [1] });
    expect(attempts).toBe(3);
    expect(result).toMatchObject({ ok: false, error: { code: 'FUNCTION_FAILED', funcName: 'always' } });
    expect(result.functions[0]).toMatchObject({ attempts: 3, error: { code: 'FUNCTION_FAILED' } });
  });

  it('does not retry a NonRetryableError', async () => {
    let attempts = 0;
    const fatal = defineFunction({
      name: 'fatal',
      handler: () => {
        attempts++;
        throw new NonRetryableError('bad data');
      },
    });
    const result = await single(fatal, { retryTimes: 5 }).run('f', { rows: [1] });
    expect(attempts).toBe(1);
    expect(result).toMatchObject({ ok: false, error: { code: 'FUNCTION_FAILED' } });
  });

  it('times out an attempt with FUNCTION_TIMEOUT and aborts its ctx.signal', async () => {
    let seenAbort: unknown;
    const slow = defineFunction({
      name: 'slow',
      handler: async (ctx) => {
        ctx.signal.addEventListener('abort', () => (seenAbort = ctx.signal.reason));
        await delay(5_000, undefined, { ref: false }).catch(() => {});
        ctx.commit('late');
      },
    });
    const started = performance.now();
    const result = await single(slow, { timeoutMs: 50 }).run('f', { rows: [1] });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(result).toMatchObject({
      ok: false,
      status: 'failed',
      error: { code: 'FUNCTION_TIMEOUT', funcName: 'slow' },
    });
    expect(seenAbort).toMatchObject({ code: 'FUNCTION_TIMEOUT' });
  });

  it('retries a timed-out attempt', async () => {
    let attempts = 0;
    const slowThenFast = defineFunction({
      name: 'slowThenFast',
      handler: async (ctx) => {
        attempts++;
        if (attempts === 1) await delay(1_000, undefined, { signal: ctx.signal }).catch(() => {});
        ctx.commit(attempts);
      },
    });
    const result = await single(slowThenFast, { timeoutMs: 40, retryTimes: 1 }).run('f', { rows: [1] });
    // attempt 1's late commit is dropped with its attempt
    expect(result).toMatchObject({ ok: true, output: [2] });
    expect(result.functions[0]?.attempts).toBe(2);
  });

  it('rows committed before an error never leak into another run', async () => {
    let run = 0;
    const half = defineFunction({
      name: 'half',
      handler: (ctx) => {
        run++;
        ctx.commit(`run ${run} row`);
        if (run === 1) throw new Error('first run fails');
      },
    });
    const registry = single(half);
    expect((await registry.run('f', { rows: [1] })).ok).toBe(false);
    expect(await registry.run('f', { rows: [1] })).toMatchObject({ ok: true, output: ['run 2 row'] });
  });
});

describe('cancellation', () => {
  function threeSteps(onStep: (name: string) => void) {
    const registry = new FlowRegistry();
    for (const name of ['a', 'b', 'c']) {
      registry.registerFunction(
        defineFunction({
          name,
          handler: async (ctx) => {
            onStep(name);
            await delay(5);
            ctx.commitMany(ctx.rows);
          },
        }),
      );
    }
    registry.loadConfig(
      kisConfig({ funcs: ['a', 'b', 'c'].map((n) => func(n)), flows: [flow('f', ['a', 'b', 'c'])] }),
    );
    return registry;
  }

  it('stops between functions with status cancelled; the running function finishes', async () => {
    const controller = new AbortController();
    const ran: string[] = [];
    const registry = threeSteps((name) => {
      ran.push(name);
      if (name === 'b') controller.abort();
    });
    const result = await registry.run('f', { rows: [1], signal: controller.signal });
    expect(ran).toEqual(['a', 'b']);
    expect(result).toMatchObject({ ok: false, status: 'cancelled', error: { code: 'CANCELLED' }, steps: 2 });
    expect(result.functions.map((f: FunctionSummary) => f.funcName)).toEqual(['a', 'b']);
  });

  it('hands the run signal to functions and cancels a retry delay', async () => {
    const controller = new AbortController();
    let signalSeen: AbortSignal | undefined;
    const failing = defineFunction({
      name: 'failing',
      handler: (ctx) => {
        signalSeen = ctx.signal;
        setTimeout(() => controller.abort(), 20);
        throw new Error('try again later');
      },
    });
    const started = performance.now();
    const result = await single(failing, { retryTimes: 3, retryDelayMs: 10_000 }).run('f', {
      rows: [1],
      signal: controller.signal,
    });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(signalSeen).toBe(controller.signal);
    expect(result).toMatchObject({
      ok: false,
      status: 'cancelled',
      error: { code: 'CANCELLED', funcName: 'failing' },
    });
  });

  it('a function that throws because the run was aborted ends the run cancelled, not failed', async () => {
    const controller = new AbortController();
    const aborting = defineFunction({
      name: 'aborting',
      handler: async (ctx) => {
        controller.abort();
        ctx.signal.throwIfAborted();
      },
    });
    const result = await single(aborting, { retryTimes: 3 }).run('f', {
      rows: [1],
      signal: controller.signal,
    });
    expect(result).toMatchObject({ ok: false, status: 'cancelled', error: { code: 'CANCELLED' } });
    expect(result.functions[0]?.attempts).toBe(1);
  });
});
