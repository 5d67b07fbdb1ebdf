//! The HTML report as a person sees it: the demo's report is opened in headless Chromium
//! (Debian `chromium`, installed by scripts/setup.sh); the test fails on any console
//! message (the report logs nothing, so any message is an error or a failed load), on a
//! script that did not run to the end, or on a chart that is missing or empty.
//!
//! Set SCRUTINEER_CHROMIUM to use another Chromium binary.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

const CHARTS: &[&str] = &[
    "findings-by-severity",
    "influence-network",
    "influence-behaviours",
    "infra-trend",
    "ballot-findings",
    "ballot-totals",
    "audit-ballots",
];

fn chromium() -> PathBuf {
    if let Ok(p) = std::env::var("SCRUTINEER_CHROMIUM") {
        return PathBuf::from(p);
    }
    for c in ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"] {
        if Path::new(c).exists() {
            return PathBuf::from(c);
        }
    }
    panic!(
        "Chromium not found: run `bash scripts/setup.sh` (installs Debian's chromium) or set SCRUTINEER_CHROMIUM"
    );
}

/// Loads `page` headless; returns the DOM after scripts ran and the console lines.
fn open_in_browser(page: &Path, profile: &Path) -> (String, Vec<String>) {
    let out = Process::new("timeout")
        .arg("120")
        .arg(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-extensions",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    let console = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_owned)
        .collect();
    (String::from_utf8_lossy(&out.stdout).into_owned(), console)
}

/// What is wrong with the page as rendered: missing or empty charts, an unfinished script.
fn problems(dom: &str, console: &[String]) -> Vec<String> {
    let mut out: Vec<String> = console.iter().map(|c| format!("console: {c}")).collect();
    if !dom.contains(r#"data-ready="yes""#) {
        out.push("the report's script did not run to the end".into());
    }
    for chart in CHARTS {
        let tag = format!(r#"data-chart="{chart}""#);
        let Some(at) = dom.find(&tag) else {
            out.push(format!("chart {chart} missing"));
            continue;
        };
        // data-marks sits in the same <svg ...> start tag.
        let start = dom[..at].rfind("<svg").unwrap_or(at);
        let end = at + dom[at..].find('>').unwrap_or(0);
        let marks = dom[start..end]
            .split("data-marks=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0);
        if marks == 0 {
            out.push(format!("chart {chart} is empty"));
        }
    }
    out
}

#[test]
fn demo_report_renders_every_chart_without_console_errors() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("demo");
    let store = tmp.path().join("store.db");
    crate::util::scrutineer()
        .arg("--store")
        .arg(&store)
        .args(["--quiet", "demo", "--scale", "0.25", "--dir"])
        .arg(&dir)
        .assert()
        .success();
    let report = dir.join("report.html");
    let (dom, console) = open_in_browser(&report, &tmp.path().join("profile"));
    let found = problems(&dom, &console);
    assert!(found.is_empty(), "the report as rendered: {found:#?}");

    // The checks can fail: a report of an empty store lacks the charts, and a page that
    // logs an error is caught.
    let empty_store = tmp.path().join("empty.db");
    let empty_report = tmp.path().join("empty.html");
    crate::util::scrutineer()
        .arg("--store")
        .arg(&empty_store)
        .args(["--quiet", "report", "--out"])
        .arg(&empty_report)
        .assert()
        .success();
    let (dom, console) = open_in_browser(&empty_report, &tmp.path().join("profile2"));
    let found = problems(&dom, &console);
    assert!(found.iter().any(|p| p.contains("influence-network")), "{found:?}");
    let broken = tmp.path().join("broken.html");
    let html = std::fs::read_to_string(&report).expect("read report");
    std::fs::write(&broken, html.replace("</body>", "<script>undefinedFunction();</script></body>"))
        .expect("write");
    let (_, console) = open_in_browser(&broken, &tmp.path().join("profile3"));
    assert!(!console.is_empty(), "an uncaught error was not seen on the console");
}
