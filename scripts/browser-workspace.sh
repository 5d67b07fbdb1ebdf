#!/usr/bin/env bash
# The analyst workspace in a real browser: Debian's headless Chromium driven by
# playwright-core (npm, installed under target/). Runs the demo into a store, then the
# engines again on hostile copies of the demo's inputs (scripts/xss_seed.py: markup in
# post text, account names, log paths and user agents, a ballot envelope id), adds an
# analyst granted the ballot engine and a viewer, serves it, then:
# - signs in as the analyst, opens the dashboard and every engine's findings list,
#   triages a finding from its page (with a note holding a script), reloads and sees the
#   change and the note as text with no script run;
# - stored XSS: opens every page that shows the hostile findings (dashboard, overview,
#   lists, search, each hostile finding's page, the allow-list after allow-listing the
#   hostile network with a hostile reason), once as served and once with the content
#   security policy bypassed (so that escaping, not the policy, is what is tested), and
#   checks that no dialog opened, no element with an event handler or a hostile script
#   exists, and the hostile text is shown as text;
# - live updates: with pages open, a triage through the API and an engine run writing
#   new findings show up in the findings list, a finding page and the dashboard without
#   a reload;
# - signs in as the viewer and sees the ballot findings without voter ids, and no triage
#   form; signs out.
# Screenshots go to target/browser-workspace/. Any failure fails the script.
set -euo pipefail
root="$(git rev-parse --show-toplevel)"
cd "$root"
bin="${SCRUTINEER_BIN:-$root/target/release/scrutineer}"
if [ -z "${SCRUTINEER_BIN:-}" ]; then
  cargo build --release -p scrutineer --quiet
fi
chromium="${SCRUTINEER_CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}"
[ -n "$chromium" ] || { echo "browser-workspace: no chromium (run scripts/setup.sh)" >&2; exit 2; }
if ! command -v npm >/dev/null; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
work="$root/target/browser-workspace"
mkdir -p "$work"
if [ ! -d "$work/node_modules/playwright-core" ]; then
  (cd "$work" && { [ -f package.json ] || npm init -y >/dev/null; } && npm install --silent --no-audit --no-fund playwright-core@1)
