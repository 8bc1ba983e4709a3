import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, showDialog, Dialog } from '@jupyterlab/apputils';

import { requestAPI } from './request';

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

const COMMAND = 'maas:show-status';

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

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-maas:plugin',
  description: 'Governed LLM access from JupyterLab through the MaaS gateway.',
  autoStart: true,
  optional: [ICommandPalette],
  activate: (app: JupyterFrontEnd, palette: ICommandPalette | null) => {
    app.commands.addCommand(COMMAND, {
      label: 'MaaS: Show LLM Credentials Status',
      execute: async () => {
        let body: string;
        try {
          body = describeStatus(await requestAPI<ICredentialsStatus>('status'));
        } catch (error) {
          body = (error as Error).message;
        }
        await showDialog({
          title: 'Model-as-a-Service',
          body,
          buttons: [Dialog.okButton()]
        });
      }
    });
    palette?.addItem({ command: COMMAND, category: 'Model-as-a-Service' });
    requestAPI<ICredentialsStatus>('status')
      .then(status => console.info(`jupyterlab-maas: ${describeStatus(status)}`))
      .catch(error => console.warn(`jupyterlab-maas: ${(error as Error).message}`));
  }
};

export default plugin;
