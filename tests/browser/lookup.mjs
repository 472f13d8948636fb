// Browser test of the evidence lookup page, in headless Chromium (Debian's `chromium`)
// driven by playwright-core (pinned in deploy/package.json). Launched by the Rust test
// tests/tests/e2e_page.rs against a real `bridge run` on a real devnet; it can also be
// run by hand against any running bridge:
//
//   BASE_URL=http://127.0.0.1:8080 FILE_PATH=doc.txt EXPECT_CHAINS=2 \
//   UNKNOWN_DIGEST=0x... SCREENSHOT_DIR=target/e2e-page node tests/browser/lookup.mjs
//
// With MODE=rotated (after a signed rotation of the file's attestor set), it checks only
// that the page trusts the file's new bundle through the signed rotation in the node's
// trust root, and that a tampered rotation or an owner-installed version fails.
//
// Exit 0 when every check passed; 1 with the reason (and a screenshot) otherwise.
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const need = (name) => {
  const v = process.env[name];
  if (!v) {
    console.error(`error: set ${name} (see the header of tests/browser/lookup.mjs)`);
    process.exit(2);
  }
  return v;
};
const BASE = need('BASE_URL').replace(/\/$/, '');
const FILE = need('FILE_PATH');
const UNKNOWN = need('UNKNOWN_DIGEST');
const EXPECT_CHAINS = Number(process.env.EXPECT_CHAINS || '2');
const SHOTS = resolve(process.env.SCREENSHOT_DIR || join(root, 'target', 'e2e-page'));
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const TIMEOUT = 60_000;
const MODE = process.env.MODE || 'full';

const require = createRequire(join(root, 'deploy', 'node_modules', 'noop.js'));
let chromium;
try {
  ({ chromium } = require('playwright-core'));
} catch (e) {
  console.error(`error: playwright-core is not installed in deploy/node_modules (run bash deploy/scripts/install-tools.sh): ${e.message}`);
  process.exit(2);
}

function check(cond, message) {
  if (!cond) throw new Error(message);
  console.log(`  ok: ${message}`);
}

async function headerChecks() {
  const res = await fetch(`${BASE}/`);
  check(res.status === 200, 'GET / answers 200');
  check((res.headers.get('content-type') || '').startsWith('text/html'), `GET / is text/html (${res.headers.get('content-type')})`);
  const csp = res.headers.get('content-security-policy') || '';
  check(csp.includes("default-src 'none'") && csp.includes("script-src 'self'"), `GET / sends a strict CSP (${csp})`);
  const js = await fetch(`${BASE}/assets/app.js`);
  check((js.headers.get('content-type') || '').startsWith('text/javascript'), 'app.js is text/javascript');
  const missing = await fetch(`${BASE}/assets/nope.js`);
  check(missing.status === 404 && typeof (await missing.json()).error === 'string', 'an unknown asset is a JSON 404');
}

/**
 * The served /assets/vendor/noble.mjs is byte for byte a fresh esbuild bundle of the
 * noble packages installed from npm (deploy/node_modules, pinned in deploy/package.json
 * and deploy/package-lock.json), not code of our own.
 */
async function nobleChecks(tmp) {
  const res = await fetch(`${BASE}/assets/vendor/noble.mjs`);
  check(res.status === 200 && (res.headers.get('content-type') || '').startsWith('text/javascript'), 'GET /assets/vendor/noble.mjs is JavaScript');
  const served = Buffer.from(await res.arrayBuffer());
  const fresh = join(tmp, 'noble.mjs');
  execFileSync(process.execPath, [join(root, 'deploy', 'scripts', 'bundle-noble.js'), '--out', fresh], { stdio: 'inherit' });
  check(served.equals(readFileSync(fresh)), `the served noble bundle (${served.length} bytes) equals a fresh bundle of the npm packages`);
  const pinned = JSON.parse(readFileSync(join(root, 'deploy', 'package.json'), 'utf8')).dependencies;
  const lock = JSON.parse(readFileSync(join(root, 'deploy', 'package-lock.json'), 'utf8')).packages;
  for (const name of ['@noble/curves', '@noble/hashes']) {
    const installed = JSON.parse(readFileSync(join(root, 'deploy', 'node_modules', name, 'package.json'), 'utf8')).version;
    const locked = lock[`node_modules/${name}`];
    check(installed === pinned[name] && locked.version === pinned[name] && /^sha512-/.test(locked.integrity),
      `${name} ${installed} from npm (pinned ${pinned[name]}, lock integrity ${locked.integrity.slice(0, 20)}…)`);
    check(served.subarray(0, 200).toString().includes(`${name} ${pinned[name]}`), `the bundle's banner names ${name} ${pinned[name]}`);
  }
}

