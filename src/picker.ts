import { Widget } from '@lumino/widgets';

import { contextK, perMillion } from './format';
import { IModel } from './tokens';

/** What the picker asks its owner to do. */
export interface IPickerActions {
  setDefault(model: string): Promise<void>;
  insertSnippet(model: string): void;
  copyId(model: string): void;
}

/** The left-sidebar list of the models this server may use, with prices. */
export class ModelPicker extends Widget {
  constructor(private actions: IPickerActions) {
    super();
    this.id = 'jp-maas-picker';
    this.addClass('jp-maas-picker');
    this.title.caption = 'LLM models';
    this.title.label = 'LLM';
  }

  /** Show a sentence instead of the list (service down, no models, ...). */
  showMessage(message: string): void {
    this.node.replaceChildren(this.element('p', message, 'jp-maas-message'));
  }

  render(models: IModel[], defaultModel: string | null): void {
    if (models.length === 0) {
      this.showMessage('Your profile allows no models: ask your JupyterHub admin.');
      return;
    }
    const list = this.element('ul', '', 'jp-maas-models');
    for (const model of models) {
      const item = this.element('li', '', 'jp-maas-model');
      item.dataset.model = model.name;
      const header = this.element('div', '', 'jp-maas-model-header');
      header.append(this.element('span', model.name, 'jp-maas-model-name'));
      if (model.name === defaultModel) {
        header.append(this.element('span', 'default', 'jp-maas-badge'));
      }
      item.append(header);
      if (model.description) {
        item.append(this.element('p', model.description, 'jp-maas-model-description'));
      }
      const facts = [
        model.mode,
        `context ${contextK(model.context_window)}`,
        `in ${perMillion(model.input_cost_per_token)}/1M`,
        `out ${perMillion(model.output_cost_per_token)}/1M`
      ];
      item.append(this.element('div', facts.join(' · '), 'jp-maas-model-facts'));
      if (model.capabilities.length) {
        const chips = this.element('div', '', 'jp-maas-chips');
        for (const capability of model.capabilities) {
          chips.append(this.element('span', capability.replace(/_/g, ' '), 'jp-maas-chip'));
        }
        item.append(chips);
      }
      const buttons = this.element('div', '', 'jp-maas-buttons');
      buttons.append(
        this.button('Use as default', () => void this.actions.setDefault(model.name)),
        this.button('Insert snippet', () => this.actions.insertSnippet(model.name)),
        this.button('Copy id', () => this.actions.copyId(model.name))
      );
      item.append(buttons);
      list.append(item);
    }
    this.node.replaceChildren(this.element('h3', 'LLM models', 'jp-maas-title'), list);
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
