//! One module per subcommand.

mod anchor;
mod deploy;
mod devnet;
mod devnet_eas;
mod lookup;
mod proof;
mod run;
mod status;
mod verify;

use crate::{
    cli::{Command, DevnetCommand},
    exit::CmdResult,
};

/// Runs one command.
pub(crate) async fn dispatch(command: Command) -> CmdResult {
    match command {
        Command::Devnet(DevnetCommand::Up(args)) => devnet::up(args).await,
        Command::Devnet(DevnetCommand::AttestEas(args)) => devnet_eas::attest(args).await,
        Command::Devnet(DevnetCommand::RevokeEas(args)) => devnet_eas::revoke(args).await,
        Command::Deploy(args) => deploy::run(args).await,
        Command::Run(args) => run::run(args).await,
        Command::Anchor(args) => anchor::run(args).await,
        Command::Lookup(args) => lookup::run(args).await,
        Command::Proof(args) => proof::run(args).await,
        Command::Verify(args) => verify::run(args).await,
        Command::Status(args) => status::run(args).await,
    }
}