/** The proofs shown, once every one is checked: [{ v, t, checks: {name: {ok, text}}, used }]. */
async function settledProofs(page) {
  await page.waitForFunction(() => {
    const spans = [...document.querySelectorAll('span.proof')];
    return spans.length > 0 && spans.every((s) => s.dataset.verified && s.dataset.verified !== 'pending');
  });
  return page.$$eval('li[data-destination]', (lis) => lis.map((li) => {
    const span = li.querySelector('span.proof');
    const checks = {};
    for (const c of li.querySelectorAll('li.check')) checks[c.dataset.check] = { ok: c.dataset.ok === 'true', text: c.textContent };
    const used = li.querySelector('.trust-used');
    return { v: span.dataset.verified, t: span.textContent, checks, used: used ? used.textContent : '' };
  }));
}

/** Loads `root` (an object, or text) as the user's trust-root file `name`. */
async function loadTrustFile(page, dir, name, root) {
  const file = join(dir, name);
  writeFileSync(file, typeof root === 'string' ? root : JSON.stringify(root, null, 2));
  await page.setInputFiles('#trust-file', file);
  return file;
}

const allUsed = (page, name) => page.waitForFunction(
  (n) => [...document.querySelectorAll('.trust-used')].every((u) => u.textContent.includes(n)), name);

/**
 * The attestor-set checks: with the node's trust root; with the user's own file (a copy
 * of the node's, then one without the bundles' set, then one that pins nothing); a file
 * that is not a trust root; back to the node's; then bundles with a forged signature.
 */
