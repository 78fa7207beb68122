// pages.js - the pages not on a day's path, and hostile values on every
// page: users, tokens (a new one shown once, then working, then revoked),
// the audit trail, the errors; values made to break out of the markup
// render as text everywhere they are shown, and nothing they carry runs.
// Every page passes axe and is photographed at 360 and 1280 px.
'use strict';
const {assert, run, newPage, go, submit, fill, fillDate, login, text, axe, screenshots, step,
  BASE} = require('./lib');

// Values the field rules accept (they are what a person may type) and that
// would run or break out of the page if they were not escaped.
const HOSTILE = {
  nombre: '<script>window.__xss = 1</script>',
  apellidos: '"><svg onload="window.__xss = 2"> & \'\'',
  mail: "o'neil&x{}=y@example.com",
  direccion: '\' onmouseover=\'window.__xss = 3\' x=\' <img src=x onerror="window.__xss = 4">',
};
const HOSTILE_Q = '"><img src=x onerror="window.__xss = 5"> ñ';

async function look(page, name) {
  await axe(page, name);
  await screenshots(page, name);
}

// Nothing injected ran, and no element of the values was made.
async function inert(page, where) {
  const found = await page.evaluate(() => ({
    xss: window.__xss === undefined ? 'none' : String(window.__xss),
    svg: document.querySelectorAll('main svg, main img, main script').length,
    handlers: [...document.querySelectorAll('*')].filter((e) =>
      [...e.attributes].some((a) => /^on/i.test(a.name))).length,
  }));
  assert.deepStrictEqual(found, {xss: 'none', svg: 0, handlers: 0}, where);
}

