// Evidence Bridge lookup page: the checks the page runs in the browser, with no server
// help. Pure functions only (no DOM), so `node --test tests/browser/verify.test.mjs`
// checks them against the schema's published test vectors.
//
// - sha256 (crypto.subtle when the page is a secure context, else noble's)
// - keccak256 (noble's keccak_256)
// - the record's canonical encoding (17 words) and record id = sha256(encoding)
// - RFC 9162 inclusion proof verification: leaf_hash(record_id) at leaf_index in a tree
//   of checkpoint.size leaves leads to checkpoint.root.
// - the attestor signatures: the EIP-712 digest of the checkpoint for the bundle's
//   destination, secp256k1 recovery of every signer (noble's, low-s only), signers
//   distinct, sorted, members of the bundle's set, at least its threshold;
// - the trust check: the bundle's attestor set is in a trust root (the node's, or a file
//   the user loads) and pinned there or reached from a pinned version by rotations
//   signed by the previous set (AttestorSetUpdate, same EIP-712 domain).
//
// The cryptography is @noble/hashes and @noble/curves from npm, bundled into
// ./vendor/noble.mjs by deploy/scripts/bundle-noble.js (never hand-written here, never
// committed); the binary embeds that file.
import { keccak_256, sha256 as nobleSha256, secp256k1, NOBLE_VERSIONS } from './vendor/noble.mjs';

export { NOBLE_VERSIONS };

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

// ---------------------------------------------------------------- hashes (noble)

/** True when the browser offers crypto.subtle (https, or http on localhost). */
export function hasSubtle() {
  return typeof globalThis.crypto !== 'undefined' && !!globalThis.crypto.subtle;
}

/** SHA-256 of bytes (crypto.subtle when available, otherwise noble's sha256). */
export async function sha256(bytes, { forceFallback = false } = {}) {
  if (!forceFallback && hasSubtle()) {
    return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes));
  }
  return nobleSha256(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
}

