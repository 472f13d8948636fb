//! alloy `sol!` bindings of the two stand-ins for third-party evidence contracts
//! (`deploy/contracts/test/`), read by the `mapped` adapter. The devnet and the tests
//! deploy them; `bridge deploy` never does.
#![allow(missing_docs, unreachable_pub)]

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    HashStore,
    "../deploy/artifacts/HashStore.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    NotaryBook,
    "../deploy/artifacts/NotaryBook.json"
);
