// Unit tests of the lookup page's in-browser checks (bridge/assets/verify.mjs), run by
// `node --test tests/browser/verify.test.mjs` (the Rust test tests/tests/e2e_page.rs runs
// it too). Vectors: the record of schemas/README.md, the RFC 6962 inclusion vectors
// from RFC6962_VECTORS_DIR (the same folder the Rust conformance tests read), and EIP-712
// digests computed independently with ethers' TypedDataEncoder (the inputs of the Rust test
// schemas/src/checkpoint.rs signing_hash_matches_eip712_by_hand). Fixture signatures are
// made with the same noble bundle the page uses (bridge/assets/vendor/noble.mjs, written by
// bash deploy/scripts/install-tools.sh).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  keccak256, sha256, toHex, fromHex, canonicalBytes, recordId, verifyInclusion, verifyBundle, parseDigest,
  checkpointDigest, setUpdateDigest, domainSeparator, recoverSigner, verifySignatures, verifyTrust, NOBLE_VERSIONS,
  TRUST_ROOT_MEDIA_TYPE,
} from '../../bridge/assets/verify.mjs';
import { secp256k1 } from '../../bridge/assets/vendor/noble.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The JSON and text blocks of schemas/README.md that follow `<!-- vector:NAME -->`. */
function readmeBlock(name) {
  const text = readFileSync(join(root, 'schemas', 'README.md'), 'utf8');
  const at = text.indexOf(`<!-- vector:${name} -->`);
  assert.ok(at >= 0, `schemas/README.md has no vector:${name}`);
  const start = text.indexOf('\n', text.indexOf('```', at)) + 1;
  return text.slice(start, text.indexOf('```', start));
}

test('keccak256 matches known digests', () => {
  assert.equal(toHex(keccak256('')), '0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470');
  assert.equal(toHex(keccak256('EvidenceBridge.EvidenceRecord.v1')), '0xaf0456b4a5c696a0ba81f75e1b82f921d21de47371f63971f92a1af384c5006e');
  // Longer than one 136-byte block.
  const long = 'a'.repeat(200);
  assert.equal(toHex(keccak256(long)).length, 66);
  assert.notEqual(toHex(keccak256(long)), toHex(keccak256('a'.repeat(199))));
});

test('sha256 fallback (noble) agrees with crypto.subtle', async () => {
  for (const len of [0, 1, 55, 56, 63, 64, 65, 200, 1000]) {
    const data = new Uint8Array(len).map((_, i) => (i * 7 + len) & 0xff);
    assert.equal(toHex(await sha256(data, { forceFallback: true })), toHex(await sha256(data)), `length ${len}`);
  }
  assert.equal(toHex(await sha256(new TextEncoder().encode('test'), { forceFallback: true })),
    '0x9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08');
});

test('the README record encodes to the README words and id', async () => {
  const record = JSON.parse(readmeBlock('record'));
  const words = readmeBlock('encoding').trim().split('\n').map((l) => l.split(/\s+/)[0]);
  const bytes = canonicalBytes(record);
  assert.equal(bytes.length, 544);
  for (let i = 0; i < 17; i++) assert.equal(toHex(bytes.slice(32 * i, 32 * i + 32)), words[i], `word ${i}`);
  const id = readmeBlock('id').trim();
  assert.equal(await recordId(record), id);
  assert.equal(await recordId(record, { forceFallback: true }), id);
  // Any change to the record changes the id.
  const edited = structuredClone(record);
  edited.evidence.kind = 'iox';
  assert.notEqual(await recordId(edited), id);
});

test('pasted digests are parsed or rejected with a reason', () => {
  const d = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';
  assert.deepEqual(parseDigest(`  0x${d.toUpperCase()} `), { digest: `0x${d}` });
  assert.deepEqual(parseDigest(d), { digest: `0x${d}` });
  assert.equal(parseDigest('').error, 'empty');
  assert.equal(parseDigest('0x12').error, 'length');
  assert.equal(parseDigest('zz'.repeat(32)).error, 'not_hex');
  assert.equal(parseDigest('00'.repeat(32)).error, 'zero');
});

