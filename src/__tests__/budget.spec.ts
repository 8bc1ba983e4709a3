import {
  adjective,
  budgetRefusals,
  budgetState,
  BudgetWatch,
  MEMORY_ID,
  refusedMessage,
  thresholdMessage
} from '../budget';
import { refusedFor, usage } from './fixtures';
import { english, MemoryState } from './translator';

const at = (spend: number, periodStart = usage.period_start) => ({
  ...usage,
  spend_usd: spend,
  period_start: periodStart
});

describe('budgetRefusals and budgetState', () => {
  it('counts only 429s for budget or budget-held', () => {
    expect(budgetRefusals(refusedFor(3))).toBe(3);
    expect(
      budgetRefusals({
        ...usage,
        refused: [
          { status: 429, reason: 'budget-held', requests: 2 },
          { status: 429, reason: 'budget', requests: 1 },
          { status: 403, reason: 'model', requests: 7 }
        ]
      })
    ).toBe(3);
    expect(budgetRefusals({ ...usage, refused: undefined })).toBe(0);
  });
  it('is ok below the threshold, alert at 80 %, warning when spent or refused', () => {
    expect(budgetState(at(7.99), 0.8)).toBe('ok');
    expect(budgetState(at(8), 0.8)).toBe('alert');
    expect(budgetState(at(10), 0.8)).toBe('warning');
    expect(budgetState(refusedFor(1, 9.99), 0.8)).toBe('warning');
    expect(budgetState({ ...at(1e6), budget_usd: null }, 0.8)).toBe('ok');
  });

  it("warns at the binding budget's team share when its team set one", () => {
    const teams = { ...at(5), alert_threshold: 0.5 };
    expect(budgetState(teams, 0.8)).toBe('alert');
    expect(budgetState({ ...teams, alert_threshold: null }, 0.8)).toBe('ok');
  });
});

describe('BudgetWatch', () => {
  it('notifies the threshold once per period, across reloads', async () => {
    const state = new MemoryState();
    const watch = new BudgetWatch(english, state);
    expect(await watch.check(at(7.9))).toEqual([]);
    const [alert, ...more] = await watch.check(at(8.2));
    expect(more).toEqual([]);
    expect(alert.kind).toBe('threshold');
    expect(alert.message).toBe(
      'You have spent $8.20 of your $10.00 monthly LLM budget (82%). It resets on 2026-12-01 at 00:00 UTC.'
    );
    expect(await watch.check(at(8.5))).toEqual([]);
    // a reload: a new watch with the same state database
    expect(await new BudgetWatch(english, state).check(at(9))).toEqual([]);
    expect((await state.fetch(MEMORY_ID)).period_start).toBe(
      usage.period_start
    );
    // the next period notifies again
    const next = await watch.check(at(8.1, '2026-12-01T00:00:00Z'));
    expect(next.map(a => a.kind)).toEqual(['threshold']);
  });

  it('notifies each new refusal for budget, naming spend, budget and reset', async () => {
    const state = new MemoryState();
    const watch = new BudgetWatch(english, state);
    const [alert] = await watch.check(refusedFor(1));
    expect(alert).toEqual({
      kind: 'refused',
      message:
        '1 LLM call was refused for budget: you have spent $10.00 of your $10.00 monthly budget. It resets on 2026-12-01 at 00:00 UTC.'
    });
    expect(await watch.check(refusedFor(1))).toEqual([]); // nothing new
    expect(await new BudgetWatch(english, state).check(refusedFor(1))).toEqual(
      []
    );
    const [again] = await watch.check(refusedFor(4));
    expect(again.message).toMatch(/^4 LLM calls were refused for budget/);
    // the threshold is not notified after a refusal said more
    expect(await watch.check({ ...refusedFor(4), spend_usd: 8.5 })).toEqual([]);
  });

  it('notifies nothing without a budget, and remembers in memory without IStateDB', async () => {
    const watch = new BudgetWatch(english, null);
    expect(await watch.check({ ...at(100), budget_usd: null })).toEqual([]);
    expect(await watch.check(at(9))).toHaveLength(1);
    expect(await watch.check(at(9.5))).toEqual([]);
  });

  it('follows a changed threshold', async () => {
    const watch = new BudgetWatch(english, null, 0.5);
    expect(await watch.check(at(5))).toHaveLength(1);
  });
});

describe('the windows of budgets in the notifications', () => {
  it('names every window, a team term too', () => {
    const names = ['hour', 'day', 'week', 'month', 'term', null].map(w =>
      adjective(english, w)
    );
    expect(names).toEqual([
      'hourly',
      'daily',
      'weekly',
      'monthly',
      'term',
      'monthly'
    ]);
  });

  it("says an hourly and a term budget's spend", () => {
    const hourly = {
      ...usage,
      spend_usd: 0.009,
      budget_usd: 0.01,
      budget_period: 'hour',
      period_start: '2026-11-26T07:00:00Z',
      resets_at: '2026-11-26T08:00:00Z'
    };
    expect(thresholdMessage(english, hourly)).toBe(
      'You have spent $0.009 of your $0.01 hourly LLM budget (90%). It resets on 2026-11-26 at 08:00 UTC.'
    );
    const term = {
      ...refusedFor(2, 50),
      budget_usd: 50,
      budget_period: 'term'
    };
    expect(refusedMessage(english, term, 2)).toMatch(
      /^2 LLM calls were refused for budget: you have spent \$50\.00 of your \$50\.00 term budget\./
    );
  });
});
