import type { TranslationBundle } from '@jupyterlab/translation';
import type { IDisposable } from '@lumino/disposable';
import { IPoll, Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { budgetState, BudgetWatch } from './budget';
import { describeStatus, ICredentialsStatus, versionMismatch } from './status';
import type {
  BudgetState,
  IAlertMemory,
  IBudgetAlert,
  IModelList,
  IUsage
} from './tokens';

/** Calls the server extension's API (``requestAPI``, or a test's server). */
export type Requester = <T>(endPoint: string, init?: RequestInit) => Promise<T>;

export namespace MaaSModel {
  export interface IOptions {
    request: Requester;
    trans: TranslationBundle;
    /** Where budget notifications are remembered across reloads (IStateDB). */
    memory?: IAlertMemory | null;
    /** Seconds between two reads of the spend while the page is visible. */
    refreshSeconds?: number;
    /** The share of the budget at which to notify once a period. */
    alertThreshold?: number;
  }
}

/**
 * The extension's state: this server's models, this period's spend and what the
 * budget asks to notify. The spend is re-read by a ``Poll`` that stands by while the
 * page is hidden, backs off while the server does not answer and is disposed with
 * the model.
 */
export class MaaSModel implements IDisposable {
  constructor(options: MaaSModel.IOptions) {
    this._request = options.request;
    this._trans = options.trans;
    this._watch = new BudgetWatch(
      options.trans,
      options.memory ?? null,
      options.alertThreshold ?? 0.8
    );
    this.poll = new Poll({
      auto: false,
      factory: () => this._readUsage(),
      frequency: MaaSModel.frequency(options.refreshSeconds ?? 30),
      name: 'jupyterlab-maas:usage',
      standby: 'when-hidden'
    });
  }

  /** The frequency of the spend's poll for a refresh interval in seconds. */
  static frequency(seconds: number): IPoll.Frequency {
    const interval = Math.max(5, seconds) * 1000;
    return { interval, backoff: true, max: Math.max(interval, 300_000) };
  }

  /** Re-reads the spend. */
  readonly poll: Poll;

  /** This period's spend, once read. */
  get usage(): IUsage | null {
    return this._usage;
  }

  /** Why the spend or the models cannot be read, else null. */
  get error(): string | null {
    return this._error;
  }

  /** The budget's state for the status bar. */
  get budgetState(): BudgetState {
    if (this._error || !this._usage) {
      return this._error ? 'error' : 'ok';
    }
    return budgetState(this._usage, this._watch.threshold);
  }

  /** This server's models, once read. */
  get models(): IModelList | null {
    return this._models;
  }

  /** A sentence when the server extension is of another version, else null. */
  get mismatch(): string | null {
    return this._mismatch;
  }

  get usageChanged(): ISignal<this, void> {
    return this._usageChanged;
  }

  get modelsChanged(): ISignal<this, void> {
    return this._modelsChanged;
  }

  /** Emits each notification the budget asks for. */
  get budgetAlert(): ISignal<this, IBudgetAlert> {
    return this._budgetAlert;
  }

  get isDisposed(): boolean {
    return this.poll.isDisposed;
  }

  /** The refresh interval and alert threshold, from the settings. */
  configure(refreshSeconds: number, alertThreshold: number): void {
    this.poll.frequency = MaaSModel.frequency(refreshSeconds);
    this._watch.threshold = alertThreshold;
  }

  /**
   * Check the server extension's version first, so that every view can say so,
   * then read the models and start the spend's poll.
   */
  async start(): Promise<string> {
    const sentence = await this.checkStatus();
    await this.refreshModels();
    void this.poll.start();
    return sentence;
  }

  /** Ask the server extension for its version and credentials; a sentence. */
  async checkStatus(): Promise<string> {
    try {
      const status = await this._request<ICredentialsStatus>('status');
      this._mismatch = versionMismatch(this._trans, status);
      return describeStatus(this._trans, status);
    } catch (error) {
      return (error as Error).message;
    }
  }

  /** Re-read this server's models and the default. */
  async refreshModels(): Promise<void> {
    try {
      this._models = await this._request<IModelList>('models');
      this._modelsError = null;
    } catch (error) {
      this._modelsError = (error as Error).message;
    }
    this._modelsChanged.emit();
  }

  /** Why the models cannot be shown, else null. */
  get modelsError(): string | null {
    return this._mismatch ?? this._modelsError;
  }

  /** Re-read the spend now (the poll's next tick). */
  async refreshUsage(): Promise<void> {
    await this.poll.refresh();
    await this.poll.tick;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    // Stopping clears the poll's timer, which disposing alone leaves to expire.
    void this.poll.stop();
    this.poll.dispose();
    Signal.clearData(this);
  }

  private async _readUsage(): Promise<void> {
    try {
      const usage = await this._request<IUsage>('usage');
      this._usage = usage;
      this._error = this._mismatch;
    } catch (error) {
      this._usage = null;
      this._error = this._mismatch ?? (error as Error).message;
      this._usageChanged.emit();
      throw error; // the poll backs off
    }
    this._usageChanged.emit();
    if (!this._mismatch && this._usage) {
      for (const alert of await this._watch.check(this._usage)) {
        this._budgetAlert.emit(alert);
      }
    }
  }

  private _request: Requester;
  private _trans: TranslationBundle;
  private _watch: BudgetWatch;
  private _usage: IUsage | null = null;
  private _error: string | null = null;
  private _models: IModelList | null = null;
  private _modelsError: string | null = null;
  private _mismatch: string | null = null;
  private _usageChanged = new Signal<this, void>(this);
  private _modelsChanged = new Signal<this, void>(this);
  private _budgetAlert = new Signal<this, IBudgetAlert>(this);
}
