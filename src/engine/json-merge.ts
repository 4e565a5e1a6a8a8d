/**
 * Pure operations on JSON values (no storage): equality, RFC 7386 merge patch, the three-way
 * merge by path that branch merges use, and the list of paths where two values differ.
 *
 * Values are never mutated: each function returns new containers where it changes something and
 * shares the untouched ones. Members are set with defineProperty, so a member named `__proto__`
 * is an ordinary member.
 */
import type { MergeStrategy } from '../storage/index.js';
import type { JsonStep } from './json-path.js';
import type { Value } from './value-codec.js';

/** A plain object value (not an array, not bytes, not null). */
export type JsonObject = { [key: string]: Value };

/** Whether `v` is an object value (members by name). */
export function isObject(v: Value | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** Sets member `k` of `o` as an own, enumerable property (also for `__proto__`). */
export function setMember(o: JsonObject, k: string, v: Value): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/** Whether `o` has its own member `k`. */
export function hasMember(o: JsonObject, k: string): boolean {
  return Object.hasOwn(o, k);
}

/**
 * Exact equality of two values as Strata stores them: numbers by Object.is (so -0 ≠ 0 and NaN
 * = NaN), bytes by content, objects by members in the same order, arrays by elements.
 */
export function equalValues(a: Value | undefined, b: Value | undefined): boolean {
  if (a === b) return a !== 0 || Object.is(a, b);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return typeof a === 'number' && typeof b === 'number' && Object.is(a, b);
  }
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!(Array.isArray(a) && Array.isArray(b)) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!equalValues(a[i], b[i])) return false;
    return true;
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    if (ka[i] !== kb[i] || !equalValues(a[ka[i]!], b[kb[i]!])) return false;
  }
  return true;
}

/**
 * RFC 7386 merge patch: `patch` applied to `target` (undefined when missing). An object patch
 * merges into an object target member by member (`null` removes a member; a member that is an
 * object merges recursively; anything else replaces); a non-object target is treated as `{}`.
 * Any other patch replaces the target. Existing members keep their order; new ones go last.
 */
export function mergePatch(target: Value | undefined, patch: Value): Value {
  if (!isObject(patch)) return patch;
  const out: JsonObject = {};
  if (isObject(target)) for (const k of Object.keys(target)) setMember(out, k, target[k]!);
  for (const k of Object.keys(patch)) {
    const p = patch[k]!;
    if (p === null) delete out[k];
    else setMember(out, k, mergePatch(hasMember(out, k) ? out[k] : undefined, p));
  }
  return out;
}

/** A place where the source and target of a merge changed one path differently. */
export interface JsonMergeConflict {
  steps: JsonStep[];
  base: Value | undefined;
  source: Value | undefined;
  target: Value | undefined;
}

/**
 * Three-way merge of one document by path. At each path: if source and target agree, or only
 * one side changed it since the base, that side's value is taken; where all three are objects,
 * members merge one by one; where all three are arrays of one length, elements merge one by one;
 * anything else changed on both sides is a conflict, resolved by `strategy` ('source-wins' takes
 * the source, otherwise the target stays) and pushed to `conflicts`. Undefined means missing.
 * The result's members follow the target's order, then members only the source has.
 */
export function mergeValues(
  base: Value | undefined,
  source: Value | undefined,
  target: Value | undefined,
  strategy: MergeStrategy,
  conflicts: JsonMergeConflict[],
  steps: JsonStep[] = [],
): Value | undefined {
  if (equalValues(source, target)) return target;
  if (equalValues(base, source)) return target;
  if (equalValues(base, target)) return source;
  if (isObject(base) && isObject(source) && isObject(target)) {
    const out: JsonObject = {};
    const member = (o: JsonObject, k: string): Value | undefined => (hasMember(o, k) ? o[k] : undefined);
    const keys = [...Object.keys(target), ...Object.keys(source).filter((k) => !hasMember(target, k))];
    for (const k of keys) {
      const r = mergeValues(member(base, k), member(source, k), member(target, k), strategy, conflicts, [
        ...steps,
        { kind: 'name', name: k },
      ]);
      if (r !== undefined) setMember(out, k, r);
    }
    return out;
  }
  if (
    Array.isArray(base) &&
    Array.isArray(source) &&
    Array.isArray(target) &&
    base.length === source.length &&
    base.length === target.length
  ) {
    return target.map(
      (t, i) =>
        mergeValues(base[i], source[i], t, strategy, conflicts, [
          ...steps,
          { kind: 'index', index: i },
        ]) as Value,
    );
  }
  conflicts.push({ steps, base, source, target });
  return strategy === 'source-wins' ? source : target;
}

/** One change that turns a value into another: a path and its new value (undefined: removed). */
export interface JsonEdit {
  steps: JsonStep[];
  value: Value | undefined;
}

/**
 * The smallest edits by path that turn `from` into `to`: members of two objects and elements of
 * two arrays of one length are compared one by one; anything else that differs is one edit of
 * the whole value at that path — also two objects whose member order member edits could not
 * reproduce (new members go last), so that applying the edits gives exactly `to`. Stops after `max` edits (the list is then incomplete).
 */
export function editsBetween(
  from: Value | undefined,
  to: Value | undefined,
  out: JsonEdit[] = [],
  steps: JsonStep[] = [],
  max = Number.POSITIVE_INFINITY,
): JsonEdit[] {
  if (out.length >= max || equalValues(from, to)) return out;
  if (isObject(from) && isObject(to) && sameOrderAfterEdits(from, to)) {
    for (const k of Object.keys(from)) {
      if (!hasMember(to, k)) out.push({ steps: [...steps, { kind: 'name', name: k }], value: undefined });
      if (out.length >= max) return out;
    }
    for (const k of Object.keys(to)) {
      const s: JsonStep[] = [...steps, { kind: 'name', name: k }];
      if (!hasMember(from, k)) out.push({ steps: s, value: to[k] });
      else editsBetween(from[k], to[k], out, s, max);
      if (out.length >= max) return out;
    }
    return out;
  }
  if (Array.isArray(from) && Array.isArray(to) && from.length === to.length) {
    for (let i = 0; i < to.length && out.length < max; i++)
      editsBetween(from[i], to[i], out, [...steps, { kind: 'index', index: i }], max);
    return out;
  }
  out.push({ steps, value: to });
  return out;
}

/** Whether removing `from`'s members that `to` lacks and appending `to`'s new ones gives `to`'s order. */
function sameOrderAfterEdits(from: JsonObject, to: JsonObject): boolean {
  const order = [
    ...Object.keys(from).filter((k) => hasMember(to, k)),
    ...Object.keys(to).filter((k) => !hasMember(from, k)),
  ];
  const want = Object.keys(to);
  return order.length === want.length && order.every((k, i) => k === want[i]);
}
