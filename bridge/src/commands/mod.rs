//! One module per subcommand.

mod anchor;
mod deploy;
mod devnet;
mod lookup;
mod mirror;
mod proof;
mod run;
mod status;
mod verify;

use crate::{
    cli::{Command, DevnetCommand, MirrorCommand},
    exit::CmdResult,
};

/// Runs one command.
pub(crate) async fn dispatch(command: Command) -> CmdResult {
    match command {
        Command::Devnet(DevnetCommand::Up(args)) => devnet::up(args).await,
        Command::Deploy(args) => deploy::run(args).await,
        Command::Run(args) => run::run(args).await,
        Command::Anchor(args) => anchor::run(args).await,
        Command::Lookup(args) => lookup::run(args).await,
        Command::Proof(args) => proof::run(args).await,
        Command::Verify(args) => verify::run(args).await,
        Command::Status(args) => status::run(args).await,
        Command::Mirror(MirrorCommand::SetAttestors(args)) => mirror::set_attestors(args).await,
        Command::Mirror(MirrorCommand::Show(args)) => mirror::show(args).await,
    }
}
