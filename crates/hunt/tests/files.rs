//! `hunt files`: hashing, indicators, archives, skipped files and (with the `yara`
//! feature) YARA rules, on built files and the shared CHIRP and ReversingLabs data.

use std::io::Write;
use std::path::{Path, PathBuf};

use scrutineer_hunt::{
    FileIndicatorKind, FileIndicators, FileScanConfig, FilesReport, SkipReason, YaraRules, scan_files,
};

/// The FIPS 180 / RFC 1321 test vectors of "abc".
const ABC_MD5: &str = "900150983cd24fb0d6963f7d28e17f72";
const ABC_SHA1: &str = "a9993e364706816aba3e25717850c26c9cd0d89d";
const ABC_SHA256: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

fn shared(rel: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/hunt").join(rel);
    assert!(p.exists(), "shared data missing: {} (see ../shared/data/README.md)", p.display());
    p
}

fn scan(
    paths: &[PathBuf],
    indicators: &FileIndicators,
    yara: Option<&YaraRules>,
    max_size: u64,
) -> FilesReport {
    let config = FileScanConfig { indicators, yara, max_size, open_archives: true };
    scan_files(paths, &config).expect("scan")
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write");
    p
}

/// A zip of stored (uncompressed) members.
fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, data) in members {
        w.start_file(*name, opts).expect("zip entry");
        w.write_all(data).expect("zip data");
    }
    w.finish().expect("zip").into_inner()
}

#[test]
fn every_scanned_file_and_member_is_hashed() {
    let dir = tempfile::tempdir().expect("tmp");
    write(dir.path(), "abc.txt", b"abc");
    write(dir.path(), "inner.zip", &zip_of(&[("docs/abc.bin", b"abc"), ("other.bin", b"xyz")]));
    let report = scan(&[dir.path().to_owned()], &FileIndicators::new(), None, 1 << 20);
    assert_eq!(report.scanned.len(), 4, "{:?}", report.scanned);
    let abc: Vec<_> = report.scanned.iter().filter(|f| f.bytes == 3 && f.sha256 == ABC_SHA256).collect();
    assert_eq!(abc.len(), 2, "the file and the zip member hold the same bytes");
    for f in abc {
        assert_eq!((f.md5.as_str(), f.sha1.as_str()), (ABC_MD5, ABC_SHA1));
    }
    let member = report.scanned.iter().find(|f| f.path.ends_with("inner.zip!docs/abc.bin")).expect("member");
    assert!(member.in_archive);
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
}

#[test]
fn hash_indicator_hits_only_the_file_with_that_hash() {
    let dir = tempfile::tempdir().expect("tmp");
    let abc = write(dir.path(), "abc.txt", b"abc");
    write(dir.path(), "abd.txt", b"abd");
    let list = write(
        dir.path(),
        "iocs.csv",
        format!(
            "type,value,description\nsha256,{},test sample\nmd5,{}\nname,evil.dll,\n",
            ABC_SHA256.to_uppercase(),
            "0".repeat(32)
        )
        .as_bytes(),
    );
    let mut set = FileIndicators::new();
    assert_eq!(set.load_csv(&list).expect("load"), 3);
    let report = scan(&[dir.path().join("abc.txt"), dir.path().join("abd.txt")], &set, None, 1 << 20);
    assert_eq!(report.matches.len(), 1, "{:?}", report.matches);
    let m = &report.matches[0];
    assert_eq!(report.scanned[m.file].path, abc.display().to_string());
    assert_eq!(m.rule, format!("ioc:sha256:{ABC_SHA256}"));
    assert_eq!(report.findings.len(), 1);
}

#[test]
fn damaged_member_oversized_file_and_link_are_skipped_and_counted() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut z = zip_of(&[("good.txt", b"good member"), ("bad.txt", b"this member is damaged")]);
    // Corrupt the second member's stored bytes: its CRC no longer holds.
    let at = z.windows(b"damaged".len()).position(|w| w == b"damaged").expect("member data");
    z[at] ^= 0xff;
    write(dir.path(), "a.zip", &z);
    write(dir.path(), "big.bin", &vec![7u8; 5000]);
    write(dir.path(), "small.bin", b"small");
    std::os::unix::fs::symlink(dir.path().join("small.bin"), dir.path().join("link.bin")).expect("symlink");
    let report = scan(&[dir.path().to_owned()], &FileIndicators::new(), None, 4096);
    let reasons = report.skipped_by_reason();
    assert_eq!(reasons.get(&SkipReason::ArchiveMember), Some(&1), "{:?}", report.skipped);
    assert_eq!(reasons.get(&SkipReason::SizeLimit), Some(&1), "{:?}", report.skipped);
    assert_eq!(reasons.get(&SkipReason::NotRegular), Some(&1), "{:?}", report.skipped);
    let bad = report.skipped.iter().find(|s| s.reason == SkipReason::ArchiveMember).expect("bad member");
    assert!(bad.path.ends_with("a.zip!bad.txt"), "{bad:?}");
    let names: Vec<&str> = report.scanned.iter().map(|f| f.path.rsplit('/').next().unwrap_or("")).collect();
    assert_eq!(names, ["a.zip", "a.zip!good.txt", "small.bin"]);
}

