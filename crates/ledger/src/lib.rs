//! Append-only Merkle-tree ledger with signed tree heads and inclusion and consistency proofs.
