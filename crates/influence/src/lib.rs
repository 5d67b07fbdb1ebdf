//! The influence-operations engine: posts in, coordination networks out.
//!
//! Pipeline: [`read`] (five input formats -> [`Post`]) -> `detect` (behaviours ->
//! filtered edges -> multiplex network -> communities) -> `explain` (scores, evidence,
//! attribution signals) -> [`Finding`](scrutineer_core::Finding)s and exports.

pub mod post;
pub mod read;

pub use post::{AccountMeta, Post, PostKind};
