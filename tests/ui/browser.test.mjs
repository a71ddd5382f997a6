// Browser tests of the web UI (/ui): the real server binary (SCHEMATA_BIN) on a temp data
// directory, populated through the REST API with Avro, Protobuf and JSON Schema subjects,
// then headless Chromium (Debian's `chromium`, driven by playwright-core) searching,
// opening subjects, diffing versions, checking and registering a change, opening a schema
// by id, on a narrow window, and signing in with authentication on. Screenshots go to
// target/ui-screenshots/ (UI_SCREENSHOTS overrides). Run: `npm test` here, or
// scripts/test.sh.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');
const BIN = process.env.SCHEMATA_BIN || path.join(REPO, 'target/debug/schemata');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.UI_SCREENSHOTS || path.join(REPO, 'target/ui-screenshots');
const TIMEOUT = 15000;

// Chromium without its background traffic (updates, sync, field trials): the tests talk to
// the local server only, and run on machines without outside network.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-features=Translate,OptimizationHints,MediaRouter',
];

const ADDRESS = { type: 'record', name: 'Address', namespace: 'ex', fields: [{ name: 'city', type: 'string' }] };
const ORDER = {
  type: 'record',
  name: 'Order',
  namespace: 'ex',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'ship_to', type: 'ex.Address' },
  ],
};
const USER_V1 = { type: 'record', name: 'User', namespace: 'ex', fields: [{ name: 'name', type: 'string' }] };
const USER_V2 = {
  ...USER_V1,
  fields: [
    { name: 'name', type: 'string' },
    { name: 'email', type: ['null', 'string'], default: null, 'confluent:tags': ['PII'] },
  ],
};
const PAYMENT_V1 = 'syntax = "proto3";\npackage pay;\n\nmessage Payment {\n  string id = 1;\n  double amount = 2;\n}\n';
const PAYMENT_V2 =
  'syntax = "proto3";\npackage pay;\n\nmessage Payment {\n  string id = 1;\n  double amount = 2;\n  string currency = 3;\n}\n';
const CART_V1 = { type: 'object', properties: { id: { type: 'string' } } };
const CART_V2 = { type: 'object', properties: { id: { type: 'integer' } } };

// ---------------------------------------------------------------- server

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function startServer(extra = []) {
  assert.ok(existsSync(BIN), `no server binary at ${BIN}: cargo build --bin schemata, or set SCHEMATA_BIN`);
  const dir = mkdtempSync(path.join(tmpdir(), 'schemata-ui-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(BIN, ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', path.join(dir, 'data'), ...extra], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (d) => (log += d));
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`server exited: ${log}`);
    try {
      if ((await fetch(`${url}/health/ready`)).ok) return { url, dir, child, log: () => log };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error(`server did not start: ${log}`);
}

async function stopServer(server) {
  if (!server) return;
  if (server.child.exitCode === null) {
    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.once('exit', r));
  }
  rmSync(server.dir, { recursive: true, force: true });
}

/** A REST call; fails the test on an unexpected status. */
async function call(url, method, route, body, headers = {}) {
  const res = await fetch(url + route, {
    method,
    headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json();
  assert.ok(res.ok, `${method} ${route}: ${res.status} ${JSON.stringify(data)}`);
  return data;
}

/** The subjects the tests look at, with several versions, references, metadata and modes. */
async function populate(url, headers = {}) {
  const reg = (subject, body) => call(url, 'POST', `/subjects/${encodeURIComponent(subject)}/versions`, body, headers);
  const ids = {};
  ids.address = (await reg('address-value', { schema: JSON.stringify(ADDRESS) })).id;
  ids.order = (
    await reg('orders-value', {
      schema: JSON.stringify(ORDER),
      references: [{ name: 'ex.Address', subject: 'address-value', version: 1 }],
    })
  ).id;
  ids.user1 = (await reg('users-value', { schema: JSON.stringify(USER_V1) })).id;
  ids.user2 = (
    await reg('users-value', { schema: JSON.stringify(USER_V2), metadata: { properties: { owner: 'team-identity' } } })
  ).id;
  ids.payment1 = (await reg('payments-proto', { schemaType: 'PROTOBUF', schema: PAYMENT_V1 })).id;
  ids.payment2 = (await reg('payments-proto', { schemaType: 'PROTOBUF', schema: PAYMENT_V2 })).id;
  await call(url, 'PUT', '/config/carts-json', { compatibility: 'NONE' }, headers);
  await reg('carts-json', { schemaType: 'JSON', schema: JSON.stringify(CART_V1) });
  await reg('carts-json', { schemaType: 'JSON', schema: JSON.stringify(CART_V2) });
  await reg(':.audit:events-value', { schema: '"string"' });
  await reg('frozen-value', { schema: '"int"' });
  await call(url, 'PUT', '/mode/frozen-value', { mode: 'READONLY' }, headers);
  await reg('old-value', { schema: '"long"' });
  await call(url, 'DELETE', '/subjects/old-value', undefined, headers);
  return ids;
}

// ---------------------------------------------------------------- browser

let browser;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  // Playwright gives each launch a fresh temporary profile (--user-data-dir).
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
});

