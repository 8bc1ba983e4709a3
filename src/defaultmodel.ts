import type { ISettingRegistry } from '@jupyterlab/settingregistry';
import type { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

/** The subset of the plugin's settings the default model is kept in. */
export type IDefaultModelSettings = Pick<
  ISettingRegistry.ISettings,
  'get' | 'set' | 'changed'
>;

/**
 * The one store of the default model (the model new kernels find in
 * MAAS_DEFAULT_MODEL). With a setting registry, the ``defaultModel`` setting is the
 * store: "Use as default" writes the setting, and the server extension is told (one
 * PUT) when the setting's value changes to a model it does not have yet, however it
 * changed (the picker, the settings editor, another tab). Without a registry, the
 * server extension is the store.
 */
export class DefaultModelStore implements IDisposable {
  /**
   * @param put Tells the server extension the default model (the PUT).
   */
  constructor(private readonly put: (model: string) => Promise<void>) {}

  /** The server extension's default model, once it was told or said. */
  get current(): string | null {
    return this._server;
  }

  /** Emits the server extension's new default model once it has it. */
  get changed(): ISignal<this, string> {
    return this._changed;
  }

  /** Emits a PUT's error. */
  get failed(): ISignal<this, Error> {
    return this._failed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Keep the default model in ``settings`` from now on; tell the server extension
   * the setting's model if it has another one.
   */
  async useSettings(settings: IDefaultModelSettings): Promise<void> {
    this._settings = settings;
    settings.changed.connect(this._onSettingsChanged, this);
    await this._follow();
  }

  /** What the server extension reports as its default (its models answer). */
  observe(serverDefault: string | null): void {
    if (this._pending === null) {
      this._server = serverDefault;
    }
  }

  /** The user's action: make ``model`` the default. */
  async use(model: string): Promise<void> {
    if (this._settings) {
      this._refused = null;
      await this._settings.set('defaultModel', model);
      // The registry emits `changed`, which sends the PUT; should it not have (same
      // value as before, yet the server has another), follow the setting here,
      // unless the server just refused it.
      if (this._refused !== model) {
        await this._follow();
      }
    } else {
      await this._send(model);
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._settings?.changed.disconnect(this._onSettingsChanged, this);
    Signal.clearData(this);
  }

  private _onSettingsChanged(): void {
    void this._follow();
  }

  /** Send the setting's model when the server extension has another one. */
  private async _follow(): Promise<void> {
    const model = this._settings?.get('defaultModel').composite;
    if (typeof model === 'string' && model) {
      await this._send(model);
    }
  }

  private async _send(model: string): Promise<void> {
    if (model === (this._pending ?? this._server)) {
      return;
    }
    this._pending = model;
    try {
      await this.put(model);
      this._server = model;
      this._changed.emit(model);
    } catch (error) {
      this._refused = model;
      this._failed.emit(error as Error);
    } finally {
      if (this._pending === model) {
        this._pending = null;
      }
    }
  }

  private _settings: IDefaultModelSettings | null = null;
  private _server: string | null = null;
  private _pending: string | null = null;
  private _refused: string | null = null;
  private _isDisposed = false;
  private _changed = new Signal<this, string>(this);
  private _failed = new Signal<this, Error>(this);
}
