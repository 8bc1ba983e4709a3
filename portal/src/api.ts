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

/** Call ``api/v1/<path>`` with the hub's sign-in cookie and its XSRF token. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${config.prefix}api/v1/${path}`, {
    method,
    credentials: 'same-origin',
    headers: {
      'X-XSRFToken': config.xsrf,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' })
    },
    body: body === undefined ? undefined : JSON.stringify(body)
  });
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
