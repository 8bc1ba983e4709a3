import type { TranslationBundle } from '@jupyterlab/translation';

import { utcInstant } from './format';
import { money } from './numbers';
import type { BudgetState, IAlertMemory, IBudgetAlert, IUsage } from './tokens';

/** The gateway's reasons for a 429 that mean "over budget". */
const BUDGET_REASONS = new Set(['budget', 'budget-held']);

/** Where the notified period and refusals are remembered (IStateDB's key). */
export const MEMORY_ID = 'jupyterlab-maas:budget-alerts';

/** What was already notified in one budget period. */
interface INotified {
  period_start: string;
  threshold: boolean;
  refusals: number;
}

/** This period's calls refused for budget (HTTP 429, reason budget or budget-held). */
export function budgetRefusals(usage: IUsage): number {
  return (usage.refused ?? [])
    .filter(r => r.status === 429 && BUDGET_REASONS.has(r.reason))
    .reduce((sum, r) => sum + r.requests, 0);
}

/**
 * The status bar's state for a usage answer; ``threshold``: the user's alert share,
 * unless the binding budget's team set its own.
 */
export function budgetState(usage: IUsage, threshold: number): BudgetState {
  const share = usage.alert_threshold ?? threshold;
  const budget = usage.budget_usd;
  if (
    budgetRefusals(usage) > 0 ||
    (budget !== null && usage.spend_usd >= budget)
  ) {
    return 'warning';
  }
  if (budget !== null && budget > 0 && usage.spend_usd >= share * budget) {
    return 'alert';
  }
  return 'ok';
}

/**
 * A budget's window as the word before "budget": "hourly", "daily", "weekly",
 * "monthly" (the default) or "term" (a team's), translated.
 */
export function adjective(
  trans: TranslationBundle,
  period: string | null
): string {
  switch (period) {
    case 'hour':
      return trans.__('hourly');
    case 'day':
      return trans.__('daily');
    case 'week':
      return trans.__('weekly');
    case 'term':
      return trans.__('term');
    default:
      return trans.__('monthly');
  }
}

/** "It resets on 2026-12-01 at 00:00 UTC.", or nothing without a reset. */
function resets(trans: TranslationBundle, usage: IUsage): string {
  return usage.resets_at
    ? trans.__('It resets on %1.', utcInstant(trans, usage.resets_at))
    : '';
}

/** The sentence of a refusal for budget: how many, spend, budget and reset. */
export function refusedMessage(
  trans: TranslationBundle,
  usage: IUsage,
  refused: number
): string {
  const first = trans._n(
    '%1 LLM call was refused for budget: you have spent %2 of your %3 %4 budget.',
    '%1 LLM calls were refused for budget: you have spent %2 of your %3 %4 budget.',
    refused,
    money(usage.spend_usd),
    money(usage.budget_usd ?? 0),
    adjective(trans, usage.budget_period)
  );
  return [first, resets(trans, usage)].filter(Boolean).join(' ');
}

/** The sentence at the alert threshold: spend, budget, share and reset. */
export function thresholdMessage(
  trans: TranslationBundle,
  usage: IUsage
): string {
  const budget = usage.budget_usd ?? 0;
  const share =
    budget > 0 ? Math.floor((100 * usage.spend_usd) / budget + 1e-9) : 100;
  const first = trans.__(
    'You have spent %1 of your %2 %3 LLM budget (%4%%).',
    money(usage.spend_usd),
    money(budget),
    adjective(trans, usage.budget_period),
    String(share)
  );
  return [first, resets(trans, usage)].filter(Boolean).join(' ');
}

/**
 * Decides which budget notifications a usage answer calls for: one at the alert
 * threshold per budget period, and one whenever more calls were refused for budget
 * than were already notified. What was notified is remembered (in IStateDB) under
 * the period's start, so that a reload does not notify again.
 */
export class BudgetWatch {
  constructor(
    private readonly trans: TranslationBundle,
    private readonly memory: IAlertMemory | null,
    /** The alert threshold, a share of the budget. */
    public threshold = 0.8
  ) {}

  /** The notifications ``usage`` calls for, remembered as given. */
  async check(usage: IUsage): Promise<IBudgetAlert[]> {
    if (usage.budget_usd === null || !usage.period_start) {
      return [];
    }
    const notified = await this.recall(usage.period_start);
    const alerts: IBudgetAlert[] = [];
    const refused = budgetRefusals(usage);
    const state = budgetState(usage, this.threshold);
    if (refused > notified.refusals) {
      alerts.push({
        kind: 'refused',
        message: refusedMessage(this.trans, usage, refused)
      });
      notified.refusals = refused;
      notified.threshold = true; // the refusal says more than the threshold would
    } else if (state !== 'ok' && !notified.threshold) {
      alerts.push({
        kind: 'threshold',
        message: thresholdMessage(this.trans, usage)
      });
      notified.threshold = true;
    } else {
      return alerts;
    }
    await this.remember(notified);
    return alerts;
  }

  private async recall(periodStart: string): Promise<INotified> {
    const fresh = { period_start: periodStart, threshold: false, refusals: 0 };
    const stored = (
      this.memory ? await this.memory.fetch(MEMORY_ID) : this.held
    ) as INotified | undefined | null;
    return stored && stored.period_start === periodStart
      ? { ...fresh, ...stored }
      : fresh;
  }

  private async remember(notified: INotified): Promise<void> {
    this.held = notified;
    if (this.memory) {
      await this.memory.save(MEMORY_ID, { ...notified });
    }
  }

  /** What was notified when there is no IStateDB: this page's life only. */
  private held: INotified | null = null;
}
