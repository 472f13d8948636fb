// Evidence Bridge lookup page. No framework: served by `bridge run` / `bridge serve`
// (bridge/src/api/page.rs); the one generated file is ./vendor/noble.mjs (noble's
// hashes and secp256k1 from npm, imported by verify.mjs). Talks only to this server's
// JSON API: GET /api/v1/chains, GET /api/v1/evidence/{digest},
// GET /api/v1/records/{id}/bundle?destination=NAME (and /certificate, the PDF it links to),
// GET /api/v1/trust-root.
//
// Every proof is checked here, in the browser: record id, inclusion proof, the
// attestors' signatures over the checkpoint, and whether their set is trusted by a trust
// root — the one this node serves (which means trusting the node), or a trust-root file
// the user loads (the page then says so, and trusts only that file).
import {
  sha256, toHex, parseDigest, verifyBundle, verifySignatures, verifyTrust, checkTrustRootShape, hasSubtle,
} from './verify.mjs';

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
    footer: 'The page checks the record, its inclusion proof and the attestors\' signatures itself, in your browser (keccak-256 and secp256k1 from the noble libraries, bundled with the page), against the trust root named above. The destination chain\'s mirror contract and the command “bridge verify” check them too.',
    lang_button: '中文',
    lang_label: '切换到中文',
    err_empty: 'Paste a digest first, or drop a file above.',
    err_not_hex: 'A digest contains only the characters 0-9 and a-f. Check that you copied it completely.',
    err_length: (n) => `A digest has 64 hexadecimal characters; this one has ${n}. Check that you copied it completely.`,
    err_zero: 'A digest of all zeros is not a real fingerprint.',
    hashing: (name) => `Fingerprinting "${name}" in your browser…`,
    hashed: (name) => `Fingerprint (SHA-256) of "${name}", computed in your browser:`,
    fallback: 'This connection is not secure (no HTTPS), so the page used the SHA-256 of the noble library bundled with it instead of the browser\'s.',
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
    certificate: (d) => `Download evidence certificate (PDF, ${d})`,
    checking: 'Checking the proof in your browser…',
    verified: (n, m, th) => `Proof and signatures verified in your browser: the record hashes to its id, the inclusion proof leads from it to the checkpoint root mirrored on this chain, ${n} of the ${m} attestors signed that checkpoint (threshold ${th}), and their set is trusted.`,
    verify_failed: (check, why) => `The proof did NOT verify in your browser (check "${check}"): ${why}`,
    bundle_failed: (m) => `The proof bundle could not be fetched: ${m}`,
    trust_heading: '3. Whose attestors to trust',
    trust_node_loading: (o) => `Trust root: fetching the one served by this node at ${o}…`,
    trust_node: (o) => `Trust root: served by this node at ${o}. Using it means trusting this node's operator to report the attestor sets honestly. For a check that does not rest on this node, load a trust-root file you got from someone you trust (made with “bridge trust export”).`,
    trust_node_failed: (o, m) => `Trust root: this node (${o}) could not serve one: ${m}. The attestor sets cannot be checked until you load a trust-root file.`,
    trust_file: (name, n) => `Trust root: your file “${name}” (${n === 1 ? '1 mirror' : `${n} mirrors`}). Attestor sets are trusted only as that file says; this node's own trust root is not used.`,
    trust_load: 'Load your own trust-root file (JSON)',
    trust_reset: 'Use this node\'s trust root again',
    trust_bad_file: (name, m) => `“${name}” is not a usable trust-root file: ${m}. The trust root in use is unchanged.`,
    used_node: (o) => `trust root: served by this node at ${o}`,
    used_file: (name) => `trust root: your file ${name}`,
    check_ok: 'ok',
    label_sep: ': ',
    check_fail: 'FAIL',
    check_version: 'bundle version',
    check_format: 'bundle format',
    check_record_id: 'record id',
    check_chain: 'source chain',
    check_inclusion: 'inclusion proof',
    check_revocation: 'revocation',
    check_signatures: 'attestor signatures',
    check_trust: 'attestor set trusted',
    why_signatures_ok: (n, m, th, d) => `${n} valid signatures of the ${m} attestors (threshold ${th}) over the EIP-712 checkpoint digest ${d}`,
    why_signatures_destination: (c) => `the destination ${c} is not an eip155 chain with a valid id`,
    why_signatures_count: (n, th) => `${n} signatures, the threshold is ${th}`,
    why_signatures_malformed: (i, m) => `signature #${i} is malformed: ${m}`,
    why_signatures_wrong_signer: (i, c, r) => `signature #${i} claims attestor ${c} but was made by ${r}`,
    why_signatures_not_member: (a) => `signer ${a} is not in the bundle's attestor set`,
    why_signatures_unsorted: (a, b) => `signers must be distinct and sorted by address: ${a} then ${b}`,
    why_trust_pinned: (v) => `attestor set version ${v} is pinned in the trust root`,
    why_trust_chained: (v, k) => `attestor set version ${v} follows from pinned version ${k} by rotations, each signed by the previous set's threshold`,
    why_trust_none: (m) => `no trust root to check against (${m}); load a trust-root file`,
    why_trust_root_format: (m) => `the trust root is unusable: ${m}`,
    why_trust_no_mirror: (c, a) => `the trust root has no mirror ${a} on ${c}`,
    why_trust_no_source: (src, c) => `the trust root lists no attestor sets of ${src} on the ${c} mirror`,
    why_trust_no_version: (v, l) => `attestor set version ${v} is not in the trust root (it lists versions: ${l})`,
    why_trust_members: (v, b, r, tb, tr) => `attestor set version ${v} differs from the trust root's: only in the bundle: ${b}; only in the trust root: ${r}; threshold ${tb} in the bundle, ${tr} in the trust root`,
    why_trust_missing: (v, target) => `version ${v} is missing from the trust root, so the rotations up to version ${target} cannot be checked`,
    why_trust_owner: (v) => `version ${v} was installed by the mirror's owner after the timelock; such a set is trusted only when the trust root pins it, and it does not`,
    why_trust_unpinned: (v) => `version ${v} (the first set, installed by the mirror's owner) is not pinned in the trust root`,
    why_trust_rotation: (v, prev, m) => `the rotation to version ${v} is not validly signed by version ${prev}: ${m}`,
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
    footer: '本页面在您的浏览器中自行验证记录、包含证明和见证人签名（使用随页面打包的 noble 库中的 keccak-256 与 secp256k1），并依据上方所示的信任根判断见证人集合是否可信。目标链上的镜像合约及命令“bridge verify”也会验证这些内容。',
    lang_button: 'English',
    lang_label: 'Switch to English',
    err_empty: '请先粘贴摘要，或在上方拖入文件。',
    err_not_hex: '摘要只包含 0-9 和 a-f 字符，请检查是否复制完整。',
    err_length: (n) => `摘要应为 64 位十六进制字符，您输入了 ${n} 位，请检查是否复制完整。`,
    err_zero: '全零的摘要不是有效的文件指纹。',
    hashing: (name) => `正在浏览器中计算"${name}"的指纹…`,
    hashed: (name) => `"${name}"的指纹（SHA-256），在您的浏览器中计算：`,
    fallback: '当前连接不安全（非 HTTPS），页面使用了随页面打包的 noble 库的 SHA-256，而非浏览器自带的。',
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
    certificate: (d) => `下载存证证书（PDF，${d}）`,
    checking: '正在浏览器中验证证明…',
    verified: (n, m, th) => `已在您的浏览器中验证包含证明和见证人签名：记录的哈希与记录 ID 一致，证明可从该记录推导出此链上镜像的检查点根，${m} 名见证人中有 ${n} 名签署了该检查点（门限 ${th}），且该见证人集合可信。`,
    verify_failed: (check, why) => `证明未通过浏览器验证（检查项"${check}"）：${why}`,
    bundle_failed: (m) => `无法获取证明包：${m}`,
    trust_heading: '3. 信任哪些见证人',
    trust_node_loading: (o) => `信任根：正在获取本节点（${o}）提供的信任根…`,
    trust_node: (o) => `信任根：由本节点（${o}）提供。使用它即意味着信任本节点的运营者如实报告见证人集合。如需不依赖本节点的验证，请载入您从可信来源获得的信任根文件（由“bridge trust export”生成）。`,
    trust_node_failed: (o, m) => `信任根：本节点（${o}）无法提供信任根：${m}。在您载入信任根文件之前，无法判断见证人集合是否可信。`,
    trust_file: (name, n) => `信任根：您的文件“${name}”（${n} 个镜像合约）。见证人集合是否可信仅以该文件为准，不使用本节点的信任根。`,
    trust_load: '载入您自己的信任根文件（JSON）',
    trust_reset: '改回使用本节点的信任根',
    trust_bad_file: (name, m) => `“${name}”不是可用的信任根文件：${m}。当前使用的信任根未改变。`,
    used_node: (o) => `信任根：由本节点 ${o} 提供`,
    used_file: (name) => `信任根：您的文件 ${name}`,
    check_ok: '通过',
    label_sep: '：',
    check_fail: '未通过',
    check_version: '证明包版本',
    check_format: '证明包格式',
    check_record_id: '记录 ID',
    check_chain: '来源链',
    check_inclusion: '包含证明',
    check_revocation: '撤销记录',
    check_signatures: '见证人签名',
    check_trust: '见证人集合可信',
    why_signatures_ok: (n, m, th, d) => `${m} 名见证人中 ${n} 个有效签名（门限 ${th}），签名对象为检查点的 EIP-712 摘要 ${d}`,
    why_signatures_destination: (c) => `目标链 ${c} 不是有效的 eip155 链`,
    why_signatures_count: (n, th) => `只有 ${n} 个签名，门限为 ${th}`,
    why_signatures_malformed: (i, m) => `第 ${i} 个签名格式错误：${m}`,
    why_signatures_wrong_signer: (i, c, r) => `第 ${i} 个签名声称来自见证人 ${c}，实际签名者为 ${r}`,
    why_signatures_not_member: (a) => `签名者 ${a} 不在证明包的见证人集合中`,
    why_signatures_unsorted: (a, b) => `签名者须互不相同并按地址升序排列：${a} 之后是 ${b}`,
    why_trust_pinned: (v) => `见证人集合版本 ${v} 已在信任根中固定（pinned）`,
    why_trust_chained: (v, k) => `见证人集合版本 ${v} 由已固定的版本 ${k} 经逐次轮换得到，每次轮换均由上一集合达到门限的成员签名`,
    why_trust_none: (m) => `没有可用于核对的信任根（${m}）；请载入信任根文件`,
    why_trust_root_format: (m) => `信任根不可用：${m}`,
    why_trust_no_mirror: (c, a) => `信任根中没有 ${c} 上的镜像合约 ${a}`,
    why_trust_no_source: (src, c) => `信任根中没有 ${c} 镜像合约上 ${src} 的见证人集合`,
    why_trust_no_version: (v, l) => `信任根中没有见证人集合版本 ${v}（其中的版本：${l}）`,
    why_trust_members: (v, b, r, tb, tr) => `见证人集合版本 ${v} 与信任根不一致：仅在证明包中：${b}；仅在信任根中：${r}；门限：证明包 ${tb}，信任根 ${tr}`,
    why_trust_missing: (v, target) => `信任根中缺少版本 ${v}，因此无法核对直到版本 ${target} 的轮换`,
    why_trust_owner: (v) => `版本 ${v} 由镜像合约的所有者在时间锁到期后安装；这样的集合只有在信任根中固定时才可信，而信任根并未固定它`,
    why_trust_unpinned: (v) => `版本 ${v}（首个集合，由镜像合约的所有者安装）未在信任根中固定`,
    why_trust_rotation: (v, prev, m) => `到版本 ${v} 的轮换没有版本 ${prev} 的有效签名：${m}`,
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
  renderTrust();
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
  // Ask the node for its trust root again (it may have changed; the server caches it).
  if (trust.source === 'node' && trust.state !== 'loading') nodeTrustLoad = null;
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
const certificateUrl = (id, dest) => `/api/v1/records/${id}/certificate?destination=${encodeURIComponent(dest)}`;

