import { budgetText, money } from './format';
import { IUsage } from './tokens';

/** The usage view's header, tables and their rows, as text. */
export interface IUsageTables {
  heading: string;
  byModel: { header: string[]; rows: string[][] };
  recent: { header: string[]; rows: string[][] };
}

/** "2026-11-01" from an ISO instant, in UTC as budget periods are. */
function utcDay(iso: string): string {
  return new Date(iso).toISOString().slice(0, 10);
}

/** Lay out a usage answer: this period's spend by model, then the last requests. */
export function usageTables(usage: IUsage, locale?: string): IUsageTables {
  const since = usage.period_start ? ` since ${utcDay(usage.period_start)}` : '';
  const resets = usage.resets_at
    ? `; the budget resets on ${utcDay(usage.resets_at)} at ` +
      `${new Date(usage.resets_at).toISOString().slice(11, 16)} UTC`
    : '';
  return {
    heading: `${budgetText(usage.spend_usd, usage.budget_usd, usage.budget_period)}${since}${resets}.`,
    byModel: {
      header: ['Model', 'Requests', 'Tokens', 'Cost'],
      rows: usage.by_model.map(m => [
        m.model,
        String(m.requests),
        String(m.prompt_tokens + m.completion_tokens),
        money(m.cost_usd)
      ])
    },
    recent: {
      header: ['Time', 'Model', 'Tokens', 'Cost'],
      rows: usage.recent.map(r => [
        new Date(r.ts).toLocaleString(locale),
        r.model,
        String(r.prompt_tokens + r.completion_tokens),
        money(r.cost_usd)
      ])
    }
  };
}

function table(header: string[], rows: string[][], empty: string): HTMLElement {
  if (rows.length === 0) {
    const p = document.createElement('p');
    p.textContent = empty;
    return p;
  }
  const el = document.createElement('table');
  const line = (cells: string[], tag: 'th' | 'td'): void => {
    const tr = el.insertRow();
    for (const text of cells) {
      const cell = document.createElement(tag);
      cell.textContent = text;
      tr.append(cell);
    }
  };
  line(header, 'th');
  rows.forEach(cells => line(cells, 'td'));
  return el;
}

/** The usage dialog's body (text only, never HTML from the server). */
export function usageView(usage: IUsage): HTMLElement {
  const t = usageTables(usage);
  const node = document.createElement('div');
  node.className = 'jp-maas-usage';
  const heading = (text: string, tag = 'h4'): HTMLElement => {
    const el = document.createElement(tag);
    el.textContent = text;
    return el;
  };
  node.append(
    heading(t.heading, 'p'),
    heading('Spend by model this period'),
    table(t.byModel.header, t.byModel.rows, 'No requests yet this period.'),
    heading('Last requests'),
    table(t.recent.header, t.recent.rows, 'No requests yet.')
  );
  return node;
}
