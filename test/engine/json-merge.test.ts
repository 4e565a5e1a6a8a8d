/**
 * Pure JSON operations: RFC 7386 merge patch (every example of its Appendix A), the three-way
 * merge by path, and the edits between two values.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  editsBetween,
  equalValues,
  type JsonMergeConflict,
  mergePatch,
  mergeValues,
} from '../../src/engine/json-merge.js';
import { formatPath } from '../../src/engine/json-path.js';
import type { Value } from '../../src/engine/value-codec.js';

describe('mergePatch (RFC 7386)', () => {
  it('matches every example of Appendix A', () => {
    const cases: [Value, Value, Value][] = [
      [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
      [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
      [{ a: 'b' }, { a: null }, {}],
      [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
      [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
      [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
      [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
      [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
      [
        ['a', 'b'],
        ['c', 'd'],
        ['c', 'd'],
      ],
      [{ a: 'b' }, ['c'], ['c']],
      [{ a: 'foo' }, null, null],
      [{ a: 'foo' }, 'bar', 'bar'],
      [{ e: null }, { a: 1 }, { e: null, a: 1 }],
      [[1, 2], { a: 'b', c: null }, { a: 'b' }],
      [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
    ];
    for (const [target, patch, result] of cases) {
      assert.deepEqual(mergePatch(target, patch), result, JSON.stringify([target, patch]));
    }
    // The RFC's section 3 example, with member order.
    const doc = {
      title: 'Goodbye!',
      author: { givenName: 'John', familyName: 'Doe' },
      tags: ['example', 'sample'],
      content: 'This will be unchanged',
    };
    const patch = {
      title: 'Hello!',
      phoneNumber: '+01-123-456-7890',
      author: { familyName: null },
      tags: ['example'],
    };
    const want = {
      title: 'Hello!',
      author: { givenName: 'John' },
      tags: ['example'],
      content: 'This will be unchanged',
      phoneNumber: '+01-123-456-7890',
    };
    const got = mergePatch(doc, patch);
    assert.deepEqual(got, want);
    assert.deepEqual(Object.keys(got as object), Object.keys(want));
    assert.equal(doc.title, 'Goodbye!', 'the target is not mutated');
  });

  it('treats __proto__ as an ordinary member', () => {
    const patch = JSON.parse('{"__proto__": {"x": 1}}') as Value;
    const got = mergePatch({}, patch) as Record<string, Value>;
    assert.ok(Object.hasOwn(got, '__proto__'));
    assert.equal(Object.getPrototypeOf(got), Object.prototype);
  });
});

describe('mergeValues (three-way by path)', () => {
  const run = (
    b: Value | undefined,
    s: Value | undefined,
    t: Value | undefined,
    strategy: 'strict' | 'source-wins' | 'target-wins' = 'strict',
  ) => {
    const conflicts: JsonMergeConflict[] = [];
    const r = mergeValues(b, s, t, strategy, conflicts);
    return { r, paths: conflicts.map((c) => formatPath(c.steps)), conflicts };
  };

  it('merges changes to different paths cleanly', () => {
    const b = { a: 1, b: { x: 1, y: 1 }, c: [1, 2, 3] };
    const s = { a: 2, b: { x: 1, y: 2 }, c: [1, 2, 4] };
    const t = { a: 1, b: { x: 5, y: 1 }, c: [0, 2, 3], d: true };
    const { r, paths } = run(b, s, t);
    assert.deepEqual(paths, []);
    assert.deepEqual(r, { a: 2, b: { x: 5, y: 2 }, c: [0, 2, 4], d: true });
  });

  it('reports the same path changed differently, and resolves it per strategy', () => {
    const b = { a: 1, k: 'same' };
    const s = { a: 2, k: 'same', n: 's' };
    const t = { a: 3, k: 'same', n: 't' };
    const strict = run(b, s, t);
    assert.deepEqual(strict.paths, ['$.a', '$.n']);
    assert.deepEqual(strict.conflicts[0], {
      steps: [{ kind: 'name', name: 'a' }],
      base: 1,
      source: 2,
      target: 3,
    });
    assert.equal(strict.conflicts[1]!.base, undefined);
    assert.deepEqual(run(b, s, t, 'source-wins').r, { a: 2, k: 'same', n: 's' });
    assert.deepEqual(run(b, s, t, 'target-wins').r, { a: 3, k: 'same', n: 't' });
  });

  it('handles deletes, identical changes, and arrays of different lengths as whole values', () => {
    assert.deepEqual(run({ a: 1, b: 2 }, { b: 2 }, { a: 1, b: 3 }).r, { b: 3 });
    assert.deepEqual(run({ a: 1 }, { a: 2 }, { a: 2 }).paths, []);
    const arr = run({ l: [1] }, { l: [1, 2] }, { l: [0] });
    assert.deepEqual(arr.paths, ['$.l']);
    assert.deepEqual(run({ l: [1] }, { l: [1, 2] }, { l: [1] }).r, { l: [1, 2] });
    // Deleted on one side, changed on the other: a conflict at that path.
    const del = run({ a: { x: 1 } }, {}, { a: { x: 2 } });
    assert.deepEqual(del.paths, ['$.a']);
    // Both sides created the document differently.
    assert.deepEqual(run(undefined, { a: 1 }, { a: 2 }).paths, ['$']);
    // Deleted on both sides.
    assert.equal(run({ a: 1 }, undefined, undefined).r, undefined);
  });

  it('keeps the target member order, then the source-only members', () => {
    const { r } = run({ a: 1 }, { a: 1, s1: 1, s2: 2 }, { t1: 0, a: 1 });
    assert.deepEqual(Object.keys(r as object), ['t1', 'a', 's1', 's2']);
  });
});

describe('equalValues and editsBetween', () => {
  it('compares exactly', () => {
    assert.ok(!equalValues(0, -0));
    assert.ok(equalValues(Number.NaN, Number.NaN));
    assert.ok(equalValues(new Uint8Array([1, 2]), new Uint8Array([1, 2])));
    assert.ok(!equalValues(new Uint8Array([1]), [1]));
    assert.ok(!equalValues({ a: 1, b: 2 }, { b: 2, a: 1 }));
    assert.ok(!equalValues(undefined, null));
  });

  it('lists the edits by path', () => {
    const from = { a: 1, b: { x: [1, 2], y: 2 }, gone: true };
    const to = { a: 1, b: { x: [1, 3], y: 2, z: 0 }, l: [] };
    const e = editsBetween(from, to).map((x) => [formatPath(x.steps), x.value]);
    assert.deepEqual(e, [
      ['$.gone', undefined],
      ['$.b.x[1]', 3],
      ['$.b.z', 0],
      ['$.l', []],
    ]);
    assert.deepEqual(editsBetween(1, 2), [{ steps: [], value: 2 }]);
  });
});
