// How the portal shows prices, money, context windows, providers and snippets, and reads
// the numbers typed in its forms, in one place.
// Money, prices, counts and context windows follow the rules the JupyterLab extension
// uses too: one module, src/numbers.ts, which both import.
export { contextK, count, money, perMillion } from '../../src/numbers';

/** A number field's value for the API: null when empty; what was typed when it is no
 * number, so that the API answers with its sentence. */
export function optionalNumber(text: string): number | null {
  if (text.trim() === '') {
    return null;
  }
  const value = Number(text);
  return (Number.isNaN(value) ? text : value) as number;
}

/** A short, readable form of a value in a table cell. */
export function brief(value: unknown): string {
  if (value === null || value === undefined) {
    return '-';
  }
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 80 ? text.slice(0, 77) + '...' : text;
}

/** An API time (ISO, UTC) to the minute: "2027-01-31 23:00 UTC"; "-" for none. */
export const when = (iso: string | null | undefined) => (iso ? iso.slice(0, 16).replace('T', ' ') + ' UTC' : '-');

/** A number (or text) as a form field shows it: empty for none. */
export const shown = (value: number | string | null | undefined) => (value === null || value === undefined ? '' : String(value));

/** The provider of a LiteLLM-style or Hugging Face style name: what comes before the
 * first "/", else the name's first word. */
export function provider(name: string): string {
  const slash = name.indexOf('/');
  if (slash > 0) {
    return name.slice(0, slash);
  }
  return name.split(/[-_:.]/)[0] || name;
}

/** A stable accent colour per provider, from the theme's chart palette. */
export const PALETTE = [
  '#E07A5F',
  '#81B29A',
  '#3D405B',
  '#F2CC8F',
  '#F4A261',
  '#E76F51',
  '#2A9D8F',
  '#264653'
];

export function accent(name: string): string {
  let hash = 0;
  for (const ch of provider(name)) {
    hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  }
  return PALETTE[hash % PALETTE.length];
}

/** A message of a conversation, as OpenAI's chat completions take it. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Sampling settings a snippet passes on (those set). */
export interface ChatParams {
  temperature?: number;
  max_tokens?: number;
}

const HELLO: ChatMessage[] = [{ role: 'user', content: 'Hello!' }];

/** Python's literal for a JSON value (True, False, None; strings as JSON writes them). */
function python(value: unknown, indent: string): string {
  if (value === null || value === undefined) {
    return 'None';
  }
  if (typeof value === 'boolean') {
    return value ? 'True' : 'False';
  }
  if (Array.isArray(value)) {
    const inner = indent + '    ';
    return `[\n${value.map(v => inner + python(v, inner)).join(',\n')},\n${indent}]`;
  }
  if (typeof value === 'object') {
    const items = Object.entries(value as Record<string, unknown>).map(
      ([k, v]) => `${JSON.stringify(k)}: ${python(v, indent)}`
    );
    return `{${items.join(', ')}}`;
  }
  return JSON.stringify(value);
}

/** Code that sends ``messages`` (a hello by default) to ``model`` through the gateway at
 * ``baseUrl`` with ``key`` (else $OPENAI_API_KEY), in Python, cURL and Node. */
export function snippets(
  baseUrl: string,
  model: string,
  key = '$OPENAI_API_KEY',
  messages: ChatMessage[] = HELLO,
  params: ChatParams = {}
) {
  const m = JSON.stringify(model);
  const pyKey = key.startsWith('$') ? '' : `, api_key=${JSON.stringify(key)}`;
  const set = Object.entries(params).filter(([, v]) => v !== undefined);
  const body = { model, messages, ...Object.fromEntries(set) };
  const nodeMessages = JSON.stringify(messages, null, 2).replace(/\n/g, '\n  ');
  return {
    python:
      'from openai import OpenAI\n\n' +
      `client = OpenAI(base_url=${JSON.stringify(baseUrl)}${pyKey})\n` +
      `reply = client.chat.completions.create(\n    model=${m},\n` +
      `    messages=${python(messages, '    ')},\n` +
      set.map(([k, v]) => `    ${k}=${python(v, '    ')},\n`).join('') +
      ')\n' +
      'print(reply.choices[0].message.content)\n',
    curl:
      `curl ${baseUrl}/chat/completions \\\n` +
      `  -H "Authorization: Bearer ${key}" \\\n` +
      '  -H "Content-Type: application/json" \\\n' +
      `  -d '${JSON.stringify(body).replace(/'/g, "'\\''")}'\n`,
    node:
      "import OpenAI from 'openai';\n\n" +
      `const client = new OpenAI({ baseURL: ${JSON.stringify(baseUrl)}` +
      (key.startsWith('$') ? '' : `, apiKey: ${JSON.stringify(key)}`) +
      ' });\n' +
      `const reply = await client.chat.completions.create({\n  model: ${m},\n` +
      `  messages: ${nodeMessages}` +
      set.map(([k, v]) => `,\n  ${k}: ${JSON.stringify(v)}`).join('') +
      '\n});\n' +
      'console.log(reply.choices[0].message.content);\n'
  };
}
