// Evidence Bridge lookup page: the checks the page runs in the browser, with no server
// help. Pure functions only (no DOM), so `node --test tests/browser/verify.test.mjs`
// checks them against the schema's published test vector.
//
// - sha256 (crypto.subtle when the page is a secure context, else the fallback below)
// - keccak256 (Keccak-f[1600], rate 136 bytes, Keccak padding 0x01 ... 0x80)
// - the record's canonical encoding (17 words) and record id = sha256(encoding)
// - RFC 9162 inclusion proof verification: leaf_hash(record_id) at leaf_index in a tree
//   of checkpoint.size leaves leads to checkpoint.root.
// Signatures are not checked here (that needs secp256k1); `bridge verify` and the
// destination mirror contract check them.

const enc = new TextEncoder();

/** Bytes to lowercase hex with a 0x prefix. */
export function toHex(bytes) {
  let s = '0x';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** 0x-prefixed (or bare) hex of exactly `len` bytes to bytes; throws on anything else. */
export function fromHex(text, len) {
  const h = String(text).trim().replace(/^0x/i, '');
  if (!/^[0-9a-fA-F]*$/.test(h) || h.length % 2 !== 0) throw new Error('not hex');
  if (len !== undefined && h.length !== len * 2) throw new Error(`expected ${len} bytes, got ${h.length / 2}`);
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.substr(i * 2, 2), 16);
  return out;
}

/** Parses a pasted digest: 64 hex digits, with or without 0x, spaces ignored. */
export function parseDigest(text) {
  const h = String(text).replace(/\s+/g, '').replace(/^0x/i, '');
  if (h.length === 0) return { error: 'empty' };
  if (!/^[0-9a-fA-F]+$/.test(h)) return { error: 'not_hex' };
  if (h.length !== 64) return { error: 'length', got: h.length };
  if (/^0+$/.test(h)) return { error: 'zero' };
  return { digest: '0x' + h.toLowerCase() };
}

// ---------------------------------------------------------------- SHA-256 fallback

const K256 = new Uint32Array(64);
{
  // The first 32 bits of the fractional parts of the cube roots of the first 64 primes.
  let n = 0;
  for (let p = 2; n < 64; p++) {
    let prime = true;
    for (let d = 2; d * d <= p; d++) if (p % d === 0) { prime = false; break; }
    if (!prime) continue;
    K256[n++] = Math.floor((Math.cbrt(p) % 1) * 2 ** 32) >>> 0;
  }
}

function sha256Sync(data) {
  const H = new Uint32Array([
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  ]);
  const bitLen = data.length * 8;
  const padded = new Uint8Array(((data.length + 9 + 63) >> 6) << 6);
  padded.set(data);
  padded[data.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(bitLen / 2 ** 32));
  view.setUint32(padded.length - 4, bitLen >>> 0);
  const w = new Uint32Array(64);
  const rotr = (x, n) => (x >>> n) | (x << (32 - n));
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(off + i * 4);
    for (let i = 16; i < 64; i++) {
      const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
      const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) >>> 0;
    }
    let [a, b, c, d, e, f, g, h] = H;
    for (let i = 0; i < 64; i++) {
      const t1 = (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + w[i]) >>> 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
      h = g; g = f; f = e; e = (d + t1) >>> 0; d = c; c = b; b = a; a = (t1 + t2) >>> 0;
    }
    H[0] += a; H[1] += b; H[2] += c; H[3] += d; H[4] += e; H[5] += f; H[6] += g; H[7] += h;
  }
  const out = new Uint8Array(32);
  const ov = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) ov.setUint32(i * 4, H[i]);
  return out;
}

/** True when the browser offers crypto.subtle (https, or http on localhost). */
export function hasSubtle() {
  return typeof globalThis.crypto !== 'undefined' && !!globalThis.crypto.subtle;
}

/** SHA-256 of bytes (crypto.subtle when available, otherwise the built-in fallback). */
export async function sha256(bytes, { forceFallback = false } = {}) {
  if (!forceFallback && hasSubtle()) {
    return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes));
  }
  return sha256Sync(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
}

// ---------------------------------------------------------------- Keccak-256

const MASK64 = (1n << 64n) - 1n;
const ROUND_CONSTANTS = [];
const ROTATIONS = new Array(25).fill(0);
{
  // Round constants from the LFSR x^8 + x^6 + x^5 + x^4 + 1 (FIPS 202 §3.2.5).
  const rcBit = (t) => {
    let r = 1;
    for (let i = 0; i < t % 255; i++) {
      r <<= 1;
      if (r & 0x100) r ^= 0x171;
    }
    return r & 1;
  };
  for (let round = 0; round < 24; round++) {
    let rc = 0n;
    for (let j = 0; j <= 6; j++) if (rcBit(j + 7 * round)) rc |= 1n << BigInt((1 << j) - 1);
    ROUND_CONSTANTS.push(rc);
  }
  // Rotation offsets (FIPS 202 §3.2.2): walk (x, y) -> (y, 2x + 3y) from (1, 0).
  let x = 1, y = 0;
  for (let t = 0; t < 24; t++) {
    ROTATIONS[x + 5 * y] = (((t + 1) * (t + 2)) / 2) % 64;
    [x, y] = [y, (2 * x + 3 * y) % 5];
  }
}

