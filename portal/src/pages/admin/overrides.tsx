// Overrides: a hub group's or user's extra models, budget and limits, over their profile's.
import React, { useState } from 'react';

import { api } from '../../api';
import { attempt, Problem, useLoad } from '../../common';
import { money } from '../../format';
import {
  Choice,
  Confirm,
  enc,
  ModelPicker,
  optionalNumber,
  Override,
  OverrideFields,
  shown,
  TextField,
  useCatalogNames,
  useChoices,
  useFields
} from './shared';

function formOf(o: Override | null) {
  return {
    kind: o?.kind ?? 'group',
    name: o?.name ?? '',
    extra_models: o?.extra_models ?? [],
    budget_usd: shown(o?.budget_usd),
    budget_period: o?.budget_period ?? '',
    rpm_limit: shown(o?.rpm_limit),
    tpm_limit: shown(o?.tpm_limit)
  };
}

function OverrideEditor({ override, onDone }: { override: Override | null; onDone: () => void }) {
  const [f, set] = useFields(formOf(override));
  const [problem, setProblem] = useState('');
  const names = useCatalogNames();
  const periods = useChoices('OverrideFields', 'budget_period');
  const save = (e: React.FormEvent) => {
    e.preventDefault();
    return attempt(setProblem, async () => {
      const body: OverrideFields = {
        extra_models: f.extra_models,
        budget_usd: optionalNumber(f.budget_usd),
        budget_period: (f.budget_period || null) as OverrideFields['budget_period'],
        rpm_limit: optionalNumber(f.rpm_limit),
        tpm_limit: optionalNumber(f.tpm_limit)
      };
      await api('PUT', `admin/overrides/${f.kind}/${enc(f.name.trim())}`, body);
      onDone();
    });
  };
  const title = override ? `Edit the override of ${override.kind} ${override.name}` : 'Set an override';
  return (
    <section className="card editor" aria-label={title}>
      <h4>{title}</h4>
      <p className="hint">
        An override replaces what it sets of the profile's policy (a group's first, then the user's); empty fields leave
        the profile's. Setting it again replaces it whole.
      </p>
      <form onSubmit={save}>
        <div className="fields">
          <Choice
            label="For a"
            value={f.kind}
            onChange={v => set('kind')(v as typeof f.kind)}
            options={[
              ['group', 'hub group'],
              ['user', 'user']
            ]}
          />
          <TextField label="Group or user name" required value={f.name} onChange={set('name')} readOnly={!!override} />
          <TextField label="Budget (USD, empty: the profile's)" type="number" min="0" step="any" value={f.budget_usd} onChange={set('budget_usd')} />
          <Choice
            label="Budget period"
            value={f.budget_period}
            onChange={set('budget_period')}
            options={[['', "the profile's"], ...periods.map((p): [string, string] => [p, p])]}
          />
          <TextField label="Requests per minute" type="number" min="1" value={f.rpm_limit} onChange={set('rpm_limit')} />
          <TextField label="Tokens per minute" type="number" min="1" value={f.tpm_limit} onChange={set('tpm_limit')} />
        </div>
        <ModelPicker legend="Extra models (besides the profile's)" names={names} value={f.extra_models} onChange={set('extra_models')} />
        <Problem text={problem} />
        <button type="submit" className="primary">
          Save
        </button>{' '}
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </form>
    </section>
  );
}

export function OverridesTab() {
  const overrides = useLoad(() => api<{ overrides: Override[] }>('GET', 'admin/overrides'));
  const [editing, setEditing] = useState<Override | 'new' | null>(null);
  const [confirm, setConfirm] = useState<Override | null>(null);
  const [problem, setProblem] = useState('');
  const remove = (o: Override) => {
    setConfirm(null);
    return attempt(setProblem, async () => {
      await api('DELETE', `admin/overrides/${o.kind}/${enc(o.name ?? '')}`);
      overrides.reload();
    });
  };
  const done = () => {
    setEditing(null);
    overrides.reload();
  };
  return (
    <>
      <div className="toolbar">
        <h3>Group and user overrides</h3>
        <button className="primary" onClick={() => setEditing('new')}>
          Set an override
        </button>
      </div>
      <Problem text={problem || overrides.error} />
      {editing ? (
        <OverrideEditor
          key={editing === 'new' ? '' : `${editing.kind}/${editing.name}`}
          override={editing === 'new' ? null : editing}
          onDone={done}
        />
      ) : null}
      {confirm ? (
        <Confirm title="Confirm removal" action="Remove" onConfirm={() => remove(confirm)} onCancel={() => setConfirm(null)}>
          Remove the override of {confirm.kind} <strong>{confirm.name}</strong>? Their profile's policy applies again.
        </Confirm>
      ) : null}
      <table className="card">
        <caption>Overrides</caption>
        <thead>
          <tr>
            <th scope="col">For</th>
            <th scope="col">Name</th>
            <th scope="col">Extra models</th>
            <th scope="col">Budget</th>
            <th scope="col">Requests / min</th>
            <th scope="col">Tokens / min</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {(overrides.data?.overrides ?? []).map(o => (
            <tr key={`${o.kind}/${o.name}`}>
              <td>{o.kind}</td>
              <th scope="row">{o.name}</th>
              <td>{(o.extra_models ?? []).join(', ') || '-'}</td>
              <td>
                {o.budget_usd === null || o.budget_usd === undefined ? '-' : money(o.budget_usd)}
                {o.budget_period ? ` a ${o.budget_period}` : ''}
              </td>
              <td>{o.rpm_limit ?? '-'}</td>
              <td>{o.tpm_limit ?? '-'}</td>
              <td className="actions">
                <button onClick={() => setEditing(o)} aria-label={`Edit ${o.kind} ${o.name}`}>
                  Edit
                </button>{' '}
                <button className="danger" onClick={() => setConfirm(o)} aria-label={`Remove ${o.kind} ${o.name}`}>
                  Remove
                </button>
              </td>
            </tr>
          ))}
          {overrides.data && overrides.data.overrides.length === 0 ? (
            <tr>
              <td colSpan={7} className="empty">
                No override: everyone has their profile's policy.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </>
  );
}
