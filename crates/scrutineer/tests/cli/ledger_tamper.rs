//! End-to-end: `ledger verify` names the first altered, missing, reordered or unsigned
//! entry, and `ledger append` refuses to sign what it did not write. One test per failure
//! of issue 16's ledger list (1-5), plus the witnesses. The tests read the documented file
//! layout themselves (magic, then per entry index u64 | len u32 | crc32 u32 | data) to
//! tamper with it, and check proofs with their own RFC 9162 verifier.

use std::path::PathBuf;

use assert_cmd::Command;
use sha2::{Digest, Sha256};

/// A ledger in `dir/ledger/`, its signing key under `dir/config/` (the default place,
/// through XDG_CONFIG_HOME).
struct Setup {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().to_path_buf();
        std::fs::create_dir(dir.join("ledger")).expect("mkdir");
        Setup { _tmp: tmp, dir }
    }

    fn ledger(&self) -> PathBuf {
        self.dir.join("ledger").join("s.ledger")
    }

    fn sibling(&self, ext: &str) -> PathBuf {
        self.dir.join("ledger").join(format!("s.ledger.{ext}"))
    }

    fn bin(&self) -> Command {
        let mut c = crate::util::scrutineer();
        c.env("XDG_CONFIG_HOME", self.dir.join("config"))
            .env_remove("SCRUTINEER_LEDGER_KEY")
            .arg("--store")
            .arg(self.dir.join("ledger").join("s.db"))
            .arg("--quiet")
            .arg("--json");
        c
    }

    /// Appends `lines` as entries (one signed head per `batch`); returns the acknowledged indices.
    fn append(&self, lines: std::ops::Range<usize>, batch: usize) -> Vec<u64> {
        let input = self.dir.join(format!("lines-{}.txt", lines.start));
        let text: String = lines.map(|i| format!("{}\n", line(i))).collect();
        std::fs::write(&input, text).expect("write");
        let out = self
            .bin()
            .args(["ledger", "append", "--batch", &batch.to_string()])
            .arg(&input)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        acks(&out)
    }

    fn verify(&self, extra: &[&str]) -> (bool, serde_json::Value) {
        let pinned = self.dir.join("pinned.pub");
        if !pinned.exists() {
            std::fs::copy(self.sibling("pub"), &pinned).expect("pin the public key");
        }
        let out = self
            .bin()
            .args(["ledger", "verify", "--public-key"])
            .arg(&pinned)
            .args(extra)
            .output()
            .expect("verify");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(v["ok"].as_bool(), Some(out.status.success()), "exit status agrees with the report");
        (out.status.success(), v)
    }

    /// The index verify names as the first bad entry (verify must fail).
    fn first_bad(&self) -> u64 {
        let (ok, v) = self.verify(&[]);
        assert!(!ok, "verify must fail: {v}");
        v["first_bad_index"].as_u64().unwrap_or_else(|| panic!("an index: {v}"))
    }
}

fn line(i: usize) -> String {
    format!("record number {i} with some data")
}

fn acks(stdout: &[u8]) -> Vec<u64> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("ack "))
        .map(|n| n.parse().expect("index"))
        .collect()
}

/// Byte ranges (start, end) of each entry in the file.
fn frames(bytes: &[u8]) -> Vec<(usize, usize)> {
    assert_eq!(&bytes[..8], b"SCRLEDG1");
    let mut out = Vec::new();
    let mut off = 8;
    while off + 16 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[off + 8..off + 12].try_into().expect("4 bytes")) as usize;
        out.push((off, off + 16 + len));
        off += 16 + len;
    }
    out
}

/// CRC-32 (IEEE), bitwise, independent of the code under test.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// One well-formed frame, as a careful forger would write it.
fn frame(index: u64, data: &[u8]) -> Vec<u8> {
    let mut f = index.to_le_bytes().to_vec();
    f.extend_from_slice(&(data.len() as u32).to_le_bytes());
    let crc = crc32(&[&f[..], data].concat());
    f.extend_from_slice(&crc.to_le_bytes());
    f.extend_from_slice(data);
    f
}

