// Catalog: every model (disabled ones too), add, edit, disable and enable; prices from
// the seed method (the API's calculator) or the measured method (`maas pricing measure`).
import React, { useState } from 'react';

import { api, ApiError, config } from '../../api';
import { attempt, Facts, Problem, useLoad } from '../../common';
import { contextK, money, perMillion } from '../../format';
import { Check, Choice, enc, optionalNumber, shown, TextArea, TextField, useFields } from '../../console/fields';
import { AdminCollection, Column, EditorCard, RowAction } from '../../console/scaffold';
import { AdminModel, InstancePrices, NewModel, SeedPrices, SeedPricing, useChoices } from './shared';

// prices are edited per million tokens, stored per token
const toMillion = (perToken: number | null | undefined) =>
  perToken === null || perToken === undefined ? '' : String(Number((perToken * 1e6).toPrecision(12)));
const toToken = (perMillionText: string) => {
  const value = optionalNumber(perMillionText);
  return typeof value === 'number' ? Number((value / 1e6).toPrecision(12)) : value;
};

function formOf(m: AdminModel | null) {
  return {
    name: m?.name ?? '',
    provider_model: m?.provider_model ?? '',
    api_base: m?.api_base ?? '',
    api_key_env: m?.api_key_env ?? '',
    mode: (m?.mode ?? 'chat') as string,
    description: m?.description ?? '',
    context_window: shown(m?.context_window),
    max_output_tokens: shown(m?.max_output_tokens),
    capabilities: (m?.capabilities ?? []).join(', '),
    input: toMillion(m?.input_cost_per_token ?? 0),
    output: toMillion(m?.output_cost_per_token ?? 0),
    enabled: m?.enabled ?? true,
    extra_params: m?.extra_params && Object.keys(m.extra_params).length ? JSON.stringify(m.extra_params, null, 2) : ''
  };
}
type ModelForm = ReturnType<typeof formOf>;

function bodyOf(f: ModelForm): NewModel {
  let extra: unknown = {};
  if (f.extra_params.trim()) {
    try {
      extra = JSON.parse(f.extra_params);
    } catch {
      throw new ApiError(400, 'The extra LiteLLM parameters are not valid JSON: write an object such as {"timeout": 60}.');
    }
  }
  return {
    name: f.name.trim(),
    provider_model: f.provider_model.trim(),
    api_base: f.api_base.trim() || null,
    api_key_env: f.api_key_env.trim() || null,
    mode: f.mode as NewModel['mode'],
    description: f.description,
    context_window: optionalNumber(f.context_window),
    max_output_tokens: optionalNumber(f.max_output_tokens),
    capabilities: f.capabilities
      .split(',')
      .map(c => c.trim())
      .filter(Boolean),
    input_cost_per_token: toToken(f.input) ?? 0,
    output_cost_per_token: toToken(f.output) ?? 0,
    enabled: f.enabled,
    extra_params: extra as NewModel['extra_params']
  };
}

/** The fields of ``body`` that differ from ``model`` (an edit sends only those). */
function changes(body: NewModel, model: AdminModel): Partial<NewModel> {
  const was = model as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(body).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(was[k] ?? (k === 'extra_params' ? {} : null)))
  );
}

const OTHER = '(hourly price)';

