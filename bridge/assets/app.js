// Evidence Bridge lookup page. No framework, no build step: served as-is by
// `bridge run` / `bridge serve` (bridge/src/api/page.rs). Talks only to this server's
// JSON API: GET /api/v1/chains, GET /api/v1/evidence/{digest},
// GET /api/v1/records/{id}/bundle?destination=NAME.
import { sha256, toHex, parseDigest, verifyBundle, hasSubtle } from './verify.mjs';

const STRINGS = {
  en: {
    doc_title: 'Evidence lookup · Evidence Bridge',
    title: 'Evidence lookup',
    intro: 'Check whether a document was anchored: on which chains, when, by whom, whether it was revoked, and where it can be proven.',
    file_heading: '1. Check a file',
    drop: 'Drop a file here, or choose one',
    private: 'Your file never leaves this computer: it is fingerprinted (SHA-256) inside your browser and only the fingerprint is looked up.',
    digest_heading: '2. Or paste a fingerprint',
    digest_label: 'Digest (64 hexadecimal characters, 0x optional)',
    lookup: 'Look up',
    footer: 'The page checks the inclusion proof itself. Attestor signatures are checked by the destination chain\'s mirror contract and by the command “bridge verify”.',
    lang_button: '中文',
    lang_label: '切换到中文',
    err_empty: 'Paste a digest first, or drop a file above.',
    err_not_hex: 'A digest contains only the characters 0-9 and a-f. Check that you copied it completely.',
    err_length: (n) => `A digest has 64 hexadecimal characters; this one has ${n}. Check that you copied it completely.`,
    err_zero: 'A digest of all zeros is not a real fingerprint.',
    hashing: (name) => `Fingerprinting "${name}" in your browser…`,
    hashed: (name) => `Fingerprint (SHA-256) of "${name}", computed in your browser:`,
    fallback: 'This connection is not secure (no HTTPS), so the page used its own SHA-256 code instead of the browser\'s.',
    read_failed: (m) => `The file could not be read: ${m}. Try again, or paste its digest instead.`,
    looking: 'Looking up…',
    looked_up: 'Digest looked up:',
    found: (n) => (n === 1 ? 'Found on 1 chain' : `Found on ${n} chains`),
    not_found: 'Not found: no chain this server watches has a record of this digest.',
    not_found_hint: 'If it was anchored only minutes ago, wait for a few blocks and try again. A different file (even one changed byte) has a different fingerprint.',
    server_error: (m) => `The lookup failed: ${m}`,
    unreachable: 'The server could not be reached. Check your connection and try again.',
    anchor_on: (c) => `Anchored on ${c}`,
    revoke_on: (c) => `Revocation on ${c}`,
    when: 'When (block time)',
    by: 'By (submitter)',
    kind: 'Kind',
    tx: 'Transaction',
    block: 'Block',
    record_id: 'Record id',
    status: 'Status',
    st_pending: 'Waiting for confirmations',
    st_in_log: 'Confirmed, in the log (waiting for a checkpoint)',
    st_checkpointed: 'Confirmed and checkpointed',
    revoked: 'Revoked',
    revoked_yes: (id) => `Yes — revoked by record ${id}`,
    revoked_no: 'No',
    revokes: 'Revokes record',
    invalid_ref: 'This revocation does not match an anchor by the same submitter on this chain; it has no effect.',
    provable_on: 'Provable on',
    not_provable: 'Not provable on another chain yet. The next checkpoint will make it provable; check again in a minute.',
    download: (d) => `Download proof bundle (${d})`,
    checking: 'Checking the proof in your browser…',
    verified: 'Inclusion proof verified in your browser: the record hashes to its id, and the proof leads from it to the checkpoint root mirrored on this chain.',
    verify_failed: (check, why) => `The proof did NOT verify in your browser (check "${check}"): ${why}`,
    bundle_failed: (m) => `The proof bundle could not be fetched: ${m}`,
  },
  zh: {
    doc_title: '存证查询 · Evidence Bridge',
    title: '存证查询',
    intro: '查询一份文件是否已存证：在哪些链上、何时、由谁提交、是否已撤销，以及可在哪些链上证明。',
    file_heading: '1. 查询文件',
    drop: '将文件拖到这里，或点击选择文件',
    private: '您的文件不会离开这台电脑：浏览器在本地计算其指纹（SHA-256），只用指纹进行查询。',
    digest_heading: '2. 或粘贴指纹',
    digest_label: '摘要（64 位十六进制字符，可带 0x）',
    lookup: '查询',
    footer: '本页面自行验证包含证明。见证人签名由目标链上的镜像合约及命令“bridge verify”验证。',
    lang_button: 'English',
    lang_label: 'Switch to English',
    err_empty: '请先粘贴摘要，或在上方拖入文件。',
    err_not_hex: '摘要只包含 0-9 和 a-f 字符，请检查是否复制完整。',
    err_length: (n) => `摘要应为 64 位十六进制字符，您输入了 ${n} 位，请检查是否复制完整。`,
    err_zero: '全零的摘要不是有效的文件指纹。',
    hashing: (name) => `正在浏览器中计算"${name}"的指纹…`,
    hashed: (name) => `"${name}"的指纹（SHA-256），在您的浏览器中计算：`,
    fallback: '当前连接不安全（非 HTTPS），页面使用了自带的 SHA-256 代码。',
    read_failed: (m) => `无法读取文件：${m}。请重试，或改为粘贴摘要。`,
    looking: '正在查询…',
    looked_up: '查询的摘要：',
    found: (n) => `已找到：共 ${n} 条链`,
    not_found: '未找到：本服务器监控的链上没有该摘要的记录。',
    not_found_hint: '如果刚刚存证，请等待几个区块后再试。不同的文件（哪怕只改动一个字节）指纹也不同。',
    server_error: (m) => `查询失败：${m}`,
    unreachable: '无法连接服务器，请检查网络后重试。',
    anchor_on: (c) => `已在 ${c} 上存证`,
    revoke_on: (c) => `在 ${c} 上的撤销记录`,
    when: '时间（区块时间）',
    by: '提交者',
    kind: '类型',
    tx: '交易',
    block: '区块',
    record_id: '记录 ID',
    status: '状态',
    st_pending: '等待确认',
    st_in_log: '已确认，已入日志（等待检查点）',
    st_checkpointed: '已确认，已纳入检查点',
    revoked: '是否撤销',
    revoked_yes: (id) => `是——已被记录 ${id} 撤销`,
    revoked_no: '否',
    revokes: '撤销的记录',
    invalid_ref: '该撤销记录与本链上同一提交者的存证不匹配，因此无效。',
    provable_on: '可证明于',
    not_provable: '尚不能在其他链上证明。下一个检查点后即可证明，请一分钟后再查。',
    download: (d) => `下载证明包（${d}）`,
    checking: '正在浏览器中验证证明…',
    verified: '已在您的浏览器中验证包含证明：记录的哈希与记录 ID 一致，且证明可从该记录推导出此链上镜像的检查点根。',
    verify_failed: (check, why) => `证明未通过浏览器验证（检查项"${check}"）：${why}`,
    bundle_failed: (m) => `无法获取证明包：${m}`,
  },
};

