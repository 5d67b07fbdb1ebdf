//! `scrutineer infra scan` on Zeek logs written here in both of Zeek's forms: the same
//! traffic as TSV and as JSON gives the same `events.csv` rows and the same findings;
//! damaged logs are counted and listed, never a panic.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::util::{csv_records, gzip, quiet_in as bin};

/// One log: its `#path`, its fields, and its records (a value per field).
struct Log {
    path: &'static str,
    fields: Vec<&'static str>,
    records: Vec<Vec<Value>>,
}

/// A TSV value as Zeek writes it: `-` unset, `(empty)` for an empty set, `T`/`F`.
fn tsv_value(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::Bool(b) => if *b { "T" } else { "F" }.into(),
        Value::Array(a) if a.is_empty() => "(empty)".into(),
        Value::Array(a) => a.iter().map(tsv_value).collect::<Vec<_>>().join(","),
        Value::String(s) => s.replace('\t', "\\x09"),
        other => other.to_string(),
    }
}

fn tsv(log: &Log) -> String {
    let mut out = format!(
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\t{}\n#open\t2024-10-01-00-00-00\n#fields\t{}\n#types\t{}\n",
        log.path,
        log.fields.join("\t"),
        log.fields.iter().map(|_| "string").collect::<Vec<_>>().join("\t")
    );
    for r in &log.records {
        out.push_str(&r.iter().map(tsv_value).collect::<Vec<_>>().join("\t"));
        out.push('\n');
    }
    out.push_str("#close\t2024-10-02-00-00-00\n");
    out
}

fn json_lines(log: &Log) -> String {
    let mut out = String::new();
    for r in &log.records {
        let mut m = serde_json::Map::new();
        for (f, v) in log.fields.iter().zip(r) {
            // Zeek's JSON writer leaves unset fields out.
            if !v.is_null() {
                m.insert((*f).to_owned(), v.clone());
            }
        }
        out.push_str(&Value::Object(m).to_string());
        out.push('\n');
    }
    out
}

const T0: f64 = 1_727_740_800.0;

