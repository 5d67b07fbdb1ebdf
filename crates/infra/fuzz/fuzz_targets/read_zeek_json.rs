//! Any bytes given to the Zeek JSON reader: records come back parsed or as malformed,
//! in order, and the detectors run on whatever parsed, without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scrutineer_infra::Format;

fuzz_target!(|data: &[u8]| {
    scrutineer_infra::read_and_analyse(data, Format::ZeekJson);
});
