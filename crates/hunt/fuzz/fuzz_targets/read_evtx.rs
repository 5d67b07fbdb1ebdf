//! Any bytes as the chunk of an event log: records come back flattened or counted as
//! damaged, without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    scrutineer_hunt::read_evtx_chunk(data);
});
