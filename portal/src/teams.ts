// Teams as the portal shows and edits them (pages/teams.tsx; the admin console's Teams
// tab): a team's settings form and the body it sends, its term as form fields and as a
// sentence, a roster member's spend, the team's spend by day and model for its chart.
// Pure functions, unit-tested (__tests__/teams.spec.ts).
import { budgetFields, budgetsOf, budgetsText, TEAM_WINDOWS, TeamWindow, windowLabel, WINDOWS } from './budgets';
import { money, optionalNumber, shown, when } from './format';
import type { components } from './schema';

type Schemas = components['schemas'];
export type Team = Schemas['Team'];
export type TeamSettings = Schemas['TeamSettings'];
export type TeamRoster = Schemas['TeamRoster'];
export type RosterMember = NonNullable<TeamRoster['members']>[number];
export type TeamMemberAdjustment = Schemas['TeamMemberAdjustment'];
export type TeamUsage = Schemas['TeamUsage'];

/** The step of a term's fields, in seconds: the API takes instants on a quarter hour. */
export const QUARTER_HOUR = 900;

/** A term's instant as its form field shows it (a datetime-local input, in UTC, to the
 * minute): "2027-01-31T23:00"; empty for none. */
export function termField(iso: string | null | undefined): string {
  const at = iso ? new Date(iso) : null;
  return at && !Number.isNaN(at.getTime()) ? at.toISOString().slice(0, 16) : '';
}

/** A term's field as the API takes it: the instant in UTC, "2027-01-31T23:00:00Z"; null
 * when empty. What is no such field goes as typed, so that the API says why. */
export function termInstant(field: string): string | null {
  const text = field.trim();
  if (!text) {
    return null;
  }
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(:\d{2})?(\.\d+)?$/.exec(text);
  return m ? `${m[1]}${m[2] ?? ':00'}Z` : text;
}

/** Whether a team (or its form) has a term: both its start and its end. */
export const hasTerm = (t: { starts_at?: string | null; ends_at?: string | null }) => !!(t.starts_at && t.ends_at);

/** The windows a team's budgets may be over: the term's too when it has one. */
export const teamWindows = (term: boolean): TeamWindow[] => (term ? TEAM_WINDOWS : [...WINDOWS]);

/** The settings form of a team, every field as typed. */
export function settingsForm(team: Team) {
  return {
    models: team.models ?? [],
    budgets: budgetFields(team.budgets, TEAM_WINDOWS),
    caps: budgetFields(team.caps, TEAM_WINDOWS),
    starts_at: termField(team.starts_at),
    ends_at: termField(team.ends_at),
    alert_percent: shown(team.alert_percent)
  };
}
export type SettingsForm = ReturnType<typeof settingsForm>;

/** What the settings form sends (``PATCH teams/{group}``): everything it shows (an
 * empty alert share: the one set). Without a term it sends no budget or cap over the
 * term (the form shows no field for one). */
export function settingsBody(f: SettingsForm): TeamSettings {
  const term = hasTerm(f);
  const over = (fields: SettingsForm['budgets']) => budgetsOf(fields).filter(b => term || b.window !== 'term');
  const alert = optionalNumber(f.alert_percent);
  return {
    models: f.models,
    budgets: over(f.budgets),
    caps: over(f.caps),
    starts_at: termInstant(f.starts_at),
    ends_at: termInstant(f.ends_at),
    ...(alert === null ? {} : { alert_percent: alert })
  };
}

const TERM_STATES: Record<string, string> = {
  before: 'not started yet',
  during: 'running',
  after: 'ended'
};

/** A team's term as a sentence: its span and whether it runs now. */
export function termText(team: Team): string {
  if (!hasTerm(team)) {
    return 'No term: the team grants its models at any time.';
  }
  const state = TERM_STATES[team.term_state ?? ''] ?? team.term_state ?? '';
  return `Term from ${when(team.starts_at)} to ${when(team.ends_at)}${state ? `: ${state}` : ''}.`;
}

/** The models a team's admins choose among: those a MaaS admin made available, or, when
 * that is all of them ("*"), the catalog's (with "All models" offered); the ones chosen
 * already are among them whatever the catalog says. */