const rotl64 = (v, n) => (n === 0 ? v : ((v << BigInt(n)) | (v >> BigInt(64 - n))) & MASK64);

function keccakF(A) {
  const C = new Array(5);
  const B = new Array(25);
  for (let round = 0; round < 24; round++) {
    for (let x = 0; x < 5; x++) C[x] = A[x] ^ A[x + 5] ^ A[x + 10] ^ A[x + 15] ^ A[x + 20];
    for (let x = 0; x < 5; x++) {
      const d = C[(x + 4) % 5] ^ rotl64(C[(x + 1) % 5], 1);
      for (let y = 0; y < 25; y += 5) A[x + y] ^= d;
    }
    for (let x = 0; x < 5; x++) {
      for (let y = 0; y < 5; y++) B[y + 5 * ((2 * x + 3 * y) % 5)] = rotl64(A[x + 5 * y], ROTATIONS[x + 5 * y]);
    }
    for (let y = 0; y < 25; y += 5) {
      for (let x = 0; x < 5; x++) A[x + y] = B[x + y] ^ (~B[((x + 1) % 5) + y] & MASK64 & B[((x + 2) % 5) + y]);
    }
    A[0] ^= ROUND_CONSTANTS[round];
  }
}

/** Keccak-256 (the Ethereum hash, not SHA3-256) of bytes or a UTF-8 string. */
export function keccak256(input) {
  const data = typeof input === 'string' ? enc.encode(input) : input;
  const rate = 136;
  const padded = new Uint8Array(Math.floor(data.length / rate) * rate + rate);
  padded.set(data);
  padded[data.length] ^= 0x01;
  padded[padded.length - 1] ^= 0x80;
  const A = new Array(25).fill(0n);
  for (let off = 0; off < padded.length; off += rate) {
    for (let i = 0; i < rate / 8; i++) {
      let lane = 0n;
      for (let b = 7; b >= 0; b--) lane = (lane << 8n) | BigInt(padded[off + i * 8 + b]);
      A[i] ^= lane;
    }
    keccakF(A);
  }
  const out = new Uint8Array(32);
  for (let i = 0; i < 4; i++) {
    let lane = A[i];
    for (let b = 0; b < 8; b++) { out[i * 8 + b] = Number(lane & 0xffn); lane >>= 8n; }
  }
  return out;
}

// ---------------------------------------------------------------- the record

const ACTIONS = { anchor: 1, revoke: 2 };
const ALGS = { sha256: 1, keccak256: 2, sm3: 3 };

function word(n) {
  const w = new Uint8Array(32);
  let v = BigInt(n);
  if (v < 0n || v >= 1n << 64n) throw new Error(`integer ${n} out of range`);
  for (let i = 31; v > 0n; i--) { w[i] = Number(v & 0xffn); v >>= 8n; }
  return w;
}

function addressWord(addr) {
  const w = new Uint8Array(32);
  w.set(fromHex(addr, 20), 12);
  return w;
}

/** Unix seconds of an RFC 3339 time in whole seconds (`2026-01-01T00:00:00Z`). */
export function unixSeconds(rfc3339) {
  const ms = Date.parse(rfc3339);
  if (Number.isNaN(ms)) throw new Error(`bad time ${rfc3339}`);
  return Math.floor(ms / 1000);
}

/** The 17-word canonical encoding of a record (its JSON view), 544 bytes. */
export function canonicalBytes(record) {
  const s = record.source;
  const e = record.evidence;
  if (!(record.action in ACTIONS)) throw new Error(`unknown action ${record.action}`);
  if (!(e.digest_alg in ALGS)) throw new Error(`unknown digest algorithm ${e.digest_alg}`);
  const words = [
    keccak256('EvidenceBridge.EvidenceRecord.v1'),
    keccak256(s.chain),
    keccak256(s.adapter),
    addressWord(s.contract),
    word(s.block_number),
    fromHex(s.block_hash, 32),
    fromHex(s.tx_hash, 32),
    word(s.tx_index),
    word(s.log_index),
    word(unixSeconds(s.block_timestamp)),
    word(ACTIONS[record.action]),
    record.ref ? fromHex(record.ref, 32) : new Uint8Array(32),
    word(ALGS[e.digest_alg]),
    fromHex(e.digest, 32),
    keccak256(e.kind),
    addressWord(e.submitter),
    fromHex(e.metadata, 32),
  ];
  const out = new Uint8Array(32 * words.length);
  words.forEach((w, i) => out.set(w, 32 * i));
  return out;
}

