import {
  ILabShell,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Clipboard,
  Dialog,
  ICommandPalette,
  Notification,
  showDialog
} from '@jupyterlab/apputils';
import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStateDB } from '@jupyterlab/statedb';
import { IStatusBar } from '@jupyterlab/statusbar';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { DefaultModelStore } from './defaultmodel';
import { snippet } from './format';
import { requestAPI } from './request';
/* eslint-disable jupyter/prefer-lazy-imports -- the panel and the status bar item
   are shown at activation, with the model behind them */
import { MaaSModel } from './model';
import { ModelPicker } from './picker';
import { BudgetStatus } from './statusbar';
/* eslint-enable jupyter/prefer-lazy-imports */

const PLUGIN_ID = 'jupyterlab-maas:plugin';

const CommandIDs = {
  status: 'maas:show-status',
  picker: 'maas:open-picker',
  usage: 'maas:show-usage',
  insert: 'maas:insert-snippet',
  copy: 'maas:copy-model-id'
};

/** The arguments of the commands that act on one model. */
const MODEL_ARGS = {
  args: {
    type: 'object' as const,
    properties: {
      model: { type: 'string' as const, description: 'A catalog model name' }
    }
  }
};

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Governed LLM access from JupyterLab through the MaaS gateway.',
  autoStart: true,
  optional: [
    ICommandPalette,
    ILabShell,
    INotebookTracker,
    ISettingRegistry,
    IStateDB,
    IStatusBar,
    ITranslator
  ],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    labShell: ILabShell | null,
    notebooks: INotebookTracker | null,
    settingRegistry: ISettingRegistry | null,
    state: IStateDB | null,
    statusBar: IStatusBar | null,
    translator: ITranslator | null
  ) => {
    const trans = (translator ?? nullTranslator).load('jupyterlab_maas');
    const request = <T>(endPoint: string, init?: RequestInit) =>
      requestAPI<T>(endPoint, init, trans);
    const model = new MaaSModel({ request, trans, memory: state });

    // The default model's one store: the setting when there is a registry.
    const defaults = new DefaultModelStore(async name => {
      await request('default-model', {
        method: 'PUT',
        body: JSON.stringify({ model: name })
      });
    });
    defaults.changed.connect(() => void model.refreshModels());
    defaults.failed.connect((_, error) => {
      Notification.error(error.message, { autoClose: false });
    });
    model.modelsChanged.connect(() =>
      defaults.observe(model.models?.default ?? null)
    );

    const picker = new ModelPicker(model, trans, {
      setDefault: name => defaults.use(name),
      insertSnippet: name =>
        void app.commands.execute(CommandIDs.insert, { model: name }),
      copyId: name =>
        void app.commands.execute(CommandIDs.copy, { model: name }),
      copyText: text => Clipboard.copyToSystem(text)
    });
    // The spend's poll and the store live as long as the extension's panel.
    picker.disposed.connect(() => {
      model.dispose();
      defaults.dispose();
    });

    const status = new BudgetStatus(
      model,
      trans,
      () => void app.commands.execute(CommandIDs.usage)
    );
    model.budgetAlert.connect((_, alert) => {
      Notification.warning(alert.message, {
        autoClose: alert.kind === 'refused' ? false : 15000,
        actions: [
          {
            label: trans.__('Show usage'),
            callback: () => void app.commands.execute(CommandIDs.usage)
          }
        ]
      });
    });
    // A cell's calls change the spend: read it when a cell has run.
    NotebookActions.executed.connect(() => void model.poll.refresh());

    app.commands.addCommand(CommandIDs.status, {
      label: trans.__('MaaS: Show LLM Credentials Status'),
      describedBy: { args: { type: 'object', properties: {} } },
      execute: async () => {
        await showDialog({
          title: trans.__('Model-as-a-Service'),
          body: await model.checkStatus(),
          buttons: [Dialog.okButton({ label: trans.__('OK') })]
        });
      }
    });
    app.commands.addCommand(CommandIDs.picker, {
      label: trans.__('MaaS: Open the LLM Model Picker'),
      describedBy: { args: { type: 'object', properties: {} } },
      execute: async () => {
        await model.refreshModels();
        labShell?.activateById(picker.id);
      }
    });
    app.commands.addCommand(CommandIDs.usage, {
      label: trans.__('MaaS: Show My LLM Usage'),
      describedBy: { args: { type: 'object', properties: {} } },
      execute: async () => {
        const [{ usageView }] = await Promise.all([
          import('./usage'),
          model.refreshUsage()
        ]);
        const usage = model.usage;
        await showDialog({
          title: usage
            ? trans.__('LLM usage this period')
            : trans.__('LLM usage'),
          body: usage
            ? new Widget({ node: usageView(trans, usage) })
            : (model.error ?? ''),
          buttons: [Dialog.okButton({ label: trans.__('OK') })]
        });
      }
    });
    app.commands.addCommand(CommandIDs.insert, {
      label: args =>
        args.model
          ? trans.__('Insert an OpenAI cell for %1', String(args.model))
          : trans.__('Insert an OpenAI cell for a model'),
      describedBy: MODEL_ARGS,
      execute: args => {
        const panel = notebooks?.currentWidget;
        if (!panel) {
          void showDialog({
            title: trans.__('No notebook'),
            body: trans.__('Open a notebook to insert the snippet into.'),
            buttons: [Dialog.okButton({ label: trans.__('OK') })]
          });
          return;
        }
        NotebookActions.insertBelow(panel.content);
        panel.content.activeCell?.model.sharedModel.setSource(
          snippet(String(args.model))
        );
      }
    });
    app.commands.addCommand(CommandIDs.copy, {
      label: args => trans.__('Copy the model id %1', String(args.model ?? '')),
      describedBy: MODEL_ARGS,
      execute: args => Clipboard.copyToSystem(String(args.model))
    });
    const category = trans.__('Model-as-a-Service');
    for (const command of [
      CommandIDs.status,
      CommandIDs.picker,
      CommandIDs.usage
    ]) {
      palette?.addItem({ command, category });
    }

    app.shell.add(picker, 'left', { rank: 900 });
    statusBar?.registerStatusItem('jupyterlab-maas:budget', {
      item: status,
      align: 'left',
      rank: 100
    });

    if (settingRegistry) {
      void settingRegistry.load(PLUGIN_ID).then(settings => {
        const configure = (): void =>
          model.configure(
            settings.get('refreshInterval').composite as number,
            settings.get('alertThreshold').composite as number
          );
        configure();
        settings.changed.connect(configure);
        return defaults.useSettings(settings);
      });
    }

    void model
      .start()
      .then(sentence => console.info(`jupyterlab-maas: ${sentence}`));
  }
};

export default plugin;
