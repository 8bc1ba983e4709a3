/** A catalog model as the server extension lists it. */
export interface IModel {
  name: string;
  mode: string;
  description: string;
  context_window: number | null;
  max_output_tokens: number | null;
  capabilities: string[];
  input_cost_per_token: number;
  output_cost_per_token: number;
}

export interface IModelList {
  models: IModel[];
  default: string | null;
  /** Per model, how to run each coding agent with it in a terminal. */
  agents?: Record<string, IAgent[]>;
}

/** A coding agent, the command that runs it with a model, the variables it reads. */
export interface IAgent {
  agent: string;
  command: string;
  reads: string[];
}

/** Requests the gateway refused this period, by HTTP status and reason. */
export interface IRefusal {
  status: number;
  reason: string;
  requests: number;
}

/** This period's spend of one notebook (or console, or file) of this server. */
export interface INotebookSpend {
  notebook_path: string | null;
  kernel_id?: string | null;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number;
}

/**
 * One budget that applies to this server's user now, with its window's spend: the
 * user's own (from their profile, a group's or their own override, or a team's budget
 * per member), or with ``cap`` the total a team's members may spend.
 */
export interface IBudgetStanding {
  /** ``hour``, ``day``, ``week``, ``month`` or (a team's) ``term``. */
  window: string;
  usd: number;
  /** Who set it: ``profile:<slug>``, ``group:<name>``, ``user`` or ``team:<name>``. */
  source: string;
  team: string | null;
  cap: boolean;
  /** A team's share at which to warn; null: the hub's. */
  alert?: number | null;
  spend_usd: number;
  period_start: string;
  resets_at: string;
}

/**
 * This period's spend and the last requests. The budget fields describe the budget
 * that binds (the one most spent), its period the period of the rest.
 */
export interface IUsage {
  spend_usd: number;
  budget_usd: number | null;
  /** ``hour``, ``day``, ``week``, ``month`` or ``term``. */
  budget_period: string | null;
  period_start: string | null;
  resets_at: string | null;
  by_model: {
    model: string;
    requests: number;
    prompt_tokens: number;
    completion_tokens: number;
    cost_usd: number;
  }[];
  recent: {
    ts: string;
    model: string;
    prompt_tokens: number;
    completion_tokens: number;
    cost_usd: number;
  }[];
  /** Absent from server extensions older than budget awareness. */
  refused?: IRefusal[];
  /** Absent from server extensions older than spend per notebook. */
  by_notebook?: INotebookSpend[];
  /** Every budget that applies; absent from server extensions older than windows. */
  budgets?: IBudgetStanding[];
  /**
   * The share of the binding budget at which to warn, when its team set one (its
   * ``alert_percent``); null or absent: the user's ``alertThreshold`` setting.
   */
  alert_threshold?: number | null;
}

/**
 * How the status bar shows the budget: `ok`; `alert` past the alert threshold;
 * `warning` once a call was refused for budget or the budget is spent; `error` when
 * the spend cannot be read.
 */
export type BudgetState = 'ok' | 'alert' | 'warning' | 'error';

/** A notification the budget asks for. */
export interface IBudgetAlert {
  kind: 'threshold' | 'refused';
  message: string;
}

/** Where the budget's notifications are remembered (IStateDB's subset we use). */
export interface IAlertMemory {
  fetch(id: string): Promise<any>;
  save(id: string, value: any): Promise<any>;
}
