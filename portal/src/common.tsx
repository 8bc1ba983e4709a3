// What every page uses: loading a resource, showing a refusal, a list of facts, a figure,
// code snippets.
import React, { useCallback, useEffect, useState } from 'react';

import { ApiError, config } from './api';
import { snippets } from './format';

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

/** Run a change; its refusal (an API error's sentence) goes to ``setProblem``. */
export function attempt(setProblem: (text: string) => void, change: () => Promise<void>): Promise<void> {
  setProblem('');
  return change().catch(err => setProblem(err instanceof ApiError ? err.message : String(err)));
}

const LANGUAGES = { curl: 'cURL', python: 'Python', node: 'Node' } as const;

type Language = keyof typeof LANGUAGES;

/** Code that calls ``model`` through the gateway (with ``keyText``, else
 * $OPENAI_API_KEY) in cURL, Python and Node, as tabs, ``first`` first. */
export function Snippets({ model, keyText, first = 'curl' }: { model: string; keyText?: string; first?: Language }) {
  const code = snippets(config.baseUrl, model, keyText);
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