// ---------------------------------------------------------------- the trust root

// The trust root the attestor sets are checked against: this node's (`source: 'node'`,
// fetched once per page load, again after a failure) or a file the user loaded.
let trust = { source: 'node', state: 'idle' };
let nodeTrustLoad = null;

function loadNodeTrust() {
  if (!nodeTrustLoad) {
    trust = { source: 'node', state: 'loading' };
    renderTrust();
    nodeTrustLoad = (async () => {
      const r = await apiGet('/api/v1/trust-root');
      let next;
      if (r.network || !r.ok || !r.body) {
        next = { source: 'node', state: 'error', error: r.network ? t('unreachable') : (r.body && r.body.error) || `HTTP ${r.status}` };
      } else {
        try {
          checkTrustRootShape(r.body);
          next = { source: 'node', state: 'ready', root: r.body };
        } catch (e) {
          next = { source: 'node', state: 'error', error: e.message };
        }
      }
      if (next.state === 'error') nodeTrustLoad = null; // the next lookup tries again
      return next;
    })();
  }
  return nodeTrustLoad;
}

/** The trust root to use now: the loaded file, or this node's (fetched on first use). */
async function currentTrust() {
  if (trust.source === 'file') return trust;
  const loaded = await loadNodeTrust();
  if (trust.source === 'node') {
    trust = loaded;
    renderTrust();
  }
  return trust;
}