async function newPage(viewport = { width: 1280, height: 860 }) {
  const context = await browser.newContext({ viewport, reducedMotion: 'reduce' });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && !/status of 40[134]/.test(m.text()) && problems.push(m.text()));
  return { page, context, problems };
}

const shot = (page, name) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
const heading = (page) => page.locator('main h1');
const rowNames = (page) => page.locator('#subjects tbody th a').allTextContents();

test('browse, search, diff, check and register against a populated server', async () => {
  const server = await startServer();
  const { page, context, problems } = await newPage();
  try {
    const ids = await populate(server.url);

    // The list: every live subject with its type, latest version, count, level and mode.
    await page.goto(`${server.url}/ui`);
    await assert.doesNotReject(heading(page).filter({ hasText: 'Subjects' }).waitFor());
    await page.locator('#subjects tbody tr').first().waitFor();
    assert.deepEqual(await rowNames(page), [
      'events-value',
      'address-value',
      'carts-json',
      'frozen-value',
      'orders-value',
      'payments-proto',
      'users-value',
    ]);
    const users = page.locator('tr[data-subject="users-value"]');
    await users.locator('td.level', { hasText: 'BACKWARD' }).waitFor();
    assert.deepEqual(
      (await users.locator('td').allTextContents()).map((t) => t.trim()),
      ['.', 'AVRO', '2', '2', 'BACKWARD', 'READWRITE'],
    );
    await page.locator('tr[data-subject="frozen-value"] td.mode', { hasText: 'READONLY' }).waitFor();
    await page.locator('tr[data-subject="carts-json"] td.level', { hasText: 'NONE' }).waitFor();
    await shot(page, 'subjects');

    // Search by name, type and context; deleted subjects on request.
    await page.fill('#q', 'pay');
    assert.deepEqual(await rowNames(page), ['payments-proto']);
    await page.fill('#q', '');
    await page.selectOption('#type', 'JSON');
    assert.deepEqual(await rowNames(page), ['carts-json']);
    await page.selectOption('#type', '');
    await page.selectOption('#context', '.audit');
    assert.deepEqual(await rowNames(page), ['events-value']);
    await page.selectOption('#context', '');
    await page.check('#deleted');
    await page.locator('tr[data-subject="old-value"]').waitFor();
    assert.match(await page.locator('tr[data-subject="old-value"]').innerText(), /deleted/);
    await page.uncheck('#deleted');
    await page.locator('tr[data-subject="old-value"]').waitFor({ state: 'detached' });

    // A subject: timeline, schema pretty-printed and highlighted, metadata and tags.
    await page.click('a[href="#/subject/users-value"]');
    await heading(page).filter({ hasText: 'users-value' }).waitFor();
    assert.deepEqual(await page.locator('.timeline li a').allTextContents(), ['v2', 'v1']);
    assert.equal(await page.locator('.timeline li.current a').textContent(), 'v2');
    const code = page.locator('.version-box pre.code');
    assert.match(await code.innerText(), /^\{\n {2}"type": "record",\n {2}"name": "User",/);
    assert.ok((await code.locator('.tok-key').count()) > 5);
    assert.match(await page.locator('.kv').innerText(), /owner\s+team-identity/);
    assert.match(await page.locator('ul.tags').first().innerText(), /ex\.User\.email\s+PII|User\.email\s+PII/);
    assert.equal(await page.locator('.facts a[href^="#/id/"]').textContent(), String(ids.user2));
    await shot(page, 'subject');

    // References both ways, linked.
    await page.goto(`${server.url}/ui/#/subject/address-value`);
    await heading(page).filter({ hasText: 'address-value' }).waitFor();
    const usedBy = page.locator('a[href="#/subject/orders-value/v/1"]');
    await usedBy.waitFor();
    await usedBy.click();
    await heading(page).filter({ hasText: 'orders-value' }).waitFor();
    assert.match(await page.locator('ul.refs').first().innerText(), /ex\.Address → address-value v1/);

    // Diff of two versions with the verdict, at the subject's level and at another.
    await page.goto(`${server.url}/ui/#/subject/users-value`);
    await page.click('text=Diff with v1');
    await heading(page).filter({ hasText: 'v1 → v2' }).waitFor();
    assert.match(await page.locator('.verdict').innerText(), /Compatible at BACKWARD/);
    assert.ok((await page.locator('table.diff tr.add, table.diff tr.change').count()) >= 1);
    assert.match(await page.locator('#diffstat').innerText(), /\+\d+ −\d+ lines/);
    await shot(page, 'diff');

    await page.goto(`${server.url}/ui/#/diff/carts-json/1/2`);
    await heading(page).filter({ hasText: 'carts-json' }).waitFor();
    assert.match(await page.locator('.verdict').innerText(), /Compatible at NONE/);
    assert.ok((await page.locator('table.diff tr.change mark').count()) >= 1);
    await page.selectOption('#level', 'BACKWARD');
    await page.locator('.verdict', { hasText: 'Incompatible at BACKWARD' }).waitFor();
    assert.ok((await page.locator('.verdict .reasons li').count()) >= 1);
    await shot(page, 'diff-incompatible');

    // Try a change: an incompatible one is refused with reasons, a compatible one registered.
    await page.goto(`${server.url}/ui/#/check/users-value`);
    await heading(page).filter({ hasText: 'Try a change to users-value' }).waitFor();
    assert.match(await page.inputValue('#schema'), /"email"/);
    const retyped = { ...USER_V2, fields: [{ name: 'name', type: 'int' }, USER_V2.fields[1]] };
    await page.fill('#schema', JSON.stringify(retyped, null, 2));
    await page.click('#run');
    await page.locator('#result .verdict', { hasText: 'Incompatible' }).waitFor();
    assert.match(await page.locator('#result .reasons').innerText(), /TYPE_MISMATCH/);
    await shot(page, 'check-incompatible');
    const v3 = { ...USER_V2, fields: [...USER_V2.fields, { name: 'age', type: 'int', default: 0 }] };
    await page.fill('#schema', JSON.stringify(v3, null, 2));
    await page.click('#run');
    await page.locator('#result .verdict', { hasText: 'Compatible' }).waitFor();
    await page.click('#register');
    await page.locator('#result .verdict', { hasText: 'Registered' }).waitFor();
    await page.click('#result a[href="#/subject/users-value/v/3"]');
    await page.locator('.timeline li.current a', { hasText: 'v3' }).waitFor();
    assert.deepEqual(await page.locator('.timeline li a').allTextContents(), ['v3', 'v2', 'v1']);
    const versions = await call(server.url, 'GET', '/subjects/users-value/versions');
    assert.deepEqual(versions, [1, 2, 3]);

    // READONLY: no write button.
    await page.goto(`${server.url}/ui/#/check/frozen-value`);
    await page.locator('#readonly').waitFor();
    assert.equal(await page.locator('#register').count(), 0);

    // A new subject, from the list's button.
    await page.goto(`${server.url}/ui/`);
    await page.click('text=New subject');
    await heading(page).filter({ hasText: 'New subject' }).waitFor();
    await page.fill('#subject', 'fresh-value');
    await page.fill('#schema', '"string"');
    await page.click('#run');
    await page.locator('#result .verdict', { hasText: 'no versions yet' }).waitFor();
    await page.click('#register');
    await page.locator('#result a[href="#/subject/fresh-value/v/1"]').waitFor();

    // A schema by id, from the header's box, keyboard only.
    await page.focus('#idbox');
    await page.keyboard.type(String(ids.payment1));
    await page.keyboard.press('Enter');
    await heading(page).filter({ hasText: `Schema id ${ids.payment1}` }).waitFor();
    assert.equal(await page.locator('#uses a').textContent(), 'payments-proto v1');
    assert.ok((await page.locator('pre.code .tok-kw').count()) >= 3);
    await shot(page, 'schema-by-id');

    // Keyboard: a view puts the focus on its heading, the next Tab reaches its first
    // control; links open views with Enter.
    await page.goto(`${server.url}/ui/`);
    await page.locator('#subjects tbody tr').first().waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.tagName), 'H1');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'q');
    await page.focus('a[href="#/subject/payments-proto"]');
    await page.keyboard.press('Enter');
    await heading(page).filter({ hasText: 'payments-proto' }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.tagName), 'H1');

    // A narrow window: nothing wider than the screen.
    await page.setViewportSize({ width: 380, height: 800 });
    for (const route of ['#/', '#/subject/users-value', '#/diff/users-value/1/3']) {
      await page.goto(`${server.url}/ui/${route}`);
      await page.locator('main h1').waitFor();
      await page.waitForFunction(() => !document.getElementById('main').hasAttribute('aria-busy'));
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${route} is ${overflow}px wider than a narrow window`);
    }
    await shot(page, 'narrow-diff');

    assert.deepEqual(problems, []);
  } finally {
    await context.close();
    await stopServer(server);
  }
});

test('with authentication on, the login form signs in and a 403 is shown', async () => {
  const work = mkdtempSync(path.join(tmpdir(), 'schemata-ui-auth-'));
  const user = (name, password) =>
    JSON.parse(execFileSync(BIN, ['passwd', '--username', name, '--algorithm', 'sha256', '--password', password]));
  writeFileSync(
    path.join(work, 'auth.json'),
    JSON.stringify({
      users: [user('admin', 'admin-secret'), user('reader', 'reader-secret')],
      permissions: [
        { username: 'admin', operation: 'Write', resource: '.*' },
        { username: 'reader', operation: 'Read', resource: 'Subject:users-' },
      ],
    }),
  );
  const server = await startServer(['--auth-file', path.join(work, 'auth.json')]);
  const { page, context, problems } = await newPage();
  try {
    const admin = { Authorization: `Basic ${Buffer.from('admin:admin-secret').toString('base64')}` };
    await populate(server.url, admin);
    // The page itself is open; its data is not.
    const asset = await fetch(`${server.url}/ui/app.mjs`);
    assert.equal(asset.status, 200);
    assert.equal((await fetch(`${server.url}/subjects`)).status, 401);

    await page.goto(`${server.url}/ui/`);
    await heading(page).filter({ hasText: 'Sign in' }).waitFor();
    await shot(page, 'login');
    await page.fill('#username', 'reader');
    await page.fill('#password', 'wrong');
    await page.click('#login button[type=submit]');
    await page.locator('.notice', { hasText: 'Wrong username or password' }).waitFor();
    await page.fill('#username', 'reader');
    await page.fill('#password', 'reader-secret');
    await page.click('#login button[type=submit]');
    await heading(page).filter({ hasText: 'Subjects' }).waitFor();
    await page.locator('#subjects tbody tr').first().waitFor();
    assert.deepEqual(await rowNames(page), ['users-value']);
    assert.match(await page.locator('#user').innerText(), /Signed in as reader/);

    // A reader may check but not register: the 403 is shown.
    await page.goto(`${server.url}/ui/#/check/users-value`);
    await heading(page).filter({ hasText: 'Try a change' }).waitFor();
    const v3 = { ...USER_V2, fields: [...USER_V2.fields, { name: 'age', type: 'int', default: 0 }] };
    await page.fill('#schema', JSON.stringify(v3));
    await page.click('#run');
    await page.locator('#result .verdict', { hasText: 'Compatible' }).waitFor();
    await page.click('#register');
    await page.locator('#result .error', { hasText: 'Not allowed' }).waitFor();
    assert.match(await page.locator('#result .error').innerText(), /denied operation Write on Subject:users-value/);
    await shot(page, 'forbidden');

    // Signing out asks again.
    await page.click('#signout');
    await heading(page).filter({ hasText: 'Sign in' }).waitFor();
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
    await stopServer(server);
    rmSync(work, { recursive: true, force: true });
  }
});