#[test]
fn gzip_tar_members_are_scanned() {
    let dir = tempfile::tempdir().expect("tmp");
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut t = tar::Builder::new(gz);
    let mut h = tar::Header::new_gnu();
    h.set_size(3);
    h.set_mode(0o644);
    h.set_cksum();
    t.append_data(&mut h, "x/abc", &b"abc"[..]).expect("tar");
    let bytes = t.into_inner().expect("tar").finish().expect("gz");
    let p = write(dir.path(), "c.tar.gz", &bytes);
    let report = scan(&[p], &FileIndicators::new(), None, 1 << 20);
    let member = report.scanned.iter().find(|f| f.path.ends_with("c.tar.gz!x/abc")).expect("member");
    assert_eq!(member.sha256, ABC_SHA256);
}

/// `ioc_type` values of a CHIRP file, read from its text.
fn ioc_types(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("ioc_type:"))
        .map(|v| v.split('#').next().unwrap_or("").trim().trim_matches('"').to_owned())
        .collect()
}

#[test]
fn chirp_files_give_yara_rules_metadata_hashes_and_count_the_rest() {
    let dir = shared("chirp-iocs/indicators");
    let mut files: Vec<PathBuf> = Vec::new();
    for sub in ["AA21-008A", "AA21-062A"] {
        for e in std::fs::read_dir(dir.join(sub)).expect("dir") {
            let p = e.expect("entry").path();
            if p.extension().is_some_and(|e| e == "yaml") {
                files.push(p);
            }
        }
    }
    assert!(files.len() >= 10, "{files:?}");
    let mut set = FileIndicators::new();
    let mut want_yara = 0;
    let mut want_other = 0;
    for f in &files {
        set.load_chirp(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let types = ioc_types(&std::fs::read_to_string(f).expect("read"));
        want_yara += types.iter().filter(|t| *t == "yara").count();
        want_other += types.iter().filter(|t| *t != "yara").count();
    }
    assert_eq!(set.chirp.yara, want_yara);
    assert_eq!(set.chirp_rules.len(), want_yara);
    assert_eq!(set.chirp.other_plugins.values().sum::<usize>(), want_other);
    // TEARDROP's rule names its samples' hashes in its metadata.
    let text = std::fs::read_to_string(dir.join("AA21-008A/cisa_teardrop.yaml")).expect("read");
    let md5 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("MD5_1 = "))
        .map(|v| v.trim_matches('"').to_owned())
        .expect("MD5_1 in the TEARDROP rule");
    assert!(set.list.iter().any(|i| i.kind == FileIndicatorKind::Md5 && i.value == md5), "{md5}");
    // The rule text starts on the line the file holds it.
    let teardrop = set.chirp_rules.iter().find(|r| r.source.contains("CISA_10320115_01")).expect("rule");
    let line = text.lines().nth(teardrop.first_line - 1).expect("line");
    assert!(line.contains("rule CISA_10320115_01"), "{line}");
}

#[test]
fn a_chirp_document_without_ioc_type_is_an_error_naming_its_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = write(
        dir.path(),
        "x.yaml",
        b"---\nname: a\nioc_type: events\nindicator: {}\n---\nname: b\nconfidence: 3\n",
    );
    let err = FileIndicators::new().load_chirp(&p).expect_err("missing ioc_type");
    assert!(err.to_string().contains("x.yaml:6: ioc_type"), "{err}");
}

#[cfg(not(feature = "yara"))]
#[test]
fn without_the_feature_rules_say_how_to_get_them() {
    let err = YaraRules::compile(&[shared("yara-reversinglabs/yara")], &[]).expect_err("no engine");
    assert!(err.to_string().contains("--features yara"), "{err}");
}

#[cfg(feature = "yara")]
mod yara {
    use super::*;
    use scrutineer_hunt::MatchDetail;

    fn rules_file(dir: &Path, text: &str) -> PathBuf {
        write(dir, "test.yar", text.as_bytes())
    }

