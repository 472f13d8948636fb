//! A dev chain for one test: an `anvil` child process on a free port, funded dev keys,
//! providers with wallets, and deployment of the project's contracts.
//!
//! The process is killed when the [`Devchain`] is dropped, so each test (or each test
//! binary, when a test shares one node between cases) owns its node outright.

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use alloy::{
    contract::{CallBuilder, CallDecoder},
    network::{Ethereum, EthereumWallet},
    node_bindings::{Anvil, AnvilInstance},
    primitives::Address,
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::types::TransactionReceipt,
    signers::local::PrivateKeySigner,
    transports::{TransportErrorKind, http::reqwest::Url},
};
use anyhow::{Context as _, bail};

use crate::contracts::{
    AnchorMirror::{self, AnchorMirrorInstance},
    EvidenceLibHarness::{self, EvidenceLibHarnessInstance},
    EvidenceRegistry::{self, EvidenceRegistryInstance},
    SubtreeLibHarness::{self, SubtreeLibHarnessInstance},
};

/// The owner-rotation timelock of test mirrors, in seconds (tests advance anvil's clock).
pub const TEST_ROTATION_DELAY: u64 = 3_600;

/// Path of the pinned anvil binary inside the workspace, installed by
/// `bash deploy/scripts/install-tools.sh`.
pub const ANVIL_REL_PATH: &str = "deploy/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil";

/// How long a transaction may take to show a receipt. anvil mines on arrival, so this
/// is only reached when the node is wedged.
const RECEIPT_TIMEOUT: Duration = Duration::from_secs(30);

/// The workspace root (the folder holding the top-level `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map_or_else(|| manifest.to_path_buf(), Path::to_path_buf)
}

/// The anvil binary to run: `$ANVIL_BIN` when set, else the workspace's pinned copy.
///
/// # Errors
/// When the file does not exist, with the path tried and the command that installs it.
pub fn anvil_bin() -> anyhow::Result<PathBuf> {
    let (path, from_env) = match std::env::var_os("ANVIL_BIN") {
        Some(p) if !p.is_empty() => (PathBuf::from(p), true),
        _ => (workspace_root().join(ANVIL_REL_PATH), false),
    };
    if !path.is_file() {
        let origin = if from_env {
            "ANVIL_BIN points to"
        } else {
            "looked for anvil at"
        };
        bail!(
            "anvil binary not found: {origin} {}; run `bash deploy/scripts/install-tools.sh` \
             from the workspace root (or set ANVIL_BIN to an anvil binary)",
            path.display()
        );
    }
    Ok(path)
}

/// A running anvil node with the project's helpers around it.
#[derive(Debug)]
pub struct Devchain {
    anvil: AnvilInstance,
    /// HTTP JSON-RPC endpoint of the node.
    pub rpc_url: Url,
    /// The node's EIP-155 chain id.
    pub chain_id: u64,
    /// Dev account 0: funded, and the wallet of [`Devchain::provider`].
    pub signer: PrivateKeySigner,
    /// A provider that signs with [`Devchain::signer`] and fills nonce, gas and fees.
    pub provider: DynProvider,
}

impl Devchain {
    /// Spawns anvil with `chain_id` on a port the OS picks.
    ///
    /// # Errors
    /// When the binary is missing (see [`anvil_bin`]) or anvil does not start.
    pub async fn start(chain_id: u64) -> anyhow::Result<Self> {
        Self::start_with_args(chain_id, &[]).await
    }

    /// [`Devchain::start`] with extra anvil arguments, e.g. `["--hardfork", "cancun"]`.
    ///
    /// # Errors
    /// As [`Devchain::start`].
    pub async fn start_with_args(chain_id: u64, args: &[&str]) -> anyhow::Result<Self> {
        let bin = anvil_bin()?;
        // Port 0: anvil binds a free port and reports it, which the bindings parse.
        let anvil = Anvil::at(&bin)
            .chain_id(chain_id)
            .port(0u16)
            .args(args.iter().copied())
            .try_spawn()
            .with_context(|| {
                format!(
                    "starting {} --chain-id {chain_id} {}",
                    bin.display(),
                    args.join(" ")
                )
            })?;
        let rpc_url = anvil.endpoint_url();
        let signer = dev_signer_of(&anvil, 0)?;
        let provider = wallet_provider(&rpc_url, signer.clone());
        let got = provider
            .get_chain_id()
            .await
            .context("eth_chainId on the new anvil")?;
        if got != chain_id {
            bail!("anvil reports chain id {got}, asked for {chain_id}");
        }
        Ok(Self {
            anvil,
            rpc_url,
            chain_id,
            signer,
            provider,
        })
    }