fn data_of(bytes: &[u8], (start, end): (usize, usize)) -> &[u8] {
    &bytes[start + 16..end]
}

#[test]
fn byte_flip_is_named() {
    let s = Setup::new();
    s.append(0..50, 7);
    let mut bytes = std::fs::read(s.ledger()).expect("read");
    let (start, end) = frames(&bytes)[23];
    bytes[start + 16 + (end - start - 16) / 2] ^= 0x01;
    std::fs::write(s.ledger(), &bytes).expect("write");
    assert_eq!(s.first_bad(), 23);
}

#[test]
fn dropped_entry_is_named() {
    let s = Setup::new();
    s.append(0..50, 7);
    let bytes = std::fs::read(s.ledger()).expect("read");
    let (start, end) = frames(&bytes)[31];
    let mut cut = bytes[..start].to_vec();
    cut.extend_from_slice(&bytes[end..]);
    std::fs::write(s.ledger(), &cut).expect("write");
    assert_eq!(s.first_bad(), 31);
}

#[test]
fn swapped_entries_are_named() {
    let s = Setup::new();
    s.append(0..50, 7);
    let bytes = std::fs::read(s.ledger()).expect("read");
    let e = frames(&bytes);
    let (a, b) = (12, 40);
    let mut out = bytes[..e[a].0].to_vec();
    out.extend_from_slice(&bytes[e[b].0..e[b].1]);
    out.extend_from_slice(&bytes[e[a].1..e[b].0]);
    out.extend_from_slice(&bytes[e[a].0..e[a].1]);
    out.extend_from_slice(&bytes[e[b].1..]);
    std::fs::write(s.ledger(), &out).expect("write");
    assert_eq!(s.first_bad(), 12);
}

/// Failure 1: entry 37 rewritten with a fresh CRC, then `.sth` deleted (or emptied), passed verify.
#[test]
fn failure_1_rewrite_with_fresh_crc_and_no_signed_head_fails_verify() {
    let s = Setup::new();
    // Two runs: the first signs a head at size 37, so the rewrite of entry 37 is pinned down.
    s.append(0..37, 100);
    s.append(37..60, 100);
    let mut bytes = std::fs::read(s.ledger()).expect("read");
    let f = frames(&bytes)[37];
    let forged = frame(37, b"record number 37 with other data");
    bytes.splice(f.0..f.1, forged);
    std::fs::write(s.ledger(), &bytes).expect("write");
    // With the signed heads in place, verify names entry 37 (the first entry after the last
    // head that still matches).
    let (ok, v) = s.verify(&[]);
    assert!(!ok);
    assert_eq!(v["first_bad_index"], 37, "{v}");
    assert_eq!(v["suspects"], serde_json::json!([37, 60]), "{v}");
    // Without them, verify fails too: nothing signed covers any entry.
    std::fs::write(s.sibling("sth"), "").expect("empty .sth");
    let (ok, v) = s.verify(&[]);
    assert!(!ok, "an empty .sth fails: {v}");
    assert_eq!(v["first_bad_index"], 0);
    std::fs::remove_file(s.sibling("sth")).expect("rm .sth");
    let (ok, v) = s.verify(&[]);
    assert!(!ok, "a missing .sth fails: {v}");
    assert_eq!(v["first_bad_index"], 0);
    // Nor does an append sign over it.
    let more = s.dir.join("more.txt");
    std::fs::write(&more, "one more\n").expect("write");
    s.bin().args(["ledger", "append"]).arg(&more).assert().failure();
    assert!(!s.sibling("sth").exists(), "no head was signed");
}