/// A day of an office network: a host calling a server every 5 minutes with jitter,
/// another browsing at random, a scanner, DNS lookups of machine-made names, SSH
/// guessing, a web attack and a TLS handshake with a fingerprint.
fn traffic() -> Vec<Log> {
    let conn_fields = vec![
        "ts",
        "uid",
        "id.orig_h",
        "id.orig_p",
        "id.resp_h",
        "id.resp_p",
        "proto",
        "service",
        "duration",
        "orig_bytes",
        "resp_bytes",
        "conn_state",
        "tunnel_parents",
        "label",
    ];
    let mut conns = Vec::new();
    let mut seed: u64 = 7;
    let mut next = || {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) as f64 / (1u64 << 31) as f64
    };
    for i in 0..288 {
        let t = T0 + i as f64 * 300.0 + 40.0 * (next() - 0.5);
        conns.push(vec![
            json!(t),
            json!(format!("Cb{i}")),
            json!("10.1.1.20"),
            json!(49152 + i),
            json!("203.0.113.50"),
            json!(443),
            json!("tcp"),
            json!("ssl"),
            json!(0.8),
            json!(412),
            json!(1288),
            json!("SF"),
            json!([]),
            json!("Malicious"),
        ]);
    }
    let mut t = T0;
    for i in 0..300 {
        t += 288.0 * -(1.0 - next()).max(1e-9).ln();
        conns.push(vec![
            json!(t),
            json!(format!("Cw{i}")),
            json!("10.1.1.21"),
            json!(50000 + i),
            json!(format!("198.51.100.{}", i % 40)),
            json!(443),
            json!("tcp"),
            Value::Null,
            json!(next() * 30.0),
            json!((next() * 90_000.0) as u64),
            json!((next() * 900_000.0) as u64),
            json!("SF"),
            json!(["Cx1", "Cx2"]),
            json!("Benign"),
        ]);
    }
    for p in 0..120 {
        conns.push(vec![
            json!(T0 + 5000.0 + p as f64 * 0.01),
            json!(format!("Cs{p}")),
            json!("192.0.2.99"),
            json!(61000),
            json!("10.1.1.21"),
            json!(1000 + p),
            json!("tcp"),
            Value::Null,
            Value::Null,
            json!(0),
            json!(0),
            json!("S0"),
            json!([]),
            json!("Malicious"),
        ]);
    }
    conns.sort_by(|a, b| a[0].as_f64().partial_cmp(&b[0].as_f64()).expect("times"));
    let dns_fields = vec![
        "ts",
        "uid",
        "id.orig_h",
        "id.orig_p",
        "id.resp_h",
        "id.resp_p",
        "proto",
        "query",
        "qtype_name",
        "rcode_name",
        "answers",
    ];
    let letters = b"bcdfghjklmnpqrstvwxzq";
    let mut dns = Vec::new();
    for i in 0..40u64 {
        let label: String = (0..12)
            .map(|k| letters[((i * (k + 1) * 5 + k * k * 3 + (i / 7) * k) % 21) as usize] as char)
            .collect();
        dns.push(vec![
            json!(T0 + 100.0 + i as f64),
            json!(format!("Cd{i}")),
            json!("10.1.1.22"),
            json!(53000),
            json!("10.1.1.1"),
            json!(53),
            json!("udp"),
            json!(format!("{label}.com")),
            json!("A"),
            json!("NXDOMAIN"),
            json!([]),
        ]);
    }
    dns.push(vec![
        json!(T0 + 200.0),
        json!("Cd-ok"),
        json!("10.1.1.21"),
        json!(53001),
        json!("10.1.1.1"),
        json!(53),
        json!("udp"),
        json!("www.example.org"),
        json!("A"),
        json!("NOERROR"),
        json!(["93.184.216.34"]),
    ]);
    let http_fields = vec![
        "ts",
        "uid",
        "id.orig_h",
        "id.orig_p",
        "id.resp_h",
        "id.resp_p",
        "method",
        "host",
        "uri",
        "version",
        "user_agent",
        "status_code",
        "response_body_len",
    ];
    let http = vec![
        vec![
            json!(T0 + 10.0),
            json!("Ch1"),
            json!("198.51.100.7"),
            json!(40000),
            json!("10.1.1.5"),
            json!(80),
            json!("GET"),
            json!("results.county.gov"),
            json!("/results?id=1%27%20OR%20%271%27%3D%271"),
            json!("1.1"),
            json!("sqlmap/1.7"),
            json!(200),
            json!(512),
        ],
        vec![
            json!(T0 + 11.0),
            json!("Ch2"),
            json!("10.1.1.21"),
            json!(40001),
            json!("10.1.1.5"),
            json!(80),
            json!("GET"),
            json!("results.county.gov"),
            json!("/index.html"),
            json!("1.1"),
            json!("Mozilla/5.0"),
            json!(200),
            json!(2048),
        ],
    ];
    let ssh_fields = vec![
        "ts",
        "uid",
        "id.orig_h",
        "id.orig_p",
        "id.resp_h",
        "id.resp_p",
        "auth_success",
        "auth_attempts",
        "client",
    ];
    let ssh = (0..15)
        .map(|i| {
            vec![
                json!(T0 + 1000.0 + i as f64 * 5.0),
                json!(format!("Cssh{i}")),
                json!("192.0.2.44"),
                json!(40100 + i),
                json!("10.1.1.5"),
                json!(22),
                json!(i == 14),
                json!(1),
                json!("SSH-2.0-libssh_0.9.6"),
            ]
        })
        .collect();
    let ssl_fields = vec![
        "ts",
        "uid",
        "id.orig_h",
        "id.orig_p",
        "id.resp_h",
        "id.resp_p",
        "version",
        "server_name",
        "ja3",
        "cert_chain_fps",
    ];
    let ssl = vec![vec![
        json!(T0 + 20.0),
        json!("Cb0"),
        json!("10.1.1.20"),
        json!(49152),
        json!("203.0.113.50"),
        json!(443),
        json!("TLSv12"),
        json!("cdn.example.net"),
        json!("72a589da586844d7f0818ce684948eea"),
        json!(["a1b2", "c3d4"]),
    ]];
    vec![
        Log { path: "conn", fields: conn_fields, records: conns },
        Log { path: "dns", fields: dns_fields, records: dns },
        Log { path: "http", fields: http_fields, records: http },
        Log { path: "ssh", fields: ssh_fields, records: ssh },
        Log { path: "ssl", fields: ssl_fields, records: ssl },
    ]
}

fn scan(dir: &Path, files: &[PathBuf], out: &str) -> PathBuf {
    let out = dir.join(out);
    let indicators = dir.join("indicators.csv");
    std::fs::write(
        &indicators,
        "type,value,description\nja3,72A589DA586844D7F0818CE684948EEA,implant\ndomain,example.org,watched\n",
    )
    .expect("write");
    bin(dir)
        .args(["infra", "scan", "--format", "auto", "--no-store", "--jurisdiction", "office", "--indicators"])
        .arg(&indicators)
        .arg("--out")
        .arg(&out)
        .args(files)
        .assert()
        .success();
    out
}