test('RFC 6962 inclusion vectors', async () => {
  const dir = process.env.RFC6962_VECTORS_DIR || join(root, '..', 'shared', 'testdata', 'rfc6962');
  assert.ok(existsSync(join(dir, 'inclusion')), `RFC 6962 vectors not found at ${dir}: set RFC6962_VECTORS_DIR to the folder holding inclusion/`);
  const b64 = (s) => (s == null ? new Uint8Array(0) : new Uint8Array(Buffer.from(s, 'base64')));
  let n = 0;
  const files = readdirSync(join(dir, 'inclusion'), { recursive: true }).filter((f) => String(f).endsWith('.json'));
  for (const f of files) {
    {
      const sub = 'inclusion';
      const v = JSON.parse(readFileSync(join(dir, 'inclusion', f), 'utf8'));
      const root32 = b64(v.root);
      const proof = (v.proof || []).map(b64);
      let res;
      if (root32.length !== 32 || b64(v.leafHash).length !== 32 || v.leafIdx < 0 || v.treeSize < 0) {
        res = { ok: false, reason: 'malformed' };
      } else {
        res = await verifyInclusion(b64(v.leafHash), v.leafIdx, v.treeSize, proof, root32);
      }
      assert.equal(res.ok, !v.wantErr, `${sub}/${f}: ${v.desc}: ${res.reason ?? 'ok'}`);
      n++;
    }
  }
  assert.ok(n > 5, `only ${n} vectors`);
});

test('a bundle built in JS from a four-leaf tree verifies, and edits fail the named check', async () => {
  const record = JSON.parse(readmeBlock('record'));
  const id = fromHex(await recordId(record), 32);
  const leaf = async (x) => sha256(new Uint8Array([0, ...x]));
  const node = async (l, r) => sha256(new Uint8Array([1, ...l, ...r]));
  const others = [1, 2, 3].map((i) => new Uint8Array(32).fill(i));
  // The record is leaf 2 of 4: proof = [leaf 3, node(leaf 0, leaf 1)].
  const [l0, l1, l3] = await Promise.all([leaf(others[0]), leaf(others[1]), leaf(others[2])]);
  const l2 = await leaf(id);
  const left = await node(l0, l1);
  const root4 = await node(left, await node(l2, l3));
  const bundle = {
    version: 1, record, record_id: toHex(id), leaf_index: 2, inclusion_proof: [toHex(l3), toHex(left)],
    checkpoint: { source_chain: record.source.chain, size: 4, root: toHex(root4), source_block_number: 50, source_block_hash: '0x' + '44'.repeat(32) },
    signatures: [], destination: {},
  };
  const ok = await verifyBundle(bundle);
  assert.ok(ok.ok, JSON.stringify(ok));
  assert.deepEqual(ok.checks.map((c) => c.check), ['record_id', 'chain', 'inclusion']);
  const edits = [
    [(b) => { b.record.evidence.digest = '0x' + '11'.repeat(32); }, 'record_id'],
    [(b) => { b.record_id = '0x' + '22'.repeat(32); }, 'record_id'],
    [(b) => { b.checkpoint.source_chain = 'eip155:1'; }, 'chain'],
    [(b) => { b.leaf_index = 3; }, 'inclusion'],
    [(b) => { b.checkpoint.size = 5; }, 'inclusion'],
    [(b) => { b.checkpoint.root = '0x' + '33'.repeat(32); }, 'inclusion'],
    [(b) => { b.inclusion_proof.pop(); }, 'inclusion'],
    [(b) => { b.version = 4; }, 'version'],
    [(b) => { b.timestamps = [{ tsa: 'x', token: 'MA==', gen_time: '2026-01-01T00:00:00Z' }]; }, 'version'],
    [(b) => { b.inclusion_proof = ['0x12']; }, 'format'],
  ];
  for (const [edit, check] of edits) {
    const b = structuredClone(bundle);
    edit(b);
    const res = await verifyBundle(b);
    assert.equal(res.ok, false, `${edit} should fail`);
    assert.equal(res.checks.at(-1).check, check, `${edit}: ${JSON.stringify(res.checks)}`);
  }
});

// ---------------------------------------------------------------- signatures and trust

const DEST = { chain: 'eip155:31338', mirror: '0x' + 'aa'.repeat(20) };
const CP = { source_chain: 'eip155:31337', size: 7, root: '0x' + '05'.repeat(32), source_block_number: 99, source_block_hash: '0x' + '06'.repeat(32) };
// anvil's well-known development keys 0..3 (public test keys, never used for value).
const KEYS = [
  'ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  '7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
].map((k) => fromHex(k, 32));
const ADDRS = KEYS.map((k) => toHex(keccak256(secp256k1.getPublicKey(k, false).slice(1)).slice(12)));
const N = secp256k1.Point.CURVE().n;

/** A 65-byte r ‖ s ‖ v (v = 27 + recovery) signature of `digest` by `key`, as hex. */
function sign(digest, key) {
  const rec = secp256k1.sign(digest, key, { prehash: false, format: 'recovered' });
  const out = new Uint8Array(65);
  out.set(rec.slice(1), 0);
  out[64] = 27 + rec[0];
  return toHex(out);
}

/** Keys `idx` sign `digest`, sorted by signer address. */
const signedBy = (digest, idx) => idx.map((i) => ({ attestor: ADDRS[i], signature: sign(digest, KEYS[i]) }))
  .sort((a, b) => (a.attestor < b.attestor ? -1 : 1));

