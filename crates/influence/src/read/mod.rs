//! Readers: see the module docs of each format.
