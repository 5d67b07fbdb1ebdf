//! A reader that closes the pipe early (`scrutineer findings list | head`) ends the
//! command quietly: exit status 0 and nothing on standard error, where a panic used to
//! print its message.

use std::process::Stdio;

use crate::util::quiet_in;

/// The binary on the store in `dir`, its output to a pipe.
fn closed_pipe_command(dir: &std::path::Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("scrutineer"));
    cmd.arg("--quiet").arg("--store").arg(dir.join("s.db"));
    cmd
}

/// Runs the command with the reading end of its output closed before it writes anything.
fn run_with_pipe_closed(mut cmd: std::process::Command) -> std::process::Output {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    drop(child.stdout.take());
    child.wait_with_output().expect("wait")
}

#[test]
fn a_closed_pipe_ends_findings_list_quietly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log: String = (0..300)
        .map(|i| {
            format!(
                "10.9.{}.{} - - [01/Oct/2026:10:{:02}:00 +0000] \"GET /index.php?id=1%27%20OR%201=1-- HTTP/1.1\" 200 512 \"-\" \"sqlmap/1.7\"\n",
                i / 200,
                i % 200,
                i % 60
            )
        })
        .collect();
    std::fs::write(dir.path().join("access.log"), log).expect("write");
    quiet_in(dir.path())
        .args(["infra", "scan", "--format", "clf", "--out"])
        .arg(dir.path().join("out"))
        .arg(dir.path().join("access.log"))
        .assert()
        .success();
    let listed = quiet_in(dir.path()).args(["findings", "list", "--limit", "1000"]).output().expect("run");
    assert!(listed.stdout.len() > 1000, "the list must be long enough to write more than once");

    let mut cmd = closed_pipe_command(dir.path());
    cmd.args(["findings", "list", "--limit", "1000"]);
    let out = run_with_pipe_closed(cmd);
    assert!(out.status.success(), "exit status {:?}", out.status);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "nothing on stderr");

    let mut cmd = closed_pipe_command(dir.path());
    cmd.args(["--json", "findings", "list", "--limit", "1000"]);
    let out = run_with_pipe_closed(cmd);
    assert!(out.status.success(), "--json: exit status {:?}", out.status);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "--json: nothing on stderr");
}

#[test]
fn a_closed_pipe_ends_audit_sample_quietly() {
    // `audit sample` writes one line a draw through the same writer as every engine's
    // command: thousands of draws fill the pipe's buffer more than once.
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = dir.path().join("manifest.csv");
    std::fs::write(&manifest, "Batch Name,Number of Ballots\nB1,50000\nB2,50000\n").expect("write");
    let sample = |cmd: &mut std::process::Command| {
        cmd.args(["audit", "sample", "--seed", "31415926535", "--size", "20000", "--manifest"])
            .arg(&manifest);
    };
    let mut full = closed_pipe_command(dir.path());
    sample(&mut full);
    let listed = full.output().expect("run");
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    assert!(listed.stdout.len() > 200_000, "the draw list must be longer than a pipe's buffer");

    let mut cmd = closed_pipe_command(dir.path());
    sample(&mut cmd);
    let out = run_with_pipe_closed(cmd);
    assert!(out.status.success(), "exit status {:?}", out.status);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "nothing on stderr");
}

/// Daily counts for `offices` offices over nine weeks, as `infra trend --counts` reads them.
fn many_offices_counts(dir: &std::path::Path, offices: usize) -> std::path::PathBuf {
    let start = chrono::NaiveDate::from_ymd_opt(2026, 8, 3).expect("date");
    let mut csv = String::from("date,jurisdiction,count\n");
    for office in 0..offices {
        for day in 0..63u64 {
            let date = start + chrono::Days::new(day);
            csv.push_str(&format!("{date},office{office:04},{}\n", 1 + (day + office as u64) % 7));
        }
    }
    let path = dir.join("counts.csv");
    std::fs::write(&path, csv).expect("write");
    path
}

/// Runs the command with its output to a reader that takes the first line and closes the
/// pipe: what `| head -1` does. Returns the exit status and standard error.
fn read_one_line_then_close(mut cmd: std::process::Command) -> (std::process::ExitStatus, String) {
    use std::io::{BufRead as _, Read as _};
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut first).expect("first line");
    assert!(!first.is_empty(), "the command wrote nothing");
    let mut stderr = String::new();
    child.stderr.take().expect("stderr").read_to_string(&mut stderr).expect("stderr");
    (child.wait().expect("wait"), stderr)
}

#[test]
fn a_closed_pipe_ends_infra_trend_quietly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let counts = many_offices_counts(dir.path(), 3000);
    for json in [false, true] {
        let command = || {
            let mut cmd = closed_pipe_command(dir.path());
            if json {
                cmd.arg("--json");
            }
            cmd.args(["infra", "trend", "--counts"]).arg(&counts);
            cmd
        };
        // Far more than a pipe holds (64 KiB on Linux), so the command is still writing
        // when the reader closes.
        let full = command().output().expect("run");
        assert!(full.status.success(), "{}", String::from_utf8_lossy(&full.stderr));
        assert!(full.stdout.len() > 256 << 10, "--json {json}: only {} bytes", full.stdout.len());

        let (status, stderr) = read_one_line_then_close(command());
        assert!(status.success(), "--json {json}: exit status {status:?}: {stderr}");
        assert_eq!(stderr, "", "--json {json}: nothing on stderr");
    }
}