    #[test]
    fn a_rule_matches_its_string_and_another_does_not() {
        let dir = tempfile::tempdir().expect("tmp");
        let rules = rules_file(
            dir.path(),
            "rule has_marker : test { strings: $m = \"MARKER-42\" condition: $m }\nrule never_here { strings: $n = \"ABSENT-STRING\" condition: $n }\n",
        );
        let rules = YaraRules::compile(&[rules], &[]).expect("compile");
        assert_eq!(rules.stats.rules, 2);
        let data = dir.path().join("data");
        std::fs::create_dir(&data).expect("dir");
        write(&data, "with.bin", b"xx MARKER-42 yy");
        write(&data, "without.bin", b"MARKER-4 nothing");
        write(&data, "m.zip", &zip_of(&[("in/with.txt", b"..MARKER-42..")]));
        let report = scan(&[data], &FileIndicators::new(), Some(&rules), 1 << 20);
        let mut hits: Vec<(String, String)> = report
            .matches
            .iter()
            .map(|m| {
                (report.scanned[m.file].path.rsplit('/').next().unwrap_or("").to_owned(), m.rule.clone())
            })
            .collect();
        hits.sort();
        assert_eq!(
            hits,
            [
                ("m.zip!in/with.txt".to_owned(), "has_marker".to_owned()),
                ("with.bin".to_owned(), "has_marker".to_owned())
            ]
        );
        let MatchDetail::Yara(y) = &report.matches[0].detail else { panic!("not a YARA match") };
        assert_eq!(
            (y.tags.as_slice(), y.patterns.as_slice()),
            (&["test".to_owned()][..], &["$m".to_owned()][..])
        );
    }

    #[test]
    fn a_broken_rule_is_named_with_file_and_line() {
        let dir = tempfile::tempdir().expect("tmp");
        let good = rules_file(dir.path(), "rule fine { condition: true }\n");
        let bad = write(
            dir.path(),
            "broken.yara",
            b"rule ok { condition: true }\n\nrule broken {\n  strings: $a = \"x\"\n  condition: $b\n}\n",
        );
        let err = YaraRules::compile(&[good, bad.clone()], &[]).expect_err("broken");
        let scrutineer_hunt::YaraError::Compile { errors } = &err else { panic!("{err}") };
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!((errors[0].path.as_path(), errors[0].line), (bad.as_path(), Some(5)), "{err}");
        assert!(err.to_string().contains("broken.yara:5:"), "{err}");
    }

    /// The bytes of a `$name = { .. }` hex string of a rule.
    fn hex_string(rule: &str, name: &str) -> Vec<u8> {
        let line = rule.lines().find(|l| l.trim().starts_with(&format!("{name} ="))).expect("string");
        let inner = line.split('{').nth(1).and_then(|r| r.split('}').next()).expect("hex");
        inner.split_whitespace().map(|b| u8::from_str_radix(b, 16).expect("hex byte")).collect()
    }

    #[test]
    fn a_chirp_yara_indicator_hits_a_file_holding_its_bytes() {
        let chirp = shared("chirp-iocs/indicators/AA21-008A/cisa_teardrop.yaml");
        let mut set = FileIndicators::new();
        set.load_chirp(&chirp).expect("chirp");
        let rule =
            set.chirp_rules.iter().find(|r| r.source.contains("CISA_10320115_01")).expect("rule").clone();
        let rules = YaraRules::compile(&[], &set.chirp_rules).expect("compile");
        assert_eq!(rules.stats.chirp_rules, set.chirp_rules.len());
        let dir = tempfile::tempdir().expect("tmp");
        let mut bytes = b"padding ".to_vec();
        bytes.extend(hex_string(&rule.source, "$s1"));
        write(dir.path(), "sample.dll", &bytes);
        write(dir.path(), "clean.dll", b"padding only");
        let report = scan(&[dir.path().to_owned()], &set, Some(&rules), 1 << 20);
        let hits: Vec<(&str, &str)> =
            report.matches.iter().map(|m| (report.scanned[m.file].path.as_str(), m.rule.as_str())).collect();
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert!(hits[0].0.ends_with("sample.dll") && hits[0].1 == "CISA_10320115_01", "{hits:?}");
        let MatchDetail::Yara(y) = &report.matches[0].detail else { panic!("not a YARA match") };
        assert_eq!(y.namespace, "chirp:cisa_teardrop.yaml");
    }

    #[test]
    fn the_reversinglabs_rule_set_compiles_unchanged() {
        let dir = shared("yara-reversinglabs/yara");
        let files = scrutineer_hunt::rule_files(std::slice::from_ref(&dir)).expect("files");
        // Rule declarations counted in the text, not by the compiler.
        let mut declared = 0;
        for f in &files {
            let text = std::fs::read_to_string(f).expect("read");
            declared += text
                .lines()
                .filter(|l| {
                    let t = l.trim_start();
                    let t = t.strip_prefix("private ").unwrap_or(t);
                    let t = t.strip_prefix("global ").unwrap_or(t);
                    t.starts_with("rule ")
                })
                .count();
        }
        let rules = YaraRules::compile(&[dir], &[]).expect("compile");
        assert_eq!(rules.stats.files, files.len());
        assert_eq!(rules.stats.rules, declared);
    }
}
