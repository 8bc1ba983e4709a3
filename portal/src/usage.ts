// Chart data from the usage API's answer (pure functions, unit-tested).
import type { Key, Profile, Usage } from './api';
import { count, money } from './format';

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

/** The token donut's slices and the sentence that says what it shows; no slices when
 * there are no tokens yet, so that the page says so instead of drawing an empty ring. */
export function tokenDonut(split: { name: string; value: number }[]) {
  const total = split.reduce((sum, t) => sum + t.value, 0);
  if (!(total > 0)) {
    return { slices: [], summary: 'No tokens yet.' };
  }
  const parts = split.map(t => `${t.name}: ${count(t.value)} (${Math.round((100 * t.value) / total)} %)`);
  return { slices: split, summary: parts.join(', ') + '.' };
}

/** A sentence for the spend-over-time chart: the total and the day with the most. */
export function spendSummary(days: { day: string; cost: number }[]): string {
  const total = days.reduce((sum, d) => sum + d.cost, 0);
  if (!(total > 0)) {
    return `No spend in the last ${days.length} days.`;
  }
  const top = days.reduce((most, d) => (d.cost > most.cost ? d : most));
  return `${money(total)} over the last ${days.length} days, the most on ${top.day}: ${money(top.cost)}.`;
}

/** A sentence for the spend-by-model chart: each model and its spend. */
export function modelSpendSummary(models: { model: string; cost: number }[]): string {
  return models.length ? models.map(m => `${m.model}: ${money(m.cost)}`).join(', ') + '.' : 'No spend.';
}

/** A money axis (recharts' YAxis props) from 0 to at least ``max``: at most ``most``
 * ticks, multiples of a round step (1, 2 or 5 times a power of ten), labelled in one
 * precision fine enough for the step, so that no two ticks read the same (recharts' own
 * ticks for millionths of a dollar read "$0.000002" twice). */
export function moneyAxis(max: number, most = 5) {
  const axis = (ticks: number[], tickFormatter: (value: number) => string) => ({
    ticks,
    domain: [0, ticks[ticks.length - 1]],
    interval: 0 as const,
    tickFormatter
  });
  if (!(max > 0)) {
    return axis([0, 1], value => money(value));
  }
  const raw = max / (most - 1);
  let exponent = Math.floor(Math.log10(raw));
  let units = [1, 2, 5, 10].find(n => n * Number(`1e${exponent}`) >= raw * (1 - 1e-9)) ?? 10;
  if (units === 10) {
    units = 1;
    exponent += 1;
  }
  const step = units * Number(`1e${exponent}`);
  const decimals = Math.max(2, -exponent);
  const steps = Math.max(1, Math.ceil(max / step - 1e-9));
  const ticks = Array.from({ length: steps + 1 }, (_, i) => Number((i * step).toFixed(decimals)));
  return axis(ticks, value => (value === 0 ? money(0) : money(value, decimals)));
}

/** A key's label in tables: its name, or its server's, or the id of a key since gone. */
export function keyLabel(k: { name?: string | null; server_name?: string | null; key_id?: string | null }) {
  if (k.name) {
    return k.name;
  }
  if (k.server_name != null) {
    return `server ${k.server_name || '(default)'}`;
  }
  return k.key_id ? `key ${k.key_id}` : 'unknown key';
}

/** The ten keys with the most spend, most first. */
export function topKeys(usage: Usage) {
  return [...(usage.by_key ?? [])]
    .sort((a, b) => (b.cost_usd ?? 0) - (a.cost_usd ?? 0))
    .slice(0, 10)
    .map(k => ({ ...k, label: keyLabel(k) }));
}

/** Whether a list of entitlements (``["*"]`` for all) grants ``model``. */
export function grants(models: readonly string[] | null | undefined, model: string): boolean {
  return (models ?? []).includes('*') || (models ?? []).includes(model);
}

export interface Subscription {
  model: string;
  /** my active keys that can call it */
  keys: string[];
  /** the profiles whose servers can call it */
  profiles: string[];
  requests: number;
  spend: number;
}

/** Per model I may use: which of my active keys and which profiles can use it, and my
 * requests and spend on it over the usage answer's period. A key narrowed to some
 * models can use those; any other key what my policy (``allowed``) gives, or, for a
 * server's key, what its profile gives. */
export function subscriptions(
  allowed: readonly string[],
  keys: readonly Key[],
  profiles: readonly Profile[],
  usage: Usage | null
): Subscription[] {
  const spend = new Map((usage?.by_model ?? []).map(m => [m.model ?? '', m]));
  const bySlug = new Map(profiles.map(p => [p.slug ?? '', p]));
  return [...allowed].sort().map(model => ({
    model,
    keys: keys
      .filter(k => k.state === 'active')
      .filter(k =>
        k.models != null
          ? k.models.includes(model)
          : k.server_name != null && k.profile
            ? grants(bySlug.get(k.profile)?.models, model)
            : true
      )
      .map(k => keyLabel(k)),
    profiles: profiles.filter(p => grants(p.models, model)).map(p => p.display_name ?? p.slug ?? ''),
    requests: spend.get(model)?.requests ?? 0,
    spend: spend.get(model)?.cost_usd ?? 0
  }));
}

/** The share of a budget spent, from 0 to 1 (over-spending shows as full). */
export function budgetShare(spent: number, budget: number): number {
  if (budget <= 0) {
    return spent > 0 ? 1 : 0;
  }
  return Math.min(1, Math.max(0, spent / budget));
}
