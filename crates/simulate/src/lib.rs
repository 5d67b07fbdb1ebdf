//! Seeded election-season scenario generator with ground truth.