function signedBundle(members = [0, 1, 2], signers = [0, 1], threshold = 2, version = 1) {
  const destination = { ...DEST, attestors: members.map((i) => ADDRS[i]), threshold, attestor_set_version: version, read_at_block: 10 };
  return { checkpoint: structuredClone(CP), destination, signatures: signedBy(checkpointDigest(CP, DEST), signers) };
}

test('EIP-712 digests match an independent implementation (ethers TypedDataEncoder)', () => {
  assert.equal(toHex(domainSeparator(DEST)), '0xaa242795ffc085527e2363435ad45bcd4acc6380a4cbf574ff3770f58a3b56e1');
  assert.equal(toHex(checkpointDigest(CP, DEST)), '0x7bb710aa48dcaf0b5903270dd20c9a25b6edb1e3ddf762ca236822589f2d7844');
  const members = ['0x1111111111111111111111111111111111111111', '0x2222222222222222222222222222222222222222', '0x3333333333333333333333333333333333333333'];
  assert.equal(toHex(setUpdateDigest('eip155:31337', 2, members, 2, DEST)), '0x2fcdb3631e474ccc2620edcef61598e2b2fea3e0872de9de765a3dfed8fe7244');
  // Another destination, another digest.
  assert.notEqual(toHex(checkpointDigest(CP, { ...DEST, chain: 'eip155:1' })), toHex(checkpointDigest(CP, DEST)));
  assert.notEqual(toHex(checkpointDigest(CP, { ...DEST, mirror: '0x' + 'ab'.repeat(20) })), toHex(checkpointDigest(CP, DEST)));
});

test('the noble bundle names the pinned npm versions', () => {
  const pinned = JSON.parse(readFileSync(join(root, 'deploy', 'package.json'), 'utf8')).dependencies;
  assert.deepEqual(NOBLE_VERSIONS, { '@noble/curves': pinned['@noble/curves'], '@noble/hashes': pinned['@noble/hashes'] });
});

test('signers are recovered with noble; high-s, bad v and bad lengths are refused', () => {
  assert.equal(ADDRS[0], '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266', "anvil's first account");
  const digest = checkpointDigest(CP, DEST);
  const sig = fromHex(sign(digest, KEYS[0]));
  assert.equal(recoverSigner(digest, sig), ADDRS[0]);
  // The same signature with s' = n - s (and the other recovery id) is valid ECDSA but high-s.
  const s = BigInt(toHex(sig.slice(32, 64)));
  const high = sig.slice();
  high.set(fromHex((N - s).toString(16).padStart(64, '0'), 32), 32);
  high[64] = sig[64] === 27 ? 28 : 27;
  assert.throws(() => recoverSigner(digest, high), /high-s/);
  const v0 = sig.slice();
  v0[64] = 0;
  assert.throws(() => recoverSigner(digest, v0), /27 or 28/);
  assert.throws(() => recoverSigner(digest, sig.slice(0, 64)), /65 bytes/);
  assert.throws(() => recoverSigner(digest, new Uint8Array(65).fill(0).map((_, i) => (i === 64 ? 27 : 0))), /out of range/);
});

test('a bundle signed by its attestors verifies; every broken rule fails with its code', () => {
  const ok = verifySignatures(signedBundle());
  assert.ok(ok.ok, JSON.stringify(ok));
  assert.equal(ok.signers.length, 2);
  const flip = (hex, at) => { const b = fromHex(hex); b[at] ^= 1; return toHex(b); };
  const edits = [
    [(b) => { b.signatures[0].signature = flip(b.signatures[0].signature, 5); }, ['wrong_signer', 'malformed']],
    [(b) => { b.signatures[1].attestor = ADDRS[2]; }, ['wrong_signer']],
    [(b) => { b.signatures.reverse(); }, ['unsorted']],
    [(b) => { b.signatures.push(structuredClone(b.signatures[1])); b.destination.threshold = 3; }, ['unsorted']],
    [(b) => { b.signatures.pop(); }, ['count']],
    [(b) => { b.checkpoint.size = 8; }, ['wrong_signer']],
    [(b) => { b.destination.chain = 'eip155:0'; }, ['destination']],
    [(b) => { b.destination.mirror = '0x' + 'bb'.repeat(20); }, ['wrong_signer']],
    [(b) => { b.destination.attestors = [ADDRS[0], ADDRS[0], ADDRS[1]]; }, ['set']],
    [(b) => { b.destination.threshold = 4; }, ['set']],
    [(b) => { b.destination.threshold = 0; }, ['set']],
    [(b) => { b.signatures[0].signature = '0x12'; }, ['malformed']],
  ];
  for (const [edit, codes] of edits) {
    const b = signedBundle();
    edit(b);
    const res = verifySignatures(b);
    assert.equal(res.ok, false, `${edit} should fail`);
    assert.ok(codes.includes(res.code), `${edit}: ${res.code}: ${res.detail}`);
  }
  // A signer outside the set, signing correctly for itself.
  const outsider = signedBundle([0, 1, 2], [0, 3]);
  assert.equal(verifySignatures(outsider).code, 'not_member');
});

