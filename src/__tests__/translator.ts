/**
 * Translation bundles for the tests: ``english`` formats as JupyterLab's null
 * translator does (%1, %2, ... and plural forms), ``pseudo`` marks every translated
 * string with ⟦ ⟧ so a test can tell that a user-facing string went through it.
 */
import type { TranslationBundle } from '@jupyterlab/translation';

function strfmt(fmt: string, ...args: unknown[]): string {
  return fmt
    .replace(/%%/g, '%% ')
    .replace(/%(\d+)/g, (_, n) => String(args[Number(n) - 1]))
    .replace(/%% /g, '%');
}

function bundle(mark: (s: string) => string): TranslationBundle {
  const __ = (msgid: string, ...args: any[]) => mark(strfmt(msgid, ...args));
  const _n = (msgid: string, plural: string, n: number, ...args: any[]) =>
    mark(strfmt(n === 1 ? msgid : plural, n, ...args));
  return {
    __,
    _n,
    _p: (_ctx: string, msgid: string, ...args: any[]) => __(msgid, ...args),
    _np: (
      _ctx: string,
      msgid: string,
      plural: string,
      n: number,
      ...args: any[]
    ) => _n(msgid, plural, n, ...args),
    gettext: __,
    ngettext: _n,
    pgettext: (_ctx: string, msgid: string, ...args: any[]) =>
      __(msgid, ...args),
    npgettext: (
      _ctx: string,
      msgid: string,
      plural: string,
      n: number,
      ...args: any[]
    ) => _n(msgid, plural, n, ...args),
    dcnpgettext: (
      _domain: string,
      _ctx: string,
      msgid: string,
      plural: string,
      n: number,
      ...args: any[]
    ) => _n(msgid, plural, n, ...args)
  } as TranslationBundle;
}

export const english = bundle(s => s);

export const pseudo = bundle(s => `⟦${s}⟧`);

/** A test's stand-in for IStateDB: the same fetch/save, in memory. */
export class MemoryState {
  readonly values = new Map<string, unknown>();
  async fetch(id: string): Promise<any> {
    return this.values.get(id);
  }
  async save(id: string, value: unknown): Promise<void> {
    this.values.set(id, JSON.parse(JSON.stringify(value)));
  }
}
