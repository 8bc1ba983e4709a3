// Overrides: a hub group's or user's extra models, budgets and limits, over their profile's.
import React from 'react';

import { api } from '../../api';
import { budgetFields, budgetsOf, budgetsText } from '../../budgets';
import { BudgetsEditor } from '../../console/budgets';
import { Choice, enc, ModelPicker, optionalNumber, shown, TextField, useFields } from '../../console/fields';
import { AdminCollection, Column, EditorCard, RowAction } from '../../console/scaffold';
import { Override, OverrideFields, useCatalogNames } from './shared';

function formOf(o: Override | null) {
  return {
    kind: o?.kind ?? 'group',
    name: o?.name ?? '',
    extra_models: o?.extra_models ?? [],
    budgets: budgetFields(o?.budgets),
    rpm_limit: shown(o?.rpm_limit),
    tpm_limit: shown(o?.tpm_limit)
  };
}

function OverrideEditor({ override, onDone }: { override: Override | null; onDone: () => void }) {
  const [f, set] = useFields(formOf(override));
  const names = useCatalogNames();
  const save = async () => {
    const body: OverrideFields = {
      extra_models: f.extra_models,
      budgets: budgetsOf(f.budgets),
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
        <TextField label="Requests per minute" type="number" min="1" value={f.rpm_limit} onChange={set('rpm_limit')} />
        <TextField label="Tokens per minute" type="number" min="1" value={f.tpm_limit} onChange={set('tpm_limit')} />
      </div>
      <BudgetsEditor legend="Budgets (empty: the profile's over that window)" value={f.budgets} onChange={set('budgets')} />
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
  { header: 'Budgets', cell: o => budgetsText(o.budgets, '-') },
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
