//! `bridge deploy --rpc URL --owner ADDR`: deploy the contracts to any EVM chain.
//!
//! The mirror's owner installs the first attestor set of each source and can change a
//! set later only through the timelock fixed here (`--owner-rotation-delay`, default
//! 7 days, and no shorter outside dev chains). It must not be the deployer (the relayer's hot key, which pays gas every
//! few seconds): outside a dev chain that is refused; on a dev chain it is allowed with
//! a loud warning. A multisig contract is the recommended owner.

use alloy::{primitives::Address, providers::Provider, signers::local::PrivateKeySigner};
use evidence_adapters::rpc::{ChainRpc, RpcConfig};
use evidence_schemas::ChainId;

use crate::{
    cli::DeployArgs,
    exit::{CmdResult, Failure},
    output::print_json,
};

pub(crate) async fn run(args: DeployArgs) -> CmdResult {
    let key_text = std::env::var(&args.key_env).map_err(|_| {
        Failure::usage(format!(
            "environment variable {} must hold the deployer's hex private key",
            args.key_env
        ))
    })?;
    let signer: PrivateKeySigner = key_text.trim().parse().map_err(|_| {
        Failure::usage(format!(
            "{} does not hold a 32-byte hex private key",
            args.key_env
        ))
    })?;
    let owner =
        match &args.owner {
            Some(o) => Some(o.parse::<Address>().map_err(|_| {
                Failure::usage(format!("--owner {o:?} is not a 20-byte hex address"))
            })?),
            None => None,
        };
    if owner == Some(Address::ZERO) {
        return Err(Failure::usage("--owner cannot be the zero address"));
    }
    if !(args.rpc.starts_with("http://") || args.rpc.starts_with("https://")) {
        return Err(Failure::usage(format!(
            "--rpc {:?} must be an http(s) URL",
            args.rpc
        )));
    }
    // Ask the node which chain it is, then connect with that id checked.
    let probe = alloy::providers::ProviderBuilder::new()
        .connect(&args.rpc)
        .await
        .map_err(|e| Failure::failed(format!("cannot reach {}: {e}", args.rpc)))?;
    let chain_id = probe
        .get_chain_id()
        .await
        .map_err(|e| Failure::failed(format!("eth_chainId on {}: {e}", args.rpc)))?;
    let chain = ChainId::eip155(chain_id);
    let owner = choose_owner(owner, signer.address(), chain_id, args.owner_rotation_delay)?;
    let rpc = ChainRpc::connect(&RpcConfig::new(chain.clone(), vec![args.rpc.clone()]))
        .await
        .map_err(|e| Failure::failed(format!("cannot connect to {}: {e}", args.rpc)))?;
    let deployed =
        evidence_adapters::deploy::deploy_contracts(&rpc, signer, owner, args.owner_rotation_delay)
            .await
            .map_err(|e| Failure::failed(format!("deployment failed: {e}")))?;
    if args.json {
        print_json(&serde_json::json!({
            "chain_id": chain,
            "owner": owner,
            "owner_rotation_delay_secs": args.owner_rotation_delay,
            "deployed": deployed,
        }))?;
    } else {
        println!("deployed on {chain}:");
        println!(
            "  EvidenceRegistry {} (block {})",
            deployed.registry, deployed.registry_block
        );
        println!(
            "  AnchorMirror     {} (block {}), owner {owner}, owner-rotation timelock {} s",
            deployed.mirror, deployed.mirror_block, args.owner_rotation_delay
        );
        println!(
            "next: the owner installs each source chain's FIRST attestor set (`bridge mirror set-attestors`); later sets are signed by the current set (`bridge mirror rotate`)"
        );
    }
    Ok(())
}

/// Minimum owner-rotation timelock outside dev chains (seconds): partners must have time
/// to notice a proposal and cancel it.
pub(crate) const MIN_PRODUCTION_DELAY: u64 = 7 * 24 * 3600;

/// Whether `chain_id` is a local development chain (anvil, hardhat, ganache and the
/// devnet's ids), where a deployer-owned mirror is tolerated.
pub(crate) fn is_dev_chain(chain_id: u64) -> bool {
    chain_id == 1337 || (31_337..=31_344).contains(&chain_id)
}

/// The mirror's owner: never the deployer (relayer) key outside a dev chain.
fn choose_owner(
    owner: Option<Address>,
    deployer: Address,
    chain_id: u64,
    delay: u64,
) -> Result<Address, Failure> {
    let dev = is_dev_chain(chain_id);
    let owner = match owner {
        Some(o) => o,
        None if dev => deployer,
        None => {
            return Err(Failure::usage(format!(
                "--owner is required on chain {chain_id}: the mirror's owner installs first attestor sets and can propose later ones; use a multisig contract, never the deployer/relayer key"
            )));
        }
    };
    if owner == deployer {
        if !dev {
            return Err(Failure::usage(format!(
                "--owner {owner} is the deployer's own key: on chain {chain_id} the owner must be another account (a multisig contract is recommended), so the relayer's hot key cannot propose attestor sets"
            )));
        }
        eprintln!(
            "WARNING: the mirror's owner {owner} is the deployer key; acceptable on a dev chain only. On a real chain pass --owner (a multisig)."
        );
    }
    if !dev && delay < MIN_PRODUCTION_DELAY {
        return Err(Failure::usage(format!(
            "--owner-rotation-delay {delay} s is under 7 days ({MIN_PRODUCTION_DELAY} s): on chain {chain_id} partners must have time to notice an owner proposal and cancel it"
        )));
    }
    Ok(owner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_is_never_the_deployer_outside_a_dev_chain() {
        let deployer = Address::repeat_byte(1);
        let other = Address::repeat_byte(2);
        assert!(
            choose_owner(None, deployer, 1, MIN_PRODUCTION_DELAY)
                .unwrap_err()
                .message
                .contains("--owner is required")
        );
        assert!(
            choose_owner(Some(deployer), deployer, 1, MIN_PRODUCTION_DELAY)
                .unwrap_err()
                .message
                .contains("deployer's own key")
        );
        assert_eq!(
            choose_owner(Some(other), deployer, 1, MIN_PRODUCTION_DELAY).unwrap(),
            other
        );
        assert_eq!(
            choose_owner(None, deployer, 31_337, 10).unwrap(),
            deployer,
            "dev chain: allowed, with a warning"
        );
        assert!(
            choose_owner(Some(other), deployer, 1, 0)
                .unwrap_err()
                .message
                .contains("under 7 days")
        );
        assert!(choose_owner(Some(other), deployer, 1, MIN_PRODUCTION_DELAY - 1).is_err());
    }
}
