// The consoles' form fields (the admin console's and the Teams page's): text, number and
// choice fields, checkboxes, a model picker, a confirmation; and, from ../format, how
// their fields and cells show numbers, values and times.
import React, { useId, useState } from 'react';

export { brief, optionalNumber, shown, when } from '../format';

/** A path segment: model names hold "/", user and group names anything. */
export const enc = encodeURIComponent;

/** A form's fields as strings and flags, with a setter per field. */
export function useFields<T extends object>(initial: T) {
  const [fields, setFields] = useState<T>(initial);
  const set =
    <K extends keyof T>(key: K) =>
    (value: T[K]) =>
      setFields(f => ({ ...f, [key]: value }));
  return [fields, set, setFields] as const;
}

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

/** Pick models: all of them ("*", unless ``all`` is false) or some of ``names``. */
export function ModelPicker({
  legend,
  names,
  value,
  onChange,
  all: offerAll = true
}: {
  legend: string;
  names: string[];
  value: string[];
  onChange: (value: string[]) => void;
  all?: boolean;
}) {
  const toggle = (name: string, on: boolean) =>
    onChange(on ? [...value.filter(v => v !== name), name] : value.filter(v => v !== name));
  const all = offerAll && value.includes('*');
  return (
    <fieldset className="picker">
      <legend>{legend}</legend>
      {offerAll ? <Check label="All models (*)" checked={all} onChange={on => toggle('*', on)} /> : null}
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
  const id = useId();
  return (
    <div className="card confirm" role="alertdialog" aria-label={title} aria-describedby={id}>
      <p id={id}>{children}</p>
      <button className="danger" onClick={onConfirm} autoFocus>
        {action}
      </button>{' '}
      <button onClick={onCancel}>Cancel</button>
    </div>
  );
}
