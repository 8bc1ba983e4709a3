// Chart data from the usage API's answer (pure functions, unit-tested).
import type { Usage } from './api';

/** Spend per UTC day over the last ``days`` days, oldest first (zero on days without
 * requests). */
export function spendByDay(usage: Usage, days: number, now = new Date()) {
  const totals = new Map((usage.by_day ?? []).map(d => [d.day ?? '', d.cost_usd ?? 0]));
  const out = [];
  for (let i = days - 1; i >= 0; i--) {
    const day = new Date(now.getTime() - i * 86400_000).toISOString().slice(0, 10);
    out.push({ day: day.slice(5), cost: totals.get(day) ?? 0 });
  }
  return out;
}

/** The ten models with the most spend, most first. */
export function topModels(usage: Usage) {
  return [...(usage.by_model ?? [])]
    .sort((a, b) => (b.cost_usd ?? 0) - (a.cost_usd ?? 0))
    .slice(0, 10)
    .map(m => ({ model: m.model ?? '', cost: m.cost_usd ?? 0 }));
}

/** Prompt and completion tokens, for the donut. */
export function tokenSplit(usage: Usage) {
  let prompt = 0;
  let completion = 0;
  for (const m of usage.by_model ?? []) {
    prompt += m.prompt_tokens ?? 0;
    completion += m.completion_tokens ?? 0;
  }
  return [
    { name: 'Tokens in', value: prompt },
    { name: 'Tokens out', value: completion }
  ];
}
