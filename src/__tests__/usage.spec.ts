import { IUsage } from '../tokens';
import { usageTables } from '../usage';

const usage: IUsage = {
  spend_usd: 0.4212,
  budget_usd: 10,
  budget_period: 'month',
  period_start: '2026-11-01T00:00:00Z',
  resets_at: '2026-12-01T00:00:00Z',
  by_model: [
    { model: 'smollm2-135m', requests: 3, prompt_tokens: 90, completion_tokens: 60, cost_usd: 0.4212 }
  ],
  recent: [
    {
      ts: '2026-11-26T07:00:00Z',
      model: 'smollm2-135m',
      prompt_tokens: 30,
      completion_tokens: 20,
      cost_usd: 0.1404
    }
  ]
};

describe('usageTables', () => {
  it("heads the view with this period's spend, its start and the reset", () => {
    const t = usageTables(usage, 'en-GB');
    expect(t.heading).toBe(
      '$0.4212 of $10.00 this month since 2026-11-01; the budget resets on 2026-12-01 at 00:00 UTC.'
    );
  });
  it('has one row per model and per request, tokens summed and costs formatted', () => {
    const t = usageTables(usage, 'en-GB');
    expect(t.byModel.header).toEqual(['Model', 'Requests', 'Tokens', 'Cost']);
    expect(t.byModel.rows).toEqual([['smollm2-135m', '3', '150', '$0.4212']]);
    expect(t.recent.rows).toHaveLength(1);
    expect(t.recent.rows[0].slice(1)).toEqual(['smollm2-135m', '50', '$0.1404']);
  });
  it('says no budget and no reset when there is none', () => {
    const t = usageTables(
      { ...usage, budget_usd: null, resets_at: null, by_model: [], recent: [] },
      'en-GB'
    );
    expect(t.heading).toBe('$0.4212 this month since 2026-11-01.');
    expect(t.byModel.rows).toEqual([]);
  });
});
