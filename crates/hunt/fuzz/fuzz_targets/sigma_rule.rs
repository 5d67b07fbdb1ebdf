//! Any text as a Sigma rule file: parsed and compiled, or an error naming the file,
//! without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        scrutineer_hunt::parse_sigma_rule(text);
    }
});