/// Failure 2: frames with valid CRCs appended to the file were signed by the next append.
#[test]
fn failure_2_forged_frames_are_named_and_never_signed() {
    let s = Setup::new();
    s.append(0..30, 10);
    let before_sth = std::fs::read(s.sibling("sth")).expect("sth");
    let mut bytes = std::fs::read(s.ledger()).expect("read");
    bytes.extend(frame(30, b"forged entry thirty"));
    bytes.extend(frame(31, b"forged entry thirty-one"));
    std::fs::write(s.ledger(), &bytes).expect("write");
    assert_eq!(s.first_bad(), 30, "the first forged frame is named");
    // An ordinary append refuses, and changes nothing.
    let more = s.dir.join("more.txt");
    std::fs::write(&more, "an honest entry\n").expect("write");
    let out = s.bin().args(["ledger", "append"]).arg(&more).output().expect("append");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("entries 30..32 are not covered by a signed tree head"), "{err}");
    assert_eq!(std::fs::read(s.ledger()).expect("read"), bytes, "the ledger is untouched");
    assert_eq!(std::fs::read(s.sibling("sth")).expect("sth"), before_sth, "no head was signed");
    assert_eq!(s.first_bad(), 30);
}

/// Failure 3: the signing key sat beside the ledger, so whoever could write the ledger
/// could re-sign it.
#[test]
fn failure_3_the_signing_key_is_kept_outside_the_ledger_folder() {
    let s = Setup::new();
    s.append(0..5, 10);
    let ledger_dir: Vec<String> = std::fs::read_dir(s.dir.join("ledger"))
        .expect("ls")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!ledger_dir.iter().any(|n| n.ends_with(".key")), "no key in the ledger's folder: {ledger_dir:?}");
    let keys: Vec<PathBuf> = std::fs::read_dir(s.dir.join("config/scrutineer/ledger-keys"))
        .expect("the key folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "key"))
        .collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&keys[0]).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let ledger_mode = std::fs::metadata(s.ledger()).expect("meta").permissions().mode();
        assert_eq!(ledger_mode & 0o077, 0, "the ledger is private too");
    }
    // A key inside the ledger's folder is refused, and not created.
    let beside = s.dir.join("ledger").join("k.key");
    let more = s.dir.join("more.txt");
    std::fs::write(&more, "x\n").expect("write");
    let out = s.bin().args(["ledger", "append", "--key"]).arg(&beside).arg(&more).output().expect("append");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("inside the ledger's folder"));
    assert!(!beside.exists());
}

/// Failure 4: two writers at once both exited 0 and the second overwrote the first's entries.
#[test]
fn failure_4_two_writers_at_once_lose_no_acknowledged_entry() {
    let s = Setup::new();
    s.append(0..1, 10);
    let writers: Vec<(std::process::Child, Vec<String>)> = [(1usize, 'a'), (2, 'b')]
        .into_iter()
        .map(|(n, tag)| {
            let lines: Vec<String> = (0..700).map(|i| format!("writer {tag} entry {i}")).collect();
            let input = s.dir.join(format!("w{n}.txt"));
            std::fs::write(&input, lines.join("\n") + "\n").expect("write");
            let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("scrutineer"))
                .env("XDG_CONFIG_HOME", s.dir.join("config"))
                .arg("--store")
                .arg(s.dir.join("ledger").join("s.db"))
                .args(["--quiet", "ledger", "append", "--batch", "50"])
                .arg(&input)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn");
            (child, lines)
        })
        .collect();
    let mut acknowledged: Vec<(u64, String)> = Vec::new();
    for (child, lines) in writers {
        let out = child.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "the second writer waits for the first: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let a = acks(&out.stdout);
        assert_eq!(a.len(), 700);
        acknowledged.extend(a.into_iter().zip(lines));
    }
    let out = s.bin().args(["ledger", "entries"]).assert().success().get_output().stdout.clone();
    let text = String::from_utf8(out).expect("utf8");
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 1401);
    for (i, want) in &acknowledged {
        let data = rows[*i as usize].splitn(3, '\t').nth(2).expect("data");
        assert_eq!(data, want, "acknowledged entry {i} is intact");
    }
    let (ok, v) = s.verify(&[]);
    assert!(ok, "{v}");
}

