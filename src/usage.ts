import type { TranslationBundle } from '@jupyterlab/translation';

import { adjective, budgetRefusals } from './budget';
import { budgetText, utcInstant } from './format';
import { count, money } from './numbers';
import type { IBudgetStanding, IUsage } from './tokens';

/** A table of the usage view: its header and rows, as text. */
export interface ITable {
  header: string[];
  rows: string[][];
}

/** The usage view's header, tables and their rows, as text. */
export interface IUsageTables {
  heading: string;
  /** Every budget that applies; absent when the server extension does not say. */
  budgets: ITable | null;
  byModel: ITable;
  /** Absent when the server extension does not say (or no notebook spent). */
  byNotebook: ITable | null;
  recent: ITable;
}

/**
 * A budget's name in the budgets table: "daily", "term (team cs101)" (a team's budget
 * per member), "weekly team cap (cs101)" (what the team's members spend together).
 */
function budgetName(trans: TranslationBundle, b: IBudgetStanding): string {
  const window = adjective(trans, b.window);
  if (b.cap) {
    return trans.__('%1 team cap (%2)', window, b.team ?? '');
  }
  return b.team ? trans.__('%1 (team %2)', window, b.team) : window;
}

/** Each budget that applies: its window (and team), its spend of its limit, its reset. */
function budgetsTable(
  trans: TranslationBundle,
  budgets: IBudgetStanding[]
): ITable {
  return {
    header: [trans.__('Budget'), trans.__('Spent'), trans.__('Resets')],
    rows: budgets.map(b => [
      budgetName(trans, b),
      trans.__('%1 of %2', money(b.spend_usd), money(b.usd)),
      b.window === 'term'
        ? trans.__('%1 (end of term)', utcInstant(trans, b.resets_at))
        : utcInstant(trans, b.resets_at)
    ])
  };
}

/**
 * Lay out a usage answer: the budgets, this period's spend by model and by notebook,
 * then the last requests.
 */
export function usageTables(
  trans: TranslationBundle,
  usage: IUsage,
  locale?: string
): IUsageTables {
  const parts = [
    budgetText(trans, usage.spend_usd, usage.budget_usd, usage.budget_period)
  ];
  if (usage.period_start) {
    parts.push(
      trans.__(
        'since %1',
        new Date(usage.period_start).toISOString().slice(0, 10)
      )
    );
  }
  let heading = parts.join(' ');
  if (usage.resets_at) {
    heading = trans.__(
      '%1; the budget resets on %2.',
      heading,
      utcInstant(trans, usage.resets_at)
    );
  } else {
    heading = trans.__('%1.', heading);
  }
  const refused = budgetRefusals(usage);
  if (refused) {
    heading = trans._n(
      '%2 %1 call was refused for budget.',
      '%2 %1 calls were refused for budget.',
      refused,
      heading
    );
  }
  const tokens = (r: { prompt_tokens: number; completion_tokens: number }) =>
    count(r.prompt_tokens + r.completion_tokens);
  const notebooks = usage.by_notebook ?? [];
  const budgets = usage.budgets ?? [];
  return {
    heading,
    budgets: budgets.length ? budgetsTable(trans, budgets) : null,
    byModel: {
      header: [
        trans.__('Model'),
        trans.__('Requests'),
        trans.__('Tokens'),
        trans.__('Cost')
      ],
      rows: usage.by_model.map(m => [
        m.model,
        count(m.requests),
        tokens(m),
        money(m.cost_usd)
      ])
    },
    byNotebook: notebooks.length
      ? {
          header: [
            trans.__('Notebook'),
            trans.__('Requests'),
            trans.__('Tokens'),
            trans.__('Cost')
          ],
          rows: notebooks.map(n => [
            n.notebook_path ?? trans.__('(no notebook)'),
            count(n.requests),
            tokens(n),
            money(n.cost_usd)
          ])
        }
      : null,
    recent: {
      header: [
        trans.__('Time'),
        trans.__('Model'),
        trans.__('Tokens'),
        trans.__('Cost')
      ],
      rows: usage.recent.map(r => [
        new Date(r.ts).toLocaleString(locale),
        r.model,
        tokens(r),
        money(r.cost_usd)
      ])
    }
  };
}

function table(t: ITable, empty: string, testId: string): HTMLElement {
  if (t.rows.length === 0) {
    const p = document.createElement('p');
    p.textContent = empty;
    return p;
  }
  const el = document.createElement('table');
  el.dataset.testid = testId;
  const line = (cells: string[], tag: 'th' | 'td'): void => {
    const tr = el.insertRow();
    for (const text of cells) {
      const cell = document.createElement(tag);
      cell.textContent = text;
      tr.append(cell);
    }
  };
  line(t.header, 'th');
  t.rows.forEach(cells => line(cells, 'td'));
  return el;
}

/** The usage dialog's body (text only, never HTML from the server). */
export function usageView(
  trans: TranslationBundle,
  usage: IUsage
): HTMLElement {
  const t = usageTables(trans, usage);
  const node = document.createElement('div');
  node.className = 'jp-maas-usage';
  const heading = (text: string, tag = 'h4'): HTMLElement => {
    const el = document.createElement(tag);
    el.textContent = text;
    return el;
  };
  node.append(heading(t.heading, 'p'));
  if (t.budgets) {
    node.append(heading(trans.__('Budgets')), table(t.budgets, '', 'budgets'));
  }
  node.append(
    heading(trans.__('Spend by model this period')),
    table(t.byModel, trans.__('No requests yet this period.'), 'by-model')
  );
  if (t.byNotebook) {
    node.append(
      heading(trans.__('Spend by notebook')),
      table(t.byNotebook, '', 'by-notebook')
    );
  }
  node.append(
    heading(trans.__('Last requests')),
    table(t.recent, trans.__('No requests yet.'), 'recent')
  );
  return node;
}
