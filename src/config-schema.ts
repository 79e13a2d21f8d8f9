import { quote } from './errors.js';

/**
 * A small validator for the JSON config: each rule checks one value and reports problems with
 * the key, the value found and what is expected, so `check` can list every problem at once.
 */

export interface Problem {
  key: string;
  value: unknown;
  expected: string;
  /** Set for a key the schema does not know: its value may be anything, a secret included. */
  unknown?: true;
}

/**
 * Where the config holds secrets: API keys, secret keys, the ingest secret and target secrets.
 * Letter case is ignored, so a misspelled `Secret` is hidden as well as `secret`.
 */
const SECRET_PLACES = /^(apiKeys|secretKeys|ingest\.secret|targets\[\d+\]\.secret)([.[]|$)/i;

/**
 * Sections and lists that hold a secret somewhere inside. A problem with one of them as a whole
 * (a list written as a string, say) may be about the secret itself.
 */
const SECRET_CONTAINERS = /^(|ingest|targets|targets\[\d+\])$/i;

/** A problem names the key and what is expected, and shows the value only when it is safe to. */
export function describeProblem(problem: Problem): string {
  const found = problem.value === undefined ? 'it is missing' : `got ${shownValue(problem)}`;
  return `${problem.key}: expected ${problem.expected}, ${found}`;
}

function shownValue(problem: Problem): string {
  const { key, value } = problem;
  const hidden = problem.unknown === true || SECRET_PLACES.test(key) || SECRET_CONTAINERS.test(key);
  return hidden ? `a value that is not shown (${shape(value)})` : quote(value);
}

/** What a hidden value is, without any of its content. */
function shape(value: unknown): string {
  if (typeof value === 'string') return `${value.length} characters`;
  if (Array.isArray(value)) return `a list of ${value.length} item${value.length === 1 ? '' : 's'}`;
  return value === null ? 'null' : typeof value;
}

export interface Context {
  problems: Problem[];
  /** Keys whose value came from a "${NAME}" substitution, so "8080" may stand for 8080. */
  substituted: ReadonlySet<string>;
}

export type Rule<T> = (value: unknown, key: string, context: Context) => T | undefined;

export function fail(context: Context, key: string, value: unknown, expected: string): undefined {
  context.problems.push({ key, value, expected });
  return undefined;
}

function fromEnvironment(value: unknown, key: string, context: Context): unknown {
  if (typeof value !== 'string' || !context.substituted.has(key)) return value;
  if (/^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  if (value === 'true' || value === 'false') return value === 'true';
  return value;
}

export function integer(min: number, max: number): Rule<number> {
  const expected = `an integer from ${min} to ${max}`;
  return (raw, key, context) => {
    const value = fromEnvironment(raw, key, context);
    return Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max
      ? (value as number)
      : fail(context, key, raw, expected);
  };
}

export function positiveNumber(max: number): Rule<number> {
  const expected = `a number above 0 and at most ${max}`;
  return (raw, key, context) => {
    const value = fromEnvironment(raw, key, context);
    return typeof value === 'number' && value > 0 && value <= max
      ? value
      : fail(context, key, raw, expected);
  };
}

export const boolean: Rule<boolean> = (raw, key, context) => {
  const value = fromEnvironment(raw, key, context);
  return typeof value === 'boolean' ? value : fail(context, key, raw, 'true or false');
};

export function string(
  options: { minLength?: number; pattern?: RegExp; expected?: string } = {},
): Rule<string> {
  const minLength = options.minLength ?? 1;
  const expected =
    options.expected ?? `a string of at least ${minLength} character${minLength === 1 ? '' : 's'}`;
  return (value, key, context) =>
    typeof value === 'string' && value.length >= minLength && (options.pattern?.test(value) ?? true)
      ? value
      : fail(context, key, value, expected);
}

export function oneOf<T extends string>(choices: readonly T[]): Rule<T> {
  const expected = `one of ${choices.map((choice) => JSON.stringify(choice)).join(', ')}`;
  return (value, key, context) =>
    choices.includes(value as T) ? (value as T) : fail(context, key, value, expected);
}

export function nullable<T>(rule: Rule<T>): Rule<T | null> {
  return (value, key, context) => (value === null ? null : rule(value, key, context));
}

export function listOf<T>(
  item: Rule<T>,
  options: { minItems?: number; maxItems?: number } = {},
): Rule<T[]> {
  const { minItems = 0, maxItems = 10_000 } = options;
  return (value, key, context) => {
    if (!Array.isArray(value) || value.length < minItems || value.length > maxItems) {
      const size = minItems > 0 ? `${minItems} to ${maxItems}` : `at most ${maxItems}`;
      return fail(context, key, value, `a list of ${size} items`);
    }
    const items = value.map((entry, index) => item(entry, `${key}[${index}]`, context));
    return items.every((entry) => entry !== undefined) ? (items as T[]) : undefined;
  };
}

type Fields<T> = { [K in keyof T]: Rule<T[K]> };

/**
 * An object with exactly these keys. A key that is missing takes its value from `defaults`;
 * a key with no default is required. Unknown keys are problems, so typos never pass silently.
 */
export function section<T extends object>(fields: Fields<T>, defaults: Partial<T> = {}): Rule<T> {
  return (value, key, context) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return fail(context, key, value, 'an object');
    }
    const raw = value as Record<string, unknown>;
    const prefix = key === '' ? '' : `${key}.`;
    for (const name of Object.keys(raw)) {
      if (!Object.hasOwn(fields, name)) {
        const known = Object.keys(fields).join(', ');
        const expected = `no such key (known keys here: ${known})`;
        const problem: Problem = { key: `${prefix}${name}`, value: raw[name], expected };
        context.problems.push({ ...problem, unknown: true });
      }
    }

    const result: Partial<T> = {};
    let complete = true;
    for (const name of Object.keys(fields) as Array<keyof T & string>) {
      const checked = Object.hasOwn(raw, name)
        ? fields[name](raw[name], `${prefix}${name}`, context)
        : defaultFor(defaults, name, `${prefix}${name}`, context);
      if (checked === undefined) complete = false;
      else result[name] = checked as T[typeof name];
    }
    return complete ? (result as T) : undefined;
  };
}

function defaultFor<T>(
  defaults: Partial<T>,
  name: keyof T,
  key: string,
  context: Context,
): unknown {
  if (Object.hasOwn(defaults, name)) return structuredClone(defaults[name]);
  return fail(context, key, undefined, 'a value (this key is required)');
}

/** A list whose items must differ in `field`; a repeat is reported at the later item. */
export function unique<T extends object>(rule: Rule<T[]>, field: keyof T & string): Rule<T[]> {
  return (value, key, context) => {
    const items = rule(value, key, context);
    if (items === undefined) return undefined;
    const seen = new Set<unknown>();
    let clean = true;
    items.forEach((item, index) => {
      if (seen.has(item[field])) {
        fail(context, `${key}[${index}].${field}`, item[field], `a ${field} no other entry has`);
        clean = false;
      }
      seen.add(item[field]);
    });
    return clean ? items : undefined;
  };
}
