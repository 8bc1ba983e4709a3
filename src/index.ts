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

import { snippet } from './format';
import { ModelPicker } from './picker';
import { requestAPI } from './request';
import { describeStatus, ICredentialsStatus, versionMismatch } from './status';
import { BudgetStatus } from './statusbar';
import { IModelList, IUsage } from './tokens';
import { usageView } from './usage';

const PLUGIN_ID = 'jupyterlab-maas:plugin';

const CommandIDs = {
  status: 'maas:show-status',
  picker: 'maas:open-picker',
  usage: 'maas:show-usage',
  insert: 'maas:insert-snippet',
  copy: 'maas:copy-model-id'
};

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

    // Set when the server extension is of another version: every view says so.
    let mismatch: string | null = null;

    async function refreshModels(): Promise<void> {
      try {
        const list = await requestAPI<IModelList>('models');
        if (mismatch) {
          picker.showMessage(mismatch);
        } else {
          picker.render(list.models, list.default);
        }
      } catch (error) {
        picker.showMessage(mismatch ?? (error as Error).message);
      }
    }

    const status = new BudgetStatus(() => void app.commands.execute(CommandIDs.usage));
    async function refreshUsage(): Promise<void> {
      try {
        const usage = await requestAPI<IUsage>('usage');
        status.update_(mismatch ? null : usage, mismatch ?? undefined);
      } catch (error) {
        status.update_(null, mismatch ?? (error as Error).message);
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
            title: 'LLM usage this period',
            body: new Widget({ node: usageView(usage) }),
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

    // Check the server extension's version first, so that every view can say so.
    requestAPI<ICredentialsStatus>('status')
      .then(s => {
        mismatch = versionMismatch(s);
        console.info(`jupyterlab-maas: ${describeStatus(s)}`);
      })
      .catch(error => console.warn(`jupyterlab-maas: ${(error as Error).message}`))
      .finally(() => {
        void refreshModels();
        void tick();
      });
  }
};

export default plugin;