async function trustChecks(page, tmp) {
  const status = async () => ({
    source: await page.getAttribute('#trust-status', 'data-source'),
    text: await page.textContent('#trust-status'),
  });
  let st = await status();
  check(st.source === 'node' && st.text.includes(`served by this node at ${BASE}`) && st.text.includes("trusting this node's operator"),
    `the page says whose trust root it uses: ${st.text}`);
  let proofs = await settledProofs(page);
  for (const p of proofs) {
    check(p.checks.signatures && p.checks.signatures.ok && /valid signatures of the \d+ attestors/.test(p.checks.signatures.text),
      `signatures checked in the browser: ${p.checks.signatures && p.checks.signatures.text}`);
    check(p.checks.trust && p.checks.trust.ok && p.used.includes(`trust root: served by this node at ${BASE}`),
      `attestor set trusted by the node's trust root: ${p.checks.trust && p.checks.trust.text}`);
    for (const name of ['record_id', 'chain', 'inclusion']) check(p.checks[name] && p.checks[name].ok, `${name}: ok`);
  }

  const nodeRoot = await (await fetch(`${BASE}/api/v1/trust-root`)).json();
  check(nodeRoot.media_type === 'application/vnd.evidence-bridge.trust-root.v1+json' && nodeRoot.mirrors.length >= 2,
    `GET /api/v1/trust-root serves a trust root of ${nodeRoot.mirrors.length} mirrors`);

  // The user's own copy of the node's trust root: trusted, and the page names the file.
  await loadTrustFile(page, tmp, 'my-trust-root.json', nodeRoot);
  await page.waitForSelector('#trust-status[data-source="file"]');
  st = await status();
  check(st.text.includes('your file “my-trust-root.json”'), `the page names the loaded file: ${st.text}`);
  await allUsed(page, 'my-trust-root.json');
  proofs = await settledProofs(page);
  for (const p of proofs) check(p.v === 'true' && p.checks.trust.ok && p.used.includes('trust root: your file my-trust-root.json'), `trusted by the user's file: ${p.used}`);

  // A trust root without the bundles' attestor sets: the trust check fails and names the set.
  const withoutSets = structuredClone(nodeRoot);
  for (const m of withoutSets.mirrors) for (const s of m.sources) s.sets = [];
  await loadTrustFile(page, tmp, 'other-trust-root.json', withoutSets);
  await allUsed(page, 'other-trust-root.json');
  proofs = await settledProofs(page);
  for (const p of proofs) {
    check(!p.checks.trust.ok && /attestor set version \d+ is not in the trust root/.test(p.checks.trust.text) && p.checks.trust.text.includes('FAIL'),
      `a trust root without the set fails the trust check: ${p.checks.trust.text}`);
    check(p.used.includes('your file other-trust-root.json'), `and says which trust root: ${p.used}`);
    check(p.v === 'false' && p.t.includes('did NOT verify') && p.t.includes('attestor set trusted'), `the summary names the failed check: ${p.t}`);
    check(p.checks.signatures.ok && p.checks.inclusion.ok, 'the signatures and the inclusion proof still check out');
  }
  let shot = join(SHOTS, 'trust-file-without-set-en.png');
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`  screenshot: ${shot}`);

  // A trust root that pins nothing: the first set is not trusted.
  const unpinned = structuredClone(nodeRoot);
  for (const m of unpinned.mirrors) for (const s of m.sources) for (const set of s.sets) set.pinned = false;
  await loadTrustFile(page, tmp, 'unpinned-trust-root.json', unpinned);
  await allUsed(page, 'unpinned-trust-root.json');
  proofs = await settledProofs(page);
  for (const p of proofs) check(p.v === 'false' && !p.checks.trust.ok && p.checks.trust.text.includes('is not pinned'), `an unpinned set fails: ${p.checks.trust.text}`);

  // Not a trust root at all: refused with a reason, the file in use stays.
  await loadTrustFile(page, tmp, 'notes.json', '{"hello": "world"}');
  await page.waitForSelector('#trust-error:not([hidden])');
  const err = await page.textContent('#trust-error');
  check(err.includes('notes.json') && err.includes('media_type'), `a file that is not a trust root is refused: ${err}`);
  check((await page.getAttribute('#trust-status', 'data-name')) === 'unpinned-trust-root.json', 'the trust root in use is unchanged');

  // Back to the node's.
  await page.click('#trust-reset');
  await page.waitForSelector('#trust-status[data-source="node"]');
  await page.waitForFunction(() => [...document.querySelectorAll('span.proof')].every((s) => s.dataset.verified === 'true'));
  check((await status()).text.includes(`served by this node at ${BASE}`), "the node's trust root is in use again");

  // Bundles whose first signature is forged (one byte of r changed in transit).
  await page.route('**/api/v1/records/*/bundle?*', async (route) => {
    const res = await route.fetch();
    const bundle = await res.json();
    const sig = bundle.signatures[0].signature;
    const at = 2 + 2 * 10;
    bundle.signatures[0].signature = sig.slice(0, at) + (sig[at] === '0' ? '1' : '0') + sig.slice(at + 1);
    await route.fulfill({ response: res, json: bundle });
  });
  await page.click('#lookup');
  await page.waitForFunction(() => {
    const spans = [...document.querySelectorAll('span.proof')];
    return spans.length > 0 && spans.every((s) => s.dataset.verified === 'false');
  });
  proofs = await settledProofs(page);
  for (const p of proofs) {
    check(!p.checks.signatures.ok && p.checks.signatures.text.includes('FAIL') && /signature #0 (claims attestor|is malformed)/.test(p.checks.signatures.text),
      `a forged signature fails the signature check: ${p.checks.signatures.text}`);
    check(p.t.includes('did NOT verify') && p.t.includes('attestor signatures'), `the summary names it: ${p.t}`);
    check(p.checks.inclusion.ok && p.checks.trust.ok, 'the inclusion proof and the set alone still check out');
  }
  shot = join(SHOTS, 'forged-signature-en.png');
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`  screenshot: ${shot}`);
  await page.unroute('**/api/v1/records/*/bundle?*');
}

/**
 * After a signed rotation (version 1 → 2, the same members, a higher threshold): the
 * file's bundle is of set version 2, trusted because the node's trust root reaches it from
 * pinned version 1 by a rotation whose signatures the browser checks; a trust root with
 * that rotation's signature tampered, or with version 2 installed by the owner and not
 * pinned, fails; pinned, the owner's version is trusted.
 */
