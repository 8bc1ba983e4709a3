import type { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { contextK, perMillion } from './numbers';
import { maasIcon } from './icons';
import type { MaaSModel } from './model';
import type { IAgent, IModel } from './tokens';

/** What the picker asks its owner to do. */
export interface IPickerActions {
  setDefault(model: string): Promise<void>;
  insertSnippet(model: string): void;
  copyId(model: string): void;
  copyText(text: string): void;
}

/** The left-sidebar list of the models this server may use, with prices. */
export class ModelPicker extends Widget {
  constructor(
    private readonly model: MaaSModel,
    private readonly trans: TranslationBundle,
    private readonly actions: IPickerActions
  ) {
    super();
    this.id = 'jp-maas-picker';
    this.addClass('jp-maas-picker');
    this.title.icon = maasIcon;
    this.title.caption = trans.__('LLM models');
    model.modelsChanged.connect(this.update_, this);
    this.update_();
  }

  dispose(): void {
    this.model.modelsChanged.disconnect(this.update_, this);
    super.dispose();
  }

  /** Show the model's list, or why there is none. */
  update_(): void {
    const { trans } = this;
    const error = this.model.modelsError;
    const list = this.model.models;
    if (error || !list) {
      this.showMessage(error ?? trans.__('Loading the models…'));
    } else if (list.models.length === 0) {
      this.showMessage(
        trans.__('Your profile allows no models: ask your JupyterHub admin.')
      );
    } else {
      this.render(list.models, list.default);
      const model = list.default ?? list.models[0].name;
      const agents = list.agents?.[model];
      if (agents?.length) {
        this.node.append(this.agents(model, agents));
      }
    }
  }

  /** Show a sentence instead of the list (service down, no models, ...). */
  showMessage(message: string): void {
    this.node.replaceChildren(this.element('p', message, 'jp-maas-message'));
  }

  private render(models: IModel[], defaultModel: string | null): void {
    const { trans } = this;
    const list = this.element('ul', '', 'jp-maas-models');
    for (const model of models) {
      const item = this.element('li', '', 'jp-maas-model');
      item.dataset.model = model.name;
      const header = this.element('div', '', 'jp-maas-model-header');
      header.append(this.element('span', model.name, 'jp-maas-model-name'));
      if (model.name === defaultModel) {
        header.append(
          this.element('span', trans.__('default'), 'jp-maas-badge')
        );
      }
      item.append(header);
      if (model.description) {
        item.append(
          this.element('p', model.description, 'jp-maas-model-description')
        );
      }
      const facts = [
        model.mode,
        trans.__('context %1', contextK(model.context_window)),
        trans.__('in %1/1M', perMillion(model.input_cost_per_token)),
        trans.__('out %1/1M', perMillion(model.output_cost_per_token))
      ];
      item.append(
        this.element('div', facts.join(' · '), 'jp-maas-model-facts')
      );
      if (model.capabilities.length) {
        const chips = this.element('div', '', 'jp-maas-chips');
        for (const capability of model.capabilities) {
          chips.append(
            this.element('span', capability.replace(/_/g, ' '), 'jp-maas-chip')
          );
        }
        item.append(chips);
      }
      const buttons = this.element('div', '', 'jp-maas-buttons');
      buttons.append(
        this.button(
          trans.__('Use as default'),
          () => void this.actions.setDefault(model.name)
        ),
        this.button(trans.__('Insert snippet'), () =>
          this.actions.insertSnippet(model.name)
        ),
        this.button(trans.__('Copy id'), () => this.actions.copyId(model.name))
      );
      item.append(buttons);
      list.append(item);
    }
    this.node.replaceChildren(
      this.element('h3', trans.__('LLM models'), 'jp-maas-title'),
      list
    );
  }

  /** How to run each coding agent with ``model`` in a terminal, to copy. */
  private agents(model: string, agents: IAgent[]): HTMLElement {
    const { trans } = this;
    const section = this.element('section', '', 'jp-maas-agents');
    section.append(
      this.element(
        'h3',
        trans.__('Coding agents in a terminal'),
        'jp-maas-title'
      ),
      this.element(
        'p',
        trans.__(
          'Each terminal has a key of its own: its spend shows as "terminal N". With %1:',
          model
        ),
        'jp-maas-agents-intro'
      )
    );
    const list = this.element('ul', '', 'jp-maas-agent-list');
    for (const agent of agents) {
      const item = this.element('li', '', 'jp-maas-agent');
      item.dataset.agent = agent.agent;
      const header = this.element('div', '', 'jp-maas-model-header');
      header.append(
        this.element('span', agent.agent, 'jp-maas-model-name'),
        this.button(trans.__('Copy'), () =>
          this.actions.copyText(agent.command)
        )
      );
      item.append(
        header,
        this.element('code', agent.command, 'jp-maas-command'),
        this.element(
          'div',
          trans.__('reads %1', agent.reads.join(', ')),
          'jp-maas-model-facts'
        )
      );
      list.append(item);
    }
    section.append(
      list,
      this.element(
        'p',
        trans.__(
          "maas-key prints the terminal's current key (for Claude Code's apiKeyHelper setting, and scripts)."
        ),
        'jp-maas-agents-intro'
      )
    );
    return section;
  }

  private element(tag: string, text: string, className: string): HTMLElement {
    const el = document.createElement(tag);
    el.className = className;
    el.textContent = text;
    return el;
  }

  private button(label: string, onClick: () => void): HTMLButtonElement {
    const button = document.createElement('button');
    button.className = 'jp-mod-styled jp-maas-button';
    button.textContent = label;
    button.addEventListener('click', onClick);
    return button;
  }
}
