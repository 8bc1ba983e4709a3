import React, { useRef, useState } from 'react';

import { api, ApiError, me, Model, Policy, streamChat } from '../api';
import { Problem, Snippets, useLoad } from '../common';
import { ChatMessage, count, money } from '../format';

/** A turn of the conversation; an answer also has its tokens and cost once known. */
interface Turn extends ChatMessage {
  model?: string;
  tokens?: { prompt: number; completion: number; cost: number };
  stopped?: boolean;
}

/** What a turn cost at the model's catalog prices. */
function turnCost(model: Model | undefined, prompt: number, completion: number): number {
  return prompt * (model?.input_cost_per_token ?? 0) + completion * (model?.output_cost_per_token ?? 0);
}

function TurnView({ turn }: { turn: Turn }) {
  const answer = turn.role === 'assistant';
  return (
    <li className={`turn ${turn.role}`}>
      <p className="who">{answer ? turn.model : 'You'}</p>
      <p className="text">{turn.content || (answer && !turn.stopped ? '…' : '')}</p>
      {answer && turn.tokens ? (
        <p className="meta" data-testid="turn-usage">
          {count(turn.tokens.prompt)} in · {count(turn.tokens.completion)} out · {money(turn.tokens.cost)}
        </p>
      ) : null}
      {turn.stopped ? (
        <p className="meta">Stopped: what was generated until then counts in your usage.</p>
      ) : null}
    </li>
  );
}

/** Chat with one of my models: streamed answers, each turn's tokens and cost, through the
 * gateway with a key the service holds for me (counted as "playground"). */
export function PlaygroundPage() {
  const models = useLoad(() => api<{ models: Model[] }>('GET', 'models'));
  const policy = useLoad(() => api<Policy>('GET', `users/${me()}/policy`));
  const allowed = new Set(policy.data?.allowed_models ?? []);
  const mine = (models.data?.models ?? []).filter(m => allowed.has(m.name ?? '') && (m.mode ?? 'chat') === 'chat');
  const [chosen, setChosen] = useState('');
  const model = mine.find(m => m.name === chosen) ?? mine[0];
  const [temperature, setTemperature] = useState('0.7');
  const [maxTokens, setMaxTokens] = useState('256');
  const [turns, setTurns] = useState<Turn[]>([]);
  const [draft, setDraft] = useState('');
  const [problem, setProblem] = useState('');
  const [code, setCode] = useState(false);
  const running = useRef<AbortController | null>(null);
  const [streaming, setStreaming] = useState(false);

  const params = { temperature: Number(temperature), max_tokens: Number(maxTokens) };
  const history: ChatMessage[] = turns.map(({ role, content }) => ({ role, content }));

  const update = (change: (last: Turn) => Turn) =>
    setTurns(all => [...all.slice(0, -1), change(all[all.length - 1])]);

  async function send(event: React.FormEvent) {
    event.preventDefault();
    if (!model || !draft.trim() || streaming) {
      return;
    }
    const asked: ChatMessage[] = [...history, { role: 'user', content: draft }];
    setTurns([...asked, { role: 'assistant', content: '', model: model.name }]);
    setDraft('');
    setProblem('');
    const controller = new AbortController();
    running.current = controller;
    setStreaming(true);
    try {
      await streamChat(
        `users/${me()}/playground`,
        { model: model.name, messages: asked, ...params },
        controller.signal,
        {
          onText: text => update(last => ({ ...last, content: last.content + text })),
          onUsage: u =>
            update(last => ({
              ...last,
              tokens: {
                prompt: u.prompt_tokens,
                completion: u.completion_tokens,
                cost: turnCost(model, u.prompt_tokens, u.completion_tokens)
              }
            }))
        }
      );
    } catch (err) {
      if (controller.signal.aborted) {
        update(last => ({ ...last, stopped: true }));
      } else {
        setTurns(asked.slice(0, -1)); // refused: the question goes back to the box
        setDraft(asked[asked.length - 1].content);
        setProblem(err instanceof ApiError ? err.message : String(err));
      }
    } finally {
      running.current = null;
      setStreaming(false);
    }
  }

  const spent = turns.reduce(
    (sum, t) => ({
      tokens: sum.tokens + (t.tokens ? t.tokens.prompt + t.tokens.completion : 0),
      cost: sum.cost + (t.tokens?.cost ?? 0)
    }),
    { tokens: 0, cost: 0 }
  );

  if (models.data && policy.data && mine.length === 0) {
    return (
      <section className="playground">
        <h2>Chat</h2>
        <p className="empty">Your profile allows no chat model: ask your JupyterHub admin.</p>
      </section>
    );
  }
  return (
    <section className="playground">
      <h2>Chat</h2>
      <Problem text={models.error || policy.error || ''} />
      <form className="toolbar" aria-label="Chat settings" onSubmit={e => e.preventDefault()}>
        <label>
          Model{' '}
          <select value={model?.name ?? ''} onChange={e => setChosen(e.target.value)} disabled={streaming}>
            {mine.map(m => (
              <option key={m.name} value={m.name}>
                {m.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Temperature{' '}
          <input
            type="number"
            min={0}
            max={2}
            step={0.1}
            value={temperature}
            onChange={e => setTemperature(e.target.value)}
          />
        </label>
        <label>
          Max tokens{' '}
          <input type="number" min={1} step={1} value={maxTokens} onChange={e => setMaxTokens(e.target.value)} />
        </label>
      </form>
      <ol className="conversation card" aria-label="Conversation" aria-live="polite">
        {turns.length === 0 ? <li className="empty">Ask something to start.</li> : null}
        {turns.map((t, i) => (
          <TurnView key={i} turn={t} />
        ))}
      </ol>
      <p className="total" data-testid="chat-total">
        This conversation: {count(spent.tokens)} tokens, {money(spent.cost)} (also in your Usage, as
        &quot;playground&quot;)
      </p>
      <Problem text={problem} />
      <form className="ask" aria-label="Ask" onSubmit={send}>
        <label htmlFor="chat-message">Message</label>
        <textarea
          id="chat-message"
          rows={3}
          value={draft}
          onChange={e => setDraft(e.target.value)}
          onKeyDown={e => {
            if (e.key === 'Enter' && !e.shiftKey) {
              void send(e);
            }
          }}
        />
        <div className="buttons">
          <button type="submit" disabled={streaming || !draft.trim() || !model}>
            Send
          </button>
          <button type="button" disabled={!streaming} onClick={() => running.current?.abort()}>
            Stop
          </button>
          <button
            type="button"
            disabled={streaming || turns.length === 0}
            onClick={() => {
              setTurns([]);
              setProblem('');
            }}
          >
            Clear
          </button>
          <button type="button" aria-expanded={code} onClick={() => setCode(!code)}>
            View code
          </button>
        </div>
      </form>
      {code && model ? (
        <section className="card" aria-label="Code">
          <Snippets
            model={model.name ?? ''}
            first="python"
            messages={history.length ? history : undefined}
            params={params}
          />
        </section>
      ) : null}
    </section>
  );
}
