// What every page uses: loading a resource, showing a refusal, a list of facts, a figure.
import React, { useCallback, useEffect, useState } from 'react';

import { ApiError } from './api';

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

/** Run a change; its refusal (an API error's sentence) goes to ``setProblem``. */
export function attempt(setProblem: (text: string) => void, change: () => Promise<void>): Promise<void> {
  setProblem('');
  return change().catch(err => setProblem(err instanceof ApiError ? err.message : String(err)));
}
