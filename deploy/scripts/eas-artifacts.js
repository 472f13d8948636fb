#!/usr/bin/env node
// Copies the compiled Ethereum Attestation Service contracts (SchemaRegistry, EAS) from
// the pinned npm package @ethereum-attestation-service/eas-contracts (see
// deploy/package.json) into deploy/artifacts/eas/, keeping only what the Rust bindings
// and the deploy helper need: name, source, package version, abi, bytecode.
//
//   node deploy/scripts/eas-artifacts.js          write deploy/artifacts/eas/*.json
//   node deploy/scripts/eas-artifacts.js --check  exit 1 if a committed artifact is
//                                                missing or differs from the package
//
// The artifacts are committed so the workspace builds without node_modules; the check
// (run by deploy/scripts/test.sh and tests/tests/contracts_artifacts.rs) keeps them
// equal to the pinned package.
'use strict';

const fs = require('fs');
const path = require('path');

const DEPLOY_DIR = path.resolve(__dirname, '..');
const PACKAGE = '@ethereum-attestation-service/eas-contracts';
const PACKAGE_DIR = path.join(DEPLOY_DIR, 'node_modules', PACKAGE);
const OUT_DIR = path.join(DEPLOY_DIR, 'artifacts', 'eas');
const CONTRACTS = [
  ['SchemaRegistry', 'artifacts/contracts/SchemaRegistry.sol/SchemaRegistry.json'],
  ['EAS', 'artifacts/contracts/EAS.sol/EAS.json'],
];

function build() {
  const pinned = require(path.join(DEPLOY_DIR, 'package.json')).dependencies[PACKAGE];
  const pkgJson = path.join(PACKAGE_DIR, 'package.json');
  if (!fs.existsSync(pkgJson)) {
    throw new Error(`${PACKAGE} is not installed in deploy/node_modules; run bash deploy/scripts/install-tools.sh`);
  }
  const version = require(pkgJson).version;
  if (version !== pinned) {
    throw new Error(`${PACKAGE} ${version} is installed but package.json pins ${pinned}; run npm ci in deploy/`);
  }
  const out = new Map();
  for (const [name, rel] of CONTRACTS) {
    const src = JSON.parse(fs.readFileSync(path.join(PACKAGE_DIR, rel), 'utf8'));
    if (Object.keys(src.linkReferences || {}).length > 0) {
      throw new Error(`${name} needs linked libraries; the deploy helper does not link`);
    }
    const artifact = {
      contractName: src.contractName,
      sourceName: src.sourceName,
      package: `${PACKAGE}@${version}`,
      abi: src.abi,
      bytecode: src.bytecode,
      deployedBytecode: src.deployedBytecode,
    };
    out.set(`${name}.json`, `${JSON.stringify(artifact, null, 2)}\n`);
  }
  return out;
}

function main() {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  const unknown = args.filter((a) => a !== '--check');
  if (unknown.length > 0) {
    process.stderr.write(`unknown argument(s): ${unknown.join(' ')}\nusage: node deploy/scripts/eas-artifacts.js [--check]\n`);
    process.exit(2);
  }
  const artifacts = build();
  if (check) {
    const bad = [];
    for (const [file, text] of artifacts) {
      const p = path.join(OUT_DIR, file);
      if (!fs.existsSync(p)) bad.push(`${file}: missing`);
      else if (fs.readFileSync(p, 'utf8') !== text) bad.push(`${file}: differs from the package`);
    }
    if (bad.length > 0) {
      process.stderr.write(`deploy/artifacts/eas is stale:\n  ${bad.join('\n  ')}\nrun node deploy/scripts/eas-artifacts.js and commit deploy/artifacts/eas/\n`);
      process.exit(1);
    }
    console.log(`deploy/artifacts/eas matches ${PACKAGE}: ${[...artifacts.keys()].join(', ')}`);
    return;
  }
  fs.mkdirSync(OUT_DIR, { recursive: true });
  for (const [file, text] of artifacts) fs.writeFileSync(path.join(OUT_DIR, file), text);
  console.log(`wrote ${[...artifacts.keys()].map((f) => `deploy/artifacts/eas/${f}`).join(', ')}`);
}

try {
  main();
} catch (e) {
  process.stderr.write(`error: ${e.message}\n`);
  process.exit(1);
}
