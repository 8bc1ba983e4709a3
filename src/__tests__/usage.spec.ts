import { usageTables } from '../usage';
import { budgets, usage } from './fixtures';
import { english } from './translator';

describe('usageTables', () => {
  it("heads the view with this period's spend, its start and the reset", () => {
    const t = usageTables(english, usage, 'en-GB');
    expect(t.heading).toBe(
      '$0.42 of $10.00 this month since 2026-11-01; the budget resets on 2026-12-01 at 00:00 UTC.'
    );
  });
  it('has one row per model and per request, tokens summed and costs formatted', () => {
    const t = usageTables(english, usage, 'en-GB');
    expect(t.byModel.header).toEqual(['Model', 'Requests', 'Tokens', 'Cost']);
    expect(t.byModel.rows).toEqual([['smollm2-135m', '3', '150', '$0.42']]);
    expect(t.recent.rows).toHaveLength(1);
    expect(t.recent.rows[0].slice(1)).toEqual(['smollm2-135m', '50', '$0.14']);
  });
  it('says no budget and no reset when there is none', () => {
    const t = usageTables(
      english,
      { ...usage, budget_usd: null, resets_at: null, by_model: [], recent: [] },
      'en-GB'
    );
    expect(t.heading).toBe('$0.42 this month since 2026-11-01.');
    expect(t.byModel.rows).toEqual([]);
  });
  it('lists every budget: window, team, spend of its limit and reset', () => {
    const t = usageTables(english, { ...usage, budgets }, 'en-GB');
    expect(t.budgets?.header).toEqual(['Budget', 'Spent', 'Resets']);
    expect(t.budgets?.rows).toEqual([
      ['daily', '$0.14 of $1.00', '2026-11-27 at 00:00 UTC'],
      ['monthly', '$0.42 of $10.00', '2026-12-01 at 00:00 UTC'],
      [
        'term (team cs101)',
        '$0.42 of $50.00',
        '2027-01-31 at 23:00 UTC (end of term)'
      ],
      [
        'weekly team cap (cs101)',
        '$12.50 of $200.00',
        '2026-11-30 at 00:00 UTC'
      ]
    ]);
  });
  it('has no budgets table without budgets or from an older server extension', () => {
    expect(usageTables(english, { ...usage, budgets: [] }).budgets).toBeNull();
    expect(usageTables(english, usage).budgets).toBeNull();
  });
  it("heads the view with an hour's or a term's spend", () => {
    const hourly = usageTables(english, {
      ...usage,
      budget_usd: 1,
      budget_period: 'hour',
      period_start: '2026-11-26T07:00:00Z',
      resets_at: '2026-11-26T08:00:00Z'
    });
    expect(hourly.heading).toBe(
      '$0.42 of $1.00 this hour since 2026-11-26; the budget resets on 2026-11-26 at 08:00 UTC.'
    );
    const term = usageTables(english, {
      ...usage,
      budget_usd: 50,
      budget_period: 'term'
    });
    expect(term.heading).toMatch(/^\$0\.42 of \$50\.00 this term since/);
  });
  it('shows spend by notebook when the server extension gives it', () => {
    const t = usageTables(english, {
      ...usage,
      by_notebook: [
        {
          notebook_path: 'churn.ipynb',
          kernel_id: 'k1',
          requests: 2,
          prompt_tokens: 20,
          completion_tokens: 10,
          cost_usd: 0.3
        },
        {
          notebook_path: 'forecast.ipynb',
          kernel_id: 'k2',
          requests: 1,
          prompt_tokens: 5,
          completion_tokens: 5,
          cost_usd: 0.1212
        }
      ]
    });
    expect(t.byNotebook?.header).toEqual([
      'Notebook',
      'Requests',
      'Tokens',
      'Cost'
    ]);
    expect(t.byNotebook?.rows).toEqual([
      ['churn.ipynb', '2', '30', '$0.30'],
      ['forecast.ipynb', '1', '10', '$0.12']
    ]);
  });
  it('has no notebook table when the list is empty or absent (an older server extension)', () => {
    expect(usageTables(english, usage).byNotebook).toBeNull();
    const { by_notebook, refused, ...older } = usage;
    expect(by_notebook).toEqual([]);
    expect(refused).toEqual([]);
    const t = usageTables(english, older);
    expect(t.byNotebook).toBeNull();
    expect(t.heading).not.toContain('refused');
  });
  it('says how many calls were refused for budget', () => {
    const t = usageTables(english, {
      ...usage,
      refused: [{ status: 429, reason: 'budget-held', requests: 2 }]
    });
    expect(t.heading).toMatch(
      /resets on 2026-12-01 at 00:00 UTC\. 2 calls were refused for budget\.$/
    );
  });
});
