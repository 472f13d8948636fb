// Unit tests of the lookup page's in-browser checks (bridge/assets/verify.mjs), run by
// `node --test tests/browser/verify.test.mjs` (the Rust test tests/tests/e2e_page.rs runs
// it too). Vectors: the record of schemas/README.md, and the RFC 6962 inclusion vectors
// from RFC6962_VECTORS_DIR (the same folder the Rust conformance tests read).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  keccak256, sha256, toHex, fromHex, canonicalBytes, recordId, verifyInclusion, verifyBundle, parseDigest,
} from '../../bridge/assets/verify.mjs';

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

test('sha256 fallback agrees with crypto.subtle', async () => {
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
    [(b) => { b.version = 3; }, 'version'],
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