function usedText(tr) {
  return tr.source === 'file' ? t('used_file', tr.name) : t('used_node', location.origin);
}

function renderTrust() {
  const status = $('trust-status');
  status.dataset.source = trust.source;
  status.dataset.state = trust.state || '';
  if (trust.source === 'file') {
    status.dataset.name = trust.name;
    status.textContent = t('trust_file', trust.name, trust.root.mirrors.length);
  } else {
    delete status.dataset.name;
    status.textContent = trust.state === 'error'
      ? t('trust_node_failed', location.origin, trust.error)
      : trust.state === 'ready' ? t('trust_node', location.origin) : t('trust_node_loading', location.origin);
  }
  $('trust-reset').hidden = trust.source !== 'file';
  const err = $('trust-error');
  if (!err.hidden && err.dataset.name) err.textContent = t('trust_bad_file', err.dataset.name, err.dataset.reason);
}

async function onTrustFile(file) {
  if (!file) return;
  const err = $('trust-error');
  let root;
  try {
    root = JSON.parse(await file.text());
    checkTrustRootShape(root);
  } catch (e) {
    err.dataset.name = file.name;
    err.dataset.reason = e instanceof Error ? e.message : String(e);
    err.textContent = t('trust_bad_file', file.name, err.dataset.reason);
    err.hidden = false;
    return;
  }
  err.hidden = true;
  delete err.dataset.name;
  trust = { source: 'file', state: 'ready', name: file.name, root };
  renderTrust();
  await recheckTrust();
}

