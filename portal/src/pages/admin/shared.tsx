// What the admin tabs share: the API's admin types, the choices its document declares,
// form fields, a confirmation, and the catalog's names for model pickers.
import React, { useId, useState } from 'react';

import { api } from '../../api';
import type { components } from '../../schema';

type Schemas = components['schemas'];
export type AdminModel = Schemas['AdminModel'];
export type NewModel = Schemas['NewModel'];
export type Profile = Schemas['Profile'];
export type NewProfile = Schemas['NewProfile'];
export type Override = Schemas['Override'];
export type OverrideFields = Schemas['OverrideFields'];
export type AdminKey = Schemas['AdminKey'];
export type AuditEntry = Schemas['AuditEntry'];
export type Chargeback = Schemas['Chargeback'];
export type InstancePrices = Schemas['InstancePrices'];
export type SeedPricing = Schemas['SeedPricing'];
export type SeedPrices = Schemas['SeedPrices'];
export type Policy = Schemas['Policy'];

/** A path segment: model names hold "/", user and group names anything. */
export const enc = encodeURIComponent;

// The choices (modes, budget periods, key states...) are the API's own: read from its
// OpenAPI document once, not typed here a second time.
interface Document {
  components: { schemas: Record<string, { properties?: Record<string, { enum?: (string | null)[] }> }> };
}
let documentLoad: Promise<Document> | null = null;

export function useChoices(schema: string, field: string): string[] {
  const [choices, setChoices] = useState<string[]>([]);
  React.useEffect(() => {
    documentLoad = documentLoad ?? api<Document>('GET', 'openapi.json');
    documentLoad
      .then(doc => {
        const values = doc.components.schemas[schema]?.properties?.[field]?.enum ?? [];
        setChoices(values.filter((v): v is string => typeof v === 'string'));
      })
      .catch(() => setChoices([]));
  }, [schema, field]);
  return choices;
}

/** A form's fields as strings and flags, with a setter per field. */
export function useFields<T extends object>(initial: T) {
  const [fields, setFields] = useState<T>(initial);
  const set =
    <K extends keyof T>(key: K) =>
    (value: T[K]) =>
      setFields(f => ({ ...f, [key]: value }));
  return [fields, set, setFields] as const;
}

export { optionalNumber, shown } from '../../format';

type InputProps = Omit<React.InputHTMLAttributes<HTMLInputElement>, 'value' | 'onChange'>;

export function TextField({
  label,
  value,
  onChange,
  ...rest
}: { label: string; value: string; onChange: (value: string) => void } & InputProps) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} value={value} onChange={e => onChange(e.target.value)} {...rest} />
    </div>
  );
}

export function TextArea({ label, value, onChange }: { label: string; value: string; onChange: (value: string) => void }) {
  const id = useId();
  return (
    <div className="field wide">
      <label htmlFor={id}>{label}</label>
      <textarea id={id} rows={2} value={value} onChange={e => onChange(e.target.value)} />
    </div>
  );
}

export function Check({ label, checked, onChange }: { label: string; checked: boolean; onChange: (on: boolean) => void }) {
  return (
    <label className="check">
      <input type="checkbox" checked={checked} onChange={e => onChange(e.target.checked)} /> {label}
    </label>
  );
}

export function Choice({
  label,
  value,
  onChange,
  options
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  options: [string, string][];
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={e => onChange(e.target.value)}>
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </div>
  );
}

/** The catalog's names (disabled models included), for pickers. */
export function useCatalogNames(): string[] {
  const [names, setNames] = useState<string[]>([]);
  React.useEffect(() => {
    api<{ models: AdminModel[] }>('GET', 'admin/models')
      .then(d => setNames(d.models.map(m => m.name ?? '')))
      .catch(() => setNames([]));
  }, []);
  return names;
}

/** Pick models: all of them ("*") or some catalog names. */
export function ModelPicker({
  legend,
  names,
  value,
  onChange
}: {
  legend: string;
  names: string[];
  value: string[];
  onChange: (value: string[]) => void;
}) {
  const toggle = (name: string, on: boolean) =>
    onChange(on ? [...value.filter(v => v !== name), name] : value.filter(v => v !== name));
  const all = value.includes('*');
  return (
    <fieldset className="picker">
      <legend>{legend}</legend>
      <Check label="All models (*)" checked={all} onChange={on => toggle('*', on)} />
      {names.map(name => (
        <label key={name} className="check">
          <input
            type="checkbox"
            disabled={all}
            checked={all || value.includes(name)}
            onChange={e => toggle(name, e.target.checked)}
          />{' '}
          {name}
        </label>
      ))}
    </fieldset>
  );
}

/** A confirmation before a change that cannot be undone. */
export function Confirm({
  title,
  children,
  action,
  onConfirm,
  onCancel
}: {
  title: string;
  children: React.ReactNode;
  action: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  return (
    <div className="card confirm" role="alertdialog" aria-label={title} aria-describedby="admin-confirm-text">
      <p id="admin-confirm-text">{children}</p>
      <button className="danger" onClick={onConfirm} autoFocus>
        {action}
      </button>{' '}
      <button onClick={onCancel}>Cancel</button>
    </div>
  );
}

/** A short, readable form of a value in a table cell. */
export function brief(value: unknown): string {
  if (value === null || value === undefined) {
    return '-';
  }
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 80 ? text.slice(0, 77) + '...' : text;
}

/** An API time (ISO, UTC) to the minute. */
export const when = (iso: string | null | undefined) => (iso ? iso.slice(0, 16).replace('T', ' ') + ' UTC' : '-');
