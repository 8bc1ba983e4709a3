import * as fs from 'fs';
import * as path from 'path';

import {
  describeStatus,
  ICredentialsStatus,
  VERSION,
  versionMismatch
} from '../status';
import { english } from './translator';

const ready: ICredentialsStatus = {
  version: VERSION,
  state: 'ready',
  message: 'LLM credentials are set in new kernels.',
  base_url: 'http://127.0.0.1:4000/v1',
  models: ['smollm2-135m']
};

describe('VERSION', () => {
  it("is package.json's version, which the Python package shares", () => {
    const pkg = JSON.parse(
      fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')
    );
    expect(VERSION).toBe(pkg.version);
  });
  it('is not typed in the source', () => {
    const source = fs.readFileSync(
      path.join(__dirname, '..', 'status.ts'),
      'utf8'
    );
    expect(source).not.toMatch(/\d+\.\d+\.\d+/);
  });
});

describe('versionMismatch', () => {
  it('is null when both sides agree', () => {
    expect(versionMismatch(english, ready)).toBeNull();
  });
  it('names both versions and what to do', () => {
    const sentence = versionMismatch(
      english,
      { ...ready, version: '0.0.9' },
      '0.1.0'
    );
    expect(sentence).toContain('server extension is version 0.0.9');
    expect(sentence).toContain('this page runs 0.1.0');
    expect(sentence).toContain('restart the server');
  });
});

describe('describeStatus', () => {
  it('lists the gateway and models when ready', () => {
    expect(describeStatus(english, ready)).toBe(
      'LLM credentials are set in new kernels (gateway http://127.0.0.1:4000/v1; models: smollm2-135m).'
    );
  });
  it('says none when the profile allows no model', () => {
    expect(describeStatus(english, { ...ready, models: [] })).toContain(
      'models: none'
    );
  });
  it("passes the server's sentence through when not ready", () => {
    const message =
      'MaaS service unreachable at http://hub/services/maas/. Retrying in 4 s.';
    expect(describeStatus(english, { ...ready, state: 'error', message })).toBe(
      message
    );
  });
  it('puts a version mismatch first, whatever the state', () => {
    expect(
      describeStatus(english, { ...ready, state: 'error', version: '9.9.9' })
    ).toContain('version 9.9.9');
  });
});
