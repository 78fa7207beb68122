// lib.js - what every browser test shares: Debian's Chromium driven by
// puppeteer-core (tests/node, pinned; never a downloaded browser), a watch
// on every page for console errors, CSP violations and failed requests,
// axe-core's accessibility check, screenshots at 360 and 1280 px, and the
// steps of a person using the pages (sign in, fill a form, submit).
//
// Run by tests/browser/run.py, which starts the stack and passes, in the
// environment: BASE_URL (http://127.0.0.1:PORT), ATTACKER_URL (a page of
// another site: http://localhost:PORT2), USERS (JSON {role: [name,
// password]}), OUT_DIR (screenshots), NODE_MODULES (tests/node's).
'use strict';
const assert = require('assert');
const fs = require('fs');
const path = require('path');

const NODE_MODULES = process.env.NODE_MODULES;
const puppeteer = require(path.join(NODE_MODULES, 'puppeteer-core'));
const AXE = fs.readFileSync(path.join(NODE_MODULES, 'axe-core', 'axe.min.js'), 'utf8');

const BASE = process.env.BASE_URL;
const ATTACKER = process.env.ATTACKER_URL;
const USERS = JSON.parse(process.env.USERS || '{}');
const OUT = process.env.OUT_DIR;

async function launch() {
  const args = ['--no-first-run', '--no-default-browser-check', '--disable-gpu',
    '--disable-dev-shm-usage', '--password-store=basic'];
  // the sandbox cannot run as root: only then is it turned off
  if (process.getuid && process.getuid() === 0) args.push('--no-sandbox');
  return puppeteer.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args,
    protocolTimeout: 30000, // a step that hangs fails in 30 s, not 180
    // Spanish dates in <input type=date> (dd/mm/aaaa): --lang is ignored
    // on Linux, LANGUAGE is what Chromium reads
    env: {...process.env, LANGUAGE: 'es'},
  });
}

// Watches a page: every console error, uncaught exception, CSP violation,
// failed request and HTTP error (>= 400) it sees is a problem, unless the
// test said it expects that status for that path (page.expect(path, st)).
async function watch(page, problems) {
  const expected = new Map();
  page.expect = (p, status) => expected.set(p, status);
  page.unexpect = () => expected.clear();
  page.on('console', (m) => {
    if (m.type() === 'error') {
      const loc = m.location() && m.location().url;
      // the failed resource is reported below by its response, with its URL
      if (/^Failed to load resource/.test(m.text())) return;
      problems.push(`console error on ${page.url()}: ${m.text()} ${loc || ''}`);
    }
  });
  page.on('pageerror', (e) => problems.push(`uncaught exception on ${page.url()}: ${e.message}`));
  page.on('requestfailed', (r) => {
    const why = r.failure() && r.failure().errorText;
    // a download (Content-Disposition: attachment) ends the navigation so
    if (why === 'net::ERR_ABORTED' && r.isNavigationRequest()) return;
    problems.push(`request failed: ${r.method()} ${r.url()} (${why})`);
  });
  page.on('response', (r) => {
    if (r.status() < 400) return;
    const p = new URL(r.url()).pathname;
    if (expected.get(p) === r.status()) return;
    problems.push(`HTTP ${r.status()} for ${r.request().method()} ${r.url()}`);
  });
  // CSP violations do not throw: the page reports them to us
  await page.exposeFunction('__cspViolation', (v) => problems.push(
    `CSP violation on ${v.url}: ${v.directive} blocked ${v.blocked} (${v.sample})`));
  await page.evaluateOnNewDocument(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolation({url: document.URL, directive: e.violatedDirective,
        blocked: e.blockedURI, sample: e.sample});
    });
  });
  return page;
}

async function newPage(browser, problems, {javascript = true} = {}) {
  const page = await browser.newPage();
  await page.setJavaScriptEnabled(javascript);
  await page.setExtraHTTPHeaders({'Accept-Language': 'es-ES,es;q=0.9'});
  await watch(page, problems);
  return page;
}

