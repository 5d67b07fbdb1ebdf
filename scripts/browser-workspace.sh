#!/usr/bin/env bash
# The analyst workspace in a real browser: Debian's headless Chromium driven by
# playwright-core (npm, installed under target/). Runs the demo into a store, adds an
# analyst granted the ballot engine and a viewer, serves it, then: signs in as the
# analyst, opens the dashboard and every engine's findings list, triages a finding from
# its page (with a note holding a script), reloads and sees the change and the note as
# text with no script run; signs in as the viewer and sees the ballot findings without
# voter ids, and no triage form; signs out. Screenshots go to target/browser-workspace/.
# Any failure fails the script.
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

cd "$work"
BASE="http://$addr" CHROMIUM="$chromium" OUT="$work" RUN="$run" node - <<'JS'
const { chromium } = require('playwright-core');
const fs = require('fs');
const base = process.env.BASE, out = process.env.OUT;
const voterIds = [...new Set(JSON.parse(fs.readFileSync(`${process.env.RUN}/ballots.json`, 'utf8'))
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
  console.log('OK: sign-in, engine lists, triage persisted, note escaped, viewer redacted, sign-out');
})().catch(e => { console.error('FAIL:', e); process.exit(1); });
JS