const $ = (id) => document.getElementById(id);
let lang = 'en';
let view = null; // what the result area shows, re-rendered on a language switch
const proofs = new Map(); // `${record_id}|${destination}` -> { state, check, detail }
let chainNames = new Map(); // CAIP-2 -> configured name
let lookupSeq = 0;

const t = (key, ...args) => {
  const v = STRINGS[lang][key];
  return typeof v === 'function' ? v(...args) : v;
};

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
}

function applyLanguage() {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.title = t('doc_title');
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  const button = $('lang');
  button.textContent = t('lang_button');
  button.setAttribute('lang', lang === 'zh' ? 'en' : 'zh-CN');
  button.setAttribute('aria-label', t('lang_label'));
  const err = $('digest-error');
  if (!err.hidden && err.dataset.key) err.textContent = t(err.dataset.key, ...JSON.parse(err.dataset.args || '[]'));
  render();
}

function showInputError(key, ...args) {
  const err = $('digest-error');
  err.dataset.key = key;
  err.dataset.args = JSON.stringify(args);
  err.textContent = t(key, ...args);
  err.hidden = false;
  $('digest').setAttribute('aria-invalid', 'true');
}

function clearInputError() {
  const err = $('digest-error');
  err.hidden = true;
  delete err.dataset.key;
  $('digest').removeAttribute('aria-invalid');
}

async function apiGet(path) {
  let res;
  try {
    res = await fetch(path, { headers: { accept: 'application/json' } });
  } catch {
    return { network: true };
  }
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  return { status: res.status, ok: res.ok, body };
}

async function loadChains() {
  const r = await apiGet('/api/v1/chains');
  if (!r.ok || !r.body) return;
  const list = Array.isArray(r.body) ? r.body : r.body.chains || [];
  chainNames = new Map(list.filter((c) => c && c.chain && c.name).map((c) => [c.chain, c.name]));
}

const chainLabel = (caip2, name) => {
  const n = name || chainNames.get(caip2);
  return n ? `${n} (${caip2})` : caip2;
};

