//! Command-line definitions (clap).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Evidence Bridge: prove evidence anchored on one chain from any other chain.
///
/// Exit codes: 0 ok; 1 not found or verification failed (or the work failed);
/// 2 bad input or configuration; 3 (`verify`) the proof holds but the record is
/// revoked; 4 (`verify`) the bundle is self-consistent but its signer set is not pinned;
/// 5 (`verify`) could not check: a chain the online checks need did not answer.
#[derive(Debug, Parser)]
#[command(name = "bridge", version, about, long_about = None)]
pub(crate) struct Cli {
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info,relayer=debug`.
    #[arg(long, global = true, env = "BRIDGE_LOG", default_value = "info")]
    pub(crate) log: String,
    /// Log as JSON lines.
    #[arg(long, global = true)]
    pub(crate) log_json: bool,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Local development chains with the contracts deployed.
    #[command(subcommand)]
    Devnet(DevnetCommand),
    /// Check configuration files without starting anything.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Deploy the EvidenceRegistry and AnchorMirror contracts to an EVM chain.
    Deploy(DeployArgs),
    /// Run indexing, attestation and relaying until interrupted.
    Run(ConfigArg),
    /// Serve the HTTP API read-only (a lookup node next to a `bridge run`).
    Serve(ServeArgs),
    /// Anchor a file's or a digest's evidence on a chain's registry.
    Anchor(AnchorArgs),
    /// List every record of a digest on every chain, with its state.
    Lookup(LookupArgs),
    /// Write a self-contained proof bundle for a record on a destination chain.
    Proof(ProofArgs),
    /// Write an evidence certificate (存证证书): a one-page bilingual PDF of a record
    /// on a destination chain, with a QR code to the lookup page and the proof bundle
    /// attached (`bridge verify cert.pdf` checks it).
    Certificate(ProofArgs),
    /// Verify a proof bundle: offline against a trust root (--trust), and against the
    /// destination mirror and the source chain with --config. Exit 0 valid, 1 a check
    /// failed, 2 bad input or a malformed bundle, 3 valid but REVOKED, 4 self-consistent
    /// but the signer set is NOT pinned (no --trust and no --config).
    #[command(after_help = VERIFY_EXIT_CODES)]
    Verify(VerifyArgs),
    /// Revoke one of your own records on a chain's EvidenceRegistry (the key is
    /// keys.anchor_key_env, the record's submitter).
    Revoke(RevokeArgs),
    /// Per chain: head, cursor, lag, log size, checkpoints, quarantined events, halts.
    Status(StatusArgs),
    /// Administer a chain's AnchorMirror: show, install, rotate a source chain's
    /// attestor set.
    #[command(subcommand)]
    Mirror(MirrorCommand),
    /// Trust roots for offline verification: whose keys a verifier trusts.
    #[command(subcommand)]
    Trust(TrustCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum TrustCommand {
    /// Write every configured mirror's attestor-set history (members, threshold, block,
    /// how each version was authorized, the rotation signatures) as a trust root for
    /// `bridge verify --offline --trust FILE`. First sets are pinned; check them out of
    /// band before you hand the file to a verifier.
    Export(TrustExportArgs),
}

#[derive(Debug, Args)]
pub(crate) struct TrustExportArgs {
    /// The config file.
    #[arg(long, short)]
    pub(crate) config: PathBuf,
    /// Output file (JSON).
    #[arg(long, short)]
    pub(crate) output: PathBuf,
    /// Also pin sets the owner installed through the timelock (you vouch for them).
    #[arg(long)]
    pub(crate) pin_owner_sets: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum MirrorCommand {
    /// Install the FIRST attestor set and threshold of SOURCE on DEST's mirror (owner
    /// only; later sets: sign-rotation + rotate, or the owner's timelock).
    SetAttestors(SetAttestorsArgs),
    /// As a member of the current set, approve (sign) a proposed new set — or, with
    /// --cancel, the cancellation of the owner's pending proposal — with your own key.
    SignRotation(crate::commands::rotation::SignRotationArgs),
    /// Submit a new set with approvals from at least the current threshold (anyone may
    /// submit; checkpoints signed by the old set are rejected from then on).
    Rotate(crate::commands::rotation::SubmitArgs),
    /// Cancel the owner's pending proposal with approvals (`sign-rotation --cancel`)
    /// from at least the current threshold.
    CancelRotation(crate::commands::rotation::SubmitArgs),
    /// Owner only: propose a new set through the timelock (key loss, emergency); every
    /// partner raises an alarm and the current set can cancel it.
    ProposeRotation(crate::commands::rotation::OwnerArgs),
    /// Owner only: install the pending proposal once the timelock expired.
    ExecuteRotation(crate::commands::rotation::OwnerArgs),
    /// Show DEST's mirror for SOURCE: attestor set, version, threshold, the latest
    /// checkpoint and every set change.
    Show(MirrorShowArgs),
}

#[derive(Debug, Args)]
pub(crate) struct SetAttestorsArgs {
    /// The config file.
    #[arg(long, short)]
    pub(crate) config: PathBuf,
    /// The chain whose mirror is changed (by name).
    #[arg(long)]
    pub(crate) chain: String,
    /// The source chain whose attestor set is replaced (by name).
    #[arg(long)]
    pub(crate) source: String,
    /// An attestor address (repeat the flag for each member of the new set).
    #[arg(long = "attestor", required = true)]
    pub(crate) attestors: Vec<String>,
    /// Signatures a checkpoint needs (1 to the number of attestors).
    #[arg(long)]
    pub(crate) threshold: u64,
    /// Environment variable holding the mirror owner's key (default: keys.owner_key_env;
    /// never the relayer key).
    #[arg(long)]
    pub(crate) owner_key_env: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct MirrorShowArgs {
    /// The config file.
    #[arg(long, short)]
    pub(crate) config: PathBuf,
    /// The chain whose mirror is shown (by name).
    #[arg(long)]
    pub(crate) chain: String,
    /// The source chain (by name).
    #[arg(long)]
    pub(crate) source: String,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum DevnetCommand {
    /// Start local anvil chains, deploy the contracts, write DIR/bridge.toml, and run
    /// until interrupted.
    Up(DevnetUpArgs),
    /// Make an EAS attestation of a file's or a digest's evidence on a chain with an
    /// `eas` source (schema `bytes32 documentHash, string note`; the devnet registers it
    /// on alpha), and print its UID and the record the bridge indexes for it.
    AttestEas(AttestEasArgs),
    /// Revoke an EAS attestation made with `attest-eas`, and print the revoke record.
    RevokeEas(RevokeEasArgs),
}

#[derive(Debug, Args)]
pub(crate) struct AttestEasArgs {
    /// The config file.
    #[arg(long, short)]
    pub(crate) config: PathBuf,
    /// Chain name (must have an `eas` source with at least one schema listed).
    #[arg(long)]
    pub(crate) chain: String,
    /// File to hash with SHA-256 (streamed; it never leaves this machine).
    #[arg(long, conflicts_with = "digest", required_unless_present = "digest")]
    pub(crate) file: Option<PathBuf>,
    /// A 32-byte hex SHA-256 digest computed elsewhere.
    #[arg(long)]
    pub(crate) digest: Option<String>,
    /// Free-text note stored in the attestation (stays on the source chain; only the
    /// metadata commitment is mirrored).
    #[arg(long, default_value = "")]
    pub(crate) note: String,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct RevokeEasArgs {
    /// The config file.
    #[arg(long, short)]
    pub(crate) config: PathBuf,
    /// Chain name (must have an `eas` source with at least one schema listed).
    #[arg(long)]
    pub(crate) chain: String,
    /// The attestation UID (hex).
    pub(crate) uid: String,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Load a config file exactly as `bridge run` does (TOML, then `BRIDGE__`
    /// environment overrides, then validation). Exit 0 when valid, 2 with the reason.
    Check(ConfigCheckArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ConfigCheckArgs {
    /// The config file.
    #[arg(long, short)]
    pub(crate) config: PathBuf,
    /// Print the effective configuration (after environment overrides) as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct DevnetUpArgs {
    /// Folder for bridge.toml, devnet.env and the store.
    #[arg(long)]
    pub(crate) dir: PathBuf,
    /// Number of chains (2 to 8; default 3: alpha, beta, gamma, every pair routed).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(2..=8))]
    pub(crate) chains: u8,
    /// Seconds between blocks.
    #[arg(long, default_value_t = 1)]
    pub(crate) block_time: u64,
    /// The anvil binary (default: $ANVIL_BIN, then deploy/node_modules, then PATH).
    #[arg(long, env = "ANVIL_BIN")]
    pub(crate) anvil: Option<PathBuf>,
    /// First chain id; the others follow.
    #[arg(long, default_value_t = 31337)]
    pub(crate) first_chain_id: u64,
    /// First port; the others follow.
    #[arg(long, default_value_t = 8545)]
    pub(crate) first_port: u16,
}

#[derive(Debug, Args)]
pub(crate) struct ConfigArg {
    /// The config file.
    #[arg(long, short)]
    pub(crate) config: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The config file.
    #[arg(long, short)]
    pub(crate) config: PathBuf,
    /// Address to listen on (overrides `[api] listen`), e.g. 127.0.0.1:8080.
    #[arg(long)]
    pub(crate) listen: Option<std::net::SocketAddr>,
}

#[derive(Debug, Args)]
pub(crate) struct DeployArgs {
    /// JSON-RPC URL of the chain.
    #[arg(long)]
    pub(crate) rpc: String,
    /// Environment variable holding the deployer's hex private key.
    #[arg(long, default_value = "BRIDGE_DEPLOYER_KEY")]
    pub(crate) key_env: String,
    /// Owner of the mirror: installs first attestor sets and proposes later ones through
    /// the timelock. Required outside dev chains, and never the deployer there (use a
    /// multisig contract). Default on a dev chain: the deployer, with a warning.
    #[arg(long)]
    pub(crate) owner: Option<String>,
    /// Seconds between an owner's attestor-set proposal and its execution, fixed for the
    /// mirror's life (partners can cancel meanwhile). Default and minimum outside dev
    /// chains: 7 days.
    #[arg(long, default_value_t = 604_800)]
    pub(crate) owner_rotation_delay: u64,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct AnchorArgs {
    /// The config file.
    #[arg(long, short)]
    pub(crate) config: PathBuf,
    /// Chain name to anchor on.
    #[arg(long)]
    pub(crate) chain: String,
    /// File to hash (streamed; it never leaves this machine).
    #[arg(long, conflicts_with = "digest", required_unless_present = "digest")]
    pub(crate) file: Option<PathBuf>,
    /// A 32-byte hex digest computed elsewhere.
    #[arg(long)]
    pub(crate) digest: Option<String>,
    /// Digest algorithm.
    #[arg(long, default_value = "sha256")]
    pub(crate) alg: String,
    /// Short label of what the evidence is.
    #[arg(long, default_value = "")]
    pub(crate) kind: String,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct LookupArgs {
    /// The config file.
    #[arg(long, short)]
    pub(crate) config: PathBuf,
    /// The digest (hex).
    #[arg(conflicts_with = "file", required_unless_present = "file")]
    pub(crate) digest: Option<String>,
    /// A file to hash instead.
    #[arg(long)]
    pub(crate) file: Option<PathBuf>,
    /// Digest algorithm, with --file.
    #[arg(long, default_value = "sha256")]
    pub(crate) alg: String,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ProofArgs {
    /// The config file.
    #[arg(long, short)]
    pub(crate) config: PathBuf,
    /// Record id (hex).
    pub(crate) record_id: String,
    /// Destination chain name.
    #[arg(long)]
    pub(crate) to: String,
    /// Output file.
    #[arg(long, short)]
    pub(crate) output: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct RevokeArgs {
    /// The config file (its store must hold the record: `bridge run` indexed it).
    #[arg(long, short)]
    pub(crate) config: PathBuf,
    /// Chain name whose registry anchored the record.
    #[arg(long)]
    pub(crate) chain: String,
    /// Record id (hex) of the anchor record to revoke.
    #[arg(long)]
    pub(crate) record_id: String,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

/// The exit codes of `bridge verify`, printed under its `--help`.
const VERIFY_EXIT_CODES: &str = "Exit codes:
  0  valid: every check passed and the signer set is pinned (by --trust, or by the mirror online)
  1  a check failed (the failed check is named): a forgery, a set the trust root does not trust, a mirror that disagrees
  2  bad input: unreadable, over 16 MiB, not a bundle, malformed (duplicate JSON keys, eip155:0, ...), a bad trust root
  3  the proof holds but the record is REVOKED
  4  self-consistent, but the signer set is NOT pinned (offline without --trust): not a verification
  5  could not check: a chain the online checks need did not answer (no verdict; retry)";

/// `bridge verify` exit codes: 0 valid (the signer set pinned by --trust or confirmed by
/// the mirror online); 1 a check failed (forgery, wrong trust root, mirror disagrees);
/// 2 bad input (unreadable, over 16 MiB, not a bundle, malformed, bad trust root);
/// 3 the proof holds but the record is REVOKED; 4 every offline check holds but nothing
/// pins the signer set (offline without --trust): not a verification; 5 could not check
/// (a chain did not answer).
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The bundle file, or an evidence certificate PDF carrying one (recognised by its
    /// `%PDF-` header; at most 16 MiB).
    pub(crate) bundle: PathBuf,
    /// A trust root (`bridge trust export`): the attestor sets you trust per mirror and
    /// source chain. Without it (and without --config) the signers are not pinned and
    /// verify exits 4.
    #[arg(long)]
    pub(crate) trust: Option<PathBuf>,
    /// A PEM file of TSA root certificates: the bundle's RFC 3161 timestamps are checked
    /// against them (and against the trust root's `tsa_roots`) and their time printed.
    #[arg(long)]
    pub(crate) tsa_root: Option<PathBuf>,
    /// With a config, also check the destination mirror and the source chain's
    /// original transaction.
    #[arg(long, short)]
    pub(crate) config: Option<PathBuf>,
    /// Only the checks that need no chain, even with --config.
    #[arg(long)]
    pub(crate) offline: bool,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    /// The config file.
    #[arg(long, short)]
    pub(crate) config: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}
