// The admin tabs' scaffold: what is open (the form, the question) and which buttons a row shows.
import { actionsFor, closed, CollectionState, collectionReducer, editorKey, labelOf, RowAction } from '../pages/admin/collection';

interface Team {
  name: string;
  active: boolean;
}

const cs101: Team = { name: 'cs101', active: true };
const staff: Team = { name: 'staff', active: false };
const start: CollectionState<Team> = closed;

describe('what an admin collection has open', () => {
  it('opens the form for a new row or one row, and closes it', () => {
    const adding = collectionReducer(start, { type: 'add' });
    expect(adding).toEqual({ editing: 'new', confirming: null });
    const editing = collectionReducer(adding, { type: 'edit', row: cs101 });
    expect(editing.editing).toBe(cs101);
    expect(collectionReducer(editing, { type: 'close' })).toEqual(closed);
  });

  it('asks before an action and forgets the question once answered, the form left as it was', () => {
    const editing = collectionReducer(start, { type: 'edit', row: staff });
    const asking = collectionReducer(editing, { type: 'ask', action: 1, row: cs101 });
    expect(asking).toEqual({ editing: staff, confirming: { action: 1, row: cs101 } });
    expect(collectionReducer(asking, { type: 'answer' })).toEqual(editing);
  });

  it('gives another row, or a new one, a fresh form', () => {
    const key = (t: Team) => t.name;
    expect(editorKey('new', key)).toBe('');
    expect(editorKey(cs101, key)).toBe('cs101');
  });
});

describe("a row's buttons", () => {
  const run = () => Promise.resolve();
  const actions: RowAction<Team>[] = [
    { label: t => (t.active ? 'Disable' : 'Enable'), name: t => t.name, run },
    { label: 'Remove', name: t => `Remove ${t.name}`, when: t => !t.active, run }
  ];

  it('shows only the actions that apply to the row, with their index', () => {
    expect(actionsFor(cs101, actions).map(([, i]) => i)).toEqual([0]);
    expect(actionsFor(staff, actions).map(([, i]) => i)).toEqual([0, 1]);
  });

  it('labels a button by the row when the label depends on it', () => {
    expect(labelOf(actions[0], cs101)).toBe('Disable');
    expect(labelOf(actions[0], staff)).toBe('Enable');
    expect(labelOf(actions[1], staff)).toBe('Remove');
  });
});
