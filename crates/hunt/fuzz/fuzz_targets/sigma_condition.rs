//! Any text as a Sigma `condition`: parsed or rejected, without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        scrutineer_hunt::parse_sigma_condition(text);
    }
});
