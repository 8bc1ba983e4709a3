// What every page uses: loading a resource, showing a refusal, a list of facts, a figure,
// a user's budgets, code snippets.
import React, { useCallback, useEffect, useState } from 'react';

import { ApiError, config } from './api';
import { binds, BudgetStanding, standingName } from './budgets';
import { ChatMessage, ChatParams, money, snippets } from './format';

export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string>('');
  const reload = useCallback(() => {
    load()
      .then(value => {
        setData(value);
        setError('');
      })
      .catch((e: Error) => setError(e.message));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  useEffect(reload, [reload]);
  return { data, error, reload };
}

export function Problem({ text }: { text: string }) {
  return text ? (
    <p className="problem" role="alert">
      {text}
    </p>
  ) : null;
}

export function Facts({ facts }: { facts: [string, string][] }) {
  return (
    <dl className="prices">
      {facts.map(([term, value]) => (
        <div key={term}>
          <dt>{term}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

export function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div className="card stat">
      <p className="label">{label}</p>
      <p className="value">{value}</p>
    </div>
  );
}

/** A chart in a card: its caption, and the picture hidden from assistive technology
 * behind one image named by ``summary``, a sentence with the data (recharts' SVG has
 * no text alternative of its own, and its pie sectors are unnamed images). */
export function Chart({ caption, summary, children }: { caption: string; summary: string; children: React.ReactNode }) {
  return (
    <figure className="card">
      <figcaption>{caption}</figcaption>
      <div role="img" aria-label={summary}>
        <div aria-hidden="true">{children}</div>
      </div>
    </figure>
  );
}

/** A user's budgets: each one's window (and team), who set it, its spend of its limit
 * and when its window resets (a term: ends); the one that binds, most spent, marked. */
export function BudgetTable({
  caption,
  budgets,
  binding
}: {
  caption: string;
  budgets: BudgetStanding[];
  binding?: BudgetStanding | null;
}) {
  return (
    <table className="card budgets">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Budget</th>
          <th scope="col">Set by</th>
          <th scope="col">Spent</th>
          <th scope="col">Resets</th>
        </tr>
      </thead>
      <tbody>
        {budgets.map(b => {
          const name = standingName(b);
          const bound = binds(b, binding);
          return (
            <tr key={`${b.source}/${b.window}/${b.cap ? 'cap' : 'own'}`} className={bound ? 'binding' : undefined}>
              <th scope="row">
                {name}
                {bound ? (
                  <>
                    {' '}
                    <span className="badge binding">binding</span>
                  </>
                ) : null}
              </th>
              <td>{b.source}</td>
              <td>
                <meter min={0} max={b.usd ?? 0} value={b.spend_usd ?? 0} aria-label={`${name} used`} />{' '}
                {money(b.spend_usd ?? 0)} of {money(b.usd ?? 0)}
              </td>
              <td>
                {b.resets_at ? new Date(b.resets_at).toUTCString() : '-'}
                {b.window === 'term' ? ' (end of term)' : ''}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** Run a change; its refusal (an API error's sentence) goes to ``setProblem``. */
export function attempt(setProblem: (text: string) => void, change: () => Promise<void>): Promise<void> {
  setProblem('');
  return change().catch(err => setProblem(err instanceof ApiError ? err.message : String(err)));
}

const LANGUAGES = { curl: 'cURL', python: 'Python', node: 'Node' } as const;

type Language = keyof typeof LANGUAGES;

/** Code that calls ``model`` through the gateway (with ``keyText``, else
 * $OPENAI_API_KEY; with ``messages``, else a hello) in cURL, Python and Node, as tabs,
 * ``first`` first. */
export function Snippets({
  model,
  keyText,
  first = 'curl',
  messages,
  params
}: {
  model: string;
  keyText?: string;
  first?: Language;
  messages?: ChatMessage[];
  params?: ChatParams;
}) {
  const code = snippets(config.baseUrl, model, keyText, messages, params);
  const [tab, setTab] = useState<Language>(first);
  const order = [first, ...(Object.keys(LANGUAGES) as Language[]).filter(l => l !== first)];
  return (
    <>
      <div role="tablist" aria-label="Snippet language" className="tabs small">
        {order.map(lang => (
          <button key={lang} role="tab" aria-selected={tab === lang} onClick={() => setTab(lang)}>
            {LANGUAGES[lang]}
          </button>
        ))}
      </div>
      <pre className="code" aria-label="Snippet">
        {code[tab]}
      </pre>
    </>
  );
}