async function lookup(digest, file) {
  const seq = ++lookupSeq;
  view = { kind: 'loading', digest, file };
  render();
  if (chainNames.size === 0) await loadChains();
  const r = await apiGet(`/api/v1/evidence/${digest}`);
  if (seq !== lookupSeq) return;
  if (r.network) {
    view = { kind: 'failed', digest, file, message: t('unreachable') };
  } else if (r.status === 404) {
    view = { kind: 'notfound', digest, file };
  } else if (!r.ok) {
    const message = (r.body && r.body.error) || `HTTP ${r.status}`;
    view = { kind: 'failed', digest, file, message };
  } else {
    const records = Array.isArray(r.body) ? r.body : (r.body && r.body.records) || [];
    view = records.length === 0 ? { kind: 'notfound', digest, file } : { kind: 'found', digest, file, records };
  }
  render();
  if (view.kind === 'found') {
    for (const rec of view.records) {
      for (const m of rec.mirrored_on || []) checkProof(rec.record_id, destParam(m.destination_chain), seq);
    }
  }
}

const destParam = (caip2) => chainNames.get(caip2) || caip2;
const bundleUrl = (id, dest) => `/api/v1/records/${id}/bundle?destination=${encodeURIComponent(dest)}`;

async function checkProof(id, dest, seq) {
  const key = `${id}|${dest}`;
  proofs.set(key, { state: 'pending' });
  updateProof(key);
  const r = await apiGet(bundleUrl(id, dest));
  if (seq !== lookupSeq) return;
  if (r.network || !r.ok || !r.body) {
    const msg = r.network ? t('unreachable') : (r.body && r.body.error) || `HTTP ${r.status}`;
    proofs.set(key, { state: 'error', detail: msg });
  } else {
    const res = await verifyBundle(r.body);
    const last = res.checks[res.checks.length - 1];
    proofs.set(key, res.ok ? { state: 'ok' } : { state: 'bad', check: last.check, detail: last.detail });
  }
  updateProof(key);
}

function proofText(p) {
  if (!p || p.state === 'pending') return t('checking');
  if (p.state === 'ok') return '✓ ' + t('verified');
  if (p.state === 'bad') return '✗ ' + t('verify_failed', p.check, p.detail);
  return '✗ ' + t('bundle_failed', p.detail);
}

function updateProof(key) {
  for (const span of document.querySelectorAll('span.proof')) {
    if (span.dataset.key !== key) continue;
    const p = proofs.get(key);
    span.textContent = proofText(p);
    span.dataset.verified = p.state === 'ok' ? 'true' : p.state === 'pending' ? 'pending' : 'false';
    span.className = 'proof ' + (p.state === 'ok' ? 'ok' : p.state === 'pending' ? '' : 'bad');
  }
}

function formatTime(rfc3339) {
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return rfc3339;
  const local = new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', { dateStyle: 'long', timeStyle: 'long' }).format(d);
  return `${local} (${rfc3339})`;
}

function stateText(state) {
  const s = state && state.state;
  if (s === 'checkpointed') return t('st_checkpointed');
  if (s === 'in_log') return t('st_in_log');
  return t('st_pending');
}

function renderRecord(rec) {
  const r = rec.record;
  const name = rec.chain_name || chainNames.get(r.source.chain);
  const revoked = !!rec.revoked_by;
  const art = el('article', { class: 'record' + (revoked ? ' revoked' : ''), 'data-chain': name || r.source.chain, 'data-record-id': rec.record_id });
  art.append(el('h3', { text: (r.action === 'revoke' ? t('revoke_on', chainLabel(r.source.chain, name)) : t('anchor_on', chainLabel(r.source.chain, name))) }));
  const dl = el('dl');
  const row = (label, value, cls) => dl.append(el('dt', { text: label }), el('dd', cls ? { class: cls, text: value } : { text: value }));
  row(t('when'), formatTime(r.source.block_timestamp));
  row(t('by'), r.evidence.submitter, 'mono');
  if (r.evidence.kind) row(t('kind'), r.evidence.kind);
  row(t('block'), String(r.source.block_number));
  row(t('tx'), r.source.tx_hash, 'mono');
  row(t('record_id'), rec.record_id, 'mono');
  row(t('status'), stateText(rec.state));
  if (r.action === 'revoke' && r.ref) row(t('revokes'), r.ref, 'mono');
  if (r.action === 'anchor') {
    const dd = el('dd', { 'data-revoked': String(revoked) });
    dd.append(revoked ? el('span', { class: 'badge bad', text: t('revoked_yes', rec.revoked_by) }) : el('span', { class: 'badge ok', text: t('revoked_no') }));
    dl.append(el('dt', { text: t('revoked') }), dd);
  }
  art.append(dl);
  if (rec.invalid_ref) art.append(el('p', { class: 'error', text: t('invalid_ref') }));
  art.append(el('h4', { text: t('provable_on') }));
  const mirrored = rec.mirrored_on || [];
  if (mirrored.length === 0) {
    art.append(el('p', { class: 'note', text: t('not_provable') }));
  } else {
    const ul = el('ul', { class: 'dests' });
    for (const m of mirrored) {
      const dest = destParam(m.destination_chain);
      const key = `${rec.record_id}|${dest}`;
      const label = chainLabel(m.destination_chain);
      const link = el('a', { href: bundleUrl(rec.record_id, dest), download: `proof-${rec.record_id.slice(2, 14)}-${dest.replace(/[^A-Za-z0-9_-]/g, '_')}.json`, text: t('download', label) });
      const span = el('span', { class: 'proof', 'data-key': key, role: 'status' });
      ul.append(el('li', { 'data-destination': dest }, el('span', { class: 'badge ok', text: label }), ' ', link, span));
    }
    art.append(ul);
  }
  return art;
}