fn kinds(out: &Path) -> Vec<(String, String)> {
    let findings: Value =
        serde_json::from_slice(&std::fs::read(out.join("findings.json")).expect("findings")).expect("json");
    findings
        .as_array()
        .expect("array")
        .iter()
        .map(|f| (f["kind"].as_str().unwrap_or("").to_owned(), f["title"].as_str().unwrap_or("").to_owned()))
        .collect()
}

#[test]
fn zeek_tsv_and_json_of_one_traffic_give_the_same_events_and_findings() {
    let dir = tempfile::tempdir().expect("tmp");
    let logs = traffic();
    let mut tsv_files = Vec::new();
    let mut json_files = Vec::new();
    for log in &logs {
        let t = dir.path().join(format!("tsv/{}.log", log.path));
        let j = dir.path().join(format!("json/{}.log", log.path));
        std::fs::create_dir_all(t.parent().expect("dir")).expect("dir");
        std::fs::create_dir_all(j.parent().expect("dir")).expect("dir");
        // The conn log goes in compressed, as a rotated file would be.
        if log.path == "conn" {
            std::fs::write(&t, gzip(tsv(log).as_bytes())).expect("write");
        } else {
            std::fs::write(&t, tsv(log)).expect("write");
        }
        std::fs::write(&j, json_lines(log)).expect("write");
        tsv_files.push(t);
        json_files.push(j);
    }
    let a = scan(dir.path(), &tsv_files, "out-tsv");
    let b = scan(dir.path(), &json_files, "out-json");
    let rows_a = csv_records(&a.join("events.csv"));
    let rows_b = csv_records(&b.join("events.csv"));
    let records: usize = logs.iter().map(|l| l.records.len()).sum();
    let header = std::fs::read_to_string(a.join("events.csv")).expect("events");
    assert_eq!(header.lines().next(), Some("file,index,verdict,rule"));
    assert_eq!(rows_a.len(), records, "one row per record");
    assert_eq!(rows_a.len(), rows_b.len());
    for (ra, rb) in rows_a.iter().zip(&rows_b) {
        let name = |r: &Vec<String>| Path::new(&r[0]).file_name().map(|n| n.to_owned());
        assert_eq!(name(ra), name(rb));
        assert_eq!(ra[1..], rb[1..], "rows differ: {ra:?} vs {rb:?}");
    }
    assert!(rows_a.iter().any(|r| r[2] == "attack"), "the sqlmap request is an attack");
    let (ka, kb) = (kinds(&a), kinds(&b));
    assert_eq!(ka, kb);
    let has = |kind: &str, who: &str| ka.iter().any(|(k, t)| k == kind && t.starts_with(who));
    assert!(has("beaconing", "10.1.1.20 "), "{ka:?}");
    assert!(!has("beaconing", "10.1.1.21 "), "random browsing is no beacon: {ka:?}");
    assert!(has("network_scan", "192.0.2.99 "), "{ka:?}");
    assert!(has("dga_lookups", "10.1.1.22 "), "{ka:?}");
    assert!(has("brute_force", "192.0.2.44 "), "{ka:?}");
    assert!(has("web_attack", "198.51.100.7 "), "{ka:?}");
    let sightings: Vec<&String> =
        ka.iter().filter(|(k, _)| k == "indicator_sighting").map(|(_, t)| t).collect();
    assert_eq!(sightings.len(), 2, "the JA3 in ssl.log and the domain in dns.log: {ka:?}");
    assert!(csv_records(&a.join("malformed.csv")).is_empty());
}

