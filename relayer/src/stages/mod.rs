//! The pipeline stages, each a function that does one bounded step of work against
//! the store and the chains, so the [`Engine`](crate::Engine) can loop them and tests
//! can drive them one step at a time:
//!
//! index ([`index`]) → log ([`crate::log`]) → checkpoint ([`checkpoint`]) →
//! attest ([`attest`]) → submit ([`submit`]) → timestamp ([`timestamp`], off the
//! relaying path: its failures never hold a submission back).

pub mod attest;
pub mod checkpoint;
pub mod index;
pub mod submit;
pub mod timestamp;
