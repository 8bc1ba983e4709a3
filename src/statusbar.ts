import type { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { budgetRefusals } from './budget';
import { budgetText, utcInstant } from './format';
import type { MaaSModel } from './model';

/**
 * "LLM $0.42 of $10.00 this month" in the status bar; a click opens the usage view.
 * Its ``data-state`` (and a class ``jp-mod-<state>``) says ok, alert (past the alert
 * threshold), warning (a call refused for budget, or the budget spent) or error.
 */
export class BudgetStatus extends Widget {
  constructor(
    private readonly model: MaaSModel,
    private readonly trans: TranslationBundle,
    onClick: () => void
  ) {
    super();
    this.addClass('jp-maas-status');
    this.node.title = trans.__('LLM spend: click for details');
    this.node.textContent = trans.__('LLM: …');
    this.node.addEventListener('click', onClick);
    model.usageChanged.connect(this.update_, this);
  }

  dispose(): void {
    this.model.usageChanged.disconnect(this.update_, this);
    super.dispose();
  }

  /** Show the model's spend and budget state. */
  update_(): void {
    const { trans } = this;
    const state = this.model.budgetState;
    for (const name of ['alert', 'warning', 'error']) {
      this.toggleClass(`jp-mod-${name}`, name === state);
    }
    this.node.dataset.state = state;
    const usage = this.model.usage;
    if (state === 'error' || !usage) {
      this.node.textContent = trans.__('LLM: unavailable');
      this.node.title = this.model.error ?? '';
      return;
    }
    const spend = budgetText(
      trans,
      usage.spend_usd,
      usage.budget_usd,
      usage.budget_period
    );
    const refused = budgetRefusals(usage);
    this.node.textContent =
      state === 'warning'
        ? trans.__('LLM budget reached: %1', spend)
        : trans.__('LLM %1', spend);
    const lines = [];
    if (refused) {
      lines.push(
        trans._n(
          '%1 call was refused for budget this period.',
          '%1 calls were refused for budget this period.',
          refused
        )
      );
    }
    if (usage.resets_at) {
      lines.push(
        trans.__('The budget resets on %1.', utcInstant(trans, usage.resets_at))
      );
    }
    lines.push(trans.__('Click for details.'));
    this.node.title = lines.join(' ');
  }
}
