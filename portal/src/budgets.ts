// Budgets over windows (an hour, a day, a week, a month; a team's term): how the portal
// shows them, the fields a profile's, an override's, a team's or a team member's budgets
// are edited in, and which of a user's budgets binds. Pure functions, unit-tested; the
// editor is console/budgets.tsx.
import { money, optionalNumber, shown } from './format';
import type { components } from './schema';

/** A budget as a profile or an override sets it: ``{ window: 'day', usd: 1 }``. */
export type Budget = NonNullable<components['schemas']['Profile']['budgets']>[number];

/** A window a profile's or an override's budget may name. */
export type Window = Budget['window'];

/** A budget as a team sets it (per member, or as a cap on the members' total): it may
 * also be over the team's ``term``. */
export type TeamBudget = NonNullable<components['schemas']['TeamSettings']['budgets']>[number];

/** A window a team's budget may name: a profile's, or the team's term. */
export type TeamWindow = TeamBudget['window'];

/** A budget that applies to a user now, with its window's spend: one of the policy
 * answer's ``budgets`` (or its ``binding``, the one most spent). A team's budget may
 * be over its ``term``; with ``cap`` it limits what the team's members spend together. */
export type BudgetStanding = NonNullable<components['schemas']['Policy']['budgets']>[number];

// Every window the API's document (schema.d.ts) names, shortest first, with its label in
// the editor: a Record, so that the type check fails when the document names another.
const ADJECTIVES: Record<TeamWindow, string> = {
  hour: 'Hourly',
  day: 'Daily',
  week: 'Weekly',
  month: 'Monthly',
  term: 'Term'
};

/** The windows a team's budget may name, shortest first: the clock's, then the term. */
export const TEAM_WINDOWS = Object.keys(ADJECTIVES) as TeamWindow[];

/** The windows a profile's or an override's budget may name (the clock's), shortest first. */
export const WINDOWS = TEAM_WINDOWS.filter((w): w is Window => w !== 'term');

/** "Hourly", "Daily", "Weekly", "Monthly" or (a team's) "Term". */
export const windowLabel = (window: string) => ADJECTIVES[window as TeamWindow] ?? window;

// text lists the longest window first: "$10.00 / month, $1.00 / day"
const LONGEST_FIRST = ['term', 'month', 'week', 'day', 'hour'];
function rank(window: string): number {
  const i = LONGEST_FIRST.indexOf(window);
  return i < 0 ? LONGEST_FIRST.length : i;
}

/** Budgets as text, the longest window first: "$10.00 / month, $1.00 / day"; ``none``
 * without any. ``word`` joins an amount to its window ("per" in a sentence). */
export function budgetsText(
  budgets: readonly { window: string; usd: number }[] | null | undefined,
  none = 'none',
  word = '/'
): string {
  if (!budgets?.length) {
    return none;
  }
  return [...budgets]
    .sort((a, b) => rank(a.window) - rank(b.window))
    .map(b => `${money(b.usd)} ${word} ${b.window}`)
    .join(', ');
}

/** The editor's fields: each window's amount as typed, empty for no budget. */
export type BudgetFields<W extends TeamWindow = Window> = Record<W, string>;

/** The fields for budgets over ``windows`` (a profile's or an override's by default; a
 * team's may add the term): each window's amount, empty for none. A budget over another
 * window has no field. */
export function budgetFields<W extends TeamWindow = Window>(
  budgets: readonly { window: string; usd: number }[] | null | undefined,
  windows: readonly W[] = WINDOWS as readonly TeamWindow[] as readonly W[]
): BudgetFields<W> {
  const fields = Object.fromEntries(windows.map(w => [w, ''])) as BudgetFields<W>;
  for (const b of budgets ?? []) {
    if (b.window in fields) {
      fields[b.window as W] = shown(b.usd);
    }
  }
  return fields;
}

/** The API's budgets from the editor's fields, shortest window first: one a window with
 * an amount; an empty field sets none. What is no number goes as typed, so that the API
 * answers with its sentence. */
export function budgetsOf<W extends TeamWindow>(fields: BudgetFields<W>): { window: W; usd: number }[] {
  const windows = TEAM_WINDOWS.filter((w): w is W => w in fields);
  return windows
    .filter(w => fields[w].trim() !== '')
    .map(w => ({
      window: w,
      usd: optionalNumber(fields[w]) as number
    }));
}

/** A user's budget by name: "Daily", "Term (team cs101)" (a team's budget per member),
 * "Weekly team cap (cs101)" (what the team's members spend together). */
export function standingName(b: BudgetStanding): string {
  const window = windowLabel(b.window ?? '');
  if (b.cap) {
    return `${window} team cap (${b.team ?? ''})`;
  }
  return b.team ? `${window} (team ${b.team})` : window;
}

/** Whether ``b`` is the budget that binds: ``binding`` names the same one (a user has
 * at most one budget a window from each source, and a team's cap besides). */
export function binds(b: BudgetStanding, binding: BudgetStanding | null | undefined): boolean {
  return (
    !!binding &&
    b.window === binding.window &&
    b.source === binding.source &&
    (b.team ?? null) === (binding.team ?? null) &&
    !!b.cap === !!binding.cap
  );
}

/** The span a window's spend is over now: "this hour", "today", "this week", "this
 * month", "this term". */
export const thisWindow = (window: string | null | undefined) =>
  window === 'day' ? 'today' : `this ${window || 'month'}`;
