//! End-to-end tests of `scrutineer infra` on fixtures written here.

use std::path::Path;

use crate::util::gzip as gz;
use crate::util::quiet_in as bin;

fn write(path: &Path, content: &[u8]) {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).expect("dir");
    }
    std::fs::write(path, content).expect("write");
}

fn rows(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).expect("events.csv");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("file,index,verdict,rule"));
    lines.map(|l| l.splitn(4, ',').map(str::to_owned).collect()).collect()
}

fn request(method: &str, target: &str, body: Option<&str>) -> String {
    let mut r = format!(
        "{method} http://localhost:8080{target} HTTP/1.1\r\nUser-Agent: Mozilla/5.0\r\nHost: localhost:8080\r\nConnection: close\r\n"
    );
    if let Some(b) = body {
        r.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{b}\r\n\r\n",
            b.len()
        ));
    } else {
        r.push_str("\r\n\r\n");
    }
    r
}

#[test]
fn learn_then_scan_gives_one_row_per_request_in_order() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut train = String::new();
    for i in 0..200 {
        train.push_str(&request("GET", &format!("/shop/add.jsp?id={}&qty={}", i % 3, i % 50 + 1), None));
        train.push_str(&request(
            "POST",
            "/shop/login.jsp",
            Some(&format!("user=user{i}&pwd=secret{i}&B1=Enter")),
        ));
    }
    write(&dir.path().join("train.txt.gz"), &gz(train.as_bytes()));
    let test = [
        request("GET", "/shop/add.jsp?id=1&qty=7", None), // normal
        request("GET", "/shop/add.jsp?id=1%27+OR+%271%27%3D%271&qty=7", None), // attack
        request("GET", "/shop/add.jsp.old", None),        // anomaly (and probe)
        request("POST", "/shop/login.jsp", Some("user=user3&pwd=secret3&B1=Enter")), // normal
        request("POST", "/shop/login.jsp", Some("user=user3&pwd=secret3&B1A=Enter")), // anomaly
        request("GET", "/shop/add.jsp?id=9&qty=7", None), // anomaly: value set
    ]
    .concat();
    write(&dir.path().join("test.txt"), test.as_bytes());
    let profile = dir.path().join("profile.json");
    bin(dir.path())
        .args(["infra", "learn"])
        .arg(dir.path().join("train.txt.gz"))
        .args(["--format", "http", "--out"])
        .arg(&profile)
        .assert()
        .success();
    let out = dir.path().join("out");
    bin(dir.path())
        .args(["infra", "scan"])
        .arg(dir.path().join("test.txt"))
        .args(["--format", "http", "--profile"])
        .arg(&profile)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let r = rows(&out.join("events.csv"));
    assert_eq!(r.len(), 6);
    let verdicts: Vec<&str> = r.iter().map(|x| x[2].as_str()).collect();
    assert_eq!(verdicts, ["normal", "attack", "attack", "normal", "anomaly", "anomaly"]);
    for (i, row) in r.iter().enumerate() {
        assert_eq!(row[1], i.to_string());
        assert!(row[0].ends_with("test.txt"));
    }
    assert!(r[1][3].contains("sqli"), "{:?}", r[1]);
    assert!(r[2][3].contains("profile-endpoint"), "{:?}", r[2]);
    assert!(r[4][3].contains("profile-param"), "{:?}", r[4]);
    assert!(r[5][3].contains("profile-value"), "{:?}", r[5]);
    // Findings were stored, each with ATT&CK techniques.
    let listed =
        bin(dir.path()).args(["--json", "findings", "list", "--engine", "infra"]).output().expect("run");
    let findings: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("json");
    let arr = findings.as_array().expect("array");
    assert!(!arr.is_empty());
    for f in arr {
        assert!(!f["techniques"].as_array().expect("techniques").is_empty(), "{f}");
    }
}

fn clf(ip: &str, day: u32, target: &str, status: u16, ua: &str) -> String {
    format!(
        "{ip} - - [{day:02}/Oct/2024:10:00:00 +0000] \"GET {target} HTTP/1.1\" {status} 100 \"-\" \"{ua}\"\n"
    )
}

#[test]
fn one_source_across_three_offices_is_one_campaign() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut files = Vec::new();
    for j in ["cook", "dupage", "lake"] {
        let mut log = String::new();
        log.push_str(&clf("198.51.100.20", 1, "/index.html", 200, "Mozilla/5.0"));
        log.push_str(&clf(
            "203.0.113.9",
            2,
            "/voters/search?name=x%27%20UNION%20SELECT%20ssn%20FROM%20voters--",
            200,
            "Mozilla/5.0",
        ));
        let p = dir.path().join(j).join("access.log");
        write(&p, log.as_bytes());
        files.push(p);
    }
    let out = dir.path().join("out");
    let mut cmd = bin(dir.path());
    cmd.args(["infra", "scan"]).args(&files).arg("--out").arg(&out);
    cmd.assert().success();
    let campaigns: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("campaigns.json")).expect("campaigns"))
            .expect("json");
    let c = campaigns.as_array().expect("array");
    assert_eq!(c.len(), 1, "{campaigns}");
    assert_eq!(c[0]["jurisdictions"], serde_json::json!(["cook", "dupage", "lake"]));
    assert_eq!(c[0]["sources"], serde_json::json!(["203.0.113.9"]));
    let r = rows(&out.join("events.csv"));
    assert_eq!(r.len(), 6);
    assert_eq!(r.iter().filter(|x| x[2] == "attack").count(), 3);
}

