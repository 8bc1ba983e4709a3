// Budgets edited: an amount a window (an hour, a day, a week, a month; a team's term),
// empty for no budget over that window; a profile's, an override's, a team's per member
// or its caps, a member's own. What it reads and writes is ../budgets.ts's (the fields,
// the API's list).
import React from 'react';

import { BudgetFields, TeamWindow, Window, windowLabel, WINDOWS } from '../budgets';
import { TextField } from './fields';

export function BudgetsEditor<W extends TeamWindow = Window>({
  legend,
  value,
  onChange,
  windows = WINDOWS as readonly TeamWindow[] as readonly W[],
  noun = 'budget'
}: {
  /** Says what an empty field means here (no budget; the profile's). */
  legend: string;
  value: BudgetFields<W>;
  onChange: (value: BudgetFields<W>) => void;
  /** The windows with a field, shortest first (a profile's: the clock's). */
  windows?: readonly W[];
  /** What an amount is, in each field's label: "Daily budget (USD)", "Daily cap (USD)". */
  noun?: string;
}) {
  return (
    <fieldset className="budgets">
      <legend>{legend}</legend>
      {windows.map(w => (
        <TextField
          key={w}
          label={`${windowLabel(w)} ${noun} (USD)`}
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
