/**
 * The JSON path parser: every accepted form, every malformed case (with the position it names),
 * the limits, and formatPath round trips.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isStrataError,
  JSON_PATH_LENGTH_MAX,
  JSON_PATH_STEPS_MAX,
  SeededRandom,
} from '../../src/base/index.js';
import { formatPath, type JsonStep, parsePath } from '../../src/engine/json-path.js';

const name = (n: string): JsonStep => ({ kind: 'name', name: n });
const index = (i: number): JsonStep => ({ kind: 'index', index: i });

describe('parsePath', () => {
  it('reads every accepted form', () => {
    const cases: [string, JsonStep[]][] = [
      ['$', []],
      ['$.a', [name('a')]],
      ['$.steps[0].tool', [name('steps'), index(0), name('tool')]],
      ['$._x9', [name('_x9')]],
      ['$.café', [name('café')]],
      ["$['a b']", [name('a b')]],
      ['$["a b"]', [name('a b')]],
      ["$['']", [name('')]],
      ["$['it\\'s']", [name("it's")]],
      ['$["say \\"hi\\""]', [name('say "hi"')]],
      ["$['\\\\\\/\\b\\f\\n\\r\\t']", [name('\\/\b\f\n\r\t')]],
      ["$['\\u00e9\\uD83D\\uDE00']", [name('é😀')]],
      ["$['\"']", [name('"')]],
      ['$["\'"]', [name("'")]],
      ['$[12]', [index(12)]],
      ['$[-1]', [index(-1)]],
      ["$[ 3 ][ 'x' ]", [index(3), name('x')]],
      ['$[0][1][2]', [index(0), index(1), index(2)]],
      ['$.a.b.c', [name('a'), name('b'), name('c')]],
    ];
    for (const [path, steps] of cases) assert.deepEqual(parsePath(path), steps, path);
  });

  it('rejects every malformed path with invalid_argument naming the position', () => {
    const cases: [unknown, number | undefined][] = [
      ['', 0],
      ['a', 0],
      ['.a', 0],
      ['$.', 2],
      ['$a', 1],
      ['$..a', 2],
      ['$.1a', 2],
      ['$.a-b', 3],
      ['$.a b', 3],
      ['$[', 2],
      ['$[]', 2],
      ['$[x]', 2],
      ['$[1', 3],
      ['$[1x]', 3],
      ['$[01]', 2],
      ['$[-0]', 2],
      ['$[-]', 3],
      ['$[1.5]', 3],
      ['$[99999999999]', 2],
      ["$['a", 4],
      ["$['a'", 5],
      ["$['a'x]", 5],
      ["$['\\x']", 3],
      ["$['\\\"']", 3],
      ["$['\\u12']", 3],
      ["$['a\nb']", 4],
      ["$['\\", 3],
      ["$['\\uD800']", 2],
      ['$[*]', 2],
      ['$.a[?(@.x)]', 4],
      [42, undefined],
      [null, undefined],
      [undefined, undefined],
    ];
    for (const [path, at] of cases) {
      assert.throws(
        () => parsePath(path),
        (e: unknown) => {
          assert.ok(isStrataError(e, 'invalid_argument'), `${String(path)}: ${String(e)}`);
          if (at !== undefined)
            assert.match((e as Error).message, new RegExp(`at position ${at}:`), String(path));
          return true;
        },
      );
    }
  });

  it('enforces the length and step limits', () => {
    assert.equal(parsePath(`$${'.a'.repeat(JSON_PATH_STEPS_MAX)}`).length, JSON_PATH_STEPS_MAX);
    assert.throws(() => parsePath(`$${'.a'.repeat(JSON_PATH_STEPS_MAX + 1)}`), /at most 128 steps/);
    assert.throws(() => parsePath(`$.${'a'.repeat(JSON_PATH_LENGTH_MAX)}`), /limit of 4096/);
  });

  it('formatPath writes what parsePath reads back', () => {
    const rnd = new SeededRandom(7);
    const alphabet = ['a', 'Z', '_', '0', ' ', "'", '"', '\\', '\n', 'é', '😀', '.', '[', ']', '$'];
    for (let n = 0; n < 500; n++) {
      const steps: JsonStep[] = [];
      for (let i = rnd.int(5); i > 0; i--) {
        if (rnd.bool()) steps.push(index(rnd.int(3) === 0 ? -1 - rnd.int(5) : rnd.int(1000)));
        else {
          let s = '';
          for (let j = rnd.int(5); j > 0; j--) s += alphabet[rnd.int(alphabet.length)];
          steps.push(name(s));
        }
      }
      const text = formatPath(steps);
      assert.deepEqual(parsePath(text), steps, text);
    }
    assert.equal(formatPath([name('a'), index(0), name('b c')]), "$.a[0]['b c']");
  });
});
