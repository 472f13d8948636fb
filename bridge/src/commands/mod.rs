//! One module per subcommand.

pub(crate) mod anchor;
mod certificate;
mod config_check;
mod deploy;
pub(crate) mod devnet;
mod devnet_eas;
mod devnet_tsa;
mod lookup;
mod mirror;
pub(crate) mod proof;
mod revoke;
pub(crate) mod rotation;
mod run;
mod serve;
mod status;
mod trust;
pub(crate) mod verify;
pub(crate) mod verify_report;
pub(crate) mod verify_tsa;

use crate::{
    cli::{Command, ConfigCommand, DevnetCommand, MirrorCommand, TrustCommand},
    exit::CmdResult,
};

/// Runs one command.
pub(crate) async fn dispatch(command: Command) -> CmdResult {
    match command {
        Command::Devnet(DevnetCommand::Up(args)) => devnet::up(args).await,
        Command::Config(ConfigCommand::Check(args)) => config_check::run(&args),
        Command::Devnet(DevnetCommand::AttestEas(args)) => devnet_eas::attest(args).await,
        Command::Devnet(DevnetCommand::RevokeEas(args)) => devnet_eas::revoke(args).await,
        Command::Deploy(args) => deploy::run(args).await,
        Command::Run(args) => run::run(args).await,
        Command::Serve(args) => serve::run(args).await,
        Command::Anchor(args) => anchor::run(args).await,
        Command::Lookup(args) => lookup::run(args).await,
        Command::Proof(args) => proof::run(args).await,
        Command::Certificate(args) => certificate::run(args).await,
        Command::Verify(args) => verify::run(args).await,
        Command::Revoke(args) => revoke::run(args).await,
        Command::Status(args) => status::run(args).await,
        Command::Mirror(MirrorCommand::SetAttestors(args)) => mirror::set_attestors(args).await,
        Command::Mirror(MirrorCommand::Show(args)) => mirror::show(args).await,
        Command::Mirror(MirrorCommand::SignRotation(args)) => rotation::sign(args).await,
        Command::Mirror(MirrorCommand::Rotate(args)) => rotation::rotate(args).await,
        Command::Mirror(MirrorCommand::CancelRotation(args)) => rotation::cancel(args).await,
        Command::Mirror(MirrorCommand::ProposeRotation(args)) => rotation::propose(args).await,
        Command::Mirror(MirrorCommand::ExecuteRotation(args)) => rotation::execute(args).await,
        Command::Trust(TrustCommand::Export(args)) => trust::export(args).await,
    }
}
