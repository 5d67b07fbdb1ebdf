//! Any text as a STIX 2.1 bundle for `infra import` and `scan --indicators`: indicators
//! come back or the bundle is refused with an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = scrutineer_share::import_bundle(&text);
    // The same text inside a bundle wrapper, so the object parsers are reached.
    let wrapped = format!("{{\"type\":\"bundle\",\"id\":\"bundle--1\",\"objects\":[{text}]}}");
    let _ = scrutineer_share::import_bundle(&wrapped);
});