#[test]
fn trend_flat_and_doubling() {
    let dir = tempfile::tempdir().expect("tmp");
    let start = chrono::NaiveDate::from_ymd_opt(2024, 7, 1).expect("date");
    let series = |double: bool| {
        let mut s = String::from("date,jurisdiction,count\n");
        for d in 0..70 {
            let day = start + chrono::Duration::days(d);
            let n = if double && d >= 56 { 40 } else { 20 };
            s.push_str(&format!("{day},cook,{n}\n"));
        }
        s
    };
    for (double, want) in [(false, false), (true, true)] {
        let p = dir.path().join(format!("counts-{double}.csv"));
        write(&p, series(double).as_bytes());
        let out =
            bin(dir.path()).args(["--json", "infra", "trend", "--counts"]).arg(&p).output().expect("run");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let cook = rows.as_array().expect("rows").iter().find(|r| r["jurisdiction"] == "cook").expect("cook");
        assert_eq!(cook["test"]["ramp_up"], serde_json::json!(want), "{cook}");
        let p_value = cook["test"]["p_value"].as_f64().expect("p");
        if want { assert!(p_value < 0.001) } else { assert!(p_value > 0.05) }
    }
}

#[test]
fn truncated_and_garbage_lines_are_reported_not_fatal() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut log = Vec::new();
    log.extend_from_slice(clf("192.0.2.1", 1, "/a", 200, "x").as_bytes());
    log.extend_from_slice(b"192.0.2.1 - - [01/Oct/2024:10:00:00 +0000] \"GET /trunc\n");
    log.extend_from_slice(&[0u8, 159, 146, 150, 0xff, 0xfe, b'\n']);
    log.extend_from_slice(clf("192.0.2.1", 1, "/b", 200, "x").as_bytes());
    let p = dir.path().join("web").join("access.log");
    write(&p, &log);
    let out = dir.path().join("out");
    bin(dir.path())
        .args(["infra", "scan", "--format", "combined"])
        .arg(&p)
        .arg("--out")
        .arg(&out)
        // Half the records are malformed on purpose; the default share would fail the run.
        .args(["--max-malformed", "100%"])
        .assert()
        .success();
    let r = rows(&out.join("events.csv"));
    assert_eq!(r.len(), 4);
    assert_eq!(r[1][3], "malformed");
    assert_eq!(r[2][3], "malformed");
    let mal = std::fs::read_to_string(out.join("malformed.csv")).expect("malformed");
    assert!(mal.lines().any(|l| l.contains(",2,")), "{mal}");
    assert!(mal.lines().any(|l| l.contains(",3,")), "{mal}");
}

#[test]
fn stix_export_and_import_round_trip() {
    let dir = tempfile::tempdir().expect("tmp");
    let log = clf(
        "203.0.113.50",
        1,
        "/results?id=1%20AND%201=1%20UNION%20SELECT%20password%20FROM%20users",
        200,
        "sqlmap/1.7",
    );
    let p = dir.path().join("cook").join("access.log");
    write(&p, log.as_bytes());
    bin(dir.path())
        .args(["infra", "scan"])
        .arg(&p)
        .arg("--out")
        .arg(dir.path().join("out"))
        .assert()
        .success();
    let bundle = dir.path().join("bundle.json");
    bin(dir.path())
        .args(["infra", "export", "--identity", "Cook County Clerk", "--stix"])
        .arg(&bundle)
        .assert()
        .success();
    let b: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&bundle).expect("bundle")).expect("json");
    let objs = b["objects"].as_array().expect("objects");
    for t in ["identity", "indicator", "sighting", "attack-pattern", "relationship", "report"] {
        assert!(objs.iter().any(|o| o["type"] == t), "no {t}");
    }
    assert!(
        objs.iter()
            .any(|o| o["type"] == "attack-pattern" && o["external_references"][0]["external_id"] == "T1190")
    );
    // The exported indicators feed a later scan: the same source is sighted.
    let csv = dir.path().join("ind.csv");
    bin(dir.path()).args(["infra", "import"]).arg(&bundle).arg("--out").arg(&csv).assert().success();
    assert!(std::fs::read_to_string(&csv).expect("csv").contains("ip,203.0.113.50"));
    let out2 = dir.path().join("out2");
    let other = dir.path().join("lake").join("access.log");
    write(&other, clf("203.0.113.50", 2, "/index.html", 200, "Mozilla/5.0").as_bytes());
    bin(dir.path())
        .args(["infra", "scan", "--no-store", "--indicators"])
        .arg(&bundle)
        .arg(&other)
        .arg("--out")
        .arg(&out2)
        .assert()
        .success();
    let r = rows(&out2.join("events.csv"));
    assert_eq!(r[0][3], "indicator");
}

#[test]
fn auth_log_brute_force_is_found() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut log = String::new();
    for i in 0..20 {
        log.push_str(&format!(
            "Dec 10 06:{:02}:00 host sshd[1]: Failed password for root from 198.51.100.66 port {} ssh2\n",
            10 + i / 4,
            4000 + i
        ));
    }
    log.push_str(
        "Dec 10 06:20:00 host sshd[1]: Accepted password for root from 198.51.100.66 port 5000 ssh2\n",
    );
    let p = dir.path().join("ssh").join("auth.log");
    write(&p, log.as_bytes());
    let out = dir.path().join("out");
    bin(dir.path())
        .args(["infra", "scan", "--year", "2024"])
        .arg(&p)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let findings: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("findings.json")).expect("f")).expect("json");
    let bf =
        findings.as_array().expect("arr").iter().find(|f| f["kind"] == "brute_force").expect("brute force");
    let ids: Vec<&str> =
        bf["techniques"].as_array().expect("t").iter().filter_map(|t| t["id"].as_str()).collect();
    assert!(ids.contains(&"T1110.001") && ids.contains(&"T1078"), "{ids:?}");
}