async function rotatedChecks(page, tmp) {
  await page.goto(`${BASE}/`);
  await page.waitForSelector('body[data-ready="true"]');
  await page.setInputFiles('#file', FILE);
  await page.waitForSelector('#summary[data-state="found"]');
  let proofs = await settledProofs(page);
  check(proofs.length === EXPECT_CHAINS, `${proofs.length} proof(s) shown`);
  for (const p of proofs) {
    check(p.v === 'true' && p.checks.signatures.ok, `signed by the new set: ${p.checks.signatures.text}`);
    check(p.checks.trust.ok && p.checks.trust.text.includes('follows from pinned version 1'), `trusted through the signed rotation: ${p.checks.trust.text}`);
  }
  const nodeRoot = await (await fetch(`${BASE}/api/v1/trust-root`)).json();
  const rotations = (root) => root.mirrors.flatMap((m) => m.sources.flatMap((s) => s.sets.filter((x) => x.authorization === 'signed_rotation')));
  check(rotations(nodeRoot).length >= 1 && rotations(nodeRoot).every((x) => x.signatures.length >= 2), 'the node\'s trust root holds the signed rotation and its signatures');

  const tampered = structuredClone(nodeRoot);
  for (const set of rotations(tampered)) {
    const sig = set.signatures[0];
    set.signatures[0] = sig.slice(0, 22) + (sig[22] === '0' ? '1' : '0') + sig.slice(23);
  }
  await loadTrustFile(page, tmp, 'tampered-rotation.json', tampered);
  await allUsed(page, 'tampered-rotation.json');
  proofs = await settledProofs(page);
  for (const p of proofs) {
    check(p.v === 'false' && /rotation to version 2 is not validly signed by version 1/.test(p.checks.trust.text), `a tampered rotation fails: ${p.checks.trust.text}`);
  }
  let shot = join(SHOTS, 'rotated-tampered-en.png');
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`  screenshot: ${shot}`);

  const owner = structuredClone(nodeRoot);
  for (const set of rotations(owner)) { set.authorization = 'owner_timelock'; delete set.signatures; }
  await loadTrustFile(page, tmp, 'owner-installed.json', owner);
  await allUsed(page, 'owner-installed.json');
  proofs = await settledProofs(page);
  for (const p of proofs) check(p.v === 'false' && p.checks.trust.text.includes("installed by the mirror's owner after the timelock"), `an unpinned owner-installed set fails: ${p.checks.trust.text}`);
  for (const m of owner.mirrors) for (const s of m.sources) for (const set of s.sets) if (set.authorization === 'owner_timelock') set.pinned = true;
  await loadTrustFile(page, tmp, 'owner-pinned.json', owner);
  await allUsed(page, 'owner-pinned.json');
  proofs = await settledProofs(page);
  for (const p of proofs) check(p.v === 'true' && p.checks.trust.text.includes('version 2 is pinned'), `pinned, it is trusted: ${p.checks.trust.text}`);

  await page.click('#trust-reset');
  await page.waitForFunction(() => [...document.querySelectorAll('span.proof')].every((s) => s.dataset.verified === 'true'));
  shot = join(SHOTS, 'rotated-en.png');
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`  screenshot: ${shot}`);
}

