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
}

/** This period's spend and the last requests. */
export interface IUsage {
  spend_usd: number;
  budget_usd: number | null;
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
}
