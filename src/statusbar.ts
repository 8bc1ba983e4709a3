import { Widget } from '@lumino/widgets';

import { budgetText } from './format';
import { IUsage } from './tokens';

/** "$0.42 of $10.00 this month" in the status bar; a click opens the usage view. */
export class BudgetStatus extends Widget {
  constructor(onClick: () => void) {
    super();
    this.addClass('jp-maas-status');
    this.node.title = 'LLM spend: click for details';
    this.node.addEventListener('click', onClick);
    this.node.textContent = 'LLM: …';
  }

  update_(usage: IUsage | null, error?: string): void {
    if (error) {
      this.node.textContent = 'LLM: unavailable';
      this.node.title = error;
      this.addClass('jp-maas-status-error');
      return;
    }
    this.removeClass('jp-maas-status-error');
    if (usage) {
      this.node.textContent = `LLM ${budgetText(
        usage.spend_usd,
        usage.budget_usd,
        usage.budget_period
      )}`;
      this.node.title = usage.resets_at
        ? `Budget resets at ${usage.resets_at}. Click for details.`
        : 'Click for details.';
    }
  }
}
