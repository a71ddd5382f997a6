// Unit tests of the web UI's line diff (ui/diff.mjs): `node --test ui/tests/`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffLines, sideBySide, stats, changedSpan } from '../diff.mjs';

/** Applies an edit script to `a`: must give `b`, and keep every `eq` line in place. */
function replay(a, b, ops) {
  const out = [];
  for (const op of ops) {
    if (op.op === 'eq') {
      assert.equal(a[op.a], op.text);
      assert.equal(b[op.b], op.text);
      out.push(op.text);
    } else if (op.op === 'add') {
      assert.equal(b[op.b], op.text);
      out.push(op.text);
    } else {
      assert.equal(a[op.a], op.text);
    }
  }
  assert.deepEqual(out, b);
  assert.deepEqual(ops.filter((o) => o.op !== 'add').map((o) => o.text), a);
}

test('identical and empty inputs', () => {
  assert.deepEqual(diffLines([], []), []);
  const same = diffLines(['a', 'b'], ['a', 'b']);
  assert.deepEqual(same.map((o) => o.op), ['eq', 'eq']);
  assert.deepEqual(diffLines([], ['x']), [{ op: 'add', text: 'x', b: 0 }]);
  assert.deepEqual(diffLines(['x'], []), [{ op: 'del', text: 'x', a: 0 }]);
});

test('a field added in the middle is one addition', () => {
  const a = ['{', '  "a": 1,', '  "c": 3', '}'];
  const b = ['{', '  "a": 1,', '  "b": 2,', '  "c": 3', '}'];
  const ops = diffLines(a, b);
  replay(a, b, ops);
  assert.deepEqual(stats(ops), { added: 1, removed: 0 });
  assert.deepEqual(ops.find((o) => o.op === 'add'), { op: 'add', text: '  "b": 2,', b: 2 });
});

test('the script is the shortest (classic Myers example)', () => {
  const a = 'ABCABBA'.split('');
  const b = 'CBABAC'.split('');
  const ops = diffLines(a, b);
  replay(a, b, ops);
  const { added, removed } = stats(ops);
  assert.equal(added + removed, 5);
});

test('random inputs replay and are never longer than delete-all + add-all', () => {
  let seed = 42;
  const rand = (n) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (let round = 0; round < 300; round++) {
    const a = Array.from({ length: rand(12) }, () => 'abcd'[rand(4)]);
    const b = Array.from({ length: rand(12) }, () => 'abcd'[rand(4)]);
    const ops = diffLines(a, b);
    replay(a, b, ops);
    const { added, removed } = stats(ops);
    assert.ok(added + removed <= a.length + b.length);
    // The edit distance without substitutions is a.length + b.length - 2 * LCS.
    assert.equal(added + removed, a.length + b.length - 2 * lcs(a, b));
  }
});

function lcs(a, b) {
  const t = Array.from({ length: a.length + 1 }, () => new Array(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      t[i][j] = a[i - 1] === b[j - 1] ? t[i - 1][j - 1] + 1 : Math.max(t[i - 1][j], t[i][j - 1]);
  return t[a.length][b.length];
}

test('side by side pairs deletions with additions as changes', () => {
  const a = ['x', 'old1', 'old2', 'y'];
  const b = ['x', 'new1', 'y', 'z'];
  const rows = sideBySide(diffLines(a, b));
  assert.deepEqual(
    rows.map((r) => r.kind),
    ['same', 'change', 'del', 'same', 'add'],
  );
  assert.deepEqual(rows[1].left, { n: 2, text: 'old1' });
  assert.deepEqual(rows[1].right, { n: 2, text: 'new1' });
  assert.equal(rows[2].right, null);
  assert.deepEqual(rows[4], { kind: 'add', left: null, right: { n: 4, text: 'z' } });
});

test('changed span of a line', () => {
  assert.deepEqual(changedSpan('  "type": "int"', '  "type": "long"'), [11, 1]);
  assert.deepEqual(changedSpan('same', 'same'), [4, 0]);
  assert.deepEqual(changedSpan('', 'abc'), [0, 0]);
});