async function useNodeTrust() {
  trust = { source: 'node', state: 'idle' };
  $('trust-file').value = '';
  $('trust-error').hidden = true;
  delete $('trust-error').dataset.name;
  renderTrust();
  await recheckTrust();
}

/** Re-runs the trust check of every bundle shown, against the trust root now in use. */
async function recheckTrust() {
  for (const [key, p] of proofs) if (p.bundle) await judge(key);
}

// ---------------------------------------------------------------- proofs

async function checkProof(id, dest, seq) {
  const key = `${id}|${dest}`;
  proofs.set(key, { state: 'pending' });
  updateProof(key);
  const r = await apiGet(bundleUrl(id, dest));
  if (seq !== lookupSeq) return;
  if (r.network || !r.ok || !r.body) {
    const msg = r.network ? t('unreachable') : (r.body && r.body.error) || `HTTP ${r.status}`;
    proofs.set(key, { state: 'error', detail: msg });
    updateProof(key);
    return;
  }
  const bundle = r.body;
  const res = await verifyBundle(bundle);
  const sig = res.checks.some((c) => c.check === 'version' || c.check === 'format') ? null : verifySignatures(bundle);
  if (seq !== lookupSeq) return;
  proofs.set(key, { state: 'pending', bundle, base: sig ? [...res.checks, sig] : res.checks });
  await judge(key);
}

