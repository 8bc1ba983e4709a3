import type { Requester } from '../model';
import type { IModelList, IUsage } from '../tokens';
import { VERSION } from '../status';
import { usage } from './fixtures';

/**
 * Answers the extension's requests as the server extension's routes do (status,
 * models, usage, default-model), and records them: the frontend's edge, replaced in
 * these unit tests only (the stack's browser tests use the real server).
 */
export class FakeServer {
  calls: { endPoint: string; method: string; body?: any }[] = [];
  usage: IUsage = usage;
  models: IModelList = {
    models: [],
    default: 'smollm2-135m'
  };
  failUsage: Error | null = null;

  request: Requester = async <T>(endPoint: string, init: RequestInit = {}) => {
    const method = init.method ?? 'GET';
    const body = init.body ? JSON.parse(String(init.body)) : undefined;
    this.calls.push({ endPoint, method, body });
    switch (`${method} ${endPoint}`) {
      case 'GET status':
        return {
          version: VERSION,
          state: 'ready',
          message: '',
          base_url: 'http://127.0.0.1:4000/v1',
          models: ['smollm2-135m']
        } as T;
      case 'GET models':
        return this.models as T;
      case 'GET usage':
        if (this.failUsage) {
          throw this.failUsage;
        }
        return this.usage as T;
      case 'PUT default-model':
        this.models = { ...this.models, default: body.model };
        return { default: body.model } as T;
    }
    throw new Error(`no route ${method} ${endPoint}`);
  };

  count(method: string, endPoint: string): number {
    return this.calls.filter(
      c => c.method === method && c.endPoint === endPoint
    ).length;
  }
}
