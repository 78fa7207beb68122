// day.js - a day of someone who manages the clients, in a real browser: sign
// in, the list, searching with and without accents, a new client with
// non-ASCII values in the list and on its card, an edit, an invalid date
// (the message by the field, the input kept), two tabs editing one client
// (the second save is told someone else changed it), a deletion confirmed,
// an import with one bad line (the preview shows it), the export compared
// with the list, signing out (the pages are closed then).  JAVASCRIPT=0
// runs the same day with JavaScript off.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const {assert, run, newPage, go, submit, fill, fillDate, login, text, axe, screenshots,
  step, BASE} = require('./lib');

const JS = process.env.JAVASCRIPT !== '0';
const tag = JS ? '' : '-sin-js';

// What a page shows as a card: <dt> label -> <dd> text.
async function card(page) {
  return page.$$eval('dl.ficha dt', (dts) => Object.fromEntries(dts.map((dt) =>
    [dt.textContent.trim(), dt.nextElementSibling.textContent.trim()])));
}

// The mails of the list's rows.
async function listed(page) {
  return page.$$eval('table.tarjetas tbody td.mail', (tds) => tds.map((t) => t.textContent.trim()));
}

async function search(page, q) {
  await go(page, '/ui/clientes');
  await fill(page, '#q', q);
  return submit(page, 'form.buscador button[type=submit]');
}

// Every page of the day is checked alike: accessible (when axe can run:
// with JavaScript on), photographed at 360 and 1280 px.
async function look(page, name) {
  if (JS) await axe(page, name);
  await screenshots(page, name + tag);
}

