// Budgets over windows: as the portal shows them, edits them and marks the one that binds.
import {
  binds,
  BudgetStanding,
  budgetFields,
  budgetsOf,
  budgetsText,
  standingName,
  TEAM_WINDOWS,
  thisWindow,
  windowLabel,
  WINDOWS
} from '../budgets';

describe('budgets as text', () => {
  it('lists each budget, the longest window first, in money', () => {
    const budgets = [
      { window: 'day' as const, usd: 1 },
      { window: 'month' as const, usd: 10 }
    ];
    expect(budgetsText(budgets)).toBe('$10.00 / month, $1.00 / day');
    expect(budgetsText(budgets, 'none', 'per')).toBe('$10.00 per month, $1.00 per day');
    expect(
      budgetsText([
        { window: 'hour', usd: 0.0005 },
        { window: 'term', usd: 50 }
      ])
    ).toBe('$50.00 / term, $0.0005 / hour');
  });

  it('says none without budgets, in the words given', () => {
    expect(budgetsText([])).toBe('none');
    expect(budgetsText(undefined)).toBe('none');
    expect(budgetsText(null, 'No budget limit')).toBe('No budget limit');
  });

  it("names a window's span now", () => {
    expect(['hour', 'day', 'week', 'month', 'term'].map(thisWindow)).toEqual([
      'this hour',
      'today',
      'this week',
      'this month',
      'this term'
    ]);
    expect(thisWindow(null)).toBe('this month');
  });
});

describe('the budgets editor', () => {
  it('has a field a window, shortest first, labelled', () => {
    expect(WINDOWS).toEqual(['hour', 'day', 'week', 'month']);
    expect(WINDOWS.map(windowLabel)).toEqual(['Hourly', 'Daily', 'Weekly', 'Monthly']);
  });

  it('fills the fields of the windows with a budget, the others empty', () => {
    expect(
      budgetFields([
        { window: 'week', usd: 0.02 },
        { window: 'day', usd: 0.01 }
      ])
    ).toEqual({
      hour: '',
      day: '0.01',
      week: '0.02',
      month: ''
    });
    expect(budgetFields(undefined)).toEqual({ hour: '', day: '', week: '', month: '' });
  });

  it('sends a budget a filled field, shortest window first; an empty field sends none', () => {
    expect(budgetsOf({ hour: '', day: '0.01', week: ' ', month: '10' })).toEqual([
      { window: 'day', usd: 0.01 },
      { window: 'month', usd: 10 }
    ]);
    expect(budgetsOf({ hour: '', day: '', week: '', month: '' })).toEqual([]);
    // zero is a budget (nothing may be spent), not none
    expect(budgetsOf({ hour: '0', day: '', week: '', month: '' })).toEqual([{ window: 'hour', usd: 0 }]);
  });

  it('sends what is no number as typed, so that the API says why', () => {
    expect(budgetsOf({ hour: '', day: 'ten', week: '', month: '' })).toEqual([{ window: 'day', usd: 'ten' }]);
  });

  it("has a team's term besides, where a team asks for it", () => {
    expect(TEAM_WINDOWS).toEqual(['hour', 'day', 'week', 'month', 'term']);
    expect(windowLabel('term')).toBe('Term');
    const fields = budgetFields([{ window: 'term', usd: 50 }], TEAM_WINDOWS);
    expect(fields).toEqual({ hour: '', day: '', week: '', month: '', term: '50' });
    expect(budgetsOf({ ...fields, day: '1' })).toEqual([
      { window: 'day', usd: 1 },
      { window: 'term', usd: 50 }
    ]);
    // a profile's fields have none for the term, so a term's budget is not kept there
    expect(budgetFields([{ window: 'term', usd: 50 }])).toEqual({ hour: '', day: '', week: '', month: '' });
  });

  it('gives back what it was given', () => {
    const budgets = [
      { window: 'hour' as const, usd: 0.5 },
      { window: 'week' as const, usd: 20 }
    ];
    expect(budgetsOf(budgetFields(budgets))).toEqual(budgets);
  });
});

describe("a user's budgets", () => {
  const standing = (b: Partial<BudgetStanding>): BudgetStanding => ({
    window: 'day',
    usd: 1,
    source: 'profile:cpu',
    team: null,
    cap: false,
    spend_usd: 0,
    period_start: '2026-11-26T00:00:00Z',
    resets_at: '2026-11-27T00:00:00Z',
    ...b
  });
  const daily = standing({});
  const term = standing({ window: 'term', usd: 50, source: 'team:cs101', team: 'cs101' });
  const cap = standing({ window: 'term', usd: 500, source: 'team:cs101', team: 'cs101', cap: true });

  it('names each by window, and team and cap', () => {
    expect(standingName(daily)).toBe('Daily');
    expect(standingName(term)).toBe('Term (team cs101)');
    expect(standingName(cap)).toBe('Term team cap (cs101)');
  });

  it('marks the one that binds, and only that one', () => {
    const binding = { ...cap, spend_usd: 450 };
    expect([daily, term, cap].map(b => binds(b, binding))).toEqual([false, false, true]);
    expect(binds(daily, null)).toBe(false);
    expect(binds(daily, { ...daily, source: 'user' })).toBe(false);
  });
});