/** Adds the trust check (against the trust root in use) to a proof's checks and shows them. */
async function judge(key) {
  const tr = await currentTrust();
  const p = proofs.get(key);
  if (!p || !p.bundle) return;
  const trustCheck = tr.root
    ? verifyTrust(p.bundle, tr.root)
    : { check: 'trust', ok: false, code: 'none', args: [tr.error || '—'], detail: `no trust root: ${tr.error}` };
  const checks = [...p.base, trustCheck];
  const bad = checks.find((c) => !c.ok);
  const sig = checks.find((c) => c.check === 'signatures');
  proofs.set(key, { ...p, checks, used: { ...tr }, state: bad ? 'bad' : 'ok', failed: bad, sig });
  updateProof(key);
}

const checkLabel = (check) => STRINGS[lang][`check_${check}`] ? t(`check_${check}`) : check;

/** A check's result in words: the localized reason for its code, else its detail. */
function reasonText(c) {
  const k = `why_${c.check}_${c.code}`;
  return c.code && STRINGS[lang][k] ? t(k, ...(c.args || [])) : c.detail;
}

function proofText(p) {
  if (!p || p.state === 'pending') return t('checking');
  if (p.state === 'ok') return '✓ ' + t('verified', p.sig.args[0], p.sig.args[1], p.sig.args[2]);
  if (p.state === 'bad') return '✗ ' + t('verify_failed', checkLabel(p.failed.check), reasonText(p.failed));
  return '✗ ' + t('bundle_failed', p.detail);
}

function updateProof(key) {
  const p = proofs.get(key);
  for (const span of document.querySelectorAll('span.proof')) {
    if (span.dataset.key !== key) continue;
    span.textContent = proofText(p);
    span.dataset.verified = p.state === 'ok' ? 'true' : p.state === 'pending' ? 'pending' : 'false';
    span.className = 'proof ' + (p.state === 'ok' ? 'ok' : p.state === 'pending' ? '' : 'bad');
  }
  for (const ul of document.querySelectorAll('ul.checks')) {
    if (ul.dataset.key !== key) continue;
    ul.replaceChildren(...(p.checks || []).map((c) => {
      const li = el('li', { class: 'check', 'data-check': c.check, 'data-ok': String(c.ok) },
        el('span', { class: 'badge ' + (c.ok ? 'ok' : 'bad'), text: c.ok ? t('check_ok') : t('check_fail') }), ' ',
        el('strong', { text: checkLabel(c.check) }), t('label_sep'), reasonText(c));
      if (c.check === 'trust') li.append(' ', el('span', { class: 'trust-used', text: `(${usedText(p.used)})` }));
      return li;
    }));
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
      const file = `${rec.record_id.slice(2, 14)}-${dest.replace(/[^A-Za-z0-9_-]/g, '_')}`;
      const link = el('a', { href: bundleUrl(rec.record_id, dest), class: 'bundle-link', download: `proof-${file}.json`, text: t('download', label) });
      const cert = el('a', { href: certificateUrl(rec.record_id, dest), class: 'certificate-link', download: `certificate-${file}.pdf`, text: t('certificate', label) });
      const span = el('span', { class: 'proof', 'data-key': key, role: 'status' });
      const checks = el('ul', { class: 'checks', 'data-key': key });
      ul.append(el('li', { 'data-destination': dest }, el('span', { class: 'badge ok', text: label }), ' ', link, ' · ', cert, span, checks));
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
  $('trust-file').addEventListener('change', (e) => onTrustFile(e.target.files && e.target.files[0]));
  $('trust-reset').addEventListener('click', () => useNodeTrust());
  currentTrust();
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
  // A certificate's QR code opens /?digest=0x…: look it up at once.
  const linked = new URLSearchParams(location.search).get('digest');
  if (linked) {
    $('digest').value = linked;
    const parsed = parseDigest(linked);
    if (!parsed.error) lookup(parsed.digest, null);
  }
  document.body.dataset.ready = 'true';
}

init();
