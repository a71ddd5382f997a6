// Line diff for the web UI's "diff two versions" view: Myers' O(ND) algorithm over lines,
// and the side-by-side rows the page draws from it. No dependencies, so it runs unchanged in
// the browser and under `node --test` (ui/tests/diff.test.mjs).

/**
 * The edit script turning lines `a` into lines `b`, shortest first (Myers 1986): a list of
 * `{op: 'eq'|'del'|'add', text, a?, b?}` where `a`/`b` are 0-based line indexes.
 */
export function diffLines(a, b) {
  // Common prefix and suffix cost nothing and shrink the search.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const ops = [];
  for (let i = 0; i < start; i++) ops.push({ op: 'eq', text: a[i], a: i, b: i });
  ops.push(...middle(a, b, start, endA, start, endB));
  for (let i = endA, j = endB; i < a.length; i++, j++) ops.push({ op: 'eq', text: a[i], a: i, b: j });
  return ops;
}

/** Myers' greedy forward search on a[a0..a1) and b[b0..b1), with the trace to backtrack. */
function middle(a, b, a0, a1, b0, b1) {
  const n = a1 - a0;
  const m = b1 - b0;
  if (n === 0) return range(b0, b1).map((j) => ({ op: 'add', text: b[j], b: j }));
  if (m === 0) return range(a0, a1).map((i) => ({ op: 'del', text: a[i], a: i }));
  const max = n + m;
  const offset = max + 1;
  let v = new Int32Array(2 * max + 3);
  const trace = [];
  let found = -1;
  for (let d = 0; d <= max && found < 0; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x =
        k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1]) ? v[offset + k + 1] : v[offset + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[a0 + x] === b[b0 + y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
  }
  // Backtrack through the saved frontiers, from the end to the start.
  const ops = [];
  let x = n;
  let y = m;
  for (let d = found; d > 0; d--) {
    const prev = trace[d];
    const k = x - y;
    const down = k === -d || (k !== d && prev[offset + k - 1] < prev[offset + k + 1]);
    const prevK = down ? k + 1 : k - 1;
    const prevX = prev[offset + prevK];
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
      ops.push({ op: 'eq', text: a[a0 + x], a: a0 + x, b: b0 + y });
    }
    if (down) {
      y--;
      ops.push({ op: 'add', text: b[b0 + y], b: b0 + y });
    } else {
      x--;
      ops.push({ op: 'del', text: a[a0 + x], a: a0 + x });
    }
  }
  while (x > 0 && y > 0) {
    x--;
    y--;
    ops.push({ op: 'eq', text: a[a0 + x], a: a0 + x, b: b0 + y });
  }
  return ops.reverse();
}

function range(from, to) {
  const out = [];
  for (let i = from; i < to; i++) out.push(i);
  return out;
}

/**
 * Side-by-side rows: `{left, right, kind}` with `left`/`right` `{n, text}` (1-based line
 * numbers) or null. A run of deletions followed by additions is paired line by line as
 * `change`; the rest are `same`, `del` (left only) or `add` (right only).
 */
export function sideBySide(ops) {
  const rows = [];
  let i = 0;
  while (i < ops.length) {
    const op = ops[i];
    if (op.op === 'eq') {
      rows.push({ kind: 'same', left: { n: op.a + 1, text: op.text }, right: { n: op.b + 1, text: op.text } });
      i++;
      continue;
    }
    const dels = [];
    const adds = [];
    while (i < ops.length && ops[i].op !== 'eq') {
      (ops[i].op === 'del' ? dels : adds).push(ops[i]);
      i++;
    }
    const paired = Math.min(dels.length, adds.length);
    for (let j = 0; j < Math.max(dels.length, adds.length); j++) {
      const d = dels[j];
      const a = adds[j];
      rows.push({
        kind: j < paired ? 'change' : d ? 'del' : 'add',
        left: d ? { n: d.a + 1, text: d.text } : null,
        right: a ? { n: a.b + 1, text: a.text } : null,
      });
    }
  }
  return rows;
}

/** How many lines were added and removed. */
export function stats(ops) {
  let added = 0;
  let removed = 0;
  for (const op of ops) {
    if (op.op === 'add') added++;
    else if (op.op === 'del') removed++;
  }
  return { added, removed };
}

/**
 * The differing middle of two changed lines, to mark within a `change` row: `[prefix,
 * suffix]` lengths common to both (the rest of each line is what changed).
 */
export function changedSpan(left, right) {
  let p = 0;
  while (p < left.length && p < right.length && left[p] === right[p]) p++;
  let s = 0;
  while (s < left.length - p && s < right.length - p && left[left.length - 1 - s] === right[right.length - 1 - s]) s++;
  return [p, s];
}
