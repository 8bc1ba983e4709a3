// Profiles: the notebook profiles, their resources, the models they allow, their budgets
// and limits, the hub groups they are for; create, edit, delete.
import React from 'react';

import { api } from '../../api';
import { budgetFields, budgetsOf, budgetsText } from '../../budgets';
import { BudgetsEditor } from '../../console/budgets';
import { Check, enc, ModelPicker, optionalNumber, shown, TextArea, TextField, useFields } from '../../console/fields';
import { AdminCollection, Column, EditorCard, RowAction } from '../../console/scaffold';
import { NewProfile, Profile, useCatalogNames } from './shared';

// the resources this form edits; others (node selector, tolerations) are kept as they are
const EDITED = ['cpu_limit', 'cpu_guarantee', 'mem_limit', 'mem_guarantee', 'gpu', 'image'] as const;

function formOf(p: Profile | null) {
  const r = p?.resources ?? {};
  return {
    slug: p?.slug ?? '',
    display_name: p?.display_name ?? '',
    description: p?.description ?? '',
    cpu_limit: shown(r.cpu_limit),
    cpu_guarantee: shown(r.cpu_guarantee),
    mem_limit: r.mem_limit ?? '',
    mem_guarantee: r.mem_guarantee ?? '',
    gpu: shown(r.gpu),
    image: r.image ?? '',
    models: p?.models ?? [],
    budgets: budgetFields(p?.budgets),
    rpm_limit: shown(p?.rpm_limit),
    tpm_limit: shown(p?.tpm_limit),
    groups: (p?.groups ?? []).join(', '),
    default: p?.default ?? false
  };
}
type ProfileForm = ReturnType<typeof formOf>;

function bodyOf(f: ProfileForm, was: Profile | null): NewProfile {
  const resources: Record<string, unknown> = { ...(was?.resources ?? {}) };
  for (const key of EDITED) {
    delete resources[key];
    const text = f[key].trim();
    if (text) {
      resources[key] = key.startsWith('mem') || key === 'image' ? text : optionalNumber(text);
    }
  }
  return {
    slug: f.slug.trim(),
    display_name: f.display_name,
    description: f.description,
    resources: resources as NewProfile['resources'],
    models: f.models,
    budgets: budgetsOf(f.budgets),
    rpm_limit: optionalNumber(f.rpm_limit),
    tpm_limit: optionalNumber(f.tpm_limit),
    groups: groupsOf(f.groups),
    default: f.default
  };
}

// "cs101, research" -> ["cs101", "research"]; empty: everyone
export function groupsOf(text: string): string[] {
  return text
    .split(',')
    .map(g => g.trim())
    .filter(Boolean);
}

function ProfileEditor({ profile, onDone }: { profile: Profile | null; onDone: () => void }) {
  const [f, set] = useFields(formOf(profile));
  const names = useCatalogNames();
  const save = async () => {
    const body = bodyOf(f, profile);
    if (profile) {
      const { slug, ...changes } = body;
      await api('PATCH', `admin/profiles/${enc(slug)}`, changes);
    } else {
      await api('POST', 'admin/profiles', body);
    }
    onDone();
  };
  return (
    <EditorCard title={profile ? `Edit ${profile.display_name}` : 'Add a profile'} save={save} onCancel={onDone}>
      <div className="fields">
        <TextField label="Slug" required value={f.slug} onChange={set('slug')} readOnly={!!profile} pattern="[a-z0-9][a-z0-9\-]*" />
        <TextField label="Display name" required value={f.display_name} onChange={set('display_name')} />
        <TextField label="CPU limit (cores)" type="number" min="0" step="any" value={f.cpu_limit} onChange={set('cpu_limit')} />
        <TextField label="CPU guarantee (cores)" type="number" min="0" step="any" value={f.cpu_guarantee} onChange={set('cpu_guarantee')} />
        <TextField label="Memory limit" value={f.mem_limit} onChange={set('mem_limit')} placeholder="4G" />
        <TextField label="Memory guarantee" value={f.mem_guarantee} onChange={set('mem_guarantee')} placeholder="1G" />
        <TextField label="GPUs" type="number" min="0" step="1" value={f.gpu} onChange={set('gpu')} />
        <TextField label="Image" value={f.image} onChange={set('image')} placeholder="(the hub's default)" />
        <TextField label="Requests per minute (empty: no limit)" type="number" min="1" value={f.rpm_limit} onChange={set('rpm_limit')} />
        <TextField label="Tokens per minute (empty: no limit)" type="number" min="1" value={f.tpm_limit} onChange={set('tpm_limit')} />
        <TextField label="Hub groups (comma-separated, empty: everyone)" value={f.groups} onChange={set('groups')} placeholder="everyone" />
        <Check label="Default profile" checked={f.default} onChange={set('default')} />
      </div>
      <TextArea label="Description" value={f.description} onChange={set('description')} />
      <BudgetsEditor legend="Budgets per user (empty: no budget over that window)" value={f.budgets} onChange={set('budgets')} />
      <ModelPicker legend="Models it allows" names={names} value={f.models} onChange={set('models')} />
    </EditorCard>
  );
}

function resourcesText(p: Profile): string {
  const r = p.resources ?? {};
  return [
    r.cpu_limit !== undefined ? `${r.cpu_limit} CPU` : '',
    r.mem_limit ? `${r.mem_limit} memory` : '',
    r.gpu ? `${r.gpu} GPU` : ''
  ]
    .filter(Boolean)
    .join(' / ');
}

const COLUMNS: Column<Profile>[] = [
  { header: 'Profile', cell: p => p.display_name, rowHeader: true },
  { header: 'Slug', cell: p => <code>{p.slug}</code> },
  { header: 'Resources', cell: resourcesText },
  { header: 'Models', cell: p => (p.models ?? []).join(', ') || 'none' },
  { header: 'Budgets', cell: p => budgetsText(p.budgets) },
  {
    header: 'Limits',
    cell: p => (
      <>
        {p.rpm_limit ? `${p.rpm_limit} req/min` : ''}
        {p.rpm_limit && p.tpm_limit ? ', ' : ''}
        {p.tpm_limit ? `${p.tpm_limit} tok/min` : ''}
        {!p.rpm_limit && !p.tpm_limit ? 'none' : ''}
      </>
    )
  },
  { header: 'Groups', cell: p => (p.groups ?? []).join(', ') || 'everyone' },
  { header: 'Default', cell: p => (p.default ? 'Yes' : '') }
];

const ACTIONS: RowAction<Profile>[] = [
  {
    label: 'Delete',
    name: p => `Delete ${p.slug}`,
    danger: true,
    confirm: {
      title: 'Confirm deletion',
      sentence: p => (
        <>
          Delete the profile <strong>{p.display_name}</strong> ({p.slug})? Servers running with it keep it until they
          stop; new servers can no longer choose it.
        </>
      )
    },
    run: p => api('DELETE', `admin/profiles/${enc(p.slug ?? '')}`)
  }
];

export function ProfilesTab() {
  return (
    <AdminCollection
      title="Profiles"
      load={() => api<{ profiles: Profile[] }>('GET', 'admin/profiles').then(d => d.profiles)}
      rowKey={p => p.slug ?? ''}
      columns={COLUMNS}
      caption="Notebook profiles"
      actions={ACTIONS}
      editor={{ add: 'Add profile', name: p => p.slug ?? '', form: (p, done) => <ProfileEditor profile={p} onDone={done} /> }}
    />
  );
}
