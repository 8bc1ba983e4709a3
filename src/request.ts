import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';

/** The namespace of the server extension's routes. */
export const API_NAMESPACE = 'jupyterlab-maas';

/** An error answered by the server extension, with its JSON message. */
export class MaaSRequestError extends Error {
  constructor(
    message: string,
    readonly status: number
  ) {
    super(message);
    this.name = 'MaaSRequestError';
  }
}

/**
 * Call the server extension's REST API.
 *
 * @param endPoint API path under the extension's namespace
 * @param init Initial values for the request
 * @param trans The bundle the sentences of this module are translated with
 * @returns The parsed JSON body
 * @throws MaaSRequestError with the server's message, or a sentence the user can act
 *   on when the server extension is not installed
 */
export async function requestAPI<T>(
  endPoint = '',
  init: RequestInit = {},
  trans: TranslationBundle = nullTranslator.load('jupyterlab_maas')
): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, API_NAMESPACE, endPoint);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }
  const text = await response.text();
  let data: any = {};
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { message: text };
    }
  }
  if (response.status === 404 && !data.version) {
    throw new MaaSRequestError(
      trans.__(
        'The jupyterlab-maas server extension is not enabled on this server: install the Python package jupyterlab-maas in the server environment and restart it.'
      ),
      404
    );
  }
  if (!response.ok) {
    throw new MaaSRequestError(
      data.message || response.statusText,
      response.status
    );
  }
  return data as T;
}