/** The record id: sha256 of the canonical encoding, as 0x hex. */
export async function recordId(record, opts) {
  return toHex(await sha256(canonicalBytes(record), opts));
}

// ---------------------------------------------------------------- RFC 9162 inclusion

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}

/**
 * Verifies that `leafHash` is leaf `index` of the tree of `size` leaves with root
 * `root` (RFC 9162 §2.1.3.2). Returns `{ ok: true }` or `{ ok: false, reason }`.
 */
export async function verifyInclusion(leafHash, index, size, proof, root, opts) {
  let fn = BigInt(index);
  let sn = BigInt(size) - 1n;
  if (BigInt(size) === 0n) return { ok: false, reason: 'the tree is empty' };
  if (fn > sn) return { ok: false, reason: `leaf ${index} is outside a tree of ${size}` };
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0n) return { ok: false, reason: 'the proof is longer than the tree allows' };
    if ((fn & 1n) === 1n || fn === sn) {
      r = await sha256(concat(Uint8Array.of(1), p, r), opts);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
      }
    } else {
      r = await sha256(concat(Uint8Array.of(1), r, p), opts);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) return { ok: false, reason: 'the proof is shorter than the tree needs' };
  if (toHex(r) !== toHex(root)) return { ok: false, reason: 'the proof does not lead to the checkpoint root' };
  return { ok: true };
}

/**
 * The page's check of a proof bundle: the record hashes to `record_id`, the checkpoint
 * is of the record's chain, and the inclusion proof leads from the record id to the
 * checkpoint root; for a bundle (version 2) that carries a revocation, the same for the
 * revocation record, which must revoke this record. Returns
 * `{ ok, revoked, checks: [{check, ok, detail}] }`.
 */
export async function verifyBundle(bundle, opts) {
  const checks = [];
  const fail = (check, detail) => { checks.push({ check, ok: false, detail }); return { ok: false, checks }; };
  try {
    if (bundle.version !== 1 && bundle.version !== 2) {
      return fail('version', `bundle version ${bundle.version}; this page reads versions 1 and 2`);
    }
    const computed = await recordId(bundle.record, opts);
    if (computed !== String(bundle.record_id).toLowerCase()) {
      return fail('record_id', `the bundle says ${bundle.record_id}, the record hashes to ${computed}`);
    }
    checks.push({ check: 'record_id', ok: true, detail: computed });
    if (bundle.record.source.chain !== bundle.checkpoint.source_chain) {
      return fail('chain', `record from ${bundle.record.source.chain}, checkpoint of ${bundle.checkpoint.source_chain}`);
    }
    checks.push({ check: 'chain', ok: true, detail: bundle.checkpoint.source_chain });
    const leaf = await sha256(concat(Uint8Array.of(0), fromHex(computed, 32)), opts);
    const proof = bundle.inclusion_proof.map((h) => fromHex(h, 32));
    const res = await verifyInclusion(leaf, bundle.leaf_index, bundle.checkpoint.size, proof, fromHex(bundle.checkpoint.root, 32), opts);
    if (!res.ok) return fail('inclusion', res.reason);
    checks.push({ check: 'inclusion', ok: true, detail: `leaf ${bundle.leaf_index} of ${bundle.checkpoint.size} -> ${bundle.checkpoint.root}` });
    const rev = bundle.revocation;
    if (rev) {
      const revId = await recordId(rev.record, opts);
      if (revId !== String(rev.record_id).toLowerCase()) {
        return fail('revocation', `the revocation says ${rev.record_id}, its record hashes to ${revId}`);
      }
      if (rev.record.action !== 'revoke' || String(rev.record.ref).toLowerCase() !== computed) {
        return fail('revocation', 'the revocation record does not revoke this record');
      }
      const revLeaf = await sha256(concat(Uint8Array.of(0), fromHex(revId, 32)), opts);
      const revProof = rev.inclusion_proof.map((h) => fromHex(h, 32));
      const revRes = await verifyInclusion(revLeaf, rev.leaf_index, bundle.checkpoint.size, revProof, fromHex(bundle.checkpoint.root, 32), opts);
      if (!revRes.ok) return fail('revocation', `the revocation's proof: ${revRes.reason}`);
      checks.push({ check: 'revocation', ok: true, detail: `revoked by ${revId} (leaf ${rev.leaf_index})` });
    }
    return { ok: true, revoked: Boolean(rev), checks };
  } catch (e) {
    return fail('format', e instanceof Error ? e.message : String(e));
  }
}
