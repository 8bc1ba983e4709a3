// The budgets of a profile or an override, edited: an amount a window (an hour, a day, a
// week, a month), empty for no budget over that window. What it reads and writes is
// ../../budgets.ts's (the fields, the API's list).
import React from 'react';

import { BudgetFields, windowLabel, WINDOWS } from '../../budgets';
import { TextField } from './shared';

export function BudgetsEditor({
  legend,
  value,
  onChange
}: {
  /** Says what an empty field means here (no budget; the profile's). */
  legend: string;
  value: BudgetFields;
  onChange: (value: BudgetFields) => void;
}) {
  return (
    <fieldset className="budgets">
      <legend>{legend}</legend>
      {WINDOWS.map(w => (
        <TextField
          key={w}
          label={`${windowLabel(w)} budget (USD)`}
          type="number"
          min="0"
          step="any"
          value={value[w]}
          onChange={usd => onChange({ ...value, [w]: usd })}
        />
      ))}
    </fieldset>
  );
}
