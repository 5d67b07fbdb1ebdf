//! What the CLI tests share: the binary with a store in the test's folder, and readers
//! of the CSV and gzip files the tests write or check.

use std::io::Write as _;
use std::path::Path;

use assert_cmd::Command;

/// The `scrutineer` binary under test, with no arguments.
pub fn scrutineer() -> Command {
    Command::cargo_bin("scrutineer").expect("binary")
}

/// The binary with its store at `store`.
pub fn with_store(store: &Path) -> Command {
    let mut c = scrutineer();
    c.arg("--store").arg(store);
    c
}

/// The binary with its store at `store`, printing no progress.
pub fn quiet_with_store(store: &Path) -> Command {
    let mut c = with_store(store);
    c.arg("--quiet");
    c
}

/// The binary with its store `s.db` in `dir`.
pub fn in_dir(dir: &Path) -> Command {
    with_store(&dir.join("s.db"))
}

/// The binary with its store `s.db` in `dir`, printing no progress.
pub fn quiet_in(dir: &Path) -> Command {
    quiet_with_store(&dir.join("s.db"))
}

/// `data` gzip-compressed.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).expect("gzip");
    enc.finish().expect("gzip")
}

/// The rows of a CSV file after its header.
pub fn csv_records(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    r.records().map(|rec| rec.expect("record").iter().map(str::to_owned).collect()).collect()
}

/// The rows of a CSV file as header → value maps.
pub fn csv_maps(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = r.headers().expect("headers").clone();
    r.records()
        .map(|rec| {
            let rec = rec.expect("record");
            headers.iter().map(str::to_owned).zip(rec.iter().map(str::to_owned)).collect()
        })
        .collect()
}

/// A process's standard error as text.
pub fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The input files of one `ballots reconcile` run.
pub struct BallotFiles<'a> {
    pub roll: &'a Path,
    pub issued: &'a Path,
    pub returns: &'a Path,
    pub checkins: Option<&'a Path>,
}

impl<'a> BallotFiles<'a> {
    /// `roll.csv`, `issued.csv`, `returns.csv` (and `checkins.csv` when asked) in `dir`,
    /// as the fixtures name them; the paths live in `buf`.
    pub fn in_dir(dir: &Path, checkins: bool, buf: &'a mut Vec<std::path::PathBuf>) -> BallotFiles<'a> {
        *buf =
            ["roll.csv", "issued.csv", "returns.csv", "checkins.csv"].iter().map(|f| dir.join(f)).collect();
        BallotFiles {
            roll: &buf[0],
            issued: &buf[1],
            returns: &buf[2],
            checkins: checkins.then(|| buf[3].as_path()),
        }
    }
}

/// Adds `ballots reconcile` at the fixtures' deadline on `files`, writing to `out`, to
/// `cmd`; the caller adds what else its case needs (`--no-ledger`, a layout, limits).
pub fn reconcile_args<'c>(cmd: &'c mut Command, files: &BallotFiles<'_>, out: &Path) -> &'c mut Command {
    cmd.args(["ballots", "reconcile", "--deadline", "2020-11-03T19:30:00"])
        .arg("--roll")
        .arg(files.roll)
        .arg("--issued")
        .arg(files.issued)
        .arg("--returns")
        .arg(files.returns)
        .arg("--out")
        .arg(out);
    if let Some(c) = files.checkins {
        cmd.arg("--checkins").arg(c);
    }
    cmd
}

/// The header of a voter roll as the fixtures write it.
pub const ROLL_HEADER: &str = "voter_id,status,precinct,ballot_style,address,birth_year,registration_date\n";

/// Writes a simulated jurisdiction (`simulate ballots`) with `inject` findings of each
/// rule and `lookalikes` legitimate look-alikes of each into `out`, run in `dir`.
pub fn simulate_ballots(dir: &Path, voters: u32, inject: u32, lookalikes: u32, out: &Path) {
    quiet_in(dir)
        .args(["simulate", "ballots", "--seed", "11"])
        .args(["--voters", &voters.to_string(), "--inject", &inject.to_string()])
        .args(["--lookalikes", &lookalikes.to_string()])
        .arg("--out")
        .arg(out)
        .assert()
        .success();
}
