import React, { useState } from 'react';

import { api, me, Model, Policy } from '../api';
import { Facts, Problem, Snippets, useLoad } from '../common';
import { accent, contextK, count, perMillion, provider } from '../format';

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
      <h3>Capabilities</h3>
      <ul className="chips" aria-label="Capabilities">
        {(model.capabilities ?? []).length ? (
          (model.capabilities ?? []).map(c => <li key={c}>{c.replace(/_/g, ' ')}</li>)
        ) : (
          <li>none listed</li>
        )}
      </ul>
      <h3>Supported parameters</h3>
      <dl className="params">
        {Object.entries(model.supported_params ?? {}).map(([endpoint, params]) => (
          <div key={endpoint}>
            <dt>
              <code>POST {endpoint}</code>
            </dt>
            <dd>{params.join(', ')}</dd>
          </div>
        ))}
      </dl>
      <h3>Code</h3>
      <Snippets model={model.name ?? ''} first="python" />
    </section>
  );
}

export function ModelsPage() {
  const models = useLoad(() => api<{ models: Model[] }>('GET', 'models'));
  const policy = useLoad(() => api<Policy>('GET', `users/${me()}/policy`));
  const [query, setQuery] = useState('');
  const [mode, setMode] = useState('');
  const [capability, setCapability] = useState('');
  const [mine, setMine] = useState(false);
  const [open, setOpen] = useState<Model | null>(null);
  const allowed = new Set(policy.data?.allowed_models ?? []);
  const list = (models.data?.models ?? []).filter(
    m =>
      (!query || (m.name ?? '').toLowerCase().includes(query.toLowerCase())) &&
      (!mode || m.mode === mode) &&
      (!capability || (m.capabilities ?? []).includes(capability)) &&
      (!mine || allowed.has(m.name ?? ''))
  );
  const capabilities = [...new Set((models.data?.models ?? []).flatMap(m => m.capabilities ?? []))].sort();
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
        <label>
          Capability{' '}
          <select value={capability} onChange={e => setCapability(e.target.value)}>
            <option value="">Any</option>
            {capabilities.map(c => (
              <option key={c} value={c}>
                {c.replace(/_/g, ' ')}
              </option>
            ))}
          </select>
        </label>
        <label>
          <input type="checkbox" checked={mine} onChange={e => setMine(e.target.checked)} /> Only models I can use
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
