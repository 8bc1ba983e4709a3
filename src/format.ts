import type { TranslationBundle } from '@jupyterlab/translation';

import { money } from './numbers';

/**
 * The lab extension's sentences about spend and budgets, and its code snippet; the
 * numbers in them follow the rules of ./numbers, which the portal shares.
 */

/**
 * "$0.42 of $10.00 this month", or "$0.42 this month" without a budget; ``period`` is
 * a budget's window: hour, day, week, month (the default) or a team's term.
 */
export function budgetText(
  trans: TranslationBundle,
  spend: number,
  budget: number | null,
  period: string | null
): string {
  const withBudget = budget !== null && budget !== undefined;
  switch (period ?? 'month') {
    case 'hour':
      return withBudget
        ? trans.__('%1 of %2 this hour', money(spend), money(budget))
        : trans.__('%1 this hour', money(spend));
    case 'day':
      return withBudget
        ? trans.__('%1 of %2 today', money(spend), money(budget))
        : trans.__('%1 today', money(spend));
    case 'week':
      return withBudget
        ? trans.__('%1 of %2 this week', money(spend), money(budget))
        : trans.__('%1 this week', money(spend));
    case 'term':
      return withBudget
        ? trans.__('%1 of %2 this term', money(spend), money(budget))
        : trans.__('%1 this term', money(spend));
    default:
      return withBudget
        ? trans.__('%1 of %2 this month', money(spend), money(budget))
        : trans.__('%1 this month', money(spend));
  }
}

/** "2026-12-01 at 00:00 UTC" from an ISO instant (budget periods are in UTC). */
export function utcInstant(trans: TranslationBundle, iso: string): string {
  const instant = new Date(iso).toISOString();
  return trans.__('%1 at %2 UTC', instant.slice(0, 10), instant.slice(11, 16));
}

/** A ready OpenAI SDK cell for a model; credentials come from the environment. */
export function snippet(model: string): string {
  return [
    'from openai import OpenAI',
    '',
    'client = OpenAI()  # OPENAI_API_KEY and OPENAI_BASE_URL are set by jupyterlab-maas',
    'response = client.chat.completions.create(',
    `    model=${JSON.stringify(model)},`,
    '    messages=[{"role": "user", "content": "Say hello"}],',
    ')',
    'print(response.choices[0].message.content)'
  ].join('\n');
}