async function main() {
  mkdirSync(SHOTS, { recursive: true });
  console.log(`lookup page test against ${BASE}; screenshots in ${SHOTS}`);
  await headerChecks();
  const tmp = mkdtempSync(join(tmpdir(), 'eb-page-'));
  await nobleChecks(tmp);

  const userDataDir = mkdtempSync(join(tmpdir(), 'eb-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    locale: 'en-US',
    viewport: { width: 1100, height: 900 },
    acceptDownloads: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  const page = context.pages()[0] || (await context.newPage());
  const consoleErrors = [];
  // A 404 is the API's answer for an unknown digest; Chromium logs every 4xx as a
  // console error, so those are not counted. Anything else (a CSP violation, an
  // exception) fails the test.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().includes('status of 404')) consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  const uploads = [];
  page.on('request', (r) => { if (r.method() !== 'GET') uploads.push(`${r.method()} ${r.url()}`); });
  page.setDefaultTimeout(TIMEOUT);

  try {
    if (MODE === 'rotated') {
      await rotatedChecks(page, tmp);
      check(consoleErrors.length === 0, `no errors in the browser console (${consoleErrors.join(' | ') || 'none'})`);
      console.log('lookup page after a rotation: all checks passed');
      return;
    }
    await page.goto(`${BASE}/`);
    await page.waitForSelector('body[data-ready="true"]');
    check((await page.textContent('h1')) === 'Evidence lookup', 'the page starts in English for an en-US browser');

    // 1. Drop the anchored file on the drop zone (a real drop event with a File).
    const bytes = [...readFileSync(FILE)];
    const name = basename(FILE);
    const dataTransfer = await page.evaluateHandle(([b, n]) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(b)], n, { type: 'text/plain' }));
      return dt;
    }, [bytes, name]);
    await page.dispatchEvent('#drop', 'drop', { dataTransfer });
    await page.waitForSelector('#summary[data-state]');
    const state = await page.getAttribute('#summary', 'data-state');
    check(state === 'found', `the dropped file is found (state ${state}: ${await page.textContent('#summary')})`);
    const chains = Number(await page.getAttribute('#summary', 'data-chains'));
    check(chains === EXPECT_CHAINS, `found on ${chains} chains, expected ${EXPECT_CHAINS}`);
    check((await page.textContent('#summary')).includes(`Found on ${EXPECT_CHAINS} chains`), 'the summary says so in words');
    const records = await page.$$eval('article.record', (as) => as.map((a) => a.dataset.chain));
    check(records.length >= EXPECT_CHAINS, `one card per record: ${records.join(', ')}`);
    const shown = (await page.textContent('#shown-digest')).trim();
    const { createHash } = await import('node:crypto');
    const expected = '0x' + createHash('sha256').update(readFileSync(FILE)).digest('hex');
    check(shown === expected, `the browser computed the file's SHA-256 (${shown})`);
    check(uploads.length === 0, `nothing was uploaded (non-GET requests: ${uploads.join(', ') || 'none'})`);

    // Every record is provable on the other chain, and the page verified each proof.
    await page.waitForFunction(() => {
      const spans = [...document.querySelectorAll('span.proof')];
      return spans.length > 0 && spans.every((s) => s.dataset.verified && s.dataset.verified !== 'pending');
    });
    const proofs = await page.$$eval('span.proof', (ss) => ss.map((s) => ({ v: s.dataset.verified, t: s.textContent })));
    check(proofs.length >= EXPECT_CHAINS, `${proofs.length} proofs shown (one per record and destination)`);
    for (const p of proofs) check(p.v === 'true' && p.t.includes('verified in your browser'), `proof: ${p.t}`);
    const versions = await page.evaluate(async () => (await import('/assets/vendor/noble.mjs')).NOBLE_VERSIONS);
    check(versions['@noble/curves'] && versions['@noble/hashes'], `the page runs noble ${JSON.stringify(versions)}`);
    const revoked = await page.$$eval('dd[data-revoked]', (ds) => ds.map((d) => d.dataset.revoked));
    check(revoked.length >= EXPECT_CHAINS && revoked.every((r) => r === 'false'), 'not revoked, and the page says so');
    const links = await page.$$eval('a.bundle-link[download]', (as) => as.map((a) => a.href));
    check(links.length === proofs.length && links.every((l) => l.includes('/bundle?destination=')), 'a download link per record and destination');
    const bundle = await (await fetch(links[0])).json();
    check([1, 2, 3].includes(bundle.version) && typeof bundle.record_id === 'string', 'the download link serves a proof bundle');
    const certs = await page.$$eval('a.certificate-link[download]', (as) => as.map((a) => ({ href: a.href, file: a.getAttribute('download'), text: a.textContent })));
    check(certs.length === proofs.length && certs.every((c) => c.href.includes('/certificate?destination=') && c.file.endsWith('.pdf')), 'a certificate link per record and destination');
    const pdf = await fetch(certs[0].href);
    const head = new TextDecoder().decode((await pdf.arrayBuffer()).slice(0, 5));
    check(pdf.status === 200 && pdf.headers.get('content-type') === 'application/pdf' && head === '%PDF-', `the certificate link serves a PDF (${pdf.status} ${pdf.headers.get('content-type')})`);
    // A certificate's QR code opens /?digest=…: the page looks the digest up on load.
    const linked = await context.newPage();
    await linked.goto(`${BASE}/?digest=${expected}`);
    await linked.waitForSelector('#summary[data-state]');
    check((await linked.getAttribute('#summary', 'data-state')) === 'found' && (await linked.inputValue('#digest')) === expected, '/?digest= (the certificate QR code) looks the digest up on load');
    await linked.close();
    const download = page.waitForEvent('download');
    await page.click('a.bundle-link[download] >> nth=0');
    const dl = await download;
    check(dl.suggestedFilename().startsWith('proof-') && dl.suggestedFilename().endsWith('.json'), `clicking it downloads ${dl.suggestedFilename()}`);
    let shot = join(SHOTS, 'found-en.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`  screenshot: ${shot}`);

    // 1b. The attestor signatures and the trust root.
    await trustChecks(page, tmp);

    // 2. Bad input: a clear message, no request.
    await page.fill('#digest', '0x1234');
    await page.click('#lookup');
    await page.waitForSelector('#digest-error:not([hidden])');
    const err = await page.textContent('#digest-error');
    check(err.includes('64') && err.includes('4'), `a short digest is refused with a reason: ${err}`);
    check((await page.getAttribute('#digest', 'aria-invalid')) === 'true', 'the field is marked invalid for screen readers');

    // 3. Paste an unknown digest: "not found".
    await page.fill('#digest', UNKNOWN);
    await page.press('#digest', 'Enter');
    await page.waitForSelector('#summary[data-state="notfound"]');
    check((await page.textContent('#summary')).startsWith('Not found'), `unknown digest: ${await page.textContent('#summary')}`);
    check(await page.isHidden('#digest-error'), 'the earlier error is cleared');
    shot = join(SHOTS, 'not-found-en.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`  screenshot: ${shot}`);

    // 4. Switch to Chinese (keyboard: focus the button, press Enter).
    await page.focus('#lang');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
    check((await page.textContent('h1')) === '存证查询', 'the title is in Chinese');
    check((await page.textContent('#summary')).startsWith('未找到'), `not found, in Chinese: ${await page.textContent('#summary')}`);
    check((await page.textContent('#lang')) === 'English', 'the toggle offers English back');
    shot = join(SHOTS, 'not-found-zh.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`  screenshot: ${shot}`);

    // 5. The found state in Chinese, through the file input this time.
    await page.setInputFiles('#file', FILE);
    await page.waitForSelector('#summary[data-state="found"]');
    check((await page.textContent('#summary')).includes(`共 ${EXPECT_CHAINS} 条链`), `found, in Chinese: ${await page.textContent('#summary')}`);
    await page.waitForFunction(() => [...document.querySelectorAll('span.proof')].every((s) => s.dataset.verified === 'true'));
    check((await page.textContent('span.proof')).includes('已在您的浏览器中验证'), 'the proof check is reported in Chinese');
    check((await page.textContent('#trust-status')).includes(`由本节点（${BASE}）提供`), `the trust root, in Chinese: ${await page.textContent('#trust-status')}`);
    check((await page.textContent('li.check[data-check="signatures"]')).includes('通过'), 'the signature check, in Chinese');
    shot = join(SHOTS, 'found-zh.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`  screenshot: ${shot}`);

    // 6. The choice is remembered on reload.
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    check((await page.textContent('h1')) === '存证查询', 'the language choice survives a reload');

    check(consoleErrors.length === 0, `no errors in the browser console (${consoleErrors.join(' | ') || 'none'})`);
    console.log('lookup page: all checks passed');
  } catch (e) {
    const shot = join(SHOTS, 'failure.png');
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    console.error(`FAILED: ${e.message}\n  screenshot: ${shot}\n  console: ${consoleErrors.join(' | ')}`);
    process.exitCode = 1;
  } finally {
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`FAILED: ${e.stack || e}`);
  process.exit(1);
});
