/** What the server extension says about this server's credentials. */
export interface ICredentialsStatus {
  version: string;
  state: 'ready' | 'pending' | 'error' | 'disabled';
  message: string;
  base_url: string | null;
  models: string[];
}

/** The frontend's version, checked against the server extension's. */
export const VERSION = '0.1.0';

/**
 * A sentence the user can act on when the server extension is of another version,
 * else null.
 */
export function versionMismatch(status: ICredentialsStatus, frontend = VERSION): string | null {
  if (status.version === frontend) {
    return null;
  }
  return (
    `The jupyterlab-maas server extension is version ${status.version} but this ` +
    `page runs ${frontend}: install the same version of jupyterlab-maas in the ` +
    'server environment, restart the server, and reload this page.'
  );
}

/** Turn a status into one sentence a user can act on. */
export function describeStatus(status: ICredentialsStatus, frontend = VERSION): string {
  const mismatch = versionMismatch(status, frontend);
  if (mismatch) {
    return mismatch;
  }
  if (status.state === 'ready') {
    const models = status.models.length ? status.models.join(', ') : 'none';
    return `LLM credentials are set in new kernels (gateway ${status.base_url}; models: ${models}).`;
  }
  return status.message;
}
