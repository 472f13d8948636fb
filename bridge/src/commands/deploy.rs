//! `bridge deploy --rpc URL`: deploy the contracts to any EVM chain.

use alloy::{primitives::Address, providers::Provider, signers::local::PrivateKeySigner};
use evidence_adapters::rpc::{ChainRpc, RpcConfig};
use evidence_schemas::ChainId;

use crate::{
    cli::DeployArgs,
    exit::{CmdResult, Failure},
    output::print_json,
};

pub(crate) async fn run(args: DeployArgs) -> CmdResult {
    let key_text = std::env::var(&args.key_env)
        .map_err(|_| Failure::usage(format!("environment variable {} must hold the deployer's hex private key", args.key_env)))?;
    let signer: PrivateKeySigner = key_text
        .trim()
        .parse()
        .map_err(|_| Failure::usage(format!("{} does not hold a 32-byte hex private key", args.key_env)))?;
    let owner = match &args.owner {
        Some(o) => o.parse::<Address>().map_err(|_| Failure::usage(format!("--owner {o:?} is not an address")))?,
        None => signer.address(),
    };
    if !(args.rpc.starts_with("http://") || args.rpc.starts_with("https://")) {
        return Err(Failure::usage(format!("--rpc {:?} must be an http(s) URL", args.rpc)));
    }
    // Ask the node which chain it is, then connect with that id checked.
    let probe = alloy::providers::ProviderBuilder::new()
        .connect(&args.rpc)
        .await
        .map_err(|e| Failure::failed(format!("cannot reach {}: {e}", args.rpc)))?;
    let chain_id = probe.get_chain_id().await.map_err(|e| Failure::failed(format!("eth_chainId on {}: {e}", args.rpc)))?;
    let chain = ChainId::eip155(chain_id);
    let rpc = ChainRpc::connect(&RpcConfig::new(chain.clone(), vec![args.rpc.clone()]))
        .await
        .map_err(|e| Failure::failed(format!("cannot connect to {}: {e}", args.rpc)))?;
    let deployed = evidence_adapters::deploy::deploy_contracts(&rpc, signer, owner)
        .await
        .map_err(|e| Failure::failed(format!("deployment failed: {e}")))?;
    if args.json {
        print_json(&serde_json::json!({ "chain_id": chain, "owner": owner, "deployed": deployed }))?;
    } else {
        println!("deployed on {chain}:");
        println!("  EvidenceRegistry {} (block {})", deployed.registry, deployed.registry_block);
        println!("  AnchorMirror     {} (block {}), owner {owner}", deployed.mirror, deployed.mirror_block);
        println!("next: set the mirror's attestor set for each source chain, and add the chain to bridge.toml");
    }
    Ok(())
}
