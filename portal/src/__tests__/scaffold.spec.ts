// The consoles' scaffold: what is open (the form, the question), which buttons a row shows,
// and what a change's outcome says.
import {
  actionsFor,
  closed,
  CollectionState,
  collectionReducer,
  editButton,
  editorKey,
  labelOf,
  noticeOf,
  RowAction,
  RowEditor
} from '../console/collection';

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

describe("a row's Edit button", () => {
  const form = () => null;

  it('says Edit, and names its row', () => {
    const editor: RowEditor<Team> = { name: t => t.name, form };
    expect(editButton(editor, cs101)).toEqual({ text: 'Edit', name: 'Edit cs101' });
  });

  it('says what it edits when it has a label of its own', () => {
    const editor: RowEditor<Team> = { label: 'Adjust budgets', name: t => t.name, form };
    expect(editButton(editor, staff)).toEqual({ text: 'Adjust budgets', name: 'Adjust budgets of staff' });
  });
});

describe("a change's outcome", () => {
  it('is the sentence the change resolved to', () => {
    expect(noticeOf('Revoked 2 keys of sam.')).toBe('Revoked 2 keys of sam.');
  });

  it("is nothing when the change resolved to the API's answer or to nothing", () => {
    expect(noticeOf({ revoked: 2 })).toBe('');
    expect(noticeOf(undefined)).toBe('');
  });
});