/// Failure 4, the other half: a writer that is told not to wait fails with a clear message.
#[test]
fn failure_4_a_writer_that_does_not_wait_is_told_why() {
    let s = Setup::new();
    s.append(0..1, 10);
    // A writer that holds the ledger while it reads a slow stdin.
    let mut first = std::process::Command::new(assert_cmd::cargo::cargo_bin("scrutineer"))
        .env("XDG_CONFIG_HOME", s.dir.join("config"))
        .arg("--store")
        .arg(s.dir.join("ledger").join("s.db"))
        .args(["--quiet", "ledger", "append", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // Wait until it holds the lock: its record says it is writing.
    let state = std::fs::read_dir(s.dir.join("config/scrutineer/ledger-keys"))
        .expect("keys")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|x| x == "state"))
        .expect("state");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !std::fs::read_to_string(&state).expect("state").contains("\"writing_from\": 1") {
        assert!(std::time::Instant::now() < deadline, "the first writer never started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let more = s.dir.join("more.txt");
    std::fs::write(&more, "x\n").expect("write");
    let out = s.bin().args(["ledger", "append", "--no-wait"]).arg(&more).output().expect("append");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("another process is writing the ledger"));
    {
        use std::io::Write;
        let mut stdin = first.stdin.take().expect("stdin");
        writeln!(stdin, "from the first writer").expect("write");
    }
    let out = first.wait_with_output().expect("wait");
    assert!(out.status.success());
    assert_eq!(acks(&out.stdout), vec![1]);
}

/// Failure 5: after a byte flip in signed entry 99 and a removed `.ckpt`, an append moved
/// entry 99 aside as "torn" and signed a second root for size 100.
#[test]
fn failure_5_a_damaged_signed_entry_is_never_set_aside_or_re_signed() {
    let s = Setup::new();
    s.append(0..100, 1000);
    let heads_before = std::fs::read_to_string(s.sibling("sth")).expect("sth");
    let mut bytes = std::fs::read(s.ledger()).expect("read");
    let last = frames(&bytes)[99];
    bytes[last.0 + 20] ^= 0x40;
    std::fs::write(s.ledger(), &bytes).expect("write");
    std::fs::remove_file(s.sibling("ckpt")).expect("rm .ckpt");
    let more = s.dir.join("more.txt");
    std::fs::write(&more, "after the damage\n").expect("write");
    let out = s.bin().args(["ledger", "append"]).arg(&more).output().expect("append");
    assert!(!out.status.success(), "append refuses");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("entry 99 is damaged"), "{err}");
    assert_eq!(std::fs::read(s.ledger()).expect("read"), bytes, "entry 99 is where it was");
    assert_eq!(
        std::fs::read_to_string(s.sibling("sth")).expect("sth"),
        heads_before,
        "no second root for size 100"
    );
    assert!(
        !std::fs::read_dir(s.dir.join("ledger")).expect("ls").any(|e| e
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .contains("torn")),
        "nothing was set aside"
    );
    assert_eq!(s.first_bad(), 99);
}

/// Failure 5, second half: after entry 50 was dropped and the later ones renumbered with
/// fresh CRCs, verify named entry 99.
#[test]
fn failure_5_dropped_and_renumbered_entry_is_named() {
    let s = Setup::new();
    s.append(0..100, 10);
    let bytes = std::fs::read(s.ledger()).expect("read");
    let f = frames(&bytes);
    let mut out = bytes[..f[50].0].to_vec();
    for (i, fr) in f.iter().enumerate().skip(51) {
        out.extend(frame(i as u64 - 1, data_of(&bytes, *fr)));
    }
    std::fs::write(s.ledger(), &out).expect("write");
    let (ok, v) = s.verify(&[]);
    assert!(!ok);
    // The heads every 10 entries vouch for 0..50; the one at 60 no longer matches.
    assert_eq!(v["first_bad_index"], 50, "{v}");
    assert_eq!(v["suspects"], serde_json::json!([50, 60]), "{v}");
}

