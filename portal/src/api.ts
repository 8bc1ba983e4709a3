// The service's JSON API, typed from its OpenAPI document (src/schema.d.ts is generated:
// npm run types).
import type { components } from './schema';

export type Model = components['schemas']['Model'];
export type Profile = components['schemas']['Profile'];
export type Key = components['schemas']['Key'];
export type OwnKey = components['schemas']['OwnKey'];
export type IssuedKey = components['schemas']['IssuedKey'];
export type Usage = components['schemas']['Usage'];
export type Policy = components['schemas']['Policy'];

/** What the service puts in the page (hub_service/portal.py). */
export interface PortalConfig {
  prefix: string;
  user: string;
  admin: boolean;
  baseUrl: string;
  xsrf: string;
  version: string;
}

export const config: PortalConfig = JSON.parse(
  document.getElementById('maas-config')?.textContent || '{}'
);

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message);
  }
}

/** Fetch ``<path>`` (under the service's prefix) with the hub's sign-in cookie and its
 * XSRF token. */
function send(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(`${config.prefix}${path}`, {
    method,
    credentials: 'same-origin',
    headers: {
      'X-XSRFToken': config.xsrf,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' })
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal
  });
}

/** Call ``api/v1/<path>``: its JSON answer, or an ``ApiError`` with its sentence. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await send(method, `api/v1/${path}`, body);
  if (response.status === 204) {
    return undefined as T;
  }
  const data = await response.json().catch(() => ({}));
  if (response.status === 401 && !sessionStorage.getItem('maas-reloaded')) {
    // the hub's sign-in lapsed or its XSRF token changed: a fresh page gets new ones
    sessionStorage.setItem('maas-reloaded', '1');
    window.location.reload();
  }
  if (!response.ok) {
    throw new ApiError(response.status, data.message || response.statusText);
  }
  sessionStorage.removeItem('maas-reloaded');
  return data as T;
}

export const me = () => encodeURIComponent(config.user);

/** Sign out: the service revokes the playground's key and forgets the portal's sign-in
 * (a POST with the XSRF token, which no other site has), then the page goes where it
 * says: the hub's sign-out. */
export async function signOut(): Promise<void> {
  const response = await send('POST', 'logout');
  const { next } = await response.json().catch(() => ({ next: config.prefix }));
  window.location.assign(next || config.prefix);
}

/** What a streamed chat turn reports as it goes. */
export interface StreamedTurn {
  /** Each piece of the answer as it comes. */
  onText: (text: string) => void;
  /** The turn's tokens, from the stream's last chunk. */
  onUsage: (usage: { prompt_tokens: number; completion_tokens: number }) => void;
}

/** POST ``api/v1/<path>`` and read its answer as server-sent events of OpenAI chat
 * completion chunks until ``[DONE]``, or until ``signal`` aborts (which ends the
 * request: the gateway then stops generating). A refusal is an ``ApiError`` with the
 * API's (the gateway's) sentence. */
export async function streamChat(path: string, body: unknown, signal: AbortSignal, turn: StreamedTurn) {
  const response = await send('POST', `api/v1/${path}`, body, signal);
  if (!response.ok || !response.body) {
    const data = await response.json().catch(() => ({}));
    throw new ApiError(response.status, data.message || response.statusText);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let pending = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) {
      return;
    }
    pending += value;
    const events = pending.split('\n\n');
    pending = events.pop() ?? '';
    for (const event of events) {
      const data = event
        .split('\n')
        .filter(line => line.startsWith('data:'))
        .map(line => line.slice(5).trim())
        .join('');
      if (!data || data === '[DONE]') {
        continue;
      }
      const chunk = JSON.parse(data);
      if (chunk.error) {
        throw new ApiError(500, chunk.error.message ?? String(chunk.error));
      }
      const text = chunk.choices?.[0]?.delta?.content;
      if (text) {
        turn.onText(text);
      }
      if (chunk.usage) {
        turn.onUsage(chunk.usage);
      }
    }
  }
}
