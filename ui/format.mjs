// Formatting for the web UI: schema text pretty-printed and highlighted (Avro and JSON
// Schema as JSON, Protobuf as `.proto`), schema tags found inside a schema, and subject
// names split into context and name. Pure functions without the DOM, tested under
// `node --test` (ui/tests/format.test.mjs).

/** Text safe inside HTML element content and attribute values. */
export function escapeHtml(text) {
  return String(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** The schema type the API names, AVRO when absent (as Confluent omits it for Avro). */
export function schemaType(entity) {
  return (entity && entity.schemaType) || 'AVRO';
}

/**
 * A schema's text as people read it: JSON (Avro, JSON Schema) indented by two spaces, with
 * the keys in their order; Protobuf as stored (the registry keeps Confluent's layout). Text
 * that does not parse is shown as it is.
 */
export function prettySchema(type, text) {
  if (type === 'PROTOBUF') return String(text).replace(/\s+$/, '');
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return String(text);
  }
}

const JSON_TOKEN = /("(?:[^"\\]|\\.)*")(\s*:)?|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|\b(true|false|null)\b|([{}[\],])/g;

/** One line of JSON as HTML with `<span class="tok-…">`s (keys, strings, numbers, literals). */
export function highlightJsonLine(line) {
  let out = '';
  let last = 0;
  JSON_TOKEN.lastIndex = 0;
  for (let m; (m = JSON_TOKEN.exec(line)); ) {
    out += escapeHtml(line.slice(last, m.index));
    if (m[1] !== undefined) {
      const cls = m[2] ? 'key' : 'str';
      out += `<span class="tok-${cls}">${escapeHtml(m[1])}</span>${m[2] ? escapeHtml(m[2]) : ''}`;
    } else if (m[3] !== undefined) {
      out += `<span class="tok-num">${m[3]}</span>`;
    } else if (m[4] !== undefined) {
      out += `<span class="tok-lit">${m[4]}</span>`;
    } else {
      out += `<span class="tok-punct">${escapeHtml(m[5])}</span>`;
    }
    last = m.index + m[0].length;
  }
  return out + escapeHtml(line.slice(last));
}

const PROTO_KEYWORDS = new Set(
  (
    'syntax edition package import public weak option message enum service rpc returns stream oneof map ' +
    'reserved extensions extend to max repeated optional required group'
  ).split(' '),
);
const PROTO_TYPES = new Set(
  'double float int32 int64 uint32 uint64 sint32 sint64 fixed32 fixed64 sfixed32 sfixed64 bool string bytes'.split(
    ' ',
  ),
);
const PROTO_TOKEN = /(\/\/.*$)|("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|\b(\d+(?:\.\d+)?)\b|\b([A-Za-z_][\w.]*)\b/g;

/**
 * One line of `.proto` as HTML: comments, strings, numbers, keywords and scalar types. A
 * line inside a block comment is not tracked (the registry's layout has none).
 */
export function highlightProtoLine(line) {
  let out = '';
  let last = 0;
  PROTO_TOKEN.lastIndex = 0;
  for (let m; (m = PROTO_TOKEN.exec(line)); ) {
    out += escapeHtml(line.slice(last, m.index));
    if (m[1] !== undefined) out += `<span class="tok-comment">${escapeHtml(m[1])}</span>`;
    else if (m[2] !== undefined) out += `<span class="tok-str">${escapeHtml(m[2])}</span>`;
    else if (m[3] !== undefined) out += `<span class="tok-num">${m[3]}</span>`;
    else if (PROTO_KEYWORDS.has(m[4])) out += `<span class="tok-kw">${m[4]}</span>`;
    else if (PROTO_TYPES.has(m[4])) out += `<span class="tok-type">${m[4]}</span>`;
    else out += escapeHtml(m[4]);
    last = m.index + m[0].length;
  }
  return out + escapeHtml(line.slice(last));
}

/** A highlighter for one line of a schema of `type`. */
export function lineHighlighter(type) {
  return type === 'PROTOBUF' ? highlightProtoLine : highlightJsonLine;
}

/** Pretty-printed schema text as highlighted HTML lines. */
export function highlightSchema(type, text) {
  const highlight = lineHighlighter(type);
  return prettySchema(type, text).split('\n').map(highlight);
}

/**
 * Schema tags written inside a schema (`confluent:tags` in Avro and JSON Schema, `tags` of
 * `confluent.field_meta`/`message_meta` options in Protobuf): a list of `{path, tags}`.
 */
export function schemaTags(type, text) {
  const found = [];
  if (type === 'PROTOBUF') {
    const lines = String(text).split('\n');
    const scope = [];
    for (const line of lines) {
      const opened = line.match(/^\s*(message|enum)\s+(\w+)/);
      if (opened) scope.push(opened[2]);
      const tags = line.match(/\(confluent\.(?:field|message)_meta\)\s*=?\s*\{[^}]*tags:\s*(\[[^\]]*\]|"[^"]*")/);
      if (tags) {
        const field = line.match(/^\s*(?:repeated\s+|optional\s+)?[\w.<>, ]+?\s+(\w+)\s*=\s*\d+/);
        const names = tags[1].match(/"([^"]*)"/g).map((s) => s.slice(1, -1));
        found.push({ path: [...scope, ...(field ? [field[1]] : [])].join('.'), tags: names });
      }
      if (/^\s*}/.test(line)) scope.pop();
    }
    return found;
  }
  let root;
  try {
    root = JSON.parse(text);
  } catch {
    return found;
  }
  const walk = (node, path) => {
    if (Array.isArray(node)) {
      node.forEach((item, i) => walk(item, item && typeof item === 'object' && item.name ? `${path}.${item.name}` : `${path}[${i}]`));
      return;
    }
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node['confluent:tags'])) found.push({ path: path || '$', tags: node['confluent:tags'] });
    for (const [key, value] of Object.entries(node)) {
      if (key === 'confluent:tags' || !value || typeof value !== 'object') continue;
      if (type === 'AVRO' && (key === 'fields' || key === 'type' || key === 'items' || key === 'values')) {
        walk(value, path);
      } else {
        walk(value, `${path}.${key}`);
      }
    }
  };
  walk(root, type === 'AVRO' && root && root.name ? root.name : '$');
  return found;
}

/** A subject name split into its context (`.` for the default one) and its name. */
export function splitSubject(subject) {
  const m = /^:(\.[^:]*):(.*)$/.exec(subject);
  return m ? { context: m[1], name: m[2] } : { context: '.', name: subject };
}

/** Subjects matching a search: every word of `query` in the name (case-insensitive). */
export function matches(subject, query) {
  const words = String(query).toLowerCase().split(/\s+/).filter(Boolean);
  const name = subject.toLowerCase();
  return words.every((w) => name.includes(w));
}