/** Keccak-256 (the Ethereum hash, not SHA3-256) of bytes or a UTF-8 string. */
export function keccak256(input) {
  return keccak_256(typeof input === 'string' ? enc.encode(input) : input);
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
    // v3 adds RFC 3161 `timestamps`, which this page does not check (the CLI does:
    // `bridge verify --trust`); v1 and v2 carry none.
    if (bundle.version !== 1 && bundle.version !== 2 && bundle.version !== 3) {
      return fail('version', `bundle version ${bundle.version}; this page reads versions 1 to 3`);
    }
    if (bundle.version < 3 && Array.isArray(bundle.timestamps) && bundle.timestamps.length > 0) {
      return fail('version', `a version ${bundle.version} bundle cannot carry timestamps`);
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

// ---------------------------------------------------------------- EIP-712 and signatures

/** The mirror contract's EIP-712 domain name and version. */
export const MIRROR_DOMAIN = Object.freeze({ name: 'EvidenceBridge AnchorMirror', version: '1' });

/** The `media_type` of a trust-root file, version 1. */
export const TRUST_ROOT_MEDIA_TYPE = 'application/vnd.evidence-bridge.trust-root.v1+json';

const DOMAIN_TYPEHASH = keccak256('EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)');
const CHECKPOINT_TYPEHASH = keccak256('Checkpoint(bytes32 sourceChain,uint64 size,bytes32 root,uint64 sourceBlockNumber,bytes32 sourceBlockHash)');
const SET_UPDATE_TYPEHASH = keccak256('AttestorSetUpdate(bytes32 sourceChain,uint64 newVersion,address[] attestors,uint8 threshold)');

/** A check failure with a code and arguments the page turns into words. */
class CheckError extends Error {
  constructor(code, args, detail) {
    super(detail);
    this.code = code;
    this.args = args;
  }
}

/** The EIP-155 chain id of a CAIP-2 `eip155:N` id (N ≥ 1), as a BigInt; throws otherwise. */
export function eip155ChainId(caip2) {
  const m = /^eip155:([1-9][0-9]{0,19})$/.exec(String(caip2));
  if (!m || BigInt(m[1]) >= 1n << 64n) {
    throw new CheckError('destination', [String(caip2)], `destination chain ${caip2} is not an eip155 chain with an id from 1 to 2^64-1`);
  }
  return BigInt(m[1]);
}

/** Lowercase 0x address, or throws. */
function address(text) {
  return toHex(fromHex(text, 20));
}

/** EIP-712 domain separator of the mirror at `destination` (`{chain, mirror}`). */
export function domainSeparator(destination) {
  return keccak256(concat(
    DOMAIN_TYPEHASH, keccak256(MIRROR_DOMAIN.name), keccak256(MIRROR_DOMAIN.version),
    word(eip155ChainId(destination.chain)), addressWord(destination.mirror),
  ));
}

const typedDigest = (destination, structHash) => keccak256(concat(Uint8Array.of(0x19, 0x01), domainSeparator(destination), structHash));

/** The EIP-712 digest attestors sign for `checkpoint` on `destination` (`{chain, mirror}`). */
export function checkpointDigest(checkpoint, destination) {
  return typedDigest(destination, keccak256(concat(
    CHECKPOINT_TYPEHASH, keccak256(checkpoint.source_chain), word(checkpoint.size), fromHex(checkpoint.root, 32),
    word(checkpoint.source_block_number), fromHex(checkpoint.source_block_hash, 32),
  )));
}

/**
 * The EIP-712 digest of `AttestorSetUpdate(sourceChain, newVersion, attestors, threshold)`
 * that the previous set signs to install set `newVersion` on `destination`; `attestors` are
 * hashed in the listed order, each left-padded to 32 bytes.
 */
export function setUpdateDigest(sourceChain, newVersion, attestors, threshold, destination) {
  const members = concat(...attestors.map(addressWord));
  return typedDigest(destination, keccak256(concat(
    SET_UPDATE_TYPEHASH, keccak256(sourceChain), word(newVersion), keccak256(members), word(threshold),
  )));
}

/**
 * The signer (lowercase 0x address) of a 65-byte `r ‖ s ‖ v` signature over `digest`,
 * with noble's secp256k1: v must be 27 or 28, s in the lower half of the order (EIP-2).
 * Throws an Error saying what is wrong.
 */
export function recoverSigner(digest, signature) {
  const bytes = signature instanceof Uint8Array ? signature : fromHex(signature);
  if (bytes.length !== 65) throw new Error(`expected 65 bytes, got ${bytes.length}`);
  const v = bytes[64];
  if (v !== 27 && v !== 28) throw new Error(`v is ${v}; expected 27 or 28`);
  let sig;
  try {
    sig = secp256k1.Signature.fromBytes(bytes.slice(0, 64), 'compact');
  } catch {
    throw new Error('r or s is out of range');
  }
  if (sig.hasHighS()) throw new Error('high-s signature (not canonical, EIP-2)');
  let point;
  try {
    point = sig.addRecoveryBit(v - 27).recoverPublicKey(digest);
  } catch {
    throw new Error('no public key recovers from it');
  }
  return toHex(keccak256(point.toBytes(false).slice(1)).slice(12));
}

/**
 * The mirror's rules for signatures over `digest`: at least `threshold`, each recovering
 * (low-s) to a member of `members`, signers strictly increasing (so distinct). `claimed`,
 * when given, is the attestor each signature says it is from. Returns the signers; throws
 * a CheckError naming the first broken rule.
 */
function checkSigners(digest, signatures, members, threshold, claimed) {
  if (signatures.length < threshold) {
    throw new CheckError('count', [signatures.length, threshold], `${signatures.length} signatures, threshold is ${threshold}`);
  }
  const signers = [];
  signatures.forEach((sig, i) => {
    let signer;
    try {
      signer = recoverSigner(digest, sig);
    } catch (e) {
      throw new CheckError('malformed', [i, e.message], `signature #${i} is malformed: ${e.message}`);
    }
    if (claimed && claimed[i] !== signer) {
      throw new CheckError('wrong_signer', [i, claimed[i], signer], `signature #${i} claims attestor ${claimed[i]} but was made by ${signer}`);
    }
    if (!members.includes(signer)) throw new CheckError('not_member', [signer], `signer ${signer} is not in the attestor set`);
    const prev = signers[signers.length - 1];
    if (prev !== undefined && signer <= prev) {
      throw new CheckError('unsorted', [prev, signer], `signers must be distinct and sorted by address: ${prev} then ${signer}`);
    }
    signers.push(signer);
  });
  return signers;
}

/** Members (lowercase) and threshold of an attestor set, checked: distinct, 1 ≤ threshold ≤ size. */
function attestorSet(attestors, threshold, what) {
  if (!Array.isArray(attestors)) throw new CheckError('set', [what, 'no attestor list'], `${what}: no attestor list`);
  const members = attestors.map(address);
  const dup = members.find((a, i) => members.indexOf(a) !== i);
  if (dup) throw new CheckError('set', [what, `${dup} is listed twice`], `${what}: ${dup} is listed twice`);
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > members.length || threshold > 255) {
    throw new CheckError('set', [what, `threshold ${threshold} of ${members.length} members`], `${what}: threshold ${threshold} of ${members.length} members`);
  }
  return members;
}

const failed = (check, e) => ({
  check, ok: false,
  code: e instanceof CheckError ? e.code : 'format',
  args: e instanceof CheckError ? e.args : [e instanceof Error ? e.message : String(e)],
  detail: e instanceof Error ? e.message : String(e),
});

/**
 * The attestor signatures of a bundle, as the destination mirror checks them: the EIP-712
 * digest of the checkpoint for the bundle's destination, each signer recovered with noble
 * and equal to the attestor it claims, distinct and sorted, members of the bundle's set,
 * at least its threshold. Returns `{check: 'signatures', ok, code, args, detail, signers?}`.
 */
export function verifySignatures(bundle) {
  try {
    const dest = bundle.destination || {};
    const members = attestorSet(dest.attestors, dest.threshold, "the bundle's attestor set");
    const digest = checkpointDigest(bundle.checkpoint, dest);
    const sigs = Array.isArray(bundle.signatures) ? bundle.signatures : [];
    const signers = checkSigners(digest, sigs.map((s) => s.signature), members, dest.threshold, sigs.map((s) => address(s.attestor)));
    return {
      check: 'signatures', ok: true, code: 'ok', signers,
      args: [signers.length, members.length, dest.threshold, toHex(digest)],
      detail: `${signers.length} valid signatures from the ${members.length} attestors (threshold ${dest.threshold}) over the EIP-712 checkpoint digest ${toHex(digest)}`,
    };
  } catch (e) {
    return failed('signatures', e);
  }
}

/** Checks that `root` looks like a trust-root file (version 1); throws an Error otherwise. */
export function checkTrustRootShape(root) {
  if (!root || typeof root !== 'object' || Array.isArray(root)) throw new Error('not a JSON object');
  if (root.media_type !== TRUST_ROOT_MEDIA_TYPE) throw new Error(`media_type is ${JSON.stringify(root.media_type)}, expected ${TRUST_ROOT_MEDIA_TYPE}`);
  if (root.version !== 1) throw new Error(`trust-root version ${root.version}; this page reads version 1`);
  if (!Array.isArray(root.mirrors)) throw new Error('no mirrors list');
}

/**
 * Whether the bundle's attestor set is trusted by `root` (a trust-root file, version 1):
 * the destination mirror and source chain are in it, the bundle's set version is listed
 * with exactly the bundle's members and threshold, and that version is pinned, or is
 * reached from a pinned version by signed rotations, each signed (AttestorSetUpdate) by at
 * least the previous version's threshold of its members. An owner-installed version
 * (`owner_timelock`) or a first set is trusted only when pinned. Returns
 * `{check: 'trust', ok, code, args, detail}`.
 */
export function verifyTrust(bundle, root) {
  try {
    try {
      checkTrustRootShape(root);
    } catch (e) {
      throw new CheckError('root_format', [e.message], `the trust root is unusable: ${e.message}`);
    }
    const dest = bundle.destination || {};
    const source = bundle.checkpoint.source_chain;
    const mirrorAddr = address(dest.mirror);
    const mirror = root.mirrors.find((m) => m && m.chain === dest.chain && address(m.mirror) === mirrorAddr);
    if (!mirror) {
      throw new CheckError('no_mirror', [dest.chain, mirrorAddr], `the trust root has no mirror ${mirrorAddr} on ${dest.chain}`);
    }
    const src = (mirror.sources || []).find((s) => s && s.source_chain === source);
    if (!src) throw new CheckError('no_source', [source, dest.chain], `the trust root has no attestor sets of ${source} on the ${dest.chain} mirror`);
    const sets = new Map((src.sets || []).map((s) => [s.version, s]));
    const version = dest.attestor_set_version;
    const listed = [...sets.keys()].join(', ') || 'none';
    const set = sets.get(version);
    if (!set) {
      throw new CheckError('no_version', [version, listed], `attestor set version ${version} is not in the trust root (it lists versions: ${listed})`);
    }
    const mine = attestorSet(dest.attestors, dest.threshold, "the bundle's attestor set");
    const theirs = attestorSet(set.attestors, set.threshold, `the trust root's version ${version}`);
    const onlyBundle = mine.filter((a) => !theirs.includes(a));
    const onlyRoot = theirs.filter((a) => !mine.includes(a));
    if (onlyBundle.length || onlyRoot.length || set.threshold !== dest.threshold) {
      const d = `attestor set version ${version} differs from the trust root's: members only in the bundle: ${onlyBundle.join(', ') || 'none'}; only in the trust root: ${onlyRoot.join(', ') || 'none'}; threshold ${dest.threshold} in the bundle, ${set.threshold} in the trust root`;
      throw new CheckError('members', [version, onlyBundle.join(', ') || '—', onlyRoot.join(', ') || '—', dest.threshold, set.threshold], d);
    }
    for (let v = version; ; v--) {
      const s = sets.get(v);
      if (!s) {
        throw new CheckError('missing', [v, version], `version ${v} is missing from the trust root, so the rotations up to version ${version} cannot be checked`);
      }
      if (s.pinned === true) {
        if (v === version) {
          return { check: 'trust', ok: true, code: 'pinned', args: [version], detail: `attestor set version ${version} is pinned in the trust root` };
        }
        return {
          check: 'trust', ok: true, code: 'chained', args: [version, v],
          detail: `attestor set version ${version} is reached from pinned version ${v} by rotations each signed by the previous set's threshold`,
        };
      }
      if (s.authorization === 'owner_timelock') {
        throw new CheckError('owner', [v], `version ${v} was installed by the mirror's owner after the timelock; such a set is trusted only when the trust root pins it, and it does not`);
      }
      if (s.authorization === 'first_set') {
        throw new CheckError('unpinned', [v], `version ${v} (the first set, installed by the mirror's owner) is not pinned in the trust root`);
      }
      if (s.authorization !== 'signed_rotation') {
        throw new CheckError('authorization', [v, String(s.authorization)], `version ${v} has an unknown authorization ${JSON.stringify(s.authorization)}`);
      }
      const prev = sets.get(v - 1);
      if (!prev) {
        throw new CheckError('missing', [v - 1, version], `version ${v - 1} is missing from the trust root, so the rotations up to version ${version} cannot be checked`);
      }
      const prevMembers = attestorSet(prev.attestors, prev.threshold, `the trust root's version ${v - 1}`);
      attestorSet(s.attestors, s.threshold, `the trust root's version ${v}`);
      const digest = setUpdateDigest(source, v, s.attestors, s.threshold, dest);
      try {
        checkSigners(digest, Array.isArray(s.signatures) ? s.signatures : [], prevMembers, prev.threshold, null);
      } catch (e) {
        throw new CheckError('rotation', [v, v - 1, e.message], `the rotation to version ${v} is not signed by version ${v - 1}'s threshold: ${e.message}`);
      }
    }
  } catch (e) {
    return failed('trust', e);
  }
}
