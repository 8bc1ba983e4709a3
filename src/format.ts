/**
 * Formatting shared by the picker, the status bar and the usage view, following the
 * portal's rules (SEED.md): prices per 1M tokens, "-" when free, 4 decimals under
 * $0.01, else 2; spend with 2 decimals from $1, 4 from $0.01, else 6.
 */

export function perMillion(costPerToken: number): string {
  const value = costPerToken * 1_000_000;
  if (value === 0) {
    return '-';
  }
  return value < 0.01 ? `$${value.toFixed(4)}` : `$${value.toFixed(2)}`;
}

export function money(value: number): string {
  if (value >= 1) {
    return `$${value.toFixed(2)}`;
  }
  if (value >= 0.01 || value === 0) {
    return `$${value.toFixed(value === 0 ? 2 : 4)}`;
  }
  return `$${value.toFixed(6)}`;
}

const PERIOD_WORDS: Record<string, string> = {
  day: 'today',
  week: 'this week',
  month: 'this month'
};

/** "$0.42 of $10.00 this month", or "$0.42 this month" without a budget. */
export function budgetText(
  spend: number,
  budget: number | null,
  period: string | null
): string {
  const when = PERIOD_WORDS[period ?? 'month'] ?? `this ${period}`;
  return budget === null || budget === undefined
    ? `${money(spend)} ${when}`
    : `${money(spend)} of ${money(budget)} ${when}`;
}

/** Context window in K, as the portal shows it. */
export function contextK(tokens: number | null): string {
  return tokens ? `${Math.round(tokens / 1024)}K` : '-';
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
