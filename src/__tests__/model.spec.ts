import { MaaSModel } from '../model';
import type { IBudgetAlert } from '../tokens';
import { refusedFor } from './fixtures';
import { FakeServer } from './server';
import { english, MemoryState } from './translator';

describe('MaaSModel', () => {
  let server: FakeServer;
  let model: MaaSModel;
  let alerts: IBudgetAlert[];

  beforeEach(() => {
    server = new FakeServer();
    model = new MaaSModel({
      request: server.request,
      trans: english,
      memory: new MemoryState()
    });
    alerts = [];
    model.budgetAlert.connect((_, alert) => alerts.push(alert));
  });

  afterEach(() => model.dispose());

  it('reads the status, the models and the spend when started', async () => {
    expect(await model.start()).toContain(
      'LLM credentials are set in new kernels'
    );
    await model.refreshUsage();
    expect(model.models?.default).toBe('smollm2-135m');
    expect(model.usage?.spend_usd).toBe(0.4212);
    expect(model.budgetState).toBe('ok');
    expect(alerts).toEqual([]);
  });

  it('turns to the warning state and notifies once when a call is refused for budget', async () => {
    await model.start();
    await model.refreshUsage();
    let changes = 0;
    model.usageChanged.connect(() => changes++);
    server.usage = refusedFor(1);
    await model.refreshUsage();
    expect(changes).toBe(1);
    expect(model.budgetState).toBe('warning');
    expect(alerts).toHaveLength(1);
    expect(alerts[0].kind).toBe('refused');
    expect(alerts[0].message).toContain('$10.00 of your $10.00 monthly budget');
    expect(alerts[0].message).toContain(
      'It resets on 2026-12-01 at 00:00 UTC.'
    );
    await model.refreshUsage();
    expect(alerts).toHaveLength(1);
  });

  it('says why the spend cannot be read, in the error state', async () => {
    server.failUsage = new Error('MaaS service unreachable');
    await model.refreshUsage();
    expect(model.budgetState).toBe('error');
    expect(model.error).toBe('MaaS service unreachable');
  });

  it('polls while visible, stands by when hidden, and the poll dies with the model', async () => {
    expect(model.poll.standby).toBe('when-hidden');
    expect(model.poll.frequency.interval).toBe(30_000);
    model.configure(5, 0.8);
    expect(model.poll.frequency.interval).toBe(5_000);
    expect(model.poll.frequency.backoff).toBe(true);

    jest.useFakeTimers();
    try {
      await model.start();
      await jest.advanceTimersByTimeAsync(16_000);
      const reads = server.count('GET', 'usage');
      expect(reads).toBeGreaterThanOrEqual(3);

      model.dispose();
      expect(model.isDisposed).toBe(true);
      expect(model.poll.isDisposed).toBe(true);
      await jest.advanceTimersByTimeAsync(60_000);
      expect(server.count('GET', 'usage')).toBe(reads);
    } finally {
      jest.useRealTimers();
    }
  });
});
