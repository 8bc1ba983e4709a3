// Overrides: a hub group's or user's extra models, budget and limits, over their profile's.
import React from 'react';

import { api } from '../../api';
import { money } from '../../format';
import {
  Choice,
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
import { AdminCollection, Column, EditorCard, RowAction } from './scaffold';

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
  const names = useCatalogNames();
  const periods = useChoices('OverrideFields', 'budget_period');
  const save = async () => {
    const body: OverrideFields = {
      extra_models: f.extra_models,
      budget_usd: optionalNumber(f.budget_usd),
      budget_period: (f.budget_period || null) as OverrideFields['budget_period'],
      rpm_limit: optionalNumber(f.rpm_limit),
      tpm_limit: optionalNumber(f.tpm_limit)
    };
    await api('PUT', `admin/overrides/${f.kind}/${enc(f.name.trim())}`, body);
    onDone();
  };
  return (
    <EditorCard
      title={override ? `Edit the override of ${override.kind} ${override.name}` : 'Set an override'}
      intro={
        <p className="hint">
          An override replaces what it sets of the profile's policy (a group's first, then the user's); empty fields leave
          the profile's. Setting it again replaces it whole.
        </p>
      }
      save={save}
      onCancel={onDone}
    >
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
    </EditorCard>
  );
}

/** A group's or user's override is named by both: "user olga". */
const nameOf = (o: Override) => `${o.kind} ${o.name}`;

const COLUMNS: Column<Override>[] = [
  { header: 'For', cell: o => o.kind },
  { header: 'Name', cell: o => o.name, rowHeader: true },
  { header: 'Extra models', cell: o => (o.extra_models ?? []).join(', ') || '-' },
  {
    header: 'Budget',
    cell: o => (
      <>
        {o.budget_usd === null || o.budget_usd === undefined ? '-' : money(o.budget_usd)}
        {o.budget_period ? ` a ${o.budget_period}` : ''}
      </>
    )
  },
  { header: 'Requests / min', cell: o => o.rpm_limit ?? '-' },
  { header: 'Tokens / min', cell: o => o.tpm_limit ?? '-' }
];

const ACTIONS: RowAction<Override>[] = [
  {
    label: 'Remove',
    name: o => `Remove ${nameOf(o)}`,
    danger: true,
    confirm: {
      title: 'Confirm removal',
      sentence: o => (
        <>
          Remove the override of {o.kind} <strong>{o.name}</strong>? Their profile's policy applies again.
        </>
      )
    },
    run: o => api('DELETE', `admin/overrides/${o.kind}/${enc(o.name ?? '')}`)
  }
];

export function OverridesTab() {
  return (
    <AdminCollection
      title="Group and user overrides"
      load={() => api<{ overrides: Override[] }>('GET', 'admin/overrides').then(d => d.overrides)}
      rowKey={o => `${o.kind}/${o.name}`}
      columns={COLUMNS}
      caption="Overrides"
      empty="No override: everyone has their profile's policy."
      actions={ACTIONS}
      editor={{ add: 'Set an override', name: nameOf, form: (o, done) => <OverrideEditor override={o} onDone={done} /> }}
    />
  );
}
