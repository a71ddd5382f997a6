// The web UI served at /ui: subjects, versions, diffs, compatibility checks and schemas by
// id, drawn from the registry's own REST API (same origin, fetch). Hash routes (`#/subject/x`)
// let one HTML page serve every view. With authentication on, the login form keeps Basic
// credentials (or a bearer token) in sessionStorage and sends them on each call.

import { diffLines, sideBySide, stats, changedSpan } from './diff.mjs';
import {
  escapeHtml as h,
  highlightSchema,
  lineHighlighter,
  prettySchema,
  schemaTags,
  schemaType,
  splitSubject,
  matches,
} from './format.mjs';

const LEVELS = ['NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE'];
const TYPES = ['AVRO', 'PROTOBUF', 'JSON'];
const WRITABLE_MODES = ['READWRITE'];
const PAGE = 100;
const AUTH_KEY = 'schemata.authorization';
const USER_KEY = 'schemata.user';
// The API's root: the page lives at <root>/ui/.
const ROOT = location.pathname.replace(/\/ui\/?[^/]*$/, '');

const main = document.getElementById('main');
const announce = document.getElementById('status');
const enc = encodeURIComponent;

// ---------------------------------------------------------------- API

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = body && body.error_code;
  }
}

async function api(path, { method = 'GET', body } = {}) {
  const headers = { Accept: 'application/vnd.schemaregistry.v1+json, application/json' };
  const authorization = sessionStorage.getItem(AUTH_KEY);
  if (authorization) headers.Authorization = authorization;
  if (body !== undefined) headers['Content-Type'] = 'application/vnd.schemaregistry.v1+json';
  // `omit`: a 401 comes back to the page (its login form) instead of the browser's prompt.
  const res = await fetch(ROOT + path, {
    method,
    headers,
    credentials: 'omit',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { message: text };
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

/** `api`, with `fallback` for a 404 (a subject without config, a deleted version...). */
async function apiOr(path, fallback) {
  try {
    return await api(path);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return fallback;
    throw e;
  }
}

/** Runs `task` over `items`, at most `width` at a time (the browser's connection pool). */
async function pool(items, width, task) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await task(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return out;
}

/** Every entity of GET /schemas (paged by the server's maximum of 1000). */
async function allSchemas(deleted) {
  const out = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await api(`/schemas?offset=${offset}&limit=1000${deleted ? '&deleted=true' : ''}`);
    out.push(...page);
    if (page.length < 1000) return out;
  }
}

const subjectPath = (s) => `/subjects/${enc(s)}`;
const config = (s) => apiOr(`/config/${enc(s)}?defaultToGlobal=true`, {}).then((c) => c.compatibilityLevel || c.compatibility || 'BACKWARD');
const mode = (s) => apiOr(`/mode/${enc(s)}?defaultToGlobal=true`, {}).then((m) => m.mode || 'READWRITE');
const version = (s, v) => api(`${subjectPath(s)}/versions/${v}?deleted=true`);

// ---------------------------------------------------------------- views

const link = {
  subject: (s, v) => `#/subject/${enc(s)}${v ? `/v/${v}` : ''}`,
  diff: (s, a, b) => `#/diff/${enc(s)}/${a}/${b}`,
  check: (s) => `#/check/${enc(s || '')}`,
  id: (id) => `#/id/${id}`,
};

const routes = [
  [/^#?\/?(?:subjects)?$/, viewSubjects],
  [/^#\/subject\/([^/]+)(?:\/v\/(\d+))?$/, viewSubject],
  [/^#\/diff\/([^/]+)\/(\d+)\/(\d+)$/, viewDiff],
  [/^#\/check\/([^/]*)$/, viewCheck],
  [/^#\/id\/(-?\d+)$/, viewId],
  [/^#\/login$/, viewLogin],
];

let current = 0;

async function render() {
  const token = ++current;
  const live = () => token === current;
  updateUser();
  const hash = location.hash || '#/';
  for (const [pattern, view] of routes) {
    const m = pattern.exec(hash);
    if (!m) continue;
    main.setAttribute('aria-busy', 'true');
    try {
      await view(live, ...m.slice(1).map((p) => (p === undefined ? p : decodeURIComponent(p))));
    } catch (e) {
      if (live()) showError(e);
    } finally {
      if (live()) main.removeAttribute('aria-busy');
    }
    return;
  }
  show(live, `<h1 tabindex="-1">Not found</h1><p>No view at <code>${h(hash)}</code>. <a href="#/">Subjects</a></p>`);
}

/** Replaces the view (unless another one started since), focusing its heading. */
function show(live, html) {
  if (!live()) return false;
  // A control redrawing its own view (a filter, a version picker) keeps the focus.
  const active = document.activeElement;
  const keep = active && active.id && main.contains(active) ? active.id : null;
  main.innerHTML = html;
  const again = keep && document.getElementById(keep);
  if (again) again.focus();
  else main.querySelector('h1')?.focus({ preventScroll: true });
  return true;
}

function showError(e) {
  if (e instanceof ApiError && e.status === 401) {
    renderLogin('The registry asks who you are: sign in.');
    return;
  }
  const what =
    e instanceof ApiError && e.status === 403
      ? `Not allowed: ${e.message}`
      : e instanceof ApiError
        ? `The registry answered ${e.status}${e.code ? ` (${e.code})` : ''}: ${e.message}`
        : `Something went wrong: ${e.message}`;
  main.innerHTML = `<h1 tabindex="-1">Cannot show this</h1><p class="error" role="alert">${h(what)}</p><p><a href="#/">Back to subjects</a></p>`;
  main.querySelector('h1').focus();
}

function say(text) {
  announce.textContent = text;
}

function levelOptions(selected, ownLabel) {
  const own = ownLabel ? `<option value="">${h(ownLabel)}</option>` : '';
  return own + LEVELS.map((l) => `<option${l === selected ? ' selected' : ''}>${l}</option>`).join('');
}

function codeBlock(type, text, label) {
  const lines = highlightSchema(type, text);
  return `<pre class="code" tabindex="0" aria-label="${h(label)}"><code>${lines
    .map((l) => `<span class="line">${l || ' '}</span>`)
    .join('\n')}</code></pre>`;
}

function badge(text, cls = '') {
  return `<span class="badge ${cls}">${h(text)}</span>`;
}

// ---- subjects

const filters = { q: '', type: '', context: '', deleted: false, shown: PAGE };
const settings = new Map(); // subject -> {level, mode}

async function viewSubjects(live) {
  const [liveNames, allNames, contexts, schemas, deletedSchemas] = await Promise.all([
    api('/subjects'),
    filters.deleted ? api('/subjects?deleted=true') : null,
    api('/contexts').catch(() => ['.']),
    allSchemas(false),
    filters.deleted ? allSchemas(true) : null,
  ]);
  const rows = new Map();
  for (const name of allNames || liveNames) {
    rows.set(name, { subject: name, ...splitSubject(name), count: 0, latest: null, type: '', deleted: !liveNames.includes(name) });
  }
  for (const e of schemas) {
    const row = rows.get(e.subject);
    if (!row) continue;
    row.count++;
    if (row.latest == null || e.version > row.latest) {
      row.latest = e.version;
      row.type = schemaType(e);
    }
  }
  for (const e of deletedSchemas || []) {
    const row = rows.get(e.subject);
    if (!row || !row.deleted) continue;
    row.count++;
    if (row.latest == null || e.version > row.latest) {
      row.latest = e.version;
      row.type = schemaType(e);
    }
  }
  const all = [...rows.values()];
  const html = `
    <h1 tabindex="-1">Subjects</h1>
    <form class="filters" role="search" id="filters">
      <div><label for="q">Search</label><input id="q" type="search" value="${h(filters.q)}" placeholder="name contains…" autocomplete="off"></div>
      <div><label for="type">Type</label><select id="type"><option value="">any</option>${TYPES.map(
        (t) => `<option${t === filters.type ? ' selected' : ''}>${t}</option>`,
      ).join('')}</select></div>
      <div><label for="context">Context</label><select id="context"><option value="">any</option>${contexts
        .map((c) => `<option value="${h(c)}"${c === filters.context ? ' selected' : ''}>${h(c === '.' ? 'default (.)' : c)}</option>`)
        .join('')}</select></div>
      <div class="check"><input id="deleted" type="checkbox"${filters.deleted ? ' checked' : ''}><label for="deleted">Show deleted</label></div>
      <div class="push"><a class="button" href="${link.check('')}">New subject</a></div>
    </form>
    <p id="count" class="muted"></p>
    <div class="scroll"><table class="subjects" id="subjects">
      <caption class="sr-only">Subjects</caption>
      <thead><tr><th scope="col">Subject</th><th scope="col" class="wide">Context</th><th scope="col">Type</th>
      <th scope="col" class="num">Latest</th><th scope="col" class="num">Versions</th><th scope="col" class="wide">Compatibility</th><th scope="col" class="wide">Mode</th></tr></thead>
      <tbody></tbody>
    </table></div>
    <p><button type="button" id="more" hidden>Show more</button></p>`;
  if (!show(live, html)) return;
  const q = main.querySelector('#q');
  const draw = () => drawSubjects(live, all);
  q.addEventListener('input', () => {
    filters.q = q.value;
    filters.shown = PAGE;
    draw();
  });
  for (const id of ['type', 'context']) {
    main.querySelector(`#${id}`).addEventListener('change', (ev) => {
      filters[id] = ev.target.value;
      filters.shown = PAGE;
      draw();
    });
  }
  main.querySelector('#deleted').addEventListener('change', (ev) => {
    filters.deleted = ev.target.checked;
    render();
  });
  main.querySelector('#filters').addEventListener('submit', (ev) => ev.preventDefault());
  main.querySelector('#more').addEventListener('click', () => {
    filters.shown += PAGE;
    draw();
  });
  draw();
}

function drawSubjects(live, all) {
  const chosen = all.filter(
    (r) =>
      matches(r.subject, filters.q) &&
      (!filters.type || r.type === filters.type) &&
      (!filters.context || r.context === filters.context),
  );
  const visible = chosen.slice(0, filters.shown);
  const body = main.querySelector('#subjects tbody');
  body.innerHTML = visible
    .map(
      (r) => `<tr data-subject="${h(r.subject)}"${r.deleted ? ' class="deleted"' : ''}>
      <th scope="row"><a href="${link.subject(r.subject)}">${h(r.name)}</a>${r.deleted ? ` ${badge('deleted', 'warn')}` : ''}</th>
      <td class="wide">${h(r.context)}</td><td>${badge(r.type || '?', r.type.toLowerCase())}</td>
      <td class="num">${r.latest ?? ''}</td><td class="num">${r.count}</td>
      <td class="wide level">…</td><td class="wide mode">…</td></tr>`,
    )
    .join('');
  main.querySelector('#count').textContent = `${chosen.length} of ${all.length} subjects${
    chosen.length > visible.length ? `, first ${visible.length} shown` : ''
  }`;
  main.querySelector('#more').hidden = chosen.length <= visible.length;
  say(`${chosen.length} subjects`);
  pool(visible, 6, async (r) => {
    if (!live()) return;
    if (!settings.has(r.subject)) {
      const [level, m] = await Promise.all([config(r.subject), mode(r.subject)]).catch(() => ['?', '?']);
      settings.set(r.subject, { level, mode: m });
    }
    const row = body.querySelector(`tr[data-subject="${CSS.escape(r.subject)}"]`);
    if (!row) return;
    const s = settings.get(r.subject);
    row.querySelector('.level').textContent = s.level;
    row.querySelector('.mode').textContent = s.mode;
  });
}

// ---- one subject

async function subjectState(subject) {
  const [versions, level, m] = await Promise.all([
    api(`${subjectPath(subject)}/versions?deletedAsNegative=true`),
    config(subject),
    mode(subject),
  ]);
  const list = versions.map((v) => ({ version: Math.abs(v), deleted: v < 0 })).sort((a, b) => a.version - b.version);
  settings.set(subject, { level, mode: m });
  return { versions: list, level, mode: m };
}

function latestOf(versions) {
  const liveOnes = versions.filter((v) => !v.deleted);
  return (liveOnes.length ? liveOnes : versions).at(-1)?.version;
}

async function viewSubject(live, subject, chosen) {
  const state = await subjectState(subject);
  const selected = Number(chosen) || latestOf(state.versions);
  const entities = await pool(state.versions, 6, (v) => version(subject, v.version).catch(() => null));
  const byVersion = new Map(state.versions.map((v, i) => [v.version, { ...v, entity: entities[i] }]));
  const entry = byVersion.get(selected);
  if (!entry || !entry.entity) throw new ApiError(404, { message: `Subject ${subject} has no version ${selected}` });
  const e = entry.entity;
  const type = schemaType(e);
  const [referencedBy] = await Promise.all([
    apiOr(`${subjectPath(subject)}/versions/${selected}/referencedby?deleted=true`, []),
  ]);
  const users = (
    await pool(referencedBy, 6, (id) => apiOr(`/schemas/ids/${id}/versions`, []).then((vs) => vs.map((v) => ({ ...v, id }))))
  ).flat();
  const { context, name } = splitSubject(subject);
  const previous = state.versions.filter((v) => v.version < selected).at(-1);
  const writable = WRITABLE_MODES.includes(state.mode);
  const tags = schemaTags(type, e.schema);
  const html = `
    <nav class="crumbs" aria-label="Breadcrumb"><a href="#/">Subjects</a> › <span>${h(subject)}</span></nav>
    <h1 tabindex="-1">${h(name)} ${context !== '.' ? badge(`context ${context}`) : ''}</h1>
    <dl class="facts">
      <div><dt>Type</dt><dd>${badge(type, type.toLowerCase())}</dd></div>
      <div><dt>Compatibility</dt><dd>${h(state.level)}</dd></div>
      <div><dt>Mode</dt><dd>${h(state.mode)}${writable ? '' : ` ${badge('no writes', 'warn')}`}</dd></div>
      <div><dt>Versions</dt><dd>${state.versions.length}</dd></div>
    </dl>
    <div class="actions">
      <a class="button" href="${link.check(subject)}">Try a change</a>
      ${previous ? `<a class="button" href="${link.diff(subject, previous.version, selected)}">Diff with v${previous.version}</a>` : ''}
    </div>
    <div class="subject-layout">
      <section aria-labelledby="timeline-h" class="timeline-box">
        <h2 id="timeline-h">Versions</h2>
        <ol class="timeline" reversed>
          ${[...byVersion.values()]
            .reverse()
            .map(
              (v) => `<li${v.version === selected ? ' class="current"' : ''}>
              <a href="${link.subject(subject, v.version)}"${v.version === selected ? ' aria-current="page"' : ''}>v${v.version}</a>
              <span class="muted">${v.entity ? `id ${v.entity.id}` : ''}</span>${v.deleted ? ` ${badge('deleted', 'warn')}` : ''}</li>`,
            )
            .join('')}
        </ol>
      </section>
      <section aria-labelledby="version-h" class="version-box">
        <h2 id="version-h">Version ${selected}${entry.deleted ? ` ${badge('deleted', 'warn')}` : ''}</h2>
        <dl class="facts">
          <div><dt>ID</dt><dd><a href="${link.id(e.id)}">${e.id}</a></dd></div>
          ${e.guid ? `<div><dt>GUID</dt><dd><code>${h(e.guid)}</code></dd></div>` : ''}
        </dl>
        ${codeBlock(type, e.schema, `Schema of version ${selected}`)}
        <h3>References</h3>
        ${
          e.references?.length
            ? `<ul class="refs">${e.references
                .map(
                  (r) =>
                    `<li><code>${h(r.name)}</code> → <a href="${link.subject(r.subject, r.version)}">${h(r.subject)} v${r.version}</a></li>`,
                )
                .join('')}</ul>`
            : '<p class="muted">None.</p>'
        }
        <h3>Referenced by</h3>
        ${
          users.length
            ? `<ul class="refs">${users
                .map((u) => `<li><a href="${link.subject(u.subject, u.version)}">${h(u.subject)} v${u.version}</a> <span class="muted">id ${u.id}</span></li>`)
                .join('')}</ul>`
            : '<p class="muted">No schema references this version.</p>'
        }
        <h3>Metadata</h3>
        ${metadataHtml(e.metadata)}
        <h3>Tags</h3>
        ${
          tags.length
            ? `<ul class="tags">${tags.map((t) => `<li><code>${h(t.path)}</code> ${t.tags.map((x) => badge(x, 'tag')).join(' ')}</li>`).join('')}</ul>`
            : '<p class="muted">No tags in the schema.</p>'
        }
        ${e.ruleSet ? `<h3>Rules</h3><pre class="code">${h(JSON.stringify(e.ruleSet, null, 2))}</pre>` : ''}
      </section>
    </div>`;
  show(live, html);
}

function metadataHtml(metadata) {
  if (!metadata || !Object.keys(metadata).length) return '<p class="muted">None.</p>';
  const parts = [];
  const props = Object.entries(metadata.properties || {});
  if (props.length) {
    parts.push(
      `<table class="kv"><caption class="sr-only">Properties</caption><thead><tr><th scope="col">Property</th><th scope="col">Value</th></tr></thead><tbody>${props
        .map(([k, v]) => `<tr><th scope="row"><code>${h(k)}</code></th><td>${h(v)}</td></tr>`)
        .join('')}</tbody></table>`,
    );
  }
  const tags = Object.entries(metadata.tags || {});
  if (tags.length) {
    parts.push(
      `<p>Tags:</p><ul class="tags">${tags.map(([path, ts]) => `<li><code>${h(path)}</code> ${ts.map((t) => badge(t, 'tag')).join(' ')}</li>`).join('')}</ul>`,
    );
  }
  if (metadata.sensitive?.length) {
    parts.push(`<p>Sensitive: ${metadata.sensitive.map((s) => `<code>${h(s)}</code>`).join(', ')}</p>`);
  }
  return parts.join('') || '<p class="muted">None.</p>';
}

// ---- diff

function diffTable(type, oldText, newText, oldLabel, newLabel) {
  const a = prettySchema(type, oldText).split('\n');
  const b = prettySchema(type, newText).split('\n');
  const ops = diffLines(a, b);
  const highlight = lineHighlighter(type);
  const { added, removed } = stats(ops);
  const cell = (side, other, kind) => {
    if (!side) return '<td class="n"></td><td class="empty"></td>';
    let text = highlight(side.text);
    if (kind === 'change' && other) {
      const [p, s] = changedSpan(side.text, other.text);
      const t = side.text;
      text = `${h(t.slice(0, p))}<mark>${h(t.slice(p, t.length - s))}</mark>${h(t.slice(t.length - s))}`;
    }
    return `<td class="n">${side.n}</td><td>${text || ' '}</td>`;
  };
  const marker = { same: '', change: 'changed', del: 'removed', add: 'added' };
  const rows = sideBySide(ops)
    .map(
      (r) =>
        `<tr class="${r.kind}"${marker[r.kind] ? ` title="${marker[r.kind]}"` : ''}>${cell(r.left, r.right, r.kind)}${cell(r.right, r.left, r.kind)}</tr>`,
    )
    .join('');
  return {
    added,
    removed,
    html: `<p class="diffstat" id="diffstat"><span class="plus">+${added}</span> <span class="minus">−${removed}</span> lines</p>
    <div class="scroll"><table class="diff" aria-describedby="diffstat"><caption class="sr-only">Left: ${h(oldLabel)}; right: ${h(newLabel)}; changed lines are marked</caption>
    <colgroup><col class="n"><col><col class="n"><col></colgroup>
    <thead><tr><th colspan="2" scope="colgroup">${h(oldLabel)}</th><th colspan="2" scope="colgroup">${h(newLabel)}</th></tr></thead>
    <tbody>${rows}</tbody></table></div>`,
  };
}

function verdictHtml(verdict, level) {
  if (verdict.error) return `<div class="verdict bad" role="status"><p><strong>Could not judge:</strong> ${h(verdict.error)}</p></div>`;
  if (verdict.first) return '<div class="verdict good" role="status"><p><strong>Compatible</strong>: the subject has no versions yet</p></div>';
  const ok = verdict.is_compatible;
  return `<div class="verdict ${ok ? 'good' : 'bad'}" role="status">
    <p><strong>${ok ? 'Compatible' : 'Incompatible'}</strong> at ${h(level)}</p>
    ${verdict.messages?.length ? `<ul class="reasons">${verdict.messages.map((m) => `<li>${h(m)}</li>`).join('')}</ul>` : ''}
  </div>`;
}

/** POST /compatibility/...: the verdict, or `{error}` when the registry refuses to judge. */
async function judge(subject, against, entity, level) {
  const path = `/compatibility/subjects/${enc(subject)}/versions${against ? `/${against}` : ''}?verbose=true${level ? `&level=${level}` : ''}`;
  const body = { schema: entity.schema };
  if (schemaType(entity) !== 'AVRO') body.schemaType = schemaType(entity);
  if (entity.references?.length) body.references = entity.references;
  try {
    return await api(path, { method: 'POST', body });
  } catch (e) {
    if (e instanceof ApiError && e.code === 40401) return { is_compatible: true, messages: [], first: true };
    if (e instanceof ApiError && e.status !== 401 && e.status !== 403) return { error: e.message };
    throw e;
  }
}

async function viewDiff(live, subject, a, b) {
  const state = await subjectState(subject);
  const [older, newer] = [Number(a), Number(b)].sort((x, y) => x - y);
  const [left, right] = await Promise.all([version(subject, older), version(subject, newer)]);
  const type = schemaType(right);
  const level = diffLevel.get(subject) || '';
  const effective = level || state.level;
  const verdict = await judge(subject, older, right, level);
  const table = diffTable(schemaType(left), left.schema, right.schema, `v${older} (id ${left.id})`, `v${newer} (id ${right.id})`);
  const options = (sel) =>
    state.versions.map((v) => `<option value="${v.version}"${v.version === sel ? ' selected' : ''}>v${v.version}${v.deleted ? ' (deleted)' : ''}</option>`).join('');
  const html = `
    <nav class="crumbs" aria-label="Breadcrumb"><a href="#/">Subjects</a> › <a href="${link.subject(subject)}">${h(subject)}</a> › <span>diff</span></nav>
    <h1 tabindex="-1">Diff of ${h(subject)}: v${older} → v${newer}</h1>
    <form class="filters" id="pick">
      <div><label for="old">Old version</label><select id="old">${options(older)}</select></div>
      <div><label for="new">New version</label><select id="new">${options(newer)}</select></div>
      <div><label for="level">Judge at</label><select id="level">${levelOptions(level, `subject's level (${state.level})`)}</select></div>
    </form>
    <h2>Verdict: v${newer} checked against v${older}</h2>
    ${verdictHtml(verdict, effective)}
    ${type !== schemaType(left) ? `<p class="warn">The versions have different types (${schemaType(left)} → ${type}).</p>` : ''}
    <h2>Changes</h2>
    ${table.html}`;
  if (!show(live, html)) return;
  say(`v${newer} against v${older}: ${verdict.error ? 'not judged' : verdict.is_compatible ? 'compatible' : 'incompatible'}; +${table.added} −${table.removed} lines`);
  const go = () => {
    location.hash = link.diff(subject, main.querySelector('#old').value, main.querySelector('#new').value);
  };
  main.querySelector('#old').addEventListener('change', go);
  main.querySelector('#new').addEventListener('change', go);
  main.querySelector('#level').addEventListener('change', (ev) => {
    diffLevel.set(subject, ev.target.value);
    render();
  });
}

const diffLevel = new Map();

// ---- try a change

async function viewCheck(live, subject) {
  const state = subject ? await subjectState(subject).catch((e) => newSubject(e, subject)) : await newSubject(null, '');
  const latest = state.versions.length ? await version(subject, latestOf(state.versions)) : null;
  const type = latest ? schemaType(latest) : 'AVRO';
  const writable = WRITABLE_MODES.includes(state.mode);
  const level = state.level || '';
  const html = `
    <nav class="crumbs" aria-label="Breadcrumb"><a href="#/">Subjects</a> › ${
      subject ? `<a href="${link.subject(subject)}">${h(subject)}</a> › ` : ''
    }<span>try a change</span></nav>
    <h1 tabindex="-1">${subject ? `Try a change to ${h(subject)}` : 'New subject'}</h1>
    <form id="check" class="stack">
      <div><label for="subject">Subject</label><input id="subject" value="${h(subject || '')}" required autocomplete="off"></div>
      <div class="row">
        <div><label for="stype">Schema type</label><select id="stype">${TYPES.map((t) => `<option${t === type ? ' selected' : ''}>${t}</option>`).join('')}</select></div>
        <div><label for="clevel">Level</label><select id="clevel">${levelOptions('', `subject's level${level ? ` (${level})` : ''}`)}</select></div>
      </div>
      <div><label for="schema">Schema</label><textarea id="schema" rows="18" spellcheck="false" required>${h(latest ? prettySchema(type, latest.schema) : '')}</textarea></div>
      <div><label for="refs">References <span class="muted">(JSON array of {name, subject, version})</span></label>
      <textarea id="refs" rows="3" spellcheck="false">${h(latest?.references?.length ? JSON.stringify(latest.references, null, 2) : '')}</textarea></div>
      <div class="actions">
        <button type="submit" id="run">Check compatibility</button>
        ${
          writable
            ? `<button type="button" id="register" class="primary">Register</button>`
            : `<p class="muted" id="readonly">The subject is in ${h(state.mode)} mode: registering is off.</p>`
        }
      </div>
    </form>
    <div id="result" aria-live="polite"></div>`;
  if (!show(live, html)) return;
  const form = main.querySelector('#check');
  const result = main.querySelector('#result');
  const entity = () => {
    const refs = main.querySelector('#refs').value.trim();
    const e = { schema: main.querySelector('#schema').value, schemaType: main.querySelector('#stype').value };
    if (refs) e.references = JSON.parse(refs);
    return e;
  };
  const body = (e) => {
    const out = { schema: e.schema };
    if (e.schemaType !== 'AVRO') out.schemaType = e.schemaType;
    if (e.references?.length) out.references = e.references;
    return out;
  };
  // The form's schema, or null after saying why its references cannot be read.
  const readEntity = () => {
    try {
      return entity();
    } catch (err) {
      result.innerHTML = `<p class="error" role="alert">References are not valid JSON: ${h(err.message)}</p>`;
      return null;
    }
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const e = readEntity();
    if (!e) return;
    const name = main.querySelector('#subject').value.trim();
    const chosen = main.querySelector('#clevel').value;
    result.innerHTML = '<p class="muted">Checking…</p>';
    try {
      const verdict = await judge(name, null, e, chosen);
      if (!latest && (!subject || name === subject) && verdict.is_compatible) verdict.first = true;
      let diff = '';
      if (latest && name === subject) {
        diff = `<h2>Changes against v${latest.version}</h2>${diffTable(e.schemaType, latest.schema, e.schema, `v${latest.version}`, 'your schema').html}`;
      }
      result.innerHTML = `<h2>Verdict</h2>${verdictHtml(verdict, chosen || level || 'the subject\'s level')}${diff}`;
      say(verdict.error ? 'Not judged' : verdict.is_compatible ? 'Compatible' : 'Incompatible');
    } catch (err) {
      result.innerHTML = `<p class="error" role="alert">${h(errorText(err))}</p>`;
    }
  });
  main.querySelector('#register')?.addEventListener('click', async () => {
    const e = readEntity();
    if (!e) return;
    const name = main.querySelector('#subject').value.trim();
    if (!name) {
      result.innerHTML = '<p class="error" role="alert">Name the subject first.</p>';
      return;
    }
    result.innerHTML = '<p class="muted">Registering…</p>';
    try {
      const out = await api(`${subjectPath(name)}/versions`, { method: 'POST', body: body(e) });
      settings.delete(name);
      const v = out.version || (await api(`${subjectPath(name)}`, { method: 'POST', body: body(e) }).catch(() => ({}))).version;
      result.innerHTML = `<div class="verdict good" role="status"><p><strong>Registered</strong>: id ${out.id}${
        v ? `, <a href="${link.subject(name, v)}">${h(name)} v${v}</a>` : ''
      }</p></div>`;
      say('Registered');
    } catch (err) {
      result.innerHTML = `<p class="error" role="alert">${h(errorText(err))}</p>`;
      if (err instanceof ApiError && err.status === 401) renderLogin('Sign in to register.');
    }
  });
}

/** A subject without versions yet: its (or the global) level and mode, where readable. */
async function newSubject(e, subject) {
  if (e && !(e instanceof ApiError && e.status === 404)) throw e;
  const [level, m] = await Promise.all([
    (subject ? config(subject) : api('/config').then((c) => c.compatibilityLevel)).catch(() => ''),
    (subject ? mode(subject) : api('/mode').then((r) => r.mode)).catch(() => 'READWRITE'),
  ]);
  return { versions: [], level, mode: m };
}

function errorText(err) {
  if (!(err instanceof ApiError)) return err.message;
  if (err.status === 403) return `Not allowed: ${err.message}`;
  if (err.status === 409) return `Refused, incompatible: ${err.message}`;
  return `The registry answered ${err.status}${err.code ? ` (${err.code})` : ''}: ${err.message}`;
}

// ---- schema by id

async function viewId(live, id) {
  const [e, uses] = await Promise.all([api(`/schemas/ids/${id}`), apiOr(`/schemas/ids/${id}/versions`, [])]);
  const type = schemaType(e);
  const html = `
    <nav class="crumbs" aria-label="Breadcrumb"><a href="#/">Subjects</a> › <span>schema ${h(id)}</span></nav>
    <h1 tabindex="-1">Schema id ${h(id)}</h1>
    <dl class="facts">
      <div><dt>Type</dt><dd>${badge(type, type.toLowerCase())}</dd></div>
      ${e.guid ? `<div><dt>GUID</dt><dd><code>${h(e.guid)}</code></dd></div>` : ''}
    </dl>
    <h2>Used by</h2>
    ${
      uses.length
        ? `<ul class="refs" id="uses">${uses.map((u) => `<li><a href="${link.subject(u.subject, u.version)}">${h(u.subject)} v${u.version}</a></li>`).join('')}</ul>`
        : '<p class="muted">No subject you may read.</p>'
    }
    ${
      e.references?.length
        ? `<h2>References</h2><ul class="refs">${e.references
            .map((r) => `<li><code>${h(r.name)}</code> → <a href="${link.subject(r.subject, r.version)}">${h(r.subject)} v${r.version}</a></li>`)
            .join('')}</ul>`
        : ''
    }
    <h2>Schema</h2>
    ${codeBlock(type, e.schema, `Schema ${id}`)}`;
  show(live, html);
}

// ---- authentication

function base64(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function updateUser() {
  const user = sessionStorage.getItem(USER_KEY);
  const box = document.getElementById('user');
  box.hidden = !user;
  box.querySelector('span').textContent = user ? `Signed in as ${user}` : '';
}

function viewLogin(live) {
  renderLogin('', live);
}

function renderLogin(message, live = () => true) {
  const back = location.hash === '#/login' ? '#/' : location.hash;
  const html = `
    <h1 tabindex="-1">Sign in</h1>
    ${message ? `<p class="notice" role="alert">${h(message)}</p>` : ''}
    <form id="login" class="stack narrow">
      <div><label for="username">Username</label><input id="username" autocomplete="username" autocapitalize="off"></div>
      <div><label for="password">Password</label><input id="password" type="password" autocomplete="current-password"></div>
      <details><summary>Use a bearer token instead</summary>
        <div><label for="token">Token</label><input id="token" autocomplete="off"></div>
      </details>
      <div class="actions"><button type="submit" class="primary">Sign in</button></div>
      <p class="muted">Credentials stay in this tab (sessionStorage) and go to this registry only.</p>
    </form>`;
  if (!show(live, html)) return;
  main.querySelector('h1').focus();
  main.querySelector('#login').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const user = main.querySelector('#username').value;
    const token = main.querySelector('#token').value.trim();
    const authorization = token ? `Bearer ${token}` : `Basic ${base64(`${user}:${main.querySelector('#password').value}`)}`;
    sessionStorage.setItem(AUTH_KEY, authorization);
    sessionStorage.setItem(USER_KEY, token ? 'token' : user);
    try {
      await api('/');
    } catch (e) {
      sessionStorage.removeItem(AUTH_KEY);
      sessionStorage.removeItem(USER_KEY);
      renderLogin(e instanceof ApiError && e.status === 401 ? 'Wrong username or password.' : errorText(e));
      return;
    }
    if (location.hash === back) render();
    else location.hash = back;
  });
}

// ---------------------------------------------------------------- start

document.getElementById('signout').addEventListener('click', () => {
  sessionStorage.removeItem(AUTH_KEY);
  sessionStorage.removeItem(USER_KEY);
  settings.clear();
  location.hash = '#/login';
});

document.getElementById('idform').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const id = document.getElementById('idbox').value.trim();
  if (/^\d+$/.test(id)) location.hash = link.id(id);
  else say('A schema id is a number');
});

window.addEventListener('hashchange', render);
render();
