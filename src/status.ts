import type { TranslationBundle } from '@jupyterlab/translation';

import { version } from '../package.json';

/** What the server extension says about this server's credentials. */
export interface ICredentialsStatus {
  version: string;
  state: 'ready' | 'pending' | 'error' | 'disabled';
  message: string;
  base_url: string | null;
  models: string[];
}

/** The frontend's version (package.json's, which the Python package shares). */
export const VERSION: string = version;

/**
 * A sentence the user can act on when the server extension is of another version,
 * else null.
 */
export function versionMismatch(
  trans: TranslationBundle,
  status: ICredentialsStatus,
  frontend = VERSION
): string | null {
  if (status.version === frontend) {
    return null;
  }
  return trans.__(
    'The jupyterlab-maas server extension is version %1 but this page runs %2: install the same version of jupyterlab-maas in the server environment, restart the server, and reload this page.',
    status.version,
    frontend
  );
}

/** Turn a status into one sentence a user can act on. */
export function describeStatus(
  trans: TranslationBundle,
  status: ICredentialsStatus,
  frontend = VERSION
): string {
  const mismatch = versionMismatch(trans, status, frontend);
  if (mismatch) {
    return mismatch;
  }
  if (status.state === 'ready') {
    const models = status.models.length
      ? status.models.join(', ')
      : trans.__('none');
    return trans.__(
      'LLM credentials are set in new kernels (gateway %1; models: %2).',
      status.base_url ?? '',
      models
    );
  }
  return status.message;
}
