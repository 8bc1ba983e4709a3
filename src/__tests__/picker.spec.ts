/**
 * @jest-environment jsdom
 */
import './dom';

// the icon's package is ESM only, which these tests do not compile: a stand-in
jest.mock('../icons', () => ({ maasIcon: { name: 'maas' } }));

import { MaaSModel } from '../model';
import { ModelPicker } from '../picker';
import type { IModel } from '../tokens';
import { FakeServer } from './server';
import { english, pseudo } from './translator';

const smollm2: IModel = {
  name: 'smollm2-135m',
  description: 'SmolLM2 on the CPU',
  mode: 'chat',
  context_window: 8192,
  max_output_tokens: null,
  input_cost_per_token: 5e-8,
  output_cost_per_token: 1.5e-7,
  capabilities: []
};

const CLAUDE = {
  agent: 'Claude Code',
  command: 'claude --model smollm2-135m',
  reads: ['ANTHROPIC_BASE_URL', 'ANTHROPIC_AUTH_TOKEN']
};

async function picker(server: FakeServer, trans = english) {
  const model = new MaaSModel({ request: server.request, trans });
  const copied: string[] = [];
  const widget = new ModelPicker(model, trans, {
    setDefault: async () => undefined,
    insertSnippet: () => undefined,
    copyId: () => undefined,
    copyText: text => copied.push(text)
  });
  await model.refreshModels();
  return { widget, copied, model };
}

describe('ModelPicker', () => {
  it('says how to run each coding agent with the default model, to copy', async () => {
    const server = new FakeServer();
    server.models = {
      models: [smollm2],
      default: 'smollm2-135m',
      agents: { 'smollm2-135m': [CLAUDE] }
    };
    const { widget, copied, model } = await picker(server);

    const agent = widget.node.querySelector<HTMLElement>(
      ".jp-maas-agent[data-agent='Claude Code']"
    )!;
    expect(agent.querySelector('code')!.textContent).toBe(CLAUDE.command);
    expect(agent.textContent).toContain(
      'reads ANTHROPIC_BASE_URL, ANTHROPIC_AUTH_TOKEN'
    );
    expect(widget.node.textContent).toContain(
      'its spend shows as "terminal N"'
    );
    agent.querySelector('button')!.click();
    expect(copied).toEqual([CLAUDE.command]);
    widget.dispose();
    model.dispose();
  });

  it('shows no agents when the server names none', async () => {
    const server = new FakeServer();
    server.models = { models: [smollm2], default: null };
    const { widget, model } = await picker(server);
    expect(widget.node.querySelector('.jp-maas-model')).not.toBeNull();
    expect(widget.node.querySelector('.jp-maas-agents')).toBeNull();
    widget.dispose();
    model.dispose();
  });

  it('writes the section through the translator', async () => {
    const server = new FakeServer();
    server.models = {
      models: [smollm2],
      default: 'smollm2-135m',
      agents: { 'smollm2-135m': [CLAUDE] }
    };
    const { widget, model } = await picker(server, pseudo);
    const section = widget.node.querySelector('.jp-maas-agents')!;
    for (const p of Array.from(section.querySelectorAll('h3, p, button'))) {
      expect(p.textContent).toMatch(/^⟦.*⟧$/s);
    }
    widget.dispose();
    model.dispose();
  });
});
