//! The harness the fuzz targets (crates/infra/fuzz) and the property tests share: any
//! bytes through a reader and the per-event detectors must give records in order,
//! parsed or reported as malformed, and never panic.

use std::path::Path;

use crate::analyse::Analyser;
use crate::read::{Format, ReadOptions, read_stream};

/// Reads `data` as `format` and analyses every event. Panics only if an invariant is
/// broken (records out of order), which is what a fuzzer should report.
pub fn read_and_analyse(data: &[u8], format: Format) -> (u64, u64) {
    let mut opts = ReadOptions::new(format, "fuzz");
    opts.year = 2024;
    opts.chunk = 4096;
    // The smallest line limit, so that inputs of a few KiB reach the long-line path.
    opts.max_line = 1024;
    let analyser = Analyser::default();
    let mut last = 0u64;
    let mut ok = 0u64;
    let mut bad = 0u64;
    let result = read_stream(
        data,
        Path::new("<fuzz>"),
        &opts,
        &|_| {},
        |e| analyser.analyse(e),
        |batch| {
            for p in batch {
                assert!(p.line > last, "record lines must increase: {} after {last}", p.line);
                last = p.line;
                match p.result {
                    Ok(a) => {
                        let _ = a.verdict();
                        let _ = a.payload_fingerprint();
                        ok += 1;
                    }
                    Err(_) => bad += 1,
                }
            }
            Ok(())
        },
    );
    // Format detection may fail on garbage; that is an error, not a panic.
    let _ = result;
    (ok, bad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const FORMATS: [Format; 9] = [
        Format::Auto,
        Format::Combined,
        Format::NginxJson,
        Format::Iis,
        Format::Eve,
        Format::Auth,
        Format::Http,
        Format::Zeek,
        Format::ZeekJson,
    ];

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048), f in 0usize..9) {
            read_and_analyse(&data, FORMATS[f]);
        }

        #[test]
        fn mutated_real_lines_never_panic(cut in 0usize..400, flip in any::<u8>(), at in 0usize..400, f in 0usize..9) {
            let base = concat!(
                "1.2.3.4 - - [17/May/2015:10:05:03 +0000] \"GET /a?x=%27%20or%201=1-- HTTP/1.1\" 200 5 \"-\" \"sqlmap\"\n",
                "{\"event_type\":\"alert\",\"src_ip\":\"1.2.3.4\",\"alert\":{\"signature\":\"x\"},\"http\":{\"url\":\"/q?a=<script>\"}}\n",
                "#Fields: date time c-ip cs-method cs-uri-stem cs-uri-query sc-status\n2024-01-01 00:00:00 1.2.3.4 GET /a b=%u0027 200\n",
                "Dec 10 06:55:48 LabSZ sshd[24200]: Failed password for invalid user x from 1.2.3.4 port 1 ssh2\n",
                "POST http://h/a HTTP/1.1\r\nHost: h\r\n\r\na=%253Cscript%253E&b=..%2f..%2fetc%2fpasswd\r\n\r\n",
                "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n",
                "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tduration\torig_bytes\tconn_state\n",
                "1596790164.5\tC1\t10.8.0.61\t35740\t8.8.8.8\t53\tudp\t0.01\t48\tS0\n",
                "{\"ts\":1596790164.5,\"uid\":\"C2\",\"id.orig_h\":\"10.0.0.1\",\"query\":\"a\\u0000b.example\",\"rcode_name\":\"NXDOMAIN\"}\n",
            );
            let mut data = base.as_bytes().to_vec();
            if at < data.len() { data[at] ^= flip; }
            data.truncate(cut.min(data.len()).max(1));
            read_and_analyse(&data, FORMATS[f]);
        }
    }

    #[test]
    fn garbage_lines_are_counted_as_malformed() {
        let (ok, bad) = read_and_analyse(b"\x00\x01\x02\xff\n\xfe\xfd garbage\n", Format::Combined);
        assert_eq!((ok, bad), (0, 2));
        let (ok, bad) = read_and_analyse(b"{\"event_type\":\"dns\"}\n{\"event_type\":\n", Format::Eve);
        assert_eq!((ok, bad), (1, 1));
        let (ok, bad) = read_and_analyse(b"1.0\tC\t10.0.0.1\n#fields\tts\tuid\n1.0\tC\n2.0\n", Format::Zeek);
        assert_eq!((ok, bad), (1, 2));
        let (ok, bad) =
            read_and_analyse(b"{\"ts\":1.0,\"uid\":\"C\"}\n{\"uid\":\"C\"}\n[]\n", Format::ZeekJson);
        assert_eq!((ok, bad), (1, 2));
    }
}