#[test]
fn damaged_zeek_logs_are_counted_and_listed_with_file_and_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let logs = traffic();
    let conn = tsv(&logs[0]);
    // No header at all: every data line is malformed, named by line.
    let headless: String =
        conn.lines().filter(|l| !l.starts_with('#')).take(5).map(|l| format!("{l}\n")).collect();
    std::fs::write(dir.path().join("headless.log"), &headless).expect("write");
    // The header changes mid-file: the lines after it follow the new layout.
    let mut changed = tsv(&logs[1]);
    changed.push_str("#fields\tts\tuid\tid.orig_h\n1727740900.5\tCz\t10.9.9.9\n1727740901.5\tCz2\n");
    std::fs::write(dir.path().join("changed.log"), &changed).expect("write");
    // A rotated, compressed file cut short.
    let gz = gzip(conn.as_bytes());
    std::fs::write(dir.path().join("conn.2024-10-01.log.gz"), &gz[..gz.len() / 2]).expect("write");
    // A JSON log with a line of the wrong kind (a Suricata record) and a broken line.
    let mut json = json_lines(&logs[1]);
    json.push_str("{\"timestamp\":\"2024-10-01T00:00:00Z\",\"event_type\":\"alert\",\"src_ip\":\"10.0.0.1\"}\n{\"ts\":1.0,\"uid\":\n");
    std::fs::write(dir.path().join("dns.json"), &json).expect("write");
    let out = dir.path().join("out");
    let files = ["changed.log", "conn.2024-10-01.log.gz", "dns.json"];
    bin(dir.path())
        .args(["infra", "scan", "--format", "auto", "--no-store", "--max-malformed", "0.5", "--out"])
        .arg(&out)
        .args(files.iter().map(|f| dir.path().join(f)))
        .assert()
        .success();
    let malformed = csv_records(&out.join("malformed.csv"));
    let at = |file: &str, line: &str| {
        malformed.iter().find(|r| r[0].ends_with(file) && r[1] == line).map(|r| r[2].clone())
    };
    let dns_lines = 8 + logs[1].records.len() + 1;
    // `dns_lines` ends with #close; after the new #fields, 3 values for 3 fields
    // parse and the next line, with 2, is malformed.
    assert_eq!(at("changed.log", &(dns_lines + 2).to_string()), None, "{malformed:?}");
    assert!(
        at("changed.log", &(dns_lines + 3).to_string()).is_some_and(|r| r.contains("#fields")),
        "{malformed:?}"
    );
    assert!(
        malformed.iter().any(|r| r[0].ends_with("conn.2024-10-01.log.gz") && r[2].contains("truncated")),
        "{malformed:?}"
    );
    let json_first_bad = (logs[1].records.len() + 1).to_string();
    assert!(at("dns.json", &json_first_bad).is_some_and(|r| r.contains("Suricata")), "{malformed:?}");
    assert!(at("dns.json", &(logs[1].records.len() + 2).to_string()).is_some(), "{malformed:?}");
    // A log with no header at all cannot be told apart by `--format auto`; with
    // `--format zeek` every line is a counted skip and the scan refuses by default.
    let out2 = dir.path().join("out2");
    let res = bin(dir.path())
        .args(["infra", "scan", "--format", "zeek", "--no-store", "--out"])
        .arg(&out2)
        .arg(dir.path().join("headless.log"))
        .assert()
        .failure();
    let err = String::from_utf8_lossy(&res.get_output().stderr).into_owned();
    assert!(err.contains("malformed"), "{err}");
    let listed = csv_records(&out2.join("malformed.csv"));
    assert_eq!(listed.len(), 5, "{listed:?}");
    assert!(
        listed
            .iter()
            .enumerate()
            .all(|(i, r)| r[1] == (i + 1).to_string() && r[2].contains("no #fields header"))
    );
}

#[test]
fn a_source_seen_by_zeek_at_one_office_and_in_an_access_log_at_another_is_one_campaign() {
    let dir = tempfile::tempdir().expect("tmp");
    let logs = traffic();
    let ssh = dir.path().join("north/ssh.log");
    std::fs::create_dir_all(ssh.parent().expect("dir")).expect("dir");
    std::fs::write(&ssh, json_lines(&logs[3])).expect("write");
    let access = dir.path().join("south/access.log");
    std::fs::create_dir_all(access.parent().expect("dir")).expect("dir");
    let attack = "192.0.2.44 - - [01/Oct/2024:10:00:00 +0000] \"GET /results?id=1%27%20OR%20%271%27%3D%271 HTTP/1.1\" 200 512 \"-\" \"Mozilla/5.0\"\n";
    std::fs::write(&access, attack.repeat(3)).expect("write");
    let out = dir.path().join("out");
    bin(dir.path())
        .args(["infra", "scan", "--format", "auto", "--no-store", "--out"])
        .arg(&out)
        .arg(&ssh)
        .arg(&access)
        .assert()
        .success();
    let campaigns: Value =
        serde_json::from_slice(&std::fs::read(out.join("campaigns.json")).expect("campaigns")).expect("json");
    let c = campaigns.as_array().and_then(|a| a.first()).expect("a campaign");
    assert_eq!(c["sources"], json!(["192.0.2.44"]));
    assert_eq!(c["jurisdictions"], json!(["north", "south"]));
    let techniques: Vec<&str> =
        c["techniques"].as_array().expect("list").iter().filter_map(Value::as_str).collect();
    assert!(techniques.contains(&"T1110.001") && techniques.contains(&"T1190"), "{techniques:?}");
}
