//! The shared vocabulary of Scrutineer.
//!
//! Every engine turns its raw input into [`Finding`]s: a titled, scored claim with the
//! evidence behind it and the framework techniques (DISARM for information operations,
//! MITRE ATT&CK for intrusions) that let an analyst share it in the terms of their field.
//! This crate is plain data plus a few helpers, among them the compact string
//! [`intern::Interner`] the readers of large inputs share; its one I/O is [`input::open`],
//! the opening of plain, gzip and zstd inputs every engine's readers share.

mod finding;
pub mod input;
pub mod intern;
pub mod lines;
pub mod splitmix;
pub mod stats;
pub mod summary;
mod technique;
pub mod text;
pub mod time;

pub use finding::{Engine, Evidence, Finding, FindingId, ParseEnumError, Severity, TimeSpan};
pub use summary::{StoredSummary, SummaryError, VersionedSummary};
pub use technique::{Framework, Technique};
