import {
  ILabShell,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Clipboard, Dialog, ICommandPalette, showDialog } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { Widget } from '@lumino/widgets';

import { money, snippet } from './format';
import { ModelPicker } from './picker';
import { requestAPI } from './request';
import { BudgetStatus } from './statusbar';
import { IModelList, IUsage } from './tokens';

/** What the server extension says about this server's credentials. */
export interface ICredentialsStatus {
  version: string;
  state: 'ready' | 'pending' | 'error' | 'disabled';
  message: string;
  base_url: string | null;
  models: string[];
}

/** The frontend's version, checked against the server extension's. */
const VERSION = '0.1.0';
const PLUGIN_ID = 'jupyterlab-maas:plugin';

const CommandIDs = {
  status: 'maas:show-status',
  picker: 'maas:open-picker',
  usage: 'maas:show-usage',
  insert: 'maas:insert-snippet',
  copy: 'maas:copy-model-id'
};

/** Turn a status into one sentence a user can act on. */
export function describeStatus(status: ICredentialsStatus): string {
  if (status.version !== VERSION) {
    return (
      `The jupyterlab-maas server extension is version ${status.version} but this ` +
      `page runs ${VERSION}: reinstall jupyterlab-maas and restart the server.`
    );
  }
  if (status.state === 'ready') {
    const models = status.models.length ? status.models.join(', ') : 'none';
    return `LLM credentials are set in new kernels (gateway ${status.base_url}; models: ${models}).`;
  }
  return status.message;
}

function usageBody(usage: IUsage): Widget {
  const node = document.createElement('div');
  node.className = 'jp-maas-usage';
  const rows = usage.recent
    .map(
      r =>
        `<tr><td>${new Date(r.ts).toLocaleString()}</td><td>${r.model}</td>` +
        `<td>${r.prompt_tokens + r.completion_tokens}</td><td>${money(r.cost_usd)}</td></tr>`
    )
    .join('');
  const byModel = usage.by_model
    .map(m => `<tr><td>${m.model}</td><td>${m.requests}</td><td>${money(m.cost_usd)}</td></tr>`)
    .join('');
  node.innerHTML =
    '<h4>Spend by model</h4><table><tr><th>Model</th><th>Requests</th><th>Cost</th></tr>' +
    `${byModel}</table><h4>Last requests</h4><table><tr><th>Time</th><th>Model</th>` +
    `<th>Tokens</th><th>Cost</th></tr>${rows}</table>`;
  return new Widget({ node });
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Governed LLM access from JupyterLab through the MaaS gateway.',
  autoStart: true,
  optional: [ICommandPalette, ILabShell, INotebookTracker, ISettingRegistry, IStatusBar],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    labShell: ILabShell | null,
    notebooks: INotebookTracker | null,
    settingRegistry: ISettingRegistry | null,
    statusBar: IStatusBar | null
  ) => {
    let refreshSeconds = 30;
    let settings: ISettingRegistry.ISettings | null = null;

    const picker = new ModelPicker({
      setDefault: async model => {
        await requestAPI('default-model', { method: 'PUT', body: JSON.stringify({ model }) });
        await settings?.set('defaultModel', model);
        await refreshModels();
      },
      insertSnippet: model => void app.commands.execute(CommandIDs.insert, { model }),
      copyId: model => void app.commands.execute(CommandIDs.copy, { model })
    });

    async function refreshModels(): Promise<void> {
      try {
        const list = await requestAPI<IModelList>('models');
        picker.render(list.models, list.default);
      } catch (error) {
        picker.showMessage((error as Error).message);
      }
    }

    const status = new BudgetStatus(() => void app.commands.execute(CommandIDs.usage));
    async function refreshUsage(): Promise<void> {
      try {
        status.update_(await requestAPI<IUsage>('usage'));
      } catch (error) {
        status.update_(null, (error as Error).message);
      }
    }

    app.commands.addCommand(CommandIDs.status, {
      label: 'MaaS: Show LLM Credentials Status',
      execute: async () => {
        let body: string;
        try {
          body = describeStatus(await requestAPI<ICredentialsStatus>('status'));
        } catch (error) {
          body = (error as Error).message;
        }
        await showDialog({ title: 'Model-as-a-Service', body, buttons: [Dialog.okButton()] });
      }
    });
    app.commands.addCommand(CommandIDs.picker, {
      label: 'MaaS: Open the LLM Model Picker',
      execute: async () => {
        await refreshModels();
        if (labShell) {
          labShell.activateById(picker.id);
        }
      }
    });
    app.commands.addCommand(CommandIDs.usage, {
      label: 'MaaS: Show My LLM Usage',
      execute: async () => {
        try {
          const usage = await requestAPI<IUsage>('usage');
          status.update_(usage);
          await showDialog({
            title: `LLM usage: ${status.node.textContent?.replace(/^LLM /, '')}`,
            body: usageBody(usage),
            buttons: [Dialog.okButton()]
          });
        } catch (error) {
          await showDialog({
            title: 'LLM usage',
            body: (error as Error).message,
            buttons: [Dialog.okButton()]
          });
        }
      }
    });
    app.commands.addCommand(CommandIDs.insert, {
      label: args => `Insert an OpenAI cell for ${args.model ?? 'a model'}`,
      execute: args => {
        const panel = notebooks?.currentWidget;
        if (!panel) {
          void showDialog({
            title: 'No notebook',
            body: 'Open a notebook to insert the snippet into.',
            buttons: [Dialog.okButton()]
          });
          return;
        }
        NotebookActions.insertBelow(panel.content);
        panel.content.activeCell?.model.sharedModel.setSource(snippet(String(args.model)));
      }
    });
    app.commands.addCommand(CommandIDs.copy, {
      label: args => `Copy the model id ${args.model ?? ''}`,
      execute: args => Clipboard.copyToSystem(String(args.model))
    });
    for (const command of [CommandIDs.status, CommandIDs.picker, CommandIDs.usage]) {
      palette?.addItem({ command, category: 'Model-as-a-Service' });
    }

    app.shell.add(picker, 'left', { rank: 900 });
    void refreshModels();
    if (statusBar) {
      statusBar.registerStatusItem('jupyterlab-maas:budget', {
        item: status,
        align: 'left',
        rank: 100
      });
    }
    const tick = async (): Promise<void> => {
      await refreshUsage();
      window.setTimeout(() => void tick(), refreshSeconds * 1000);
    };
    void tick();

    if (settingRegistry) {
      void settingRegistry.load(PLUGIN_ID).then(loaded => {
        settings = loaded;
        const apply = (): void => {
          refreshSeconds = (loaded.get('refreshInterval').composite as number) || 30;
          const model = loaded.get('defaultModel').composite as string | null;
          if (model) {
            void requestAPI('default-model', {
              method: 'PUT',
              body: JSON.stringify({ model })
            })
              .then(refreshModels)
              .catch(error => console.warn(`jupyterlab-maas: ${(error as Error).message}`));
          }
        };
        apply();
        loaded.changed.connect(apply);
      });
    }

    requestAPI<ICredentialsStatus>('status')
      .then(s => console.info(`jupyterlab-maas: ${describeStatus(s)}`))
      .catch(error => console.warn(`jupyterlab-maas: ${(error as Error).message}`));
  }
};

export default plugin;