    /// The node's process id (for benchmarks that account its CPU time).
    pub fn pid(&self) -> u32 {
        self.anvil.child().id()
    }

    /// Address of dev account 0 (the default sender and deployer).
    pub fn address(&self) -> Address {
        self.signer.address()
    }

    /// Dev account `index` (anvil funds 10 of them, 0 to 9).
    ///
    /// # Errors
    /// When anvil has no such account.
    pub fn dev_signer(&self, index: usize) -> anyhow::Result<PrivateKeySigner> {
        dev_signer_of(&self.anvil, index)
    }

    /// A provider that signs with `signer`, e.g. another dev account acting as a
    /// non-owner. The account must be funded to send transactions.
    pub fn provider_for(&self, signer: PrivateKeySigner) -> DynProvider {
        wallet_provider(&self.rpc_url, signer)
    }

    /// Moves the node's clock `seconds` forward (`evm_increaseTime`) and mines a block
    /// (`evm_mine`), so that the latest block — the one calls and gas estimates run
    /// against — and every later one carry the new time. Returns the new block's
    /// timestamp. A dev-node method: tests only.
    ///
    /// # Errors
    /// On RPC errors.
    pub async fn increase_time(&self, seconds: u64) -> anyhow::Result<u64> {
        let _: serde_json::Value = self
            .provider
            .raw_request("evm_increaseTime".into(), (seconds,))
            .await
            .context("evm_increaseTime")?;
        let _: serde_json::Value = self
            .provider
            .raw_request("evm_mine".into(), ())
            .await
            .context("evm_mine")?;
        self.latest_timestamp().await
    }

    /// Makes the next mined block carry exactly `timestamp`
    /// (`evm_setNextBlockTimestamp`; it must be later than the latest block's). A
    /// dev-node method: tests only.
    ///
    /// # Errors
    /// On RPC errors, e.g. a timestamp not after the latest block's.
    pub async fn set_next_block_timestamp(&self, timestamp: u64) -> anyhow::Result<()> {
        let _: serde_json::Value = self
            .provider
            .raw_request("evm_setNextBlockTimestamp".into(), (timestamp,))
            .await
            .with_context(|| format!("evm_setNextBlockTimestamp {timestamp}"))?;
        Ok(())
    }

    /// Timestamp of the latest block.
    ///
    /// # Errors
    /// On RPC errors.
    pub async fn latest_timestamp(&self) -> anyhow::Result<u64> {
        self.block_timestamp(alloy::eips::BlockNumberOrTag::Latest)
            .await
    }

    /// Timestamp of block `block` (e.g. a receipt's `block_number`, or `Latest`).
    ///
    /// # Errors
    /// On RPC errors, or when there is no such block.
    pub async fn block_timestamp(
        &self,
        block: impl Into<alloy::eips::BlockNumberOrTag>,
    ) -> anyhow::Result<u64> {
        let block = block.into();
        let found = self
            .provider
            .get_block_by_number(block)
            .await
            .with_context(|| format!("eth_getBlockByNumber {block}"))?
            .with_context(|| format!("the node has no block {block}"))?;
        Ok(found.header.timestamp)
    }

    /// Deploys `EvidenceRegistry` from dev account 0.
    ///
    /// # Errors
    /// When the deployment transaction fails.
    pub async fn deploy_registry(&self) -> anyhow::Result<EvidenceRegistryInstance<DynProvider>> {
        let call = EvidenceRegistry::deploy_builder(self.provider.clone());
        let address = deploy(call, "EvidenceRegistry").await?;
        Ok(EvidenceRegistry::new(address, self.provider.clone()))
    }

    /// Deploys `AnchorMirror` owned by `owner` with an owner-rotation timelock of
    /// [`TEST_ROTATION_DELAY`] seconds, from dev account 0.
    ///
    /// # Errors
    /// When the deployment transaction fails (e.g. `InvalidOwner` for the zero address).
    pub async fn deploy_mirror(
        &self,
        owner: Address,
    ) -> anyhow::Result<AnchorMirrorInstance<DynProvider>> {
        self.deploy_mirror_with_delay(owner, TEST_ROTATION_DELAY)
            .await
    }

    /// Deploys `AnchorMirror` owned by `owner` with an owner-rotation timelock of
    /// `delay` seconds, from dev account 0.
    ///
    /// # Errors
    /// When the deployment transaction fails.
    pub async fn deploy_mirror_with_delay(
        &self,
        owner: Address,
        delay: u64,
    ) -> anyhow::Result<AnchorMirrorInstance<DynProvider>> {
        let call = AnchorMirror::deploy_builder(self.provider.clone(), owner, delay);
        let address = deploy(call, "AnchorMirror").await?;
        Ok(AnchorMirror::new(address, self.provider.clone()))
    }

