import '@fontsource/inter/400.css';
import '@fontsource/inter/600.css';
import '@fontsource/plus-jakarta-sans/600.css';
import '@fontsource/plus-jakarta-sans/700.css';
import './portal.css';

import React, { useCallback, useEffect, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import {
  Area,
  AreaChart,
  Bar,
  BarChart,
  CartesianGrid,
  Cell,
  Pie,
  PieChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis
} from 'recharts';

import { api, ApiError, config, IssuedKey, Key, me, Model, Policy, Usage } from './api';
import { accent, contextK, count, currency, PALETTE, perMillion, provider, snippets } from './format';
import { spendByDay, tokenSplit, topModels } from './usage';

type Page = 'models' | 'usage' | 'keys';
const PAGES: [Page, string][] = [
  ['models', 'Models'],
  ['usage', 'Usage'],
  ['keys', 'API Keys']
];

function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []) {
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

function Problem({ text }: { text: string }) {
  return text ? (
    <p className="problem" role="alert">
      {text}
    </p>
  ) : null;
}

// -- Models -------------------------------------------------------------------------------

function Facts({ facts }: { facts: [string, string][] }) {
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

function ModelCard({ model, allowed, onOpen }: { model: Model; allowed: boolean; onOpen: () => void }) {
  return (
    <article className="card model" style={{ borderTopColor: accent(model.name ?? '') }}>
      <header>
        <h3>{model.name}</h3>
        <span className={allowed ? 'badge ok' : 'badge muted'}>{allowed ? 'Available' : 'Not in your profile'}</span>
      </header>
      <p className="provider">{provider(model.name ?? '')} · {model.mode ?? 'chat'}</p>
      <Facts
        facts={[
          ['Input / 1M', perMillion(model.input_cost_per_token)],
          ['Output / 1M', perMillion(model.output_cost_per_token)],
          ['Context', contextK(model.context_window)]
        ]}
      />
      <ul className="chips" aria-label="Capabilities">
        {(model.capabilities ?? []).map(c => (
          <li key={c}>{c.replace(/_/g, ' ')}</li>
        ))}
      </ul>
      <button className="link" onClick={onOpen}>
        Details and code
      </button>
    </article>
  );
}

function ModelDetail({ model, onClose }: { model: Model; onClose: () => void }) {
  const code = snippets(config.baseUrl, model.name ?? '');
  const [tab, setTab] = useState<keyof typeof code>('python');
  return (
    <section className="card detail" aria-label={`${model.name} details`}>
      <header>
        <h2>{model.name}</h2>
        <button className="link" onClick={onClose}>
          Back to all models
        </button>
      </header>
      <p>{model.description}</p>
      <Facts
        facts={[
          ['Max input tokens', model.context_window ? count(model.context_window) : '-'],
          ['Max output tokens', model.max_output_tokens ? count(model.max_output_tokens) : '-'],
          ['Input / 1M', perMillion(model.input_cost_per_token)],
          ['Output / 1M', perMillion(model.output_cost_per_token)]
        ]}
      />
      <div role="tablist" aria-label="Snippet language" className="tabs small">
        {(Object.keys(code) as (keyof typeof code)[]).map(lang => (
          <button key={lang} role="tab" aria-selected={tab === lang} onClick={() => setTab(lang)}>
            {lang === 'curl' ? 'cURL' : lang === 'node' ? 'Node' : 'Python'}
          </button>
        ))}
      </div>
      <pre className="code" aria-label="Snippet">
        {code[tab]}
      </pre>
    </section>
  );
}

function ModelsPage() {
  const models = useLoad(() => api<{ models: Model[] }>('GET', 'models'));
  const policy = useLoad(() => api<Policy>('GET', `users/${me()}/policy`));
  const [query, setQuery] = useState('');
  const [mode, setMode] = useState('');
  const [open, setOpen] = useState<Model | null>(null);
  const allowed = new Set(policy.data?.allowed_models ?? []);
  const list = (models.data?.models ?? []).filter(
    m =>
      (!query || (m.name ?? '').toLowerCase().includes(query.toLowerCase())) &&
      (!mode || m.mode === mode)
  );
  const modes = [...new Set((models.data?.models ?? []).map(m => m.mode ?? 'chat'))].sort();
  if (open) {
    return <ModelDetail model={open} onClose={() => setOpen(null)} />;
  }
  return (
    <section aria-labelledby="models-title">
      <h2 id="models-title">Models</h2>
      <Problem text={models.error} />
      <div className="toolbar">
        <label>
          Search <input type="search" value={query} onChange={e => setQuery(e.target.value)} />
        </label>
        <label>
          Mode{' '}
          <select value={mode} onChange={e => setMode(e.target.value)}>
            <option value="">All</option>
            {modes.map(m => (
              <option key={m}>{m}</option>
            ))}
          </select>
        </label>
      </div>
      {models.data && list.length === 0 ? <p className="empty">No model matches.</p> : null}
      <div className="grid" data-testid="models-grid">
        {list.map(m => (
          <ModelCard key={m.name} model={m} allowed={allowed.has(m.name ?? '')} onOpen={() => setOpen(m)} />
        ))}
      </div>
    </section>
  );
}

// -- Usage --------------------------------------------------------------------------------

function UsagePage() {
  const [days, setDays] = useState(30);
  const usage = useLoad(() => api<Usage>('GET', `users/${me()}/usage?days=${days}`), [days]);
  const policy = useLoad(() => api<Policy>('GET', `users/${me()}/policy`));
  const u = usage.data;
  const tokens = useMemo(() => (u ? tokenSplit(u) : []), [u]);
  const requests = u?.total_requests ?? 0;
  return (
    <section aria-labelledby="usage-title">
      <h2 id="usage-title">Usage</h2>
      <div role="tablist" aria-label="Range" className="tabs small">
        {[7, 30, 90].map(d => (
          <button key={d} role="tab" aria-selected={days === d} onClick={() => setDays(d)}>
            {d} days
          </button>
        ))}
      </div>
      <Problem text={usage.error} />
      {policy.data?.budget_usd != null ? (
        <p className="budget">
          Budget: {currency(policy.data.spend_usd ?? 0)} of {currency(policy.data.budget_usd)} this{' '}
          {policy.data.budget_period}
          <meter min={0} max={policy.data.budget_usd} value={policy.data.spend_usd ?? 0} aria-label="Budget used" />
          {policy.data.resets_at ? ` · resets ${new Date(policy.data.resets_at).toUTCString()}` : ''}
        </p>
      ) : null}
      {u && requests === 0 ? (
        <p className="empty">No requests in the last {days} days: call a model from a notebook or with a key.</p>
      ) : null}
      {u && requests > 0 ? (
        <>
          <div className="cards">
            <Stat label="Total spend" value={currency(u.total_cost_usd ?? 0)} />
            <Stat
              label="Tokens in / out"
              value={`${count(tokens[0]?.value ?? 0)} / ${count(tokens[1]?.value ?? 0)}`}
            />
            <Stat label="Requests" value={count(requests)} />
            <Stat label="Average cost per request" value={currency((u.total_cost_usd ?? 0) / requests)} />
          </div>
          <div className="charts">
            <figure className="card">
              <figcaption>Spend over time</figcaption>
              <ResponsiveContainer width="100%" height={220}>
                <AreaChart data={spendByDay(u, days)}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis dataKey="day" />
                  <YAxis width={90} tickFormatter={(v: number) => currency(v)} />
                  <Tooltip formatter={(v: number) => currency(v)} />
                  <Area dataKey="cost" stroke={PALETTE[0]} fill={PALETTE[0]} fillOpacity={0.3} />
                </AreaChart>
              </ResponsiveContainer>
            </figure>
            <figure className="card">
              <figcaption>Spend by model (top 10)</figcaption>
              <ResponsiveContainer width="100%" height={220}>
                <BarChart data={topModels(u)}>
                  <XAxis dataKey="model" />
                  <YAxis width={90} tickFormatter={(v: number) => currency(v)} />
                  <Tooltip formatter={(v: number) => currency(v)} />
                  <Bar dataKey="cost" fill={PALETTE[1]} />
                </BarChart>
              </ResponsiveContainer>
            </figure>
            <figure className="card">
              <figcaption>Token distribution</figcaption>
              <ResponsiveContainer width="100%" height={220}>
                <PieChart>
                  <Pie data={tokens} dataKey="value" nameKey="name" innerRadius={50} outerRadius={80}>
                    {tokens.map((t, i) => (
                      <Cell key={t.name} fill={PALETTE[i + 2]} />
                    ))}
                  </Pie>
                  <Tooltip />
                </PieChart>
              </ResponsiveContainer>
            </figure>
          </div>
          <table className="card">
            <caption>Spend by model</caption>
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">Requests</th>
                <th scope="col">Tokens in</th>
                <th scope="col">Tokens out</th>
                <th scope="col">Spend</th>
              </tr>
            </thead>
            <tbody>
              {(u.by_model ?? []).map(m => (
                <tr key={m.model}>
                  <td>{m.model}</td>
                  <td>{count(m.requests ?? 0)}</td>
                  <td>{count(m.prompt_tokens ?? 0)}</td>
                  <td>{count(m.completion_tokens ?? 0)}</td>
                  <td>{currency(m.cost_usd ?? 0)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </section>
  );
}

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div className="card stat">
      <p className="label">{label}</p>
      <p className="value">{value}</p>
    </div>
  );
}

// -- API keys -----------------------------------------------------------------------------

function KeysPage() {
  const keys = useLoad(() => api<{ keys: Key[] }>('GET', `users/${me()}/keys`));
  const [name, setName] = useState('');
  const [issued, setIssued] = useState<IssuedKey | null>(null);
  const [problem, setProblem] = useState('');
  const [confirm, setConfirm] = useState<Key | null>(null);
  const [copied, setCopied] = useState(false);
  const personal = (keys.data?.keys ?? []).filter(k => !k.server_name);
  // run a change; its refusal becomes the sentence shown above the table
  const attempt = (change: () => Promise<void>) =>
    change().catch(err => setProblem(err instanceof ApiError ? err.message : String(err)));
  const create = (e: React.FormEvent) => {
    e.preventDefault();
    setProblem('');
    return attempt(async () => {
      setIssued(await api<IssuedKey>('POST', `users/${me()}/keys`, { name }));
      setName('');
      setCopied(false);
      keys.reload();
    });
  };
  const revoke = (key: Key) => {
    setConfirm(null);
    return attempt(async () => {
      await api('DELETE', `users/${me()}/keys/${key.id}`);
      keys.reload();
    });
  };
  return (
    <section aria-labelledby="keys-title">
      <h2 id="keys-title">API Keys</h2>
      <p>
        Personal keys call the gateway at <code>{config.baseUrl}</code> from outside your notebooks. Your notebook
        servers get their own keys by themselves.
      </p>
      <form className="card toolbar" onSubmit={create}>
        <label>
          Name <input required maxLength={255} value={name} onChange={e => setName(e.target.value)} />
        </label>
        <button type="submit" className="primary">
          Create key
        </button>
      </form>
      <Problem text={problem || keys.error} />
      {issued ? (
        <div className="card issued" role="status">
          <p>
            Your new key <strong>{issued.name}</strong>. Copy it now: it is shown only once.
          </p>
          <code data-testid="new-key">{issued.key}</code>{' '}
          <button
            onClick={() => navigator.clipboard?.writeText(issued.key ?? '').then(() => setCopied(true))}
          >
            {copied ? 'Copied' : 'Copy'}
          </button>
          <pre className="code">{snippets(config.baseUrl, issued.models?.[0] ?? 'MODEL', issued.key).curl}</pre>
          <button className="link" onClick={() => setIssued(null)}>
            Done
          </button>
        </div>
      ) : null}
      {confirm ? (
        <div className="card confirm" role="alertdialog" aria-label="Confirm revocation">
          <p>
            Revoke <strong>{confirm.name}</strong>? Programs using it stop working at once.
          </p>
          <button className="danger" onClick={() => revoke(confirm)}>
            Revoke
          </button>{' '}
          <button onClick={() => setConfirm(null)}>Cancel</button>
        </div>
      ) : null}
      <table className="card">
        <caption>Your personal keys</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Key</th>
            <th scope="col">Created</th>
            <th scope="col">Expires</th>
            <th scope="col">State</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {personal.map(k => (
            <tr key={k.id}>
              <td>{k.name}</td>
              <td>
                <code>{k.masked}</code>
              </td>
              <td>{k.created?.slice(0, 10)}</td>
              <td>{k.expires_at?.slice(0, 10)}</td>
              <td>{k.state}</td>
              <td>
                {k.state === 'active' ? (
                  <button className="danger" onClick={() => setConfirm(k)}>
                    Revoke
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
          {keys.data && personal.length === 0 ? (
            <tr>
              <td colSpan={6} className="empty">
                No personal key yet.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </section>
  );
}

// -- the shell ----------------------------------------------------------------------------

function pageFromHash(): Page {
  const page = window.location.hash.replace('#', '') as Page;
  return PAGES.some(([p]) => p === page) ? page : 'models';
}

function App() {
  const [page, setPage] = useState<Page>(pageFromHash());
  useEffect(() => {
    const onHash = () => setPage(pageFromHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  return (
    <>
      <header className="top">
        <h1>Model-as-a-Service</h1>
        <nav aria-label="Portal">
          {PAGES.map(([p, label]) => (
            <a key={p} href={`#${p}`} aria-current={page === p ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <p className="who">
          {config.user}
          {config.admin ? ' (admin)' : ''}
        </p>
      </header>
      <main>
        {page === 'models' ? <ModelsPage /> : null}
        {page === 'usage' ? <UsagePage /> : null}
        {page === 'keys' ? <KeysPage /> : null}
      </main>
    </>
  );
}

createRoot(document.getElementById('root')!).render(<App />);