run('day' + tag, async (browser, problems) => {
  const page = await newPage(browser, problems, {javascript: JS});
  const download = fs.mkdtempSync(path.join(os.tmpdir(), 'clientes-export-'));

  // ---- sign in
  step('sign in');
  await go(page, '/ui/clientes');
  assert.match(page.url(), /\/ui\/entrar\?volver=%2Fui%2Fclientes$/);
  await look(page, 'entrar');
  page.expect('/ui/entrar', 401);
  await fill(page, '#usuario', 'editora');
  await fill(page, '#clave', 'no es la clave de nadie');
  let r = await submit(page, 'main button[type=submit]');
  assert.strictEqual(r.status(), 401);
  assert.match(await text(page, '.resumen-errores'), /Usuario o contraseña incorrectos/);
  assert.strictEqual(await page.$eval('#usuario', (e) => e.value), 'editora');
  page.unexpect();
  r = await login(page, 'editor');
  assert.strictEqual(r.status(), 200);
  assert.match(page.url(), /\/ui\/clientes$/); // back to the page asked for

  // ---- the list
  step('the list');
  assert.strictEqual(await page.title(), 'Clientes · clientes');
  assert.deepStrictEqual(await listed(page), ['ejemplo@gmail.com']);
  assert.match(await text(page, '.resumen'), /^1 cliente$/);
  await look(page, 'lista');

  // ---- a new client with non-ASCII values
  step('a new client with non-ASCII values');
  await go(page, '/ui/clientes/nuevo');
  await look(page, 'nuevo');
  await fill(page, '#nombre', 'José');
  await fill(page, '#apellidos', 'Ñúñez Peña');
  await fill(page, '#mail', 'jose.nunez@example.es');
  await fillDate(page, '#fecha_nacimiento', '1980-02-29');
  await fill(page, '#direccion', 'Calle Ñandú 3, 2ºB');
  r = await submit(page, 'main form button[type=submit]');
  assert.strictEqual(r.status(), 200);
  assert.match(page.url(), /\/ui\/cliente\?mail=jose\.nunez%40example\.es$/);
  assert.strictEqual(await text(page, '.aviso'), 'Cliente creado.');
  let c = await card(page);
  assert.strictEqual(c['Nombre'], 'José');
  assert.strictEqual(c['Apellidos'], 'Ñúñez Peña');
  assert.strictEqual(c['Correo electrónico'], 'jose.nunez@example.es');
  assert.strictEqual(c['Fecha de nacimiento'], '29/02/1980');
  assert.strictEqual(c['Dirección'], 'Calle Ñandú 3, 2ºB');
  assert.match(c['Creado'], /^\d\d\/\d\d\/\d{4} \d\d:\d\d$/);
  assert.strictEqual(await page.title(), 'José Ñúñez Peña · clientes');
  await look(page, 'ficha');
  // a reload shows the card again, without the one-shot confirmation
  await page.reload({waitUntil: 'load'});
  assert.strictEqual(await page.$('.aviso'), null);

  // ---- in the list, found with and without accents, in any case
  step('in the list, found with and without accents, in any case');
  await go(page, '/ui/clientes');
  assert.deepStrictEqual((await listed(page)).sort(), ['ejemplo@gmail.com', 'jose.nunez@example.es']);
  for (const q of ['jose nunez', 'JOSÉ ÑÚÑEZ', 'ñuñez', 'Peña', 'pena', 'NUNEZ@EXAMPLE']) {
    await search(page, q);
    assert.deepStrictEqual(await listed(page), ['jose.nunez@example.es'], `search ${q}`);
    assert.strictEqual(await page.$eval('#q', (e) => e.value), q);
  }
  await search(page, 'jesús'); // the example client is "Jesus": found with the accent
  assert.deepStrictEqual(await listed(page), ['ejemplo@gmail.com']);
  await search(page, 'zzzz nadie');
  assert.match(await text(page, '.vacio'), /Ningún cliente coincide con «zzzz nadie»/);
  await look(page, 'lista-sin-resultados');

  // ---- edit it
  step('edit it');
  await go(page, '/ui/cliente?mail=jose.nunez%40example.es');
  await submit(page, 'a[href^="/ui/cliente/editar"]');
  await look(page, 'editar');
  assert.strictEqual(await page.$eval('#fecha_nacimiento', (e) => e.value), '1980-02-29');
  await fill(page, '#direccion', 'Plaza de la Constitución 1, 3ºA');
  r = await submit(page, 'main form button[type=submit]');
  assert.strictEqual(await text(page, '.aviso'), 'Cambios guardados.');
  c = await card(page);
  assert.strictEqual(c['Dirección'], 'Plaza de la Constitución 1, 3ºA');
  const historial = await text(page, '.historial');
  assert.match(historial, /editora modificó: Dirección: antes: Calle Ñandú 3, 2ºB → después: Plaza de la Constitución 1, 3ºA/);
  assert.match(historial, /editora creó el cliente/);

  // ---- an invalid date: the message by the field, the input kept
  step('an invalid date: the message by the field, the input kept');
  await go(page, '/ui/cliente/editar?mail=jose.nunez%40example.es');
  await fill(page, '#nombre', 'José María');
  await fillDate(page, '#fecha_nacimiento', '2090-01-01');
  page.expect('/ui/cliente/editar', 422);
  r = await submit(page, 'main form button[type=submit]');
  assert.strictEqual(r.status(), 422);
  assert.strictEqual(await page.title(), 'Error: Editar cliente · clientes');
  assert.strictEqual(await text(page, '#fecha_nacimiento-error'),
    'Error: La fecha de nacimiento no puede ser posterior a hoy');
  assert.strictEqual(await page.$eval('#fecha_nacimiento', (e) => e.value), '2090-01-01');
  assert.strictEqual(await page.$eval('#fecha_nacimiento', (e) => e.getAttribute('aria-invalid')), 'true');
  assert.strictEqual(await page.$eval('#nombre', (e) => e.value), 'José María');
  // the message is the field's: next to it, and named by it
  assert.strictEqual(await page.$eval('#fecha_nacimiento', (e) => e.getAttribute('aria-describedby')),
    'fecha_nacimiento-ayuda fecha_nacimiento-error');
  assert.ok(await page.$eval('#fecha_nacimiento-error',
    (e) => e.parentElement === document.getElementById('fecha_nacimiento').parentElement));
  // with JavaScript, the script moved the focus to the summary of the errors;
  // without, nothing did (and the page works all the same)
  assert.strictEqual(await page.evaluate(() => document.activeElement.className === 'resumen-errores'),
    JS);
  await look(page, 'editar-error');
  page.unexpect();
  // nothing was saved
  await go(page, '/ui/cliente?mail=jose.nunez%40example.es');
  assert.strictEqual((await card(page))['Nombre'], 'José');

  // ---- two tabs edit the same client: the second save is told
  step('two tabs edit the same client: the second save is told');
  const other = await newPage(browser, problems, {javascript: JS});
  await go(page, '/ui/cliente/editar?mail=jose.nunez%40example.es');
  await go(other, '/ui/cliente/editar?mail=jose.nunez%40example.es');
  await fill(page, '#nombre', 'Josefa');
  await submit(page, 'main form button[type=submit]');
  assert.strictEqual(await text(page, '.aviso'), 'Cambios guardados.');
  await fill(other, '#apellidos', 'Ñúñez de Balboa');
  other.expect('/ui/cliente/editar', 409);
  r = await submit(other, 'main form button[type=submit]');
  assert.strictEqual(r.status(), 409);
  assert.match(await text(other, '.conflicto'), /^Modificado por otra persona/);
  assert.match(await text(other, '.conflicto'), /Lo que usted había escrito: .*Ñúñez de Balboa/);
  // the form holds the current values now (and their version)
  assert.strictEqual(await other.$eval('#nombre', (e) => e.value), 'Josefa');
  assert.strictEqual(await other.$eval('#apellidos', (e) => e.value), 'Ñúñez Peña');
  await look(other, 'editar-conflicto');
  // saving again now works
  await fill(other, '#apellidos', 'Ñúñez de Balboa');
  await submit(other, 'main form button[type=submit]');
  assert.strictEqual(await text(other, '.aviso'), 'Cambios guardados.');
  c = await card(other);
  assert.strictEqual(c['Nombre'], 'Josefa');
  assert.strictEqual(c['Apellidos'], 'Ñúñez de Balboa');
  await other.close();

  // ---- delete, with a confirmation
  step('delete, with a confirmation');
  await go(page, '/ui/cliente?mail=jose.nunez%40example.es');
  await submit(page, 'a[href^="/ui/cliente/borrar"]');
  assert.strictEqual(await text(page, 'h1'), '¿Borrar este cliente?');
  assert.match(await text(page, 'main'), /Josefa Ñúñez de Balboa/);
  await look(page, 'borrar');
  // the confirmation page changed nothing: the card is still there
  const still = await fetchAs(page, '/ui/cliente?mail=jose.nunez%40example.es');
  assert.strictEqual(still, 200);
  await submit(page, 'main form button.peligro');
  assert.match(page.url(), /\/ui\/clientes$/);
  assert.strictEqual(await text(page, '.aviso'), 'Cliente borrado.');
  assert.deepStrictEqual(await listed(page), ['ejemplo@gmail.com']);
  page.expect('/ui/cliente', 404);
  r = await go(page, '/ui/cliente?mail=jose.nunez%40example.es');
  assert.strictEqual(r.status(), 404);
  assert.strictEqual(await page.title(), 'Página no encontrada · clientes');
  page.unexpect();

  // ---- import a file with one bad line: the preview shows it
  step('import a file with one bad line: the preview shows it');
  const csv = path.join(download, 'nuevos.csv');
  fs.writeFileSync(csv, '\ufeffmail;nombre;apellidos;fecha_nacimiento;direccion\r\n' +
    'ana.lopez@example.es;Ana;López García;8/09/1978;Calle Mayor 1\r\n' +
    'mal@example.es;Malo;Fecha Rara;31/02/1990;Calle Sin Fecha 2\r\n' +
    'iñigo@example.es;Íñigo;Ruiz;1990-01-01;Calle Ñ 3\r\n' +
    'pau.ferrer@example.es;Pau;Ferrer i Puig;1999-12-31;"Carrer de l\'Àngel; 4"\r\n');
  await go(page, '/ui/importar');
  await look(page, 'importar');
  await (await page.$('#fichero')).uploadFile(csv);
  r = await submit(page, 'main form button[type=submit]');
  assert.strictEqual(r.status(), 200);
  assert.match(await text(page, '.resumen'), /Se crearán 2 clientes\. 2 líneas tienen errores/);
  const errs = await page.$$eval('tr.mal', (trs) => trs.map((tr) =>
    [...tr.cells].map((td) => td.textContent.trim())));
  assert.deepStrictEqual(errs, [['3', 'Fecha de nacimiento', 'Esa fecha no existe en el calendario'],
    ['4', 'Correo electrónico', 'Escriba un correo electrónico válido, como nombre@ejemplo.es ' +
     '(contiene caracteres no permitidos)']]);
  await look(page, 'importar-vista-previa');
  // the preview kept nothing
  assert.strictEqual(await fetchAs(page, '/ui/cliente?mail=ana.lopez%40example.es'), 404);
  await submit(page, 'form[action^="/ui/importar/confirmar"] button');
  assert.strictEqual(await text(page, '.aviso'), 'Importación terminada.');
  assert.deepStrictEqual((await listed(page)).sort(),
    ['ana.lopez@example.es', 'ejemplo@gmail.com', 'pau.ferrer@example.es']);

  // ---- export, and compare with the list
  step('export, and compare with the list');
  const cdp = await page.createCDPSession();
  await cdp.send('Browser.setDownloadBehavior', {behavior: 'allow', downloadPath: download});
  await page.click('a[href^="/ui/exportar"]');
  let file = null;
  for (let i = 0; i < 100 && !file; i++) {
    const f = fs.readdirSync(download).find((n) => /^clientes-\d{4}-\d\d-\d\d\.csv$/.test(n));
    if (f) file = path.join(download, f);
    else await new Promise((res) => setTimeout(res, 100));
  }
  assert.ok(file, 'the export was downloaded');
  const exported = fs.readFileSync(file, 'utf8');
  assert.ok(exported.startsWith('\ufeffnombre;apellidos;mail;fecha_nacimiento;direccion\r\n'));
  const rows = exported.slice(1).trim().split('\r\n').slice(1);
  assert.deepStrictEqual(rows, [ // ordered by name, as the list
    'Ana;López García;ana.lopez@example.es;8/09/1978;Calle Mayor 1',
    'Jesus;Mesa Gonzalez;ejemplo@gmail.com;29/06/1996;Calle Paseo Moreras 39',
    'Pau;Ferrer i Puig;pau.ferrer@example.es;1999-12-31;"Carrer de l\'Àngel; 4"',
  ]);
  await go(page, '/ui/clientes');
  assert.deepStrictEqual(await listed(page), rows.map((l) => l.split(';')[2]));
  fs.rmSync(download, {recursive: true, force: true});

  // ---- sign out: the pages are closed then
  step('sign out: the pages are closed then');
  r = await submit(page, '.cuenta button[type=submit]');
  assert.match(page.url(), /\/ui\/entrar$/);
  assert.strictEqual(await text(page, '.aviso'), 'Ha cerrado la sesión.');
  for (const p of ['/ui/clientes', '/ui/cliente?mail=ejemplo%40gmail.com', '/ui/clientes/nuevo',
    '/ui/importar']) {
    await go(page, p);
    assert.match(page.url(), /\/ui\/entrar\?volver=/, p);
  }
  // and the browser kept none of them: going back fetches them again
  await page.goBack({waitUntil: 'load'});
  assert.match(page.url(), /\/ui\/entrar/);
  await page.close();
});

// The status of a GET with the page's cookies, outside the page (a check
// that must not move the page itself).
async function fetchAs(page, p) {
  const cookies = (await page.cookies(BASE)).map((k) => `${k.name}=${k.value}`).join('; ');
  const res = await fetch(BASE + p, {headers: {Cookie: cookies, Accept: 'text/html'},
    redirect: 'manual'});
  return res.status;
}