/** A word safe in a POSIX shell as it is, else single-quoted. */
const shellWord = (word: string) => (/^[A-Za-z0-9._\/:@=-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);

function PriceCalculator({ model, onUse }: { model: ModelForm; onUse: (input: string, output: string) => void }) {
  const table = useLoad(() => api<InstancePrices>('GET', 'admin/pricing'));
  const [method, setMethod] = useState<'seed' | 'measured'>('seed');
  const [instance, setInstance] = useState('');
  const [hourly, setHourly] = useState('');
  const [tokensPerSecond, setTokensPerSecond] = useState('35');
  const [spot, setSpot] = useState(false);
  const [result, setResult] = useState<SeedPrices | null>(null);
  const [problem, setProblem] = useState('');
  const instances = Object.entries(table.data?.instances ?? {});
  const chosen = instance || instances[0]?.[0] || OTHER;
  const calculate = () =>
    attempt(setProblem, async () => {
      const body: SeedPricing = {
        tokens_per_second: optionalNumber(tokensPerSecond) as number,
        spot,
        ...(chosen === OTHER ? { hourly: optionalNumber(hourly) as number } : { instance: chosen as SeedPricing['instance'] })
      };
      setResult(await api<SeedPrices>('POST', 'admin/pricing', body));
    });
  // what the backend serves the model as: LiteLLM's provider/model without its provider
  const served = model.provider_model.includes('/') ? model.provider_model.split('/').slice(1).join('/') : model.provider_model;
  const command =
    `export MAAS_URL=${window.location.origin}${config.prefix} MAAS_TOKEN=<an admin's hub token>\n` +
    `maas pricing measure --base-url ${shellWord(model.api_base || 'http://BACKEND:8000/v1')} \\\n` +
    `    --model ${shellWord(served || 'MODEL')} ` +
    (chosen === OTHER ? `--hourly ${hourly || 'USD_PER_HOUR'}` : `--instance ${chosen}`) +
    (spot ? ' --spot' : '') +
    ` \\\n    --apply ${shellWord(model.name || 'CATALOG_NAME')}`;
  return (
    <section className="calculator" aria-labelledby="calculator-title">
      <h4 id="calculator-title">Price calculator</h4>
      <div role="tablist" aria-label="Pricing method" className="tabs small">
        <button type="button" role="tab" aria-selected={method === 'seed'} onClick={() => setMethod('seed')}>
          Seed method
        </button>
        <button type="button" role="tab" aria-selected={method === 'measured'} onClick={() => setMethod('measured')}>
          Measured method
        </button>
      </div>
      <div className="fields">
        <Choice
          label="Instance"
          value={chosen}
          onChange={setInstance}
          options={[
            ...instances.map(([name, i]): [string, string] => [name, `${name}, $${i.hourly}/h, ${i.accelerators ?? '-'}`]),
            [OTHER, 'Another: its hourly price']
          ]}
        />
        {chosen === OTHER ? (
          <TextField label="Hourly price (USD)" type="number" min="0" step="any" value={hourly} onChange={setHourly} />
        ) : null}
        {method === 'seed' ? (
          <TextField
            label="Throughput (tokens/s)"
            type="number"
            min="0"
            step="any"
            value={tokensPerSecond}
            onChange={setTokensPerSecond}
          />
        ) : null}
        <Check label={`Spot (x ${table.data?.spot_factor ?? '...'})`} checked={spot} onChange={setSpot} />
      </div>
      {method === 'seed' ? (
        <>
          <p className="hint">
            The seed method: the hourly price over the tokens an hour serves, per million tokens, split 25 % input and
            75 % output. Prices as of {table.data?.date ?? '...'} ({table.data?.source ?? ''}).
          </p>
          <button type="button" onClick={calculate}>
            Calculate
          </button>
          <Problem text={problem || table.error} />
          {result ? (
            <div data-testid="seed-result" aria-live="polite">
              <Facts
                facts={[
                  ['Instance / hour', `$${result.hourly}` + (result.spot_factor ? ` x ${result.spot_factor} (spot)` : '')],
                  ['Total / 1M', money(result.total_per_million)],
                  ['Input / 1M', money(result.input_per_million)],
                  ['Output / 1M', money(result.output_per_million)]
                ]}
              />
              <button
                type="button"
                className="primary"
                onClick={() => onUse(String(result.input_per_million), String(result.output_per_million))}
              >
                Use these prices
              </button>
            </div>
          ) : null}
        </>
      ) : (
        <>
          <p className="hint">
            The measured method benchmarks the model's live endpoint: streamed requests at several concurrency levels
            give its prefill and decode throughput, and a token costs the machine time it takes (at 60 % utilisation).
            It sends dozens of requests and takes minutes, so it runs from a shell, not from this page. Without{' '}
            <code>--apply</code> it only prints the prices; with it, it writes them to this model (reload to see them).
          </p>
          <pre className="code" aria-label="Command">
            {command}
          </pre>
        </>
      )}
    </section>
  );
}

function ModelEditor({ model, onDone }: { model: AdminModel | null; onDone: () => void }) {
  const [f, set, setAll] = useFields(formOf(model));
  const modes = useChoices('NewModel', 'mode');
  const save = async () => {
    const body = bodyOf(f);
    if (model) {
      await api('PATCH', `admin/models/${enc(model.name ?? '')}`, changes(body, model));
    } else {
      await api('POST', 'admin/models', body);
    }
    onDone();
  };
  return (
    <EditorCard
      title={model ? `Edit ${model.name}` : 'Add a model'}
      save={save}
      onCancel={onDone}
      after={<PriceCalculator model={f} onUse={(input, output) => setAll(g => ({ ...g, input, output }))} />}
    >
      <div className="fields">
        <TextField label="Name" required value={f.name} onChange={set('name')} readOnly={!!model} />
        <TextField label="Provider model (LiteLLM)" required value={f.provider_model} onChange={set('provider_model')} />
        <TextField label="Backend URL" value={f.api_base} onChange={set('api_base')} placeholder="http://vllm:8000/v1" />
        <TextField label="Backend key variable" value={f.api_key_env} onChange={set('api_key_env')} placeholder="MAAS_BACKEND_..." />
        <Choice label="Mode" value={f.mode} onChange={set('mode')} options={(modes.length ? modes : [f.mode]).map(m => [m, m])} />
        <TextField label="Context window (tokens)" type="number" min="1" value={f.context_window} onChange={set('context_window')} />
        <TextField label="Max output tokens" type="number" min="1" value={f.max_output_tokens} onChange={set('max_output_tokens')} />
        <TextField label="Capabilities (comma-separated)" value={f.capabilities} onChange={set('capabilities')} />
        <TextField label="Input price (USD / 1M tokens)" type="number" min="0" step="any" value={f.input} onChange={set('input')} />
        <TextField label="Output price (USD / 1M tokens)" type="number" min="0" step="any" value={f.output} onChange={set('output')} />
        <Check label="Enabled" checked={f.enabled} onChange={set('enabled')} />
      </div>
      <TextArea label="Description" value={f.description} onChange={set('description')} />
      <TextArea label="Extra LiteLLM parameters (JSON)" value={f.extra_params} onChange={set('extra_params')} />
    </EditorCard>
  );
}

const COLUMNS: Column<AdminModel>[] = [
  { header: 'Name', cell: m => m.name, rowHeader: true },
  { header: 'Provider model', cell: m => <code>{m.provider_model}</code> },
  { header: 'Mode', cell: m => m.mode },
  { header: 'Input / 1M', cell: m => perMillion(m.input_cost_per_token) },
  { header: 'Output / 1M', cell: m => perMillion(m.output_cost_per_token) },
  { header: 'Context', cell: m => contextK(m.context_window) },
  {
    header: 'State',
    cell: m => <span className={m.enabled ? 'badge ok' : 'badge muted'}>{m.enabled ? 'Enabled' : 'Disabled'}</span>
  }
];

const ACTIONS: RowAction<AdminModel>[] = [
  {
    label: m => (m.enabled ? 'Disable' : 'Enable'),
    name: m => `${m.enabled ? 'Disable' : 'Enable'} ${m.name}`,
    run: m => api('PATCH', `admin/models/${enc(m.name ?? '')}`, { enabled: !m.enabled })
  }
];

export function CatalogTab() {
  return (
    <AdminCollection
      title="Catalog"
      load={() => api<{ models: AdminModel[] }>('GET', 'admin/models').then(d => d.models)}
      rowKey={m => m.name ?? ''}
      columns={COLUMNS}
      caption="Catalog models, disabled ones included"
      actions={ACTIONS}
      editor={{ add: 'Add model', name: m => m.name ?? '', form: (m, done) => <ModelEditor model={m} onDone={done} /> }}
    />
  );
}
