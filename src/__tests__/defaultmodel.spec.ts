import { Signal } from '@lumino/signaling';

import { DefaultModelStore, IDefaultModelSettings } from '../defaultmodel';
import { MaaSModel } from '../model';
import { FakeServer } from './server';
import { english } from './translator';

/**
 * The plugin's settings as JupyterLab's registry keeps them: ``set`` saves and then
 * emits ``changed`` (for any setting, as the registry does).
 */
class Settings {
  values: Record<string, unknown> = { defaultModel: null, refreshInterval: 30 };
  changed = new Signal<this, void>(this);
  get(key: string) {
    return { composite: this.values[key] } as any;
  }
  async set(key: string, value: unknown) {
    this.values[key] = value;
    await Promise.resolve();
    this.changed.emit();
  }
}

function store(server: FakeServer): DefaultModelStore {
  return new DefaultModelStore(async model => {
    await server.request('default-model', {
      method: 'PUT',
      body: JSON.stringify({ model })
    });
  });
}

const flush = () => new Promise(resolve => setTimeout(resolve, 0));

describe('DefaultModelStore', () => {
  it('sends exactly one PUT when the user picks a default (the setting is the store)', async () => {
    const server = new FakeServer();
    const defaults = store(server);
    const settings = new Settings();
    await defaults.useSettings(settings as unknown as IDefaultModelSettings);
    defaults.observe('smollm2-135m');
    expect(server.count('PUT', 'default-model')).toBe(0);

    await defaults.use('echo-large'); // the picker's "Use as default"
    await flush();
    expect(settings.values.defaultModel).toBe('echo-large');
    expect(server.count('PUT', 'default-model')).toBe(1);
    expect(server.calls[server.calls.length - 1].body).toEqual({
      model: 'echo-large'
    });
    expect(defaults.current).toBe('echo-large');

    // another setting changes: no PUT
    await settings.set('refreshInterval', 10);
    await flush();
    expect(server.count('PUT', 'default-model')).toBe(1);
  });

  it('sends one PUT when the setting is edited elsewhere (the settings editor)', async () => {
    const server = new FakeServer();
    const defaults = store(server);
    const settings = new Settings();
    await defaults.useSettings(settings as unknown as IDefaultModelSettings);
    await settings.set('defaultModel', 'echo-large');
    await flush();
    expect(server.count('PUT', 'default-model')).toBe(1);
  });

  it('brings a restarted server to the setting with one PUT, and none when it agrees', async () => {
    const server = new FakeServer();
    const settings = new Settings();
    settings.values.defaultModel = 'echo-large';
    const first = store(server);
    first.observe('smollm2-135m');
    await first.useSettings(settings as unknown as IDefaultModelSettings);
    expect(server.count('PUT', 'default-model')).toBe(1);

    const again = store(server);
    again.observe('echo-large');
    await again.useSettings(settings as unknown as IDefaultModelSettings);
    expect(server.count('PUT', 'default-model')).toBe(1);
  });

  it('sends one PUT without a setting registry, then the model re-reads the list once', async () => {
    const server = new FakeServer();
    const model = new MaaSModel({ request: server.request, trans: english });
    const defaults = store(server);
    defaults.changed.connect(() => void model.refreshModels());
    await defaults.use('echo-large');
    await flush();
    expect(server.count('PUT', 'default-model')).toBe(1);
    expect(server.count('GET', 'models')).toBe(1);
    expect(model.models?.default).toBe('echo-large');
    model.dispose();
  });

  it('reports a refused PUT and stops listening once disposed', async () => {
    const server = new FakeServer();
    const defaults = new DefaultModelStore(async () => {
      throw new Error("'nope' is not one of this server's models");
    });
    const errors: string[] = [];
    defaults.failed.connect((_, e) => errors.push(e.message));
    const settings = new Settings();
    await defaults.useSettings(settings as unknown as IDefaultModelSettings);
    await defaults.use('nope');
    expect(errors).toEqual(["'nope' is not one of this server's models"]);
    defaults.dispose();
    await settings.set('defaultModel', 'echo-large');
    expect(server.count('PUT', 'default-model')).toBe(0);
  });
});
