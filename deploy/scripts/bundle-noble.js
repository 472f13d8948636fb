#!/usr/bin/env node
// Bundles the lookup page's cryptography — keccak-256 and SHA-256 from @noble/hashes,
// secp256k1 (signature recovery) from @noble/curves, both pinned in deploy/package.json
// and installed by `npm ci` — into one ES module with the pinned esbuild:
//
//   node deploy/scripts/bundle-noble.js            write bridge/assets/vendor/noble.mjs
//   node deploy/scripts/bundle-noble.js --out F    write F instead (tests compare the two)
//   node deploy/scripts/bundle-noble.js --check    exit 1 unless the file is up to date
//
// bridge/assets/vendor/ is git-ignored: none of noble's code is committed. The bridge
// crate's build.rs embeds the file into the binary (and stops with "run bash
// deploy/scripts/install-tools.sh" when it is missing); the page imports it as
// /assets/vendor/noble.mjs. The output is deterministic (same packages, same bytes) and
// is rewritten only when its content changes, so cargo does not rebuild for nothing.
'use strict';

const fs = require('fs');
const path = require('path');

const DEPLOY_DIR = path.resolve(__dirname, '..');
const ROOT = path.resolve(DEPLOY_DIR, '..');
const DEFAULT_OUT = path.join(ROOT, 'bridge', 'assets', 'vendor', 'noble.mjs');
const PINNED = require(path.join(DEPLOY_DIR, 'package.json')).dependencies;

function installedVersion(name) {
  const file = path.join(DEPLOY_DIR, 'node_modules', name, 'package.json');
  if (!fs.existsSync(file)) {
    console.error(`error: ${name} is not installed in deploy/node_modules; run bash deploy/scripts/install-tools.sh`);
    process.exit(2);
  }
  const version = JSON.parse(fs.readFileSync(file, 'utf8')).version;
  if (version !== PINNED[name]) {
    console.error(`error: deploy/node_modules has ${name} ${version}, deploy/package.json pins ${PINNED[name]}; run bash deploy/scripts/install-tools.sh`);
    process.exit(2);
  }
  return version;
}

function bundle() {
  const versions = {
    curves: installedVersion('@noble/curves'),
    hashes: installedVersion('@noble/hashes'),
    esbuild: installedVersion('esbuild'),
  };
  const esbuild = require(path.join(DEPLOY_DIR, 'node_modules', 'esbuild'));
  const entry = [
    "export { secp256k1 } from '@noble/curves/secp256k1.js';",
    "export { keccak_256 } from '@noble/hashes/sha3.js';",
    "export { sha256 } from '@noble/hashes/sha2.js';",
    `export const NOBLE_VERSIONS = Object.freeze(${JSON.stringify({ '@noble/curves': versions.curves, '@noble/hashes': versions.hashes })});`,
  ].join('\n');
  const result = esbuild.buildSync({
    stdin: { contents: entry, resolveDir: DEPLOY_DIR, sourcefile: 'noble-entry.mjs', loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    legalComments: 'inline',
    write: false,
    logLevel: 'error',
    banner: {
      js: `// @noble/curves ${versions.curves} and @noble/hashes ${versions.hashes} (MIT, Paul Miller), from npm,\n`
        + `// bundled by deploy/scripts/bundle-noble.js with esbuild ${versions.esbuild}. Generated: do not edit, do not commit.`,
    },
  });
  return Buffer.from(result.outputFiles[0].contents);
}

function main() {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  const at = args.indexOf('--out');
  const out = at >= 0 ? path.resolve(args[at + 1] || '') : DEFAULT_OUT;
  const fresh = bundle();
  const current = fs.existsSync(out) ? fs.readFileSync(out) : null;
  if (check) {
    if (!current || !current.equals(fresh)) {
      console.error(`error: ${path.relative(ROOT, out)} is missing or differs from a fresh bundle of the pinned noble packages; run bash deploy/scripts/install-tools.sh`);
      process.exit(1);
    }
    return;
  }
  if (current && current.equals(fresh)) return;
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, fresh);
  console.log(`==> wrote ${path.relative(ROOT, out) || out} (${fresh.length} bytes)`);
}

main();
