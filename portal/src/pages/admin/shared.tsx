// What the admin tabs share: the API's admin types, the choices its document declares,
// and the catalog's names for model pickers (the form fields are console/fields.tsx's).
import React, { useState } from 'react';

import { api } from '../../api';
import type { components } from '../../schema';

type Schemas = components['schemas'];
export type AdminModel = Schemas['AdminModel'];
export type NewModel = Schemas['NewModel'];
export type Profile = Schemas['Profile'];
export type NewProfile = Schemas['NewProfile'];
export type Override = Schemas['Override'];
export type OverrideFields = Schemas['OverrideFields'];
export type AdminKey = Schemas['AdminKey'];
export type Chargeback = Schemas['Chargeback'];
export type InstancePrices = Schemas['InstancePrices'];
export type SeedPricing = Schemas['SeedPricing'];
export type SeedPrices = Schemas['SeedPrices'];
export type Policy = Schemas['Policy'];

// The choices (modes, budget periods, key states...) are the API's own: read from its
// OpenAPI document once, not typed here a second time.
interface Document {
  components: { schemas: Record<string, { properties?: Record<string, { enum?: (string | null)[] }> }> };
}
let documentLoad: Promise<Document> | null = null;

export function useChoices(schema: string, field: string): string[] {
  const [choices, setChoices] = useState<string[]>([]);
  React.useEffect(() => {
    documentLoad = documentLoad ?? api<Document>('GET', 'openapi.json');
    documentLoad
      .then(doc => {
        const values = doc.components.schemas[schema]?.properties?.[field]?.enum ?? [];
        setChoices(values.filter((v): v is string => typeof v === 'string'));
      })
      .catch(() => setChoices([]));
  }, [schema, field]);
  return choices;
}

/** The catalog's names (disabled models included), for pickers. */
export function useCatalogNames(): string[] {
  const [names, setNames] = useState<string[]>([]);
  React.useEffect(() => {
    api<{ models: AdminModel[] }>('GET', 'admin/models')
      .then(d => setNames(d.models.map(m => m.name ?? '')))
      .catch(() => setNames([]));
  }, []);
  return names;
}
