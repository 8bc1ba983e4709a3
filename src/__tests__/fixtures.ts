import type { IBudgetStanding, IUsage } from '../tokens';

/** A usage answer of the server extension, $0.4212 of a $10 monthly budget. */
export const usage: IUsage = {
  spend_usd: 0.4212,
  budget_usd: 10,
  budget_period: 'month',
  period_start: '2026-11-01T00:00:00Z',
  resets_at: '2026-12-01T00:00:00Z',
  by_model: [
    {
      model: 'smollm2-135m',
      requests: 3,
      prompt_tokens: 90,
      completion_tokens: 60,
      cost_usd: 0.4212
    }
  ],
  recent: [
    {
      ts: '2026-11-26T07:00:00Z',
      model: 'smollm2-135m',
      prompt_tokens: 30,
      completion_tokens: 20,
      cost_usd: 0.1404
    }
  ],
  refused: [],
  by_notebook: []
};

/** The same period with calls refused for budget (and one for a rate limit). */
export function refusedFor(n: number, spend = 10.0001): IUsage {
  return {
    ...usage,
    spend_usd: spend,
    refused: [
      { status: 429, reason: 'budget', requests: n },
      { status: 429, reason: 'rpm', requests: 5 }
    ]
  };
}

/** The budgets of a member of team cs101: their own monthly (the one that binds, as
 * in ``usage``) and daily, the team's per member for its term and the team's cap. */
export const budgets: IBudgetStanding[] = [
  {
    window: 'day',
    usd: 1,
    source: 'profile:cpu',
    team: null,
    cap: false,
    spend_usd: 0.1404,
    period_start: '2026-11-26T00:00:00Z',
    resets_at: '2026-11-27T00:00:00Z'
  },
  {
    window: 'month',
    usd: 10,
    source: 'user',
    team: null,
    cap: false,
    spend_usd: 0.4212,
    period_start: '2026-11-01T00:00:00Z',
    resets_at: '2026-12-01T00:00:00Z'
  },
  {
    window: 'term',
    usd: 50,
    source: 'team:cs101',
    team: 'cs101',
    cap: false,
    spend_usd: 0.4212,
    period_start: '2026-09-01T00:00:00Z',
    resets_at: '2027-01-31T23:00:00Z'
  },
  {
    window: 'week',
    usd: 200,
    source: 'team:cs101',
    team: 'cs101',
    cap: true,
    spend_usd: 12.5,
    period_start: '2026-11-23T00:00:00Z',
    resets_at: '2026-11-30T00:00:00Z'
  }
];
