#!/usr/bin/env node
// Compiles every deploy/contracts/**/*.sol with the pinned solc (npm `solc`, see
// deploy/package.json) and writes one artifact per contract to deploy/artifacts/.
//
//   node deploy/scripts/compile.js          write deploy/artifacts/*.json
//   node deploy/scripts/compile.js --check  compile in memory; exit 1 if any committed
//                                          artifact is missing, differs or is extra
//
// Determinism: source unit names are paths relative to deploy/ ("contracts/X.sol"),
// sources are fed in sorted order, and metadata.bytecodeHash is "none", so the bytecode
// carries no hash of the metadata (which would change with comments and NatSpec) — only
// the CBOR-encoded compiler version. The same sources give the same artifacts on any
// machine. Any compiler warning fails the build as well: the contracts compile clean.
'use strict';

const fs = require('fs');
const path = require('path');

const DEPLOY_DIR = path.resolve(__dirname, '..');
const CONTRACTS_DIR = path.join(DEPLOY_DIR, 'contracts');
const ARTIFACTS_DIR = path.join(DEPLOY_DIR, 'artifacts');
const EXPECTED_SOLC = require(path.join(DEPLOY_DIR, 'package.json')).dependencies.solc;

const solc = require(path.join(DEPLOY_DIR, 'node_modules', 'solc'));

const SETTINGS = {
  evmVersion: 'cancun',
  optimizer: { enabled: true, runs: 200 },
  metadata: { bytecodeHash: 'none' },
  outputSelection: {
    '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] },
  },
};

function listSources(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listSources(full));
    else if (entry.isFile() && entry.name.endsWith('.sol')) out.push(full);
  }
  return out;
}

function sourceUnitName(file) {
  return path.relative(DEPLOY_DIR, file).split(path.sep).join('/');
}

// Settings as recorded in each artifact: what determines the bytecode, without the
// output selection (which only says what solc reports).
function recordedSettings() {
  const { outputSelection, ...rest } = SETTINGS;
  return rest;
}

function compile() {
  const files = listSources(CONTRACTS_DIR).sort((a, b) => (sourceUnitName(a) < sourceUnitName(b) ? -1 : 1));
  if (files.length === 0) throw new Error(`no .sol files under ${CONTRACTS_DIR}`);
  const sources = {};
  for (const file of files) sources[sourceUnitName(file)] = { content: fs.readFileSync(file, 'utf8') };

  const input = { language: 'Solidity', sources, settings: SETTINGS };
  // No import callback: every import must resolve to a file under deploy/contracts.
  const output = JSON.parse(solc.compile(JSON.stringify(input)));

  const diagnostics = output.errors || [];
  for (const d of diagnostics) process.stderr.write(`${d.formattedMessage || d.message}\n`);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  const warnings = diagnostics.filter((d) => d.severity === 'warning');
  if (errors.length > 0 || warnings.length > 0) {
    throw new Error(`solc reported ${errors.length} error(s) and ${warnings.length} warning(s); fix them first`);
  }

  const version = solc.version();
  const artifacts = new Map();
  for (const sourceName of Object.keys(output.contracts || {}).sort()) {
    for (const contractName of Object.keys(output.contracts[sourceName]).sort()) {
      const c = output.contracts[sourceName][contractName];
      if (artifacts.has(contractName)) {
        throw new Error(
          `two contracts named ${contractName} (${artifacts.get(contractName).sourceName} and ${sourceName}); ` +
            'artifact file names must be unique',
        );
      }
      const artifact = {
        contractName,
        sourceName,
        compiler: { version, settings: recordedSettings() },
        abi: c.abi,
        bytecode: `0x${c.evm.bytecode.object}`,
        deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
      };
      artifacts.set(contractName, { sourceName, text: `${JSON.stringify(artifact, null, 2)}\n` });
    }
  }
  return artifacts;
}

function existingArtifacts() {
  if (!fs.existsSync(ARTIFACTS_DIR)) return [];
  return fs
    .readdirSync(ARTIFACTS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();
}

function main() {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  const unknown = args.filter((a) => a !== '--check');
  if (unknown.length > 0) {
    process.stderr.write(`unknown argument(s): ${unknown.join(' ')}\nusage: node deploy/scripts/compile.js [--check]\n`);
    process.exit(2);
  }
  if (!solc.version().startsWith(`${EXPECTED_SOLC}+`)) {
    throw new Error(`solc ${solc.version()} is installed but package.json pins ${EXPECTED_SOLC}; run npm ci in deploy/`);
  }

  const artifacts = compile();
  const wanted = new Set([...artifacts.keys()].map((n) => `${n}.json`));

  if (check) {
    const problems = [];
    for (const [name, { text }] of artifacts) {
      const file = path.join(ARTIFACTS_DIR, `${name}.json`);
      if (!fs.existsSync(file)) problems.push(`artifact ${name}.json is missing`);
      else if (fs.readFileSync(file, 'utf8') !== text) problems.push(`artifact ${name}.json differs from a fresh compile`);
    }
    for (const f of existingArtifacts()) {
      if (!wanted.has(f)) problems.push(`artifact ${f} has no contract in deploy/contracts (extra file)`);
    }
    if (problems.length > 0) {
      for (const p of problems) process.stderr.write(`${p}; run \`node deploy/scripts/compile.js\`\n`);
      process.stderr.write(`${problems.length} artifact problem(s); regenerate and commit deploy/artifacts/\n`);
      process.exit(1);
    }
    process.stdout.write(`${artifacts.size} artifacts match a fresh compile with solc ${solc.version()}\n`);
    return;
  }

  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  for (const f of existingArtifacts()) {
    if (!wanted.has(f)) {
      fs.unlinkSync(path.join(ARTIFACTS_DIR, f));
      process.stdout.write(`removed stale ${f}\n`);
    }
  }
  for (const [name, { sourceName, text }] of artifacts) {
    const file = path.join(ARTIFACTS_DIR, `${name}.json`);
    const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
    if (old !== text) fs.writeFileSync(file, text);
    process.stdout.write(`${old === text ? 'unchanged' : 'wrote    '} artifacts/${name}.json (${sourceName})\n`);
  }
}

try {
  main();
} catch (e) {
  process.stderr.write(`compile.js: ${e.message}\n`);
  process.exit(1);
}
