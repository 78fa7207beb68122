// errors.js - nginx's own errors as a browser sees them: a page in the
// style of the others (its stylesheet and icon load, under the CSP), which
// passes axe; a program asking the same gets the JSON error.
'use strict';
const {assert, run, newPage, go, axe, screenshots, text, BASE} = require('./lib');

run('errors', async (browser, problems) => {
  const page = await newPage(browser, problems);
  page.expect('/static/nada.css', 404);
  const r = await go(page, '/static/nada.css');
  assert.strictEqual(r.status(), 404);
  assert.match(r.headers()['content-type'], /^text\/html/);
  assert.strictEqual(await page.title(), 'Página no encontrada · clientes');
  assert.strictEqual(await text(page, 'h1'), 'Página no encontrada');
  // the stylesheet applied: the bar has its colour
  const bar = await page.$eval('.barra', (e) => getComputedStyle(e).backgroundColor);
  assert.strictEqual(bar, 'rgb(8, 58, 102)');
  await axe(page, 'error 404');
  await screenshots(page, 'error-404');

  // the icon and the stylesheet the page names are served with their types
  const icon = await page.$eval('link[rel=icon]', (e) => e.href);
  const css = await page.$eval('link[rel=stylesheet]', (e) => e.href);
  for (const [url, type] of [[icon, 'image/x-icon'], [css, 'text/css; charset=utf-8'],
    [BASE + '/favicon.ico', 'image/x-icon']]) {
    const res = await fetch(url);
    assert.strictEqual(res.status, 200, url);
    assert.strictEqual(res.headers.get('content-type'), type, url);
    assert.strictEqual(res.headers.get('x-content-type-options'), 'nosniff', url);
  }
  // a program gets JSON for the same error
  const res = await fetch(BASE + '/static/nada.css', {headers: {Accept: '*/*'}});
  assert.strictEqual(res.status, 404);
  assert.deepStrictEqual(await res.json(), {mensaje: 'Ruta no encontrada', status: '404'});
  await page.close();
});
