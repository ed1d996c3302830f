// dashboard.js: the dashboard in headless Chromium (Debian's), driven by
// playwright-core: log in, see the price and the strike table change live,
// toggle auto entry (and see the settings change on the server), open the
// history.  Screenshots go to ARTIFACTS.  Prints TAP-ish lines; exit 1 on
// the first failure.
'use strict';
const { chromium } = require(process.env.PW_DIR + '/node_modules/playwright-core');

const url = process.env.DASH_URL, user = process.env.DASH_USER, pass = process.env.DASH_PASS;
const out = process.env.ARTIFACTS;
let n = 0;
function ok(cond, what) {
  n++;
  if (!cond) { console.log('not ok ' + n + ' - ' + what); throw new Error(what); }
  console.log('ok ' + n + ' - ' + what);
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage']
  });
  let page;
  try {
    for (const [name, vp] of [['desktop', { width: 1280, height: 900 }], ['phone', { width: 390, height: 844 }]]) {
      const ctx = await browser.newContext({ viewport: vp });
      page = await ctx.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      // 401s are expected: the first look before the login, the wrong password
      page.on('console', (m) => { if (m.type() === 'error' && !/status of 401/.test(m.text())) errors.push(m.text()); });
      await page.goto(url + '/');
      await page.waitForURL(/login\.html/, { timeout: 10000 });
      ok(true, name + ': not logged in: the login page');
      await page.screenshot({ path: out + '/' + name + '-login.png' });
      await page.fill('input[name=username]', user);
      await page.fill('input[name=password]', 'wrong password');
      await page.click('button[type=submit]');
      await page.waitForSelector('#error:not(:empty)', { timeout: 5000 });
      ok(/wrong user name or password/.test(await page.textContent('#error')), name + ': a wrong password is refused, and says so');
      await page.fill('input[name=password]', pass);
      await page.click('button[type=submit]');
      await page.waitForURL(url + '/', { timeout: 10000 });
      ok(true, name + ': logged in');
      // the session cookie Chromium kept on http://127.0.0.1: __Host-, so Secure
      const ck = (await ctx.cookies()).filter((c) => /recio_session/.test(c.name));
      ok(ck.length === 1 && ck[0].name === '__Host-recio_session' && ck[0].secure && ck[0].httpOnly &&
        ck[0].sameSite === 'Strict' && ck[0].path === '/',
        name + ': the session cookie kept: ' + JSON.stringify(ck.map((c) => [c.name, c.secure, c.httpOnly, c.sameSite, c.path])));
      // the price, live
      await page.waitForFunction(() => /\$[0-9,]+\.[0-9]{2}/.test(document.getElementById('price').textContent), null, { timeout: 15000 });
      const p1 = await page.textContent('#price');
      await page.waitForFunction((p) => document.getElementById('price').textContent !== p, p1, { timeout: 15000 });
      ok(true, name + ': the BTC price updates live (' + p1 + ' -> ' + (await page.textContent('#price')) + ')');
      // the strike table, live
      await page.waitForSelector('#strikes tbody tr', { timeout: 15000 });
      const rows = await page.$$eval('#strikes tbody tr', (t) => t.length);
      ok(rows >= 5, name + ': the strike table has ' + rows + ' rows');
      const t1 = await page.$eval('#strikes tbody', (t) => t.textContent);
      await page.waitForFunction((t) => document.querySelector('#strikes tbody').textContent !== t, t1, { timeout: 20000 });
      ok(true, name + ': the strike table updates live');
      ok(/^\d+:\d\d$/.test(await page.textContent('#countdown')), name + ': a countdown to the hour');
      // a manual buy, confirmed: sent with a key of its own, from which
      // health-serve makes the signal's id (the click from the page itself:
      // the table is drawn again at every tick)
      const [resp] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/api/order'), { timeout: 10000 }),
        (async () => {
          await page.evaluate(() => document.querySelector('#strikes tbody tr button').click());
          await page.click('#confirm button[value=ok]');
        })(),
      ]);
      const sent = JSON.parse(resp.request().postData());
      ok(/^[0-9a-f]{24}$/.test(sent.key) && resp.status() === 200,
        name + ': a manual buy goes with a key of its own (' + resp.status() + ', key ' + sent.key + ')');
      await page.screenshot({ path: out + '/' + name + '-monitor.png', fullPage: true });
      // auto entry: the switch writes the setting on the server
      const before = await page.isChecked('#auto_entry');
      await page.click('#auto_entry + span');
      await page.waitForFunction((b) => document.getElementById('auto_entry').checked !== b, before, { timeout: 5000 });
      const s = await page.evaluate(async () => (await fetch('/api/settings')).json());
      ok(s.auto_entry === !before, name + ': auto entry toggled to ' + !before + ' on the server');
      await page.click('#auto_entry + span');         // back as it was
      await page.waitForFunction((b) => document.getElementById('auto_entry').checked === b, before, { timeout: 5000 });
      // history
      await page.click('nav button[data-tab=history]');
      await page.waitForSelector('#summary .card', { timeout: 10000 });
      ok(await page.isVisible('#tab-history'), name + ': the history page, with its summary');
      await page.screenshot({ path: out + '/' + name + '-history.png', fullPage: true });
      await page.click('nav button[data-tab=system]');
      await page.waitForSelector('#services tbody tr', { timeout: 10000 });
      ok((await page.$$eval('#services tbody tr', (t) => t.length)) >= 8, name + ': the system page lists the services');
      await page.screenshot({ path: out + '/' + name + '-system.png', fullPage: true });
      ok(errors.length === 0, name + ': no script error' + (errors.length ? ': ' + errors.join('; ') : ''));
      await ctx.close();
    }
  } catch (e) {
    if (page) await page.screenshot({ path: out + '/failure.png', fullPage: true }).catch(() => null);
    console.log('# ' + e.message);
    await browser.close();
    process.exit(1);
  }
  await browser.close();
})();