run('pages', async (browser, problems) => {
  const page = await newPage(browser, problems);
  page.on('dialog', (d) => { problems.push(`a dialog opened: ${d.message()}`); d.dismiss(); });

  step('users: the list, a refused creation, a creation, a role, a deactivation');
  await login(page, 'admin');
  await go(page, '/ui/usuarios');
  assert.deepStrictEqual(await page.$$eval('tbody tr td:first-child', (t) => t.map((x) => x.textContent)),
    ['admin', 'editora', 'lector']);
  await look(page, 'usuarios');
  await fill(page, '#nuevo-usuario', 'nueva.persona');
  await fill(page, '#nueva-clave', 'corta');
  await page.select('#nuevo-rol', 'editor');
  page.expect('/ui/usuarios', 422);
  let r = await submit(page, 'form[action="/ui/usuarios"] button[type=submit]');
  assert.strictEqual(r.status(), 422);
  assert.match(await text(page, '#nueva-clave-error'), /^Error: /);
  assert.strictEqual(await page.$eval('#nuevo-usuario', (e) => e.value), 'nueva.persona');
  assert.strictEqual(await page.$eval('#nuevo-rol', (e) => e.value), 'editor');
  await look(page, 'usuarios-error');
  page.unexpect();
  await fill(page, '#nueva-clave', 'una frase bastante larga y nueva');
  await submit(page, 'form[action="/ui/usuarios"] button[type=submit]');
  assert.strictEqual(await text(page, '.aviso'), 'Usuario creado.');
  await page.select('#rol-2', 'admin'); // rows by name: admin, editora, lector, nueva.persona
  await submit(page, 'tbody tr:nth-child(3) form[action="/ui/usuarios/rol"] button');
  assert.strictEqual(await text(page, '.aviso'), 'Rol cambiado.');
  assert.strictEqual(await text(page, 'tbody tr:nth-child(3) td:nth-child(2)'), 'administrador');
  await submit(page, 'tbody tr:nth-child(4) form[action="/ui/usuarios/estado"] button');
  assert.strictEqual(await text(page, 'tbody tr:nth-child(4) td:nth-child(3)'), 'desactivado');
  // an admin keeps their own access: no control on their own row
  assert.strictEqual(await page.$('tbody tr:nth-child(1) form'), null);

  step('tokens: a new one is shown once, works, and stops when revoked');
  await go(page, '/ui/tokens');
  await look(page, 'tokens');
  await fill(page, '#token-nombre', 'copias nocturnas');
  await page.select('#token-rol', 'reader');
  r = await submit(page, 'form[action="/ui/tokens"] button[type=submit]');
  assert.strictEqual(r.status(), 201);
  const token = await text(page, '#token-nuevo');
  assert.match(token, /^clt_[0-9a-f]{64}$/);
  assert.strictEqual(await page.$eval('button[data-copiar]', (b) => b.hidden), false); // the script's
  await look(page, 'tokens-nuevo');
  let me = await fetch(`${BASE}/v1/me`, {headers: {Authorization: `Bearer ${token}`}});
  assert.strictEqual(me.status, 200);
  assert.strictEqual((await me.json()).role, 'reader');
  await go(page, '/ui/tokens');
  assert.ok(!(await page.content()).includes(token), 'the token is shown only once');
  const row = await page.$$eval('tbody tr', (trs) => trs.findIndex((tr) => tr.textContent.includes('copias nocturnas')));
  await submit(page, `tbody tr:nth-child(${row + 1}) form[action="/ui/tokens/revocar"] button`);
  assert.strictEqual(await text(page, '.aviso'), 'Token revocado: deja de servir desde la próxima petición.');
  me = await fetch(`${BASE}/v1/me`, {headers: {Authorization: `Bearer ${token}`}});
  assert.strictEqual(me.status, 401);

  step('the audit trail, and a filter');
  await go(page, '/ui/auditoria');
  const actions = await page.$$eval('tbody td[data-etiqueta="Acción"]', (t) => t.map((x) => x.textContent));
  for (const a of ['Token revocado', 'Token creado', 'Usuario desactivado', 'Cambio de rol',
    'Alta de usuario', 'Inicio de sesión']) assert.ok(actions.includes(a), a);
  await look(page, 'auditoria');
  await page.select('#f-accion', 'token.create');
  await submit(page, 'form[action="/ui/auditoria"] button');
  // this one, and the one the test stack made before it started
  assert.deepStrictEqual(await page.$$eval('tbody td[data-etiqueta="Acción"]', (t) => t.map((x) => x.textContent)),
    ['Token creado', 'Token creado']);

  step('hostile values: a client made of them');
  await go(page, '/ui/clientes/nuevo');
  for (const [k, v] of Object.entries(HOSTILE)) await fill(page, `#${k}`, v);
  await fillDate(page, '#fecha_nacimiento', '1990-05-17');
  await submit(page, 'main form button[type=submit]');
  assert.strictEqual(await text(page, '.aviso'), 'Cliente creado.');
  const shown = await page.$$eval('dl.ficha dd', (dd) => dd.map((d) => d.textContent));
  assert.deepStrictEqual(shown.slice(0, 5), [HOSTILE.nombre, HOSTILE.apellidos, HOSTILE.mail,
    '17/05/1990', HOSTILE.direccion]);
  assert.strictEqual(await page.title(), `${HOSTILE.nombre} ${HOSTILE.apellidos} · clientes`);
  await inert(page, 'ficha');
  await look(page, 'ficha-hostil');
  const ficha = page.url();

  step('hostile values: in the list, the edit form, the history, the deletion');
  await go(page, '/ui/clientes?orden=mail');
  assert.ok((await page.$$eval('td.mail', (t) => t.map((x) => x.textContent))).includes(HOSTILE.mail));
  await inert(page, 'lista');
  await go(page, ficha);
  await submit(page, 'a[href^="/ui/cliente/editar"]');
  for (const [k, v] of Object.entries(HOSTILE)) {
    if (k !== 'mail') assert.strictEqual(await page.$eval(`#${k}`, (e) => e.value), v, k);
  }
  await inert(page, 'editar');
  await fill(page, '#direccion', HOSTILE.apellidos);
  await submit(page, 'main form button[type=submit]');
  assert.match(await text(page, '.historial'), /Dirección: antes: ' onmouseover=/);
  await inert(page, 'historial');
  await look(page, 'ficha-hostil-historial');
  await submit(page, 'a[href^="/ui/cliente/borrar"]');
  await inert(page, 'borrar');
  await go(page, '/ui/auditoria');
  assert.ok((await page.$$eval('td[data-etiqueta="Sobre"]', (t) => t.map((x) => x.textContent))).includes(HOSTILE.mail));
  await inert(page, 'auditoria');

  step('hostile values: a search, and input the rules refuse (a bidi override)');
  await go(page, '/ui/clientes');
  await fill(page, '#q', HOSTILE_Q);
  await submit(page, 'form.buscador button[type=submit]');
  assert.strictEqual(await page.$eval('#q', (e) => e.value), HOSTILE_Q);
  assert.match(await text(page, '.vacio'), /Ningún cliente coincide con «"><img src=x/);
  await inert(page, 'búsqueda');
  await go(page, '/ui/clientes/nuevo');
  await fill(page, '#nombre', 'abc\u202Egpj.exe');
  await fill(page, '#apellidos', 'Ruiz');
  page.expect('/ui/clientes/nuevo', 422);
  await submit(page, 'main form button[type=submit]');
  assert.match(await text(page, '#nombre-error'), /contiene controles de direccion del texto/);
  // kept, but with the override made visible and inert
  assert.strictEqual(await page.$eval('#nombre', (e) => e.value), 'abc\uFFFDgpj.exe');
  assert.ok(!(await page.content()).includes('\u202E'));
  await inert(page, 'nuevo con errores');
  await look(page, 'nuevo-errores');
  page.unexpect();

  step('errors in the style of the pages');
  page.expect('/ui/nada', 404);
  r = await go(page, '/ui/nada');
  assert.strictEqual(r.status(), 404);
  assert.strictEqual(await text(page, 'h1'), 'Página no encontrada');
  await look(page, 'error-404-pagina');
  page.expect('/ui/cliente', 404);
  r = await go(page, '/ui/cliente?mail=nadie%40example.es');
  assert.strictEqual(r.status(), 404);
  assert.match(await text(page, 'main'), /No hay ningún cliente con ese correo/);
  await page.close();
});