    /// Deploys the test-only `EvidenceLibHarness`, from dev account 0.
    ///
    /// # Errors
    /// When the deployment transaction fails.
    pub async fn deploy_harness(&self) -> anyhow::Result<EvidenceLibHarnessInstance<DynProvider>> {
        let call = EvidenceLibHarness::deploy_builder(self.provider.clone());
        let address = deploy(call, "EvidenceLibHarness").await?;
        Ok(EvidenceLibHarness::new(address, self.provider.clone()))
    }

    /// Deploys the test-only `SubtreeLibHarness`, from dev account 0.
    ///
    /// # Errors
    /// When the deployment transaction fails.
    pub async fn deploy_subtree_harness(
        &self,
    ) -> anyhow::Result<SubtreeLibHarnessInstance<DynProvider>> {
        let call = SubtreeLibHarness::deploy_builder(self.provider.clone());
        let address = deploy(call, "SubtreeLibHarness").await?;
        Ok(SubtreeLibHarness::new(address, self.provider.clone()))
    }
}

fn dev_signer_of(anvil: &AnvilInstance, index: usize) -> anyhow::Result<PrivateKeySigner> {
    let key = anvil
        .keys()
        .get(index)
        .with_context(|| format!("anvil has {} dev keys, no key #{index}", anvil.keys().len()))?;
    Ok(PrivateKeySigner::from(key.clone()))
}

/// A provider signing with `signer` that fills gas, nonce and chain id.
///
/// Nonces come from the node for every transaction (`eth_getTransactionCount` at
/// `pending`), not from alloy's default cache: the cache advances even when a
/// transaction is never sent because its gas estimation reverted, which is exactly
/// what adversarial tests do, and the next transaction would then wait forever behind
/// a nonce gap. Send one transaction per account at a time.
fn wallet_provider(url: &Url, signer: PrivateKeySigner) -> DynProvider {
    ProviderBuilder::new()
        .disable_recommended_fillers()
        .with_gas_estimation()
        .with_simple_nonce_management()
        .fetch_chain_id()
        .wallet(EthereumWallet::from(signer))
        .connect_http(url.clone())
        .erased()
}

async fn deploy<P, D>(call: CallBuilder<P, D>, name: &str) -> anyhow::Result<Address>
where
    P: Provider<Ethereum>,
    D: CallDecoder,
{
    let receipt = send_tx(&call)
        .await
        .with_context(|| format!("deploying {name}"))?;
    receipt
        .contract_address
        .with_context(|| format!("deploying {name}: receipt has no contract address"))
}

/// Sends the transaction of `call` and returns its receipt once mined.
///
/// Unlike alloy's `get_receipt`, this polls for the receipt every few milliseconds
/// instead of waiting on the provider's block-polling interval, which matters when a
/// test sends dozens of transactions to an auto-mining anvil.
///
/// Reverts are reported as they happen: normally at gas estimation, as a
/// [`alloy::contract::Error`] whose revert data [`crate::decode_revert`] decodes; a
/// transaction mined with a failed status (only possible with a fixed gas limit) is an
/// error naming its hash.
///
/// # Errors
/// As described above, and on transport errors.
pub async fn send_tx<P, D>(
    call: &CallBuilder<P, D>,
) -> Result<TransactionReceipt, alloy::contract::Error>
where
    P: Provider<Ethereum>,
    D: CallDecoder,
{
    let pending = call.send().await?;
    let hash = *pending.tx_hash();
    let provider = pending.provider().clone();
    let deadline = Instant::now() + RECEIPT_TIMEOUT;
    loop {
        if let Some(receipt) = provider.get_transaction_receipt(hash).await? {
            if !receipt.status() {
                return Err(TransportErrorKind::custom_str(&format!(
                    "transaction {hash} was mined but reverted (gasUsed {})",
                    receipt.gas_used
                ))
                .into());
            }
            return Ok(receipt);
        }
        if Instant::now() >= deadline {
            return Err(TransportErrorKind::custom_str(&format!(
                "no receipt for transaction {hash} after {RECEIPT_TIMEOUT:?}"
            ))
            .into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Every event of type `E` in `receipt`'s logs, in log order (logs of other types or
/// contracts are skipped).
pub fn decode_events<E: alloy::sol_types::SolEvent>(receipt: &TransactionReceipt) -> Vec<E> {
    receipt
        .inner
        .logs()
        .iter()
        .filter_map(|log| log.log_decode::<E>().ok())
        .map(|log| log.inner.data)
        .collect()
}