function render() {
  const out = $('result');
  out.replaceChildren();
  out.setAttribute('aria-busy', String(!!view && view.kind === 'loading'));
  if (!view) return;
  if (view.file) {
    out.append(el('p', { text: t('hashed', view.file) }));
    if (!hasSubtle()) out.append(el('p', { class: 'note', text: t('fallback') }));
  } else if (view.digest) {
    out.append(el('p', { text: t('looked_up') }));
  }
  if (view.kind === 'hashing') {
    out.replaceChildren(el('p', { text: t('hashing', view.file) }));
    return;
  }
  if (view.digest) out.append(el('p', { class: 'digest', id: 'shown-digest', text: view.digest }));
  if (view.kind === 'loading') {
    out.append(el('p', { text: t('looking') }));
  } else if (view.kind === 'notfound') {
    out.append(el('p', { class: 'summary notfound', id: 'summary', 'data-state': 'notfound', text: t('not_found') }));
    out.append(el('p', { class: 'note', text: t('not_found_hint') }));
  } else if (view.kind === 'failed') {
    out.append(el('p', { class: 'summary failed', id: 'summary', 'data-state': 'error', role: 'alert', text: view.message }));
  } else if (view.kind === 'found') {
    const chains = new Set(view.records.map((r) => r.record.source.chain));
    out.append(el('p', { class: 'summary found', id: 'summary', 'data-state': 'found', 'data-chains': String(chains.size), text: t('found', chains.size) }));
    for (const rec of view.records) out.append(renderRecord(rec));
    for (const key of proofs.keys()) updateProof(key);
  }
}

async function onFile(file) {
  if (!file) return;
  clearInputError();
  const seq = ++lookupSeq;
  view = { kind: 'hashing', file: file.name };
  render();
  let digest;
  try {
    const bytes = await file.arrayBuffer();
    digest = toHex(await sha256(bytes));
  } catch (e) {
    if (seq !== lookupSeq) return;
    view = { kind: 'failed', file: file.name, message: t('read_failed', e instanceof Error ? e.message : String(e)) };
    render();
    return;
  }
  if (seq !== lookupSeq) return;
  $('digest').value = digest;
  await lookup(digest, file.name);
}

function onSubmit(ev) {
  ev.preventDefault();
  const parsed = parseDigest($('digest').value);
  if (parsed.error) {
    const key = { empty: 'err_empty', not_hex: 'err_not_hex', length: 'err_length', zero: 'err_zero' }[parsed.error];
    showInputError(key, parsed.got);
    $('digest').focus();
    return;
  }
  clearInputError();
  lookup(parsed.digest, null);
}

function init() {
  let saved = null;
  try {
    saved = localStorage.getItem('evidence-bridge-lang');
  } catch {
    saved = null;
  }
  const nav = (navigator.languages && navigator.languages[0]) || navigator.language || 'en';
  lang = saved === 'zh' || saved === 'en' ? saved : nav.toLowerCase().startsWith('zh') ? 'zh' : 'en';
  applyLanguage();
  $('lang').addEventListener('click', () => {
    lang = lang === 'zh' ? 'en' : 'zh';
    try {
      localStorage.setItem('evidence-bridge-lang', lang);
    } catch {
      // Private browsing may refuse storage; the switch still works for this visit.
    }
    applyLanguage();
  });
  $('file').addEventListener('change', (e) => onFile(e.target.files && e.target.files[0]));
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    e.stopPropagation();
    drop.classList.remove('over');
    onFile(e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0]);
  });
  // Dropping a file anywhere else must not make the browser open (and leave) the page.
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => { e.preventDefault(); onFile(e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0]); });
  $('digest-form').addEventListener('submit', onSubmit);
  document.body.dataset.ready = 'true';
}

init();
