// Unit tests of the web UI's formatting (ui/format.mjs): `node --test ui/tests/`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  escapeHtml,
  prettySchema,
  highlightJsonLine,
  highlightProtoLine,
  highlightSchema,
  schemaTags,
  splitSubject,
  matches,
  schemaType,
} from '../format.mjs';

test('escapes HTML', () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});

test('pretty-prints JSON schemas keeping key order, protobuf as stored', () => {
  assert.equal(prettySchema('AVRO', '{"type":"record","name":"U","fields":[]}'), '{\n  "type": "record",\n  "name": "U",\n  "fields": []\n}');
  assert.equal(prettySchema('JSON', '"string"'), '"string"');
  assert.equal(prettySchema('AVRO', '{broken'), '{broken');
  assert.equal(prettySchema('PROTOBUF', 'syntax = "proto3";\n\n'), 'syntax = "proto3";');
  assert.equal(schemaType({}), 'AVRO');
  assert.equal(schemaType({ schemaType: 'JSON' }), 'JSON');
});

test('highlights JSON tokens and escapes the rest', () => {
  assert.equal(
    highlightJsonLine('  "name": "a<b>", "n": -1.5e3, "ok": true,'),
    '  <span class="tok-key">&quot;name&quot;</span>: <span class="tok-str">&quot;a&lt;b&gt;&quot;</span><span class="tok-punct">,</span> ' +
      '<span class="tok-key">&quot;n&quot;</span>: <span class="tok-num">-1.5e3</span><span class="tok-punct">,</span> ' +
      '<span class="tok-key">&quot;ok&quot;</span>: <span class="tok-lit">true</span><span class="tok-punct">,</span>',
  );
  assert.equal(highlightJsonLine('"a\\"b"'), '<span class="tok-str">&quot;a\\&quot;b&quot;</span>');
});

test('highlights protobuf keywords, types, strings, numbers and comments', () => {
  assert.equal(
    highlightProtoLine('  repeated string name = 1; // a <note>'),
    '  <span class="tok-kw">repeated</span> <span class="tok-type">string</span> name = <span class="tok-num">1</span>; ' +
      '<span class="tok-comment">// a &lt;note&gt;</span>',
  );
  assert.equal(highlightProtoLine('import "other.proto";'), '<span class="tok-kw">import</span> <span class="tok-str">&quot;other.proto&quot;</span>;');
  assert.equal(highlightSchema('PROTOBUF', 'message A {\n}').length, 2);
});

test('finds tags in Avro, JSON Schema and Protobuf', () => {
  const avro = JSON.stringify({
    type: 'record',
    name: 'User',
    'confluent:tags': ['PRIVATE'],
    fields: [{ name: 'ssn', type: 'string', 'confluent:tags': ['PII'] }, { name: 'age', type: 'int' }],
  });
  assert.deepEqual(schemaTags('AVRO', avro), [
    { path: 'User', tags: ['PRIVATE'] },
    { path: 'User.ssn', tags: ['PII'] },
  ]);
  const json = JSON.stringify({ type: 'object', properties: { email: { type: 'string', 'confluent:tags': ['PII'] } } });
  assert.deepEqual(schemaTags('JSON', json), [{ path: '$.properties.email', tags: ['PII'] }]);
  const proto = 'syntax = "proto3";\nmessage User {\n  string ssn = 1 [(confluent.field_meta) = { tags: ["PII", "SECRET"] }];\n  int32 age = 2;\n}\n';
  assert.deepEqual(schemaTags('PROTOBUF', proto), [{ path: 'User.ssn', tags: ['PII', 'SECRET'] }]);
  assert.deepEqual(schemaTags('AVRO', '"string"'), []);
  assert.deepEqual(schemaTags('AVRO', '{bad'), []);
});

test('splits contexts and searches by words', () => {
  assert.deepEqual(splitSubject(':.orders:payments-value'), { context: '.orders', name: 'payments-value' });
  assert.deepEqual(splitSubject('users-value'), { context: '.', name: 'users-value' });
  assert.ok(matches('orders-value', 'ORD val'));
  assert.ok(!matches('orders-value', 'key'));
  assert.ok(matches('x', ''));
});