export function modelChoices(
  available: readonly string[] | null | undefined,
  catalog: readonly string[],
  chosen: readonly string[] = []
): { names: string[]; all: boolean } {
  const all = (available ?? []).includes('*');
  const names = all ? [...catalog, ...chosen] : [...(available ?? [])];
  return { names: [...new Set(names.filter(n => n !== '*'))].sort(), all };
}

/** A roster member's spend of each of their budgets, the shortest window first. */
export function spendLines(member: RosterMember) {
  const rank = (w: string | undefined) => TEAM_WINDOWS.indexOf(w as TeamWindow);
  return [...(member.budgets ?? [])]
    .sort((a, b) => rank(a.window) - rank(b.window))
    .map(b => ({
      window: b.window ?? '',
      label: windowLabel(b.window ?? ''),
      spent: b.spend_usd ?? 0,
      usd: b.usd ?? 0,
      text: `${money(b.spend_usd ?? 0)} of ${money(b.usd ?? 0)}`
    }));
}

/** A member's own budgets in the team and why: "$0.02 / day (accommodation)"; "-" for none. */
export function adjustmentText(adjustment: TeamMemberAdjustment | null | undefined): string {
  if (!adjustment) {
    return '-';
  }
  const budgets = budgetsText(adjustment.budgets, "the team's");
  return adjustment.note ? `${budgets} (${adjustment.note})` : budgets;
}

/** A member's top notebooks and their spend: "lab.ipynb ($0.01)"; "-" for none. */
export function notebooksText(member: RosterMember): string {
  const top = member.top_notebooks ?? [];
  return top.length ? top.map(n => `${n.notebook_path} (${money(n.cost_usd ?? 0)})`).join(', ') : '-';
}

/** After revoking a member's keys: how many went. */
export function revokedText(user: string, revoked: number): string {
  if (revoked === 0) {
    return `${user} had no active key to revoke.`;
  }
  return `Revoked ${revoked} ${revoked === 1 ? 'key' : 'keys'} of ${user}.`;
}

/** One bar a UTC day: its label ("11-26") and each model's spend that day. */
export type SpendDay = { day: string } & Record<string, number | string>;

/** The team's spend over the last ``days`` UTC days, oldest first, one value a model
 * (zero on days it had none), and the models, the most spent first. */
export function teamSpend(usage: TeamUsage, days: number, now = new Date()): { rows: SpendDay[]; models: string[] } {
  const totals = new Map<string, number>();
  const byDay = new Map<string, Map<string, number>>();
  for (const d of usage.by_day ?? []) {
    const model = d.model ?? '';
    const cost = d.cost_usd ?? 0;
    totals.set(model, (totals.get(model) ?? 0) + cost);
    const day = byDay.get(d.day ?? '') ?? new Map<string, number>();
    day.set(model, (day.get(model) ?? 0) + cost);
    byDay.set(d.day ?? '', day);
  }
  const models = [...totals.keys()].sort((a, b) => (totals.get(b) ?? 0) - (totals.get(a) ?? 0) || a.localeCompare(b));
  const rows: SpendDay[] = [];
  for (let i = days - 1; i >= 0; i--) {
    const day = new Date(now.getTime() - i * 86400_000).toISOString().slice(0, 10);
    const spend = byDay.get(day);
    rows.push({ day: day.slice(5), ...Object.fromEntries(models.map(m => [m, spend?.get(m) ?? 0])) });
  }
  return { rows, models };
}

/** A sentence for the team's spend chart: the total, each model's share, the day with
 * the most. */
export function teamSpendSummary(usage: TeamUsage, days: number, now = new Date()): string {
  const { rows, models } = teamSpend(usage, days, now);
  const dayTotal = (r: SpendDay) => models.reduce((sum, m) => sum + Number(r[m] ?? 0), 0);
  const total = rows.reduce((sum, r) => sum + dayTotal(r), 0);
  if (!(total > 0)) {
    return `No spend in the last ${days} days.`;
  }
  const perModel = models.map(m => `${m} ${money(rows.reduce((sum, r) => sum + Number(r[m] ?? 0), 0))}`);
  const top = rows.reduce((most, r) => (dayTotal(r) > dayTotal(most) ? r : most));
  return (
    `${money(total)} over the last ${days} days (${perModel.join(', ')}), ` +
    `the most on ${top.day}: ${money(dayTotal(top))}.`
  );
}