fi
# A new directory each run: the ledger's signing key remembers what it signed for a
# path, and would rightly refuse a ledger that vanished from one it knows.
rm -rf "$work"/run.* "$work"/*.png
run=$(mktemp -d "$work/run.XXXXXX")
store="$run/s.db"
"$bin" --quiet --store "$store" demo --scale 0.2 --dir "$run/demo" > /dev/null
# The engines again, on the demo's inputs with markup in every field an attacker controls.
python3 "$root/scripts/xss_seed.py" "$run/demo" "$run/hostile" > "$run/payloads.tsv"
deadline=$(sed -n 's/.*ballots reconcile.*--deadline \([^ ]*\).*/\1/p' "$run/demo/commands.txt" | head -n 1)
[ -n "$deadline" ] || { echo "FAIL: no ballot deadline in $run/demo/commands.txt" >&2; exit 1; }
"$bin" --quiet --store "$store" influence scan "$run/hostile/posts.csv" --format ira --platform simulated > /dev/null
"$bin" --quiet --store "$store" infra scan "$run/hostile"/logs/*/*.log --out "$run/hostile/infra-out" > /dev/null
"$bin" --quiet --store "$store" ballots reconcile --roll "$run/demo/ballots/roll.csv" \
  --issued "$run/demo/ballots/issued.csv" --returns "$run/hostile/returns.csv" \
  --checkins "$run/demo/ballots/checkins.csv" --deadline "$deadline" --out "$run/hostile/ballots-out" > /dev/null
printf 'analyst pass phrase\n' | "$bin" --quiet --store "$store" users add ana --role analyst --voter-data ballots
printf 'viewer pass phrase 1\n' | "$bin" --quiet --store "$store" users add vic --role viewer
admin=$("$bin" --quiet --store "$store" tokens add root --role admin)
"$bin" --store "$store" serve --listen 127.0.0.1:0 > "$run/serve.out" 2> "$run/serve.err" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q "listening on" "$run/serve.out" 2>/dev/null && break; sleep 0.1; done
addr=$(sed -n 's|^listening on http://||p' "$run/serve.out" | head -n 1)
[ -n "$addr" ] || { cat "$run/serve.err" >&2; echo "FAIL: the server did not start" >&2; exit 1; }
curl -sS -H "Authorization: Bearer $admin" "http://$addr/api/findings?engine=ballots&limit=100000" > "$run/ballots.json"
curl -sS -H "Authorization: Bearer $admin" "http://$addr/api/findings?limit=100000" > "$run/all.json"
# A log of a new scanner, for an engine run while pages are open.
for i in $(seq 0 119); do
  printf '198.51.100.201 - - [10/Sep/2020:04:%02d:%02d -0400] "GET /probe%d/admin.php HTTP/1.1" 404 0 "-" "live-update-check"\n' \
    $((i / 60)) $((i % 60)) "$i"
done > "$run/live.log"

cd "$work"
BASE="http://$addr" CHROMIUM="$chromium" OUT="$work" RUN="$run" BIN="$bin" STORE="$store" ADMIN="$admin" node - <<'JS'
const { chromium } = require('playwright-core');
const fs = require('fs');
const { execFileSync } = require('child_process');
const run = process.env.RUN;
const payloads = fs.readFileSync(`${run}/payloads.tsv`, 'utf8').trim().split('\n').map(l => l.split('\t'));
const hostile = JSON.parse(fs.readFileSync(`${run}/all.json`, 'utf8')).filter(f => JSON.stringify(f).includes('xss-'));
const api = (method, path, body) => JSON.parse(execFileSync('curl', ['-sS', '-f', '-X', method,
  '-H', `Authorization: Bearer ${process.env.ADMIN}`, '-H', 'Content-Type: application/json',
  ...(body ? ['--data', JSON.stringify(body)] : []), `${base}${path}`], { encoding: 'utf8' }));
const base = process.env.BASE, out = process.env.OUT;
const voterIds = [...new Set(JSON.parse(fs.readFileSync(`${run}/ballots.json`, 'utf8'))
  .flatMap(f => f.evidence.map(e => (e.data || {}).voter_id)).filter(v => v && v.length >= 4))];
const failures = [];
const check = (ok, what) => { if (!ok) { failures.push(what); console.log('FAIL:', what); } };
const word = (text, w) => new RegExp(`(^|[^A-Za-z0-9])${w}([^A-Za-z0-9]|$)`).test(text);

(async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: ['--no-sandbox'] });
  const signIn = async (name, password) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const dialogs = [];
    page.on('dialog', d => { dialogs.push(d.message()); d.dismiss(); });
    page.dialogs = dialogs;
    await page.goto(`${base}/`);
    check(page.url().endsWith('/login'), `a stranger was not sent to the sign-in form (${page.url()})`);
    await page.fill('#name', name);
    await page.fill('#password', password);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    check(await page.content().then(c => c.includes(`signed in as ${name}`)), `${name} is not signed in`);
    return page;
  };

  // The analyst: dashboard, each engine's list, triage from a finding page.
  const ana = await signIn('ana', 'analyst pass phrase');
  await ana.screenshot({ path: `${out}/1-dashboard-analyst.png`, fullPage: false });
  for (const engine of ['influence', 'infra', 'ballots', 'audit']) {
    await ana.goto(`${base}/findings?engine=${engine}`);
    const rows = await ana.locator('#findings tr').count();
    check(rows > 1, `the ${engine} list is empty`);
    if (engine === 'ballots') {
      const text = await ana.locator('body').innerText();
      check(voterIds.some(v => word(text, v)), 'the analyst granted ballots sees no voter id');
    }
  }
  await ana.screenshot({ path: `${out}/2-findings-list.png` });
  await ana.goto(`${base}/findings?engine=infra`);
  await Promise.all([ana.waitForNavigation(), ana.locator('#findings a').first().click()]);
  const findingUrl = ana.url();
  await ana.selectOption('#status-select', 'escalated');
  await ana.selectOption('#tlp-select', 'amber+strict');
  await ana.fill('#note', '<img src=x onerror="alert(1)"><script>alert(2)</script> sent to the state ISAC');
  await Promise.all([ana.waitForNavigation(), ana.click('form[action$="/triage"] button[type=submit]')]);
  await ana.reload();
  check((await ana.locator('#status').innerText()) === 'escalated', 'the status did not persist across a reload');
  check((await ana.locator('#tlp').innerText()) === 'TLP:AMBER+STRICT', 'the marking did not persist');
  const history = await ana.locator('#history').innerText();
  check(history.includes('<script>alert(2)</script> sent to the state ISAC'), 'the note is not shown as text');
  check((await ana.locator('#history img').count()) === 0, 'the note became markup');
  check(ana.dialogs.length === 0, `a script in a note ran: ${ana.dialogs}`);
  await ana.screenshot({ path: `${out}/3-finding-triaged.png`, fullPage: true });

  // Stored XSS: every page that shows what an attacker wrote, as served and with the
  // content security policy bypassed, so that a page relying on the policy alone fails.
  check(payloads.length === 5, `xss_seed printed ${payloads.length} payloads`);
  for (const [name, text] of payloads) {
    check(hostile.some(f => JSON.stringify(f).includes(JSON.stringify(text).slice(1, -1))),
      `no finding carries the ${name} payload: the engines dropped it`);
  }
  const network = hostile.find(f => f.engine === 'influence');
  check(network, 'no influence network with hostile account names');
  // The hostile network goes on the allow-list, with a hostile reason too.
  await ana.goto(`${base}/findings/${network.id}`);
  await ana.selectOption('#status-select', 'false_positive');
  await Promise.all([ana.waitForNavigation(), ana.click('form[action$="/triage"] button[type=submit]')]);
  await ana.fill('#allow-reason', '<img src=x onerror=alert("xss-reason")> a newsroom\'s accounts');
  await Promise.all([ana.waitForNavigation(), ana.click('#allow-form button[type=submit]')]);
  check(ana.url().includes('/allow-list'), `allow-listing did not lead to the allow-list (${ana.url()})`);
  payloads.push(['reason', '<img src=x onerror=alert("xss-reason")>']);
  const pages = ['/', '/overview', '/allow-list', '/findings', '/findings?engine=influence', '/findings?engine=infra',
    '/findings?engine=ballots', `/findings?q=${encodeURIComponent("<script>alert('xss-q')</script>")}`,
    ...hostile.map(f => `/findings/${f.id}`)];
  const shows = (text, t) => text.includes(t) || text.includes(JSON.stringify(t).slice(1, -1));
  let visited = 0;
  // The analyst's session, signed in once and carried into both contexts (Chromium's
  // sign-in post from a context that bypasses the policy is refused with 403).
  const session = await ana.context().storageState();
  for (const bypassCSP of [false, true]) {
    const context = await browser.newContext({ bypassCSP, storageState: session });
    const page = await context.newPage();
    const dialogs = [];
    page.on('dialog', d => { dialogs.push(d.message()); d.dismiss(); });
    for (const path of pages) {
      await page.goto(`${base}${path}`, { waitUntil: 'load' });
      await page.waitForTimeout(100);
      const where = `${path}${bypassCSP ? ' (policy bypassed)' : ''}`;
      const found = await page.evaluate(() => ({
        handlers: document.querySelectorAll('[onerror],[onload],[onmouseover],[onclick],[onfocus]').length,
        images: document.querySelectorAll('img[src="x"]').length,
        scripts: [...document.scripts].filter(s => s.textContent.includes('xss-') || (s.src && !s.src.endsWith('/static/workspace.js'))).length,
        svgs: [...document.querySelectorAll('svg')].filter(s => s.outerHTML.includes('xss-') && s.hasAttribute('onload')).length,
        text: document.body.innerText,
        q: (document.getElementById('q') || {}).value || '',
      }));
      check(found.text.includes('signed in as ana'), `not signed in on ${where}`);
      check(found.handlers === 0 && found.images === 0 && found.scripts === 0 && found.svgs === 0,
        `hostile markup became elements on ${where}: ${JSON.stringify({ ...found, text: undefined })}`);
      const f = hostile.find(h => path === `/findings/${h.id}`);
      if (f) {
        const own = JSON.stringify(f);
        for (const [name, text] of payloads) {
          if (own.includes(JSON.stringify(text).slice(1, -1))) {
            check(shows(found.text, text), `the ${name} payload is not shown as text on ${where}`);
          }
        }
      }
      if (path.startsWith('/findings?q=')) {
        check(found.q === "<script>alert('xss-q')</script>", `the search box does not hold the search as text on ${where}`);
      }
      if (path === '/allow-list') {
        check(shows(found.text, '<svg onload=alert(\'xss-account\')>'), `the hostile accounts are not shown as text on ${where}`);
        check(shows(found.text, '<img src=x onerror=alert("xss-reason")>'), `the hostile reason is not shown as text on ${where}`);
      }
      if (path === '/findings?engine=ballots' || path === '/') {
        check(shows(found.text, "X\"><script>alert('xss-ballot')</script>"), `the hostile ballot id is not shown as text on ${where}`);
      }
      visited += 1;
      if (path === '/allow-list' && !bypassCSP) { await page.screenshot({ path: `${out}/6-allow-list-hostile.png`, fullPage: true }); }
      if (path === '/overview' && !bypassCSP) { await page.screenshot({ path: `${out}/8-overview.png`, fullPage: true }); }
    }
    check(dialogs.length === 0, `hostile script ran${bypassCSP ? ' with the policy bypassed' : ''}: ${dialogs}`);
    await context.close();
  }
  console.log(`stored XSS: ${payloads.length} payloads, ${hostile.length} hostile findings, ${visited} page views checked`);

  // Live updates: pages open while a triage and an engine run change the store.
  await ana.goto(`${base}/findings?engine=infra`);
  await ana.waitForFunction(() => /^live/.test(document.getElementById('live').textContent), null, { timeout: 10000 });
  await ana.evaluate(() => { window.__notReloaded = true; });
  const target = await ana.locator('#findings tr[data-finding]').nth(1).getAttribute('data-finding');
  const vic0 = await browser.newContext();
  const watcher = await vic0.newPage();
  await watcher.goto(`${base}/login`);
  await watcher.fill('#name', 'vic');
  await watcher.fill('#password', 'viewer pass phrase 1');
  await Promise.all([watcher.waitForNavigation(), watcher.click('button[type=submit]')]);
  await watcher.goto(`${base}/findings/${target}`);
  await watcher.waitForFunction(() => /^live/.test(document.getElementById('live').textContent), null, { timeout: 10000 });
  await watcher.evaluate(() => { window.__notReloaded = true; });
  const t0 = Date.now();
  api('POST', `/api/findings/${target}/triage`, { status: 'acknowledged', note: 'seen live' });
  const rowUpdated = await ana.waitForFunction(id =>
    (document.querySelector(`#findings tr[data-finding="${id}"] .status`) || {}).textContent === 'acknowledged',
    target, { timeout: 15000 }).then(() => true, () => false);
  check(rowUpdated, 'the findings list did not show a triage made elsewhere');
  const pageUpdated = await watcher.waitForFunction(() =>
    document.getElementById('status').textContent === 'acknowledged' && document.getElementById('history').innerText.includes('seen live'),
    null, { timeout: 15000 }).then(() => true, () => false);
  check(pageUpdated, 'an open finding page did not show a triage made elsewhere');
  const triageMs = Date.now() - t0;
  await watcher.goto(`${base}/`);
  await watcher.waitForFunction(() => /^live/.test(document.getElementById('live').textContent), null, { timeout: 10000 });
  await watcher.evaluate(() => { window.__notReloaded = true; });
  const countBefore = await watcher.locator('#finding-count').innerText();
  const t1 = Date.now();
  execFileSync(process.env.BIN, ['--quiet', '--store', process.env.STORE, 'infra', 'scan', `${run}/live.log`,
    '--out', `${run}/live-out`], { stdio: 'ignore' });
  const listed = await ana.waitForFunction(() => document.getElementById('findings').innerText.includes('198.51.100.201'),
    null, { timeout: 20000 }).then(() => true, () => false);
  check(listed, 'the findings list did not show findings an engine run wrote');
  const counted = await watcher.waitForFunction(before => document.getElementById('finding-count').textContent !== before,
    countBefore, { timeout: 20000 }).then(() => true, () => false);
  check(counted, 'the dashboard did not show findings an engine run wrote');
  const runMs = Date.now() - t1;
  check(await ana.evaluate(() => window.__notReloaded === true), 'the findings list reloaded');
  check(await watcher.evaluate(() => window.__notReloaded === true), 'the dashboard reloaded');
  await ana.screenshot({ path: `${out}/7-live-findings.png` });
  console.log(`live updates: a triage reached two open pages in ${triageMs} ms; an engine run's findings (run included) in ${runMs} ms`);
  await vic0.close();

  // The viewer: no voter ids, no triage form, then signs out.
  const vic = await signIn('vic', 'viewer pass phrase 1');
  const dashboard = await vic.locator('body').innerText();
  check(!voterIds.some(v => word(dashboard, v)), 'a viewer saw voter ids on the dashboard');
  await vic.goto(`${base}/findings?engine=ballots`);
  const list = await vic.locator('body').innerText();
  check(list.includes('[redacted]'), 'the viewer\'s ballot list shows no redaction');
  check(!voterIds.some(v => word(list, v)), 'a viewer saw voter ids in the ballot list');
  await vic.screenshot({ path: `${out}/4-viewer-ballots.png` });
  await vic.goto(findingUrl);
  check((await vic.locator('#status').innerText()) === 'escalated', 'the viewer does not see the triage');
  check((await vic.locator('form[action$="/triage"]').count()) === 0, 'the viewer is offered the triage form');
  await Promise.all([vic.waitForNavigation(), vic.click('form[action="/logout"] button')]);
  check(vic.url().endsWith('/login'), 'sign-out did not go to the sign-in form');
  await vic.goto(`${base}/`);
  check(vic.url().endsWith('/login'), 'the dashboard opened after sign-out');
  await vic.screenshot({ path: `${out}/5-signed-out.png` });
  await browser.close();
  console.log(`checked ${voterIds.length} voter ids; screenshots in ${out}`);
  if (failures.length) { console.log(`FAIL: ${failures.length} checks failed`); process.exit(1); }
  console.log('OK: sign-in, engine lists, triage persisted, note escaped, stored XSS escaped, live updates, viewer redacted, sign-out');
})().catch(e => { console.error('FAIL:', e); process.exit(1); });
JS
# The allow-list entry made in the browser is honoured by the next scan: the hostile
# network is left out of the store, and the list says so.
"$bin" --store "$store" influence scan "$run/hostile/posts.csv" --format ira --platform simulated \
  > /dev/null 2> "$run/rescan.err"
grep -q "findings not stored: their sources or accounts are on the allow-list" "$run/rescan.err" \
  || { cat "$run/rescan.err" >&2; echo "FAIL: the influence scan did not apply the allow-list" >&2; exit 1; }
left_out=$(curl -sS -f -H "Authorization: Bearer $admin" "http://$addr/api/allow-list" \
  | python3 -c 'import json, sys; print(sum(len(e["last_run_left_out"]) for e in json.load(sys.stdin)))')
[ "$left_out" -ge 1 ] || { echo "FAIL: the allow-list shows nothing left out of the last scan" >&2; exit 1; }
echo "OK: the next influence scan left $left_out allow-listed networks out of the store"