#[test]
fn a_tail_left_by_a_crash_is_accepted_only_when_asked_and_then_reported() {
    let s = Setup::new();
    s.append(0..20, 10);
    let mut bytes = std::fs::read(s.ledger()).expect("read");
    let partial = frame(20, b"an append cut short by a crash");
    bytes.extend_from_slice(&partial[..partial.len() - 7]);
    std::fs::write(s.ledger(), &bytes).expect("write");
    assert_eq!(s.first_bad(), 20);
    let (ok, v) = s.verify(&["--allow-unsigned-tail"]);
    assert!(ok, "{v}");
    assert_eq!(v["torn_tail_bytes"], partial.len() as u64 - 7);
    // The next append sets the torn frame aside and carries on.
    let acked = s.append(100..103, 10);
    assert_eq!(acked, vec![20, 21, 22]);
    let (ok, v) = s.verify(&[]);
    assert!(ok, "{v}");
}

/// A full re-sign with a stolen key passes on its own heads, but not against a head a
/// partner saw earlier.
#[test]
fn a_ledger_re_signed_with_a_stolen_key_fails_against_an_earlier_witness() {
    let s = Setup::new();
    s.append(0..40, 10);
    let witness = s.dir.join("sth-40.json");
    let head = s.bin().args(["ledger", "head"]).assert().success().get_output().stdout.clone();
    std::fs::write(&witness, &head).expect("write");
    s.append(40..60, 10);
    let (ok, v) = s.verify(&["--witness", witness.to_str().expect("utf8")]);
    assert!(ok, "{v}");
    assert_eq!(v["witnesses"][0]["consistent"], true);
    assert_eq!(v["witnesses"][0]["tree_size"], 40);
    // The consistency proof verify used is checked here, independently: it must take the
    // witnessed root at 40 to today's signed root at 60, and no other old root.
    let old: serde_json::Value = serde_json::from_slice(&head).expect("json");
    let now: serde_json::Value =
        serde_json::from_slice(&s.bin().args(["ledger", "head"]).assert().success().get_output().stdout)
            .expect("json");
    assert_eq!(now["tree_size"], 60);
    let proof: Vec<[u8; 32]> =
        v["witnesses"][0]["proof"].as_array().expect("proof").iter().map(hex32).collect();
    let (old_root, new_root) = (hex32(&old["root_hash"]), hex32(&now["root_hash"]));
    assert!(verify_consistency(40, 60, old_root, new_root, &proof), "the witness's proof verifies");
    assert!(!verify_consistency(40, 60, [7u8; 32], new_root, &proof), "and not from another old root");
    // The same proof from `ledger consistency`.
    let out =
        s.bin().args(["ledger", "consistency", "--old", "40"]).assert().success().get_output().stdout.clone();
    let c: serde_json::Value = serde_json::from_slice(&out).expect("json");
    let cproof: Vec<[u8; 32]> = c["proof"].as_array().expect("proof").iter().map(hex32).collect();
    assert_eq!(cproof, proof);
    assert_eq!((hex32(&c["old_root"]), hex32(&c["new_root"])), (old_root, new_root));
    // The thief rebuilds the ledger with entry 12 changed, signing with the stolen key.
    let key = std::fs::read_dir(s.dir.join("config/scrutineer/ledger-keys"))
        .expect("keys")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|x| x == "key"))
        .expect("key");
    let stolen = s.dir.join("stolen.key");
    std::fs::copy(&key, &stolen).expect("steal");
    std::fs::remove_dir_all(s.dir.join("config")).expect("the thief has no record");
    for ext in ["", ".sth", ".ckpt"] {
        let _ = std::fs::remove_file(PathBuf::from(format!("{}{ext}", s.ledger().display())));
    }
    let text: String = (0..60)
        .map(|i| {
            if i == 12 { "record number 12 with forged data\n".to_owned() } else { format!("{}\n", line(i)) }
        })
        .collect();
    std::fs::write(s.dir.join("forged.txt"), text).expect("write");
    s.bin()
        .args(["ledger", "append", "--batch", "10", "--key"])
        .arg(&stolen)
        .arg(s.dir.join("forged.txt"))
        .assert()
        .success();
    let (ok, v) = s.verify(&[]);
    assert!(ok, "on its own heads the forgery passes: {v}");
    let (ok, v) = s.verify(&["--witness", witness.to_str().expect("utf8")]);
    assert!(!ok, "{v}");
    assert_eq!(v["witnesses"][0]["consistent"], false);
    let (first, end) = (v["suspects"][0].as_u64().expect("from"), v["suspects"][1].as_u64().expect("to"));
    assert!(first <= 12 && 12 < end, "the rewritten entry lies in the suspects {first}..{end}");
}

