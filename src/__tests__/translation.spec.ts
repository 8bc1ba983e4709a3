import { refusedMessage, thresholdMessage } from '../budget';
import { budgetText } from '../format';
import { describeStatus, VERSION } from '../status';
import { usageTables } from '../usage';
import { budgets, refusedFor, usage } from './fixtures';
import { pseudo } from './translator';

/** Whether a text is made only of translated strings (⟦...⟧, possibly nested). */
function translated(text: string): boolean {
  let rest = text;
  for (let i = 0; i < 5; i++) {
    rest = rest.replace(/⟦[^⟦⟧]*⟧/g, '');
  }
  return rest.trim() === '';
}

describe('user-facing strings', () => {
  it('go through the translator in the budget line', () => {
    expect(budgetText(pseudo, 1, 2, 'week')).toBe('⟦$1.00 of $2.00 this week⟧');
  });

  it('go through the translator in the budget notifications', () => {
    expect(translated(refusedMessage(pseudo, refusedFor(2), 2))).toBe(true);
    expect(
      translated(thresholdMessage(pseudo, { ...usage, spend_usd: 8 }))
    ).toBe(true);
    expect(refusedMessage(pseudo, refusedFor(2), 2)).toContain('⟦monthly⟧');
  });

  it('go through the translator in the usage view', () => {
    const t = usageTables(pseudo, {
      ...refusedFor(1),
      budgets,
      by_notebook: [
        {
          notebook_path: null,
          requests: 1,
          prompt_tokens: 1,
          completion_tokens: 1,
          cost_usd: 0
        }
      ]
    });
    expect(translated(t.heading)).toBe(true);
    for (const header of [
      t.budgets!.header,
      t.byModel.header,
      t.byNotebook!.header,
      t.recent.header
    ]) {
      expect(header.every(translated)).toBe(true);
    }
    expect(t.byNotebook!.rows[0][0]).toBe('⟦(no notebook)⟧');
    for (const row of t.budgets!.rows) {
      expect(row.every(translated)).toBe(true);
    }
  });

  it('go through the translator in the status sentence', () => {
    const ready = {
      version: VERSION,
      state: 'ready' as const,
      message: '',
      base_url: 'http://gateway/v1',
      models: []
    };
    expect(describeStatus(pseudo, ready)).toBe(
      '⟦LLM credentials are set in new kernels (gateway http://gateway/v1; models: ⟦none⟧).⟧'
    );
    expect(
      translated(describeStatus(pseudo, { ...ready, version: '0.0.1' }))
    ).toBe(true);
  });
});