/** A trust root with the given sets of `source` on DEST. */
const trustRoot = (sets, source = 'eip155:31337') => ({
  media_type: TRUST_ROOT_MEDIA_TYPE, version: 1,
  mirrors: [{ chain: DEST.chain, mirror: DEST.mirror, sources: [{ source_chain: source, sets }] }],
});
const set = (version, members, threshold, authorization, pinned, signatures) => ({
  version, attestors: members.map((i) => ADDRS[i]), threshold, effective_block: version * 10, authorization, pinned,
  ...(signatures ? { signatures } : {}),
});
/** Version `version` (members, threshold) signed by `signers` of the previous set. */
const rotation = (version, members, threshold, signers) => {
  const digest = setUpdateDigest(CP.source_chain, version, members.map((i) => ADDRS[i]), threshold, DEST);
  return signedBy(digest, signers).map((s) => s.signature);
};

test('the trust check: pinned, chained by signed rotations, and every reason to refuse', () => {
  const v1 = set(1, [0, 1, 2], 2, 'first_set', true);
  const v2 = set(2, [1, 2, 3], 2, 'signed_rotation', false, rotation(2, [1, 2, 3], 2, [0, 2]));
  const b1 = signedBundle();
  const b2 = signedBundle([1, 2, 3], [2, 3], 2, 2);
  assert.ok(verifySignatures(b2).ok);

  let res = verifyTrust(b1, trustRoot([v1]));
  assert.deepEqual([res.ok, res.code], [true, 'pinned'], res.detail);
  res = verifyTrust(b2, trustRoot([v1, v2]));
  assert.deepEqual([res.ok, res.code, res.args], [true, 'chained', [2, 1]], res.detail);

  const fails = [
    [b1, trustRoot([{ ...v1, pinned: false }]), 'unpinned'],
    [b1, trustRoot([set(1, [0, 1], 2, 'first_set', true)]), 'members'],
    [b1, trustRoot([set(1, [0, 1, 2], 3, 'first_set', true)]), 'members'],
    [b1, trustRoot([v1], 'eip155:1'), 'no_source'],
    [b1, { ...trustRoot([v1]), mirrors: [{ ...trustRoot([v1]).mirrors[0], mirror: '0x' + 'cc'.repeat(20) }] }, 'no_mirror'],
    [b1, { ...trustRoot([v1]), media_type: 'application/json' }, 'root_format'],
    [b1, null, 'root_format'],
    [b2, trustRoot([v1]), 'no_version'],
    [b2, trustRoot([v2]), 'missing'],
    [b2, trustRoot([{ ...v1, pinned: false }, v2]), 'unpinned'],
    // Rotation signed by one member only (threshold 2), by a non-member, unsorted, tampered.
    [b2, trustRoot([v1, { ...v2, signatures: v2.signatures.slice(0, 1) }]), 'rotation'],
    [b2, trustRoot([v1, { ...v2, signatures: rotation(2, [1, 2, 3], 2, [0, 3]) }]), 'rotation'],
    [b2, trustRoot([v1, { ...v2, signatures: [...v2.signatures].reverse() }]), 'rotation'],
    [b2, trustRoot([v1, { ...v2, threshold: 3 }]), 'members'],
    [b2, trustRoot([v1, { ...v2, signatures: rotation(2, [1, 2, 3], 3, [0, 2]) }]), 'rotation'],
    // An owner-installed version counts only when pinned.
    [b2, trustRoot([v1, { ...v2, authorization: 'owner_timelock', signatures: undefined }]), 'owner'],
  ];
  for (const [bundle, rootFile, code] of fails) {
    const r = verifyTrust(bundle, rootFile);
    assert.equal(r.ok, false, `should fail with ${code}: ${r.detail}`);
    assert.equal(r.code, code, r.detail);
  }
  res = verifyTrust(b2, trustRoot([v1, { ...v2, authorization: 'owner_timelock', signatures: undefined, pinned: true }]));
  assert.deepEqual([res.ok, res.code], [true, 'pinned'], res.detail);
  // Version 3 over a signed 2 over a pinned 1.
  const v3 = set(3, [0, 1, 3], 2, 'signed_rotation', false, rotation(3, [0, 1, 3], 2, [1, 3]));
  res = verifyTrust(signedBundle([0, 1, 3], [0, 3], 2, 3), trustRoot([v1, v2, v3]));
  assert.deepEqual([res.ok, res.code, res.args], [true, 'chained', [3, 1]], res.detail);
});