// axe-core over the page as it is: no serious or critical violation of
// WCAG 2.1 A/AA.  axe is evaluated through the DevTools protocol, which the
// page's CSP does not govern (the CSP stays on).
async function axe(page, name) {
  const result = await page.evaluate(async (src) => {
    if (!window.axe) (0, eval)(src); // eslint-disable-line no-eval
    const r = await window.axe.run(document, {
      runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
    });
    return r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' '))}));
  }, AXE);
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepStrictEqual(bad, [], `axe on ${name}: ${JSON.stringify(bad, null, 1)}`);
  return result;
}

const shot = {n: 0};

// Full-page screenshots at a phone's 360 px and a desktop's 1280 px; the
// page fits a 360 px and a 1440 px screen without scrolling sideways.
async function screenshots(page, name) {
  if (!OUT) return;
  fs.mkdirSync(OUT, {recursive: true});
  const keep = page.viewport();
  for (const width of [360, 1280]) {
    await page.setViewport({width, height: 800});
    await page.screenshot({path: path.join(OUT, `${name}-${width}.png`), fullPage: true});
  }
  if (keep) await page.setViewport(keep);
  // nothing is wider than the screen, on a phone or a wide desktop
  for (const width of [360, 1440]) {
    await page.setViewport({width, height: 800});
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(wide <= width, `${name}: ${wide} px wide at a ${width} px screen`);
  }
  await page.setViewport(keep || {width: 1280, height: 800});
  shot.n++;
}

// Navigates and waits for the page, returning the main response.
async function go(page, url) {
  await page.bringToFront(); // a tab in the background may not run its steps
  const r = await page.goto(url.startsWith('http') ? url : BASE + url, {waitUntil: 'load'});
  return r;
}

// Clicks what submits a form and waits for the navigation it causes.
async function submit(page, selector) {
  await page.bringToFront();
  const [r] = await Promise.all([page.waitForNavigation({waitUntil: 'load'}),
    page.click(selector)]);
  return r;
}

// Types into a field after clearing it.
async function fill(page, selector, text) {
  await page.bringToFront();
  await page.click(selector, {clickCount: 3});
  await page.$eval(selector, (e) => { e.value = ''; });
  if (text) await page.type(selector, text);
}

// Sets an <input type=date> (keystrokes depend on the locale's order) by
// typing the digits of dd/mm/aaaa, as a person would.
async function fillDate(page, selector, iso) {
  const [y, m, d] = iso.split('-');
  await page.focus(selector);
  await page.keyboard.type(d + m + y);
}

async function login(page, role) {
  const [name, password] = USERS[role];
  await go(page, '/ui/entrar');
  await fill(page, '#usuario', name);
  await fill(page, '#clave', password);
  return submit(page, 'main button[type=submit]');
}

// Says where a script is (the log of a failure shows its last step).
function step(what) {
  console.log(`  - ${what}`);
}

async function text(page, selector) {
  return page.$eval(selector, (e) => e.textContent.replace(/\s+/g, ' ').trim());
}

// A test script's body, with a browser and the problems every page saw;
// exits non-zero on any failure or problem.
async function run(name, body) {
  const problems = [];
  const browser = await launch();
  const t0 = Date.now();
  let failed = false;
  try {
    await body(browser, problems);
  } catch (e) {
    failed = true;
    console.error(`${name}: FAILED: ${e.stack || e}`);
  } finally {
    await browser.close();
  }
  if (problems.length) {
    failed = true;
    console.error(`${name}: problems seen on the pages:\n  ${problems.join('\n  ')}`);
  }
  console.log(`${name}: ${failed ? 'FAILED' : 'ok'} in ${((Date.now() - t0) / 1000).toFixed(1)} s` +
    `, ${shot.n} pages photographed`);
  process.exit(failed ? 1 : 0);
}

module.exports = {BASE, ATTACKER, USERS, OUT, assert, launch, newPage, axe, screenshots, go,
  submit, fill, fillDate, login, text, step, run};
