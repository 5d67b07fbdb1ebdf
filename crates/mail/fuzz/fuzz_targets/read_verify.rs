//! Any bytes as a dump file: messages come back parsed or unreadable, in order, and every
//! parsed one's signatures are checked against a small key archive, without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    scrutineer_mail::read_and_verify(data);
});