/// RFC 9162 2.1.3.2, written independently of the code under test.
fn verify_inclusion(index: u64, size: u64, leaf: [u8; 32], path: &[[u8; 32]], root: [u8; 32]) -> bool {
    if index >= size {
        return false;
    }
    let (mut fnode, mut snode, mut r) = (index, size - 1, leaf);
    for p in path {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    snode == 0 && r == root
}

fn node_hash(l: &[u8; 32], r: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(l);
    h.update(r);
    h.finalize().into()
}

/// RFC 9162 2.1.4.2, written independently of the code under test.
fn verify_consistency(
    old: u64,
    new: u64,
    old_root: [u8; 32],
    new_root: [u8; 32],
    proof: &[[u8; 32]],
) -> bool {
    if old == 0 || old > new {
        return false;
    }
    if old == new {
        return proof.is_empty() && old_root == new_root;
    }
    let mut path = proof.to_vec();
    if old.is_power_of_two() {
        path.insert(0, old_root);
    }
    let Some((first, rest)) = path.split_first() else { return false };
    let (mut fnode, mut snode) = (old - 1, new - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    snode == 0 && fr == old_root && sr == new_root
}

fn hex32(v: &serde_json::Value) -> [u8; 32] {
    let s = v.as_str().expect("hex string");
    let bytes: Vec<u8> =
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect();
    bytes.try_into().expect("32 bytes")
}

#[test]
fn inclusion_proofs_verify_against_the_signed_head() {
    let s = Setup::new();
    s.append(0..10, 100);
    let head = s.bin().args(["ledger", "head"]).assert().success().get_output().stdout.clone();
    let h: serde_json::Value = serde_json::from_slice(&head).expect("json");
    for index in [0u64, 3, 9] {
        let out = s
            .bin()
            .args(["ledger", "prove", "--index", &index.to_string()])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
        assert_eq!(v["index"], index);
        assert_eq!(v["tree_size"], 10);
        assert_eq!(v["root_hash"], h["root_hash"]);
        let mut leaf = Sha256::new();
        leaf.update([0u8]);
        leaf.update(line(index as usize).as_bytes());
        let leaf: [u8; 32] = leaf.finalize().into();
        assert_eq!(hex32(&v["leaf_hash"]), leaf);
        let path: Vec<[u8; 32]> = v["audit_path"].as_array().expect("path").iter().map(hex32).collect();
        let root = hex32(&h["root_hash"]);
        assert!(verify_inclusion(index, 10, leaf, &path, root), "the audit path of {index} verifies");
        assert!(!verify_inclusion(index, 10, [7u8; 32], &path, root), "and not for another leaf");
    }
}
