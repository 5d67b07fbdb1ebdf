//! Entry points for the fuzz targets in `crates/hunt/fuzz`.

use std::path::Path;

use crate::evtx::read_evtx_bytes;
use crate::sigma::parse_rule_text;

/// Reads `chunk` as the one chunk of an EVTX file with a well-formed file header (the
/// chunk's magic is supplied, so the fuzzer spends its bytes on the chunk's header,
/// string and template tables and records) and flattens every record it yields.
pub fn read_evtx_chunk(chunk: &[u8]) {
    let mut file = vec![0u8; 4096];
    file[..8].copy_from_slice(b"ElfFile\0");
    file[32..36].copy_from_slice(&128u32.to_le_bytes());
    file[36..38].copy_from_slice(&1u16.to_le_bytes());
    file[38..40].copy_from_slice(&3u16.to_le_bytes());
    file[40..42].copy_from_slice(&4096u16.to_le_bytes());
    file[42..44].copy_from_slice(&1u16.to_le_bytes());
    file.extend_from_slice(b"ElfChnk\0");
    file.extend_from_slice(&chunk[..chunk.len().min(65536 - 8)]);
    file.resize(4096 + 65536, 0);
    let mut records = 0u64;
    let stats = read_evtx_bytes(Path::new("fuzz.evtx"), file, |r| {
        records += 1;
        let _ = r.text("CommandLine");
    });
    if let Ok(s) = stats {
        assert_eq!(s.records, records, "every record counted is handed on");
    }
}

/// Parses `text` as a Sigma rule file; a rule that parses is also compiled.
pub fn parse_sigma_rule(text: &str) {
    if let Ok(collection) = parse_rule_text(Path::new("fuzz.yml"), text) {
        let mut engine = rsigma_eval::Engine::new();
        for rule in &collection.rules {
            let _ = engine.add_rule(rule);
        }
    }
}

/// Parses `text` as a Sigma `condition` expression.
pub fn parse_sigma_condition(text: &str) {
    let _ = rsigma_parser::parse_condition(text);
}
