/**
 * @jest-environment jsdom
 */
import './dom';

import { MaaSModel } from '../model';
import { BudgetStatus } from '../statusbar';
import { refusedFor } from './fixtures';
import { FakeServer } from './server';
import { english, pseudo } from './translator';

describe('BudgetStatus', () => {
  it('shows the spend, then the warning state once a call is refused for budget', async () => {
    const server = new FakeServer();
    const model = new MaaSModel({ request: server.request, trans: english });
    const status = new BudgetStatus(model, english, () => undefined);
    await model.refreshUsage();
    expect(status.node.textContent).toBe('LLM $0.42 of $10.00 this month');
    expect(status.node.dataset.state).toBe('ok');

    server.usage = { ...server.usage, spend_usd: 8.5 };
    await model.refreshUsage();
    expect(status.node.dataset.state).toBe('alert');
    expect(status.hasClass('jp-mod-alert')).toBe(true);

    server.usage = refusedFor(2);
    await model.refreshUsage();
    expect(status.node.dataset.state).toBe('warning');
    expect(status.hasClass('jp-mod-warning')).toBe(true);
    expect(status.hasClass('jp-mod-alert')).toBe(false);
    expect(status.node.textContent).toBe(
      'LLM budget reached: $10.00 of $10.00 this month'
    );
    expect(status.node.title).toBe(
      '2 calls were refused for budget this period. The budget resets on 2026-12-01 at 00:00 UTC. Click for details.'
    );
    status.dispose();
    model.dispose();
  });

  it('says unavailable, with the reason, when the spend cannot be read', async () => {
    const server = new FakeServer();
    server.failUsage = new Error('MaaS service unreachable');
    const model = new MaaSModel({ request: server.request, trans: english });
    const status = new BudgetStatus(model, english, () => undefined);
    await model.refreshUsage();
    expect(status.node.textContent).toBe('LLM: unavailable');
    expect(status.node.title).toBe('MaaS service unreachable');
    expect(status.hasClass('jp-mod-error')).toBe(true);
    model.dispose();
  });

  it('writes every string through the translator', async () => {
    const server = new FakeServer();
    server.usage = refusedFor(1);
    const model = new MaaSModel({ request: server.request, trans: pseudo });
    const status = new BudgetStatus(model, pseudo, () => undefined);
    expect(status.node.textContent).toBe('⟦LLM: …⟧');
    await model.refreshUsage();
    expect(status.node.textContent).toMatch(
      /^⟦LLM budget reached: ⟦\$10\.00 of \$10\.00 this month⟧⟧$/
    );
    // the title's sentences, each translated (with translated parts inside)
    let rest = status.node.title;
    while (/⟦[^⟦⟧]*⟧/.test(rest)) {
      rest = rest.replace(/⟦[^⟦⟧]*⟧/g, '');
    }
    expect(rest.trim()).toBe('');
    expect(status.node.title).toContain(
      '⟦1 call was refused for budget this period.⟧'
    );
    model.dispose();
  });
});
