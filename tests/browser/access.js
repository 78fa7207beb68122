// access.js - who may do what, in a real browser: a reader sees no control
// that changes anything and is refused (403) when posting anyway; a form of
// another site posting with the person's session changes nothing, whether
// the browser sends the cookie or not (localhost and 127.0.0.1 are
// different sites); the pages of a role are closed to the others.
'use strict';
const {assert, run, newPage, go, submit, login, text, axe, screenshots, step, BASE,
  ATTACKER} = require('./lib');

const MAIL = 'ejemplo%40gmail.com';

// Posts a form from inside the page (same origin, the session's own CSRF
// token): what a person who knows the URLs could do by hand.
async function postFromPage(page, action, fields) {
  const [r] = await Promise.all([page.waitForNavigation({waitUntil: 'load'}),
    page.evaluate((action, fields) => {
      const f = document.createElement('form');
      f.method = 'post';
      f.action = action;
      const token = document.querySelector('input[name=csrf_token]');
      fields = {csrf_token: token ? token.value : '', ...fields};
      for (const [k, v] of Object.entries(fields)) {
        const i = document.createElement('input');
        i.type = 'hidden';
        i.name = k;
        i.value = v;
        f.appendChild(i);
      }
      document.body.appendChild(f);
      f.submit();
    }, action, fields)]);
  return r;
}

async function exampleExists(page) {
  const cookies = (await page.cookies(BASE)).map((k) => `${k.name}=${k.value}`).join('; ');
  const r = await fetch(`${BASE}/ui/cliente?mail=${MAIL}`, {headers: {Cookie: cookies},
    redirect: 'manual'});
  return r.status === 200;
}

run('access', async (browser, problems) => {
  step('a reader sees no control that changes anything');
  const ctx = await browser.createBrowserContext();
  const reader = await newPage(ctx, problems);
  await login(reader, 'reader');
  assert.deepStrictEqual(await reader.$$eval('.barra nav a', (as) => as.map((a) => a.textContent)),
    ['Clientes']);
  assert.strictEqual(await reader.$('a[href="/ui/clientes/nuevo"]'), null);
  assert.ok(await reader.$('a[href^="/ui/exportar"]')); // reading includes the export
  await go(reader, `/ui/cliente?mail=${MAIL}`);
  assert.strictEqual(await reader.$('a[href^="/ui/cliente/editar"]'), null);
  assert.strictEqual(await reader.$('a[href^="/ui/cliente/borrar"]'), null);
  const forms = await reader.$$eval('form[method=post]', (fs) => fs.map((f) => f.getAttribute('action')));
  assert.deepStrictEqual(forms, ['/ui/salir']);
  await axe(reader, 'ficha (lector)');
  await screenshots(reader, 'ficha-lector');

  step('a reader is refused the editor\'s pages and posts');
  for (const p of [`/ui/cliente/editar?mail=${MAIL}`, `/ui/cliente/borrar?mail=${MAIL}`,
    '/ui/clientes/nuevo', '/ui/importar', '/ui/usuarios', '/ui/tokens', '/ui/auditoria']) {
    reader.expect(new URL(BASE + p).pathname, 403);
    const r = await go(reader, p);
    assert.strictEqual(r.status(), 403, p);
    assert.strictEqual(await text(reader, 'h1'), 'Acceso no permitido');
    assert.match(await text(reader, 'main'), /Su rol \(reader\) no permite esta operacion/);
  }
  await axe(reader, 'error 403');
  await screenshots(reader, 'error-403');
  await go(reader, `/ui/cliente?mail=${MAIL}`);
  reader.expect('/ui/cliente/borrar', 403);
  let r = await postFromPage(reader, '/ui/cliente/borrar', {mail: 'ejemplo@gmail.com', version: '1'});
  assert.strictEqual(r.status(), 403);
  reader.expect('/ui/clientes/nuevo', 403);
  await go(reader, '/ui/clientes');
  r = await postFromPage(reader, '/ui/clientes/nuevo', {nombre: 'A', apellidos: 'B',
    mail: 'lector@example.es', fecha_nacimiento: '2000-01-01', direccion: 'C'});
  assert.strictEqual(r.status(), 403);
  assert.ok(await exampleExists(reader));
  await go(reader, '/ui/clientes');
  assert.deepStrictEqual(await reader.$$eval('td.mail', (t) => t.map((x) => x.textContent)),
    ['ejemplo@gmail.com']);
  await ctx.close();

  step('an editor is refused the administration');
  const ectx = await browser.createBrowserContext();
  const editor = await newPage(ectx, problems);
  await login(editor, 'editor');
  for (const p of ['/ui/usuarios', '/ui/tokens', '/ui/auditoria']) {
    editor.expect(p, 403);
    assert.strictEqual((await go(editor, p)).status(), 403, p);
  }
  editor.unexpect();

  step('a form of another site, posting with the editor\'s session, changes nothing');
  await go(editor, `/ui/cliente/borrar?mail=${MAIL}`);
  const csrf = await editor.$eval('input[name=csrf_token]', (e) => e.value);
  const version = await editor.$eval('input[name=version]', (e) => e.value);
  // the worst case: the attacker even knows the CSRF token
  const fields = JSON.stringify({csrf_token: csrf, mail: 'ejemplo@gmail.com', version});
  const target = `${BASE}/ui/cliente/borrar`;
  const attack = `${ATTACKER}/form?target=${encodeURIComponent(target)}&fields=${encodeURIComponent(fields)}`;
  const evil = await newPage(ectx, problems);
  await go(evil, attack);
  assert.strictEqual(new URL(evil.url()).hostname, 'localhost');
  // (a) as the browser does it: SameSite=Lax keeps the cookie off a
  // cross-site POST, so the service sees nobody and asks to sign in
  r = await submit(evil, '#f button');
  assert.match(evil.url(), /\/ui\/entrar$/);
  assert.ok(await exampleExists(editor));
  // (b) with the cookie sent anyway (an older browser, a lax setting): the
  // request says it comes from another site, and is refused
  const cookies = (await editor.cookies(BASE)).map((k) => `${k.name}=${k.value}`).join('; ');
  await go(evil, attack);
  await evil.setRequestInterception(true);
  evil.on('request', (q) => {
    if (q.method() === 'POST') q.continue({headers: {...q.headers(), cookie: cookies}});
    else q.continue();
  });
  evil.expect('/ui/cliente/borrar', 403);
  r = await submit(evil, '#f button');
  assert.strictEqual(r.status(), 403);
  assert.strictEqual(r.request().headers()['sec-fetch-site'], 'cross-site');
  assert.match(await text(evil, 'main'), /Peticion de otro sitio no permitida/);
  assert.ok(await exampleExists(editor));
  await evil.close();

  step('the same post from the service\'s own page works');
  await go(editor, `/ui/cliente/borrar?mail=${MAIL}`);
  await submit(editor, 'main form button.peligro');
  assert.strictEqual(await text(editor, '.aviso'), 'Cliente borrado.');
  assert.ok(!(await exampleExists(editor)));
  await ectx.close();
});
