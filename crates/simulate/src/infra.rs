//! Access logs of county election websites: ordinary voters, search-engine crawlers, county
//! staff, and one hostile actor running a campaign of scanning, SQL injection and credential
//! stuffing across several counties that ramps up before election day.
//!
//! Each county gets a directory (its name is the office `scrutineer infra scan` assigns by
//! default) with the registration portal's `portal.log` and the results site's
//! `results.log`, in the Apache/nginx combined format with US Eastern local time.
//!
//! Traffic shape, and why:
//! - Visitors per day follow a baseline that rises toward election day (lookups of
//!   registration status and polling places peak in the last two weeks; the results site is
//!   quiet until election night), times a weekday factor (weekends ~70%).
//! - Hours follow a US diurnal curve (trough 3–5 am, peak noon–9 pm), as in the US
//!   activity curves of the social simulator.
//! - Visitors' sessions are short (1–8 requests, geometric), with the static assets a browser
//!   loads; some last names carry an apostrophe (O'Brien, D'Angelo), which a naive SQL
//!   injection filter mistakes for an attack; some people mistype a URL (404s).
//! - Googlebot and bingbot crawl ~60 distinct pages a day from their published ranges,
//!   with a few stale links (404s): many distinct paths, but not a scanner.
//! - Staff sign in to the admin area (HTTP basic authentication) on weekdays, sometimes mistyping the password once.
//! - The actor: three addresses in one /24, active on a growing share of days with a
//!   growing number of requests (the last two weeks several times the rate of the first
//!   weeks), hitting the portals of a subset of counties with (a) recon scans of backup,
//!   configuration and admin paths, (b) SQL injection in the lookup form's parameters,
//!   URL-encoded, with a browser user agent, (c) credential stuffing against the admin
//!   login with a list of leaked user names.
//!
//! `truth.csv` lists every hostile request group: `actor,technique,source,jurisdiction,
//! requests,first_seen,last_seen`; `truth.json` the campaign (sources, counties, dates).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Weekday};
use serde::Serialize;

use crate::SimulateError;
use crate::rng::Draws;

/// What to generate.
#[derive(Debug, Clone)]
pub struct InfraScenario {
    pub seed: u64,
    /// Counties (one office each); the first `targeted` of them are attacked.
    pub counties: Vec<String>,
    pub targeted: usize,
    /// Election day; logs cover `days` days up to and including it.
    pub election_day: NaiveDate,
    pub days: u32,
    /// Mean visitors per county per day at the start of the period (grows toward the
    /// election).
    pub visitors_per_day: u32,
    /// Multiplies the actor's request volume.
    pub attack_intensity: f64,
}

impl InfraScenario {
    pub fn new(seed: u64, counties: Vec<String>) -> InfraScenario {
        let targeted = (counties.len() * 2).div_ceil(3).max(1);
        InfraScenario {
            seed,
            counties,
            targeted,
            election_day: NaiveDate::from_ymd_opt(2024, 11, 5).unwrap_or_default(),
            days: 56,
            visitors_per_day: 120,
            attack_intensity: 1.0,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct InfraWritten {
    pub files: Vec<PathBuf>,
    pub lines: u64,
    pub hostile_lines: u64,
    pub actor_sources: Vec<String>,
    pub targeted: Vec<String>,
    pub first_day: NaiveDate,
    pub election_day: NaiveDate,
    /// Hostile requests in the last 14 days over those in the 14 days before.
    pub ramp_ratio: f64,
}

#[derive(Debug, Clone, Serialize)]
struct TruthCampaign {
    actor: String,
    sources: Vec<String>,
    counties: Vec<String>,
    techniques: Vec<String>,
    first_day: NaiveDate,
    last_day: NaiveDate,
    requests: u64,
    ramp_ratio: f64,
}

const BROWSERS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-S918U) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.6668.81 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:131.0) Gecko/20100101 Firefox/131.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36 Edg/129.0.0.0",
];
const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
const BINGBOT: &str = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)";

const LAST_NAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Nguyen",
    "Walker",
    "Hall",
    "Young",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Adams",
    "O'Brien",
    "D'Angelo",
    "O'Neal",
    "Van Buren",
    "St. John",
    "Smith-Jones",
];
const FIRST_NAMES: &[&str] = &[
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Maria",
    "Jose",
    "Ann Marie",
    "Mary-Kate",
];
const STREETS: &[&str] =
    &["Main St", "Oak Ave", "Maple Dr", "Church St", "Elm St", "Park Rd", "Hillsborough St", "Glenwood Ave"];

const RECON_PATHS: &[&str] = &[
    "/.env",
    "/.git/config",
    "/.git/HEAD",
    "/.svn/entries",
    "/.DS_Store",
    "/wp-login.php",
    "/wp-admin/",
    "/xmlrpc.php",
    "/phpmyadmin/",
    "/pma/",
    "/myadmin/",
    "/admin.php",
    "/administrator/",
    "/admin/config.php",
    "/config.php.bak",
    "/config.inc.php",
    "/web.config",
    "/web.config.bak",
    "/backup.sql",
    "/backup.zip",
    "/db.sql",
    "/dump.sql",
    "/database.sql.gz",
    "/site.tar.gz",
    "/www.zip",
    "/old/",
    "/test/",
    "/dev/",
    "/staging/",
    "/api/v1/users",
    "/api/swagger.json",
    "/swagger-ui.html",
    "/actuator/env",
    "/actuator/health",
    "/server-status",
    "/server-info",
    "/cgi-bin/test.cgi",
    "/cgi-bin/printenv",
    "/shell.php",
    "/cmd.php",
    "/upload.php",
    "/uploads/",
    "/files/",
    "/export/voters.csv",
    "/export/",
    "/reports/",
    "/logs/",
    "/error_log",
    "/debug.log",
    "/info.php",
    "/phpinfo.php",
    "/test.php",
    "/install.php",
    "/setup.php",
    "/console",
    "/manager/html",
    "/jmx-console/",
    "/solr/admin/",
    "/owa/",
    "/remote/login",
    "/vpn/index.html",
    "/global-protect/login.esp",
    "/cfide/administrator/",
    "/elmah.axd",
    "/trace.axd",
    "/.aws/credentials",
    "/.htpasswd",
    "/.htaccess",
    "/id_rsa",
    "/credentials.json",
    "/settings.py",
    "/config.json",
    "/app.config",
];

const SQLI_PAYLOADS: &[&str] = &[
    "Smith' OR '1'='1",
    "Smith' OR 1=1-- -",
    "x' UNION SELECT username,password,3,4 FROM admin_users-- -",
    "1' AND SLEEP(5)-- -",
    "Smith') OR ('a'='a",
    "' UNION ALL SELECT NULL,table_name,NULL FROM information_schema.tables-- -",
    "Smith'; DROP TABLE voters;--",
    "1' AND extractvalue(1,concat(0x7e,(SELECT version())))-- -",
    "' OR EXISTS(SELECT * FROM voters WHERE status='active')-- -",
    "Smith' AND 1=CONVERT(int,(SELECT TOP 1 name FROM sysobjects))--",
    "1 OR 1=1",
    "' WAITFOR DELAY '0:0:5'--",
];

const LEAKED_USERS: &[&str] = &[
    "admin",
    "administrator",
    "elections",
    "clerk",
    "supervisor",
    "jsmith",
    "mjohnson",
    "it-support",
    "webadmin",
    "root",
    "test",
    "guest",
    "registrar",
    "voterreg",
    "operator",
    "backup",
    "sysadmin",
    "helpdesk",
    "kwilliams",
    "dbrown",
    "election.admin",
    "county.clerk",
    "deputy",
    "sos-liaison",
];

/// US Eastern offset in hours on a given local date (daylight time from the second Sunday
/// of March to the first Sunday of November).
fn eastern_offset(d: NaiveDate) -> i64 {
    let nth_sunday = |month: u32, n: u32| -> NaiveDate {
        let first = NaiveDate::from_ymd_opt(d.year(), month, 1).unwrap_or(d);
        let to_sunday = (7 - first.weekday().num_days_from_sunday()) % 7;
        first + Duration::days(i64::from(to_sunday) + 7 * i64::from(n - 1))
    };
    if d >= nth_sunday(3, 2) && d < nth_sunday(11, 1) { -4 } else { -5 }
}

/// Relative US traffic by local hour (sums to ~24).
const HOURLY: [f64; 24] = [
    0.35, 0.2, 0.12, 0.08, 0.08, 0.15, 0.4, 0.75, 1.1, 1.3, 1.4, 1.45, 1.5, 1.45, 1.4, 1.4, 1.4, 1.45, 1.5,
    1.55, 1.5, 1.3, 0.95, 0.6,
];

fn hour_draw(r: &mut Draws) -> u32 {
    let total: f64 = HOURLY.iter().sum();
    let mut x = r.unit() * total;
    for (h, w) in HOURLY.iter().enumerate() {
        if x < *w {
            return h as u32;
        }
        x -= w;
    }
    23
}

fn pick<'a>(r: &mut Draws, items: &[&'a str]) -> &'a str {
    items[r.below(items.len() as u64) as usize]
}

/// Percent-encodes a query value as a browser form does (space as `+`).
fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

struct Line {
    at: NaiveDateTime,
    text: String,
}

struct LogBuf {
    lines: Vec<Line>,
}

impl LogBuf {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        at: NaiveDateTime,
        ip: &str,
        user: &str,
        method: &str,
        target: &str,
        status: u16,
        bytes: u64,
        referer: &str,
        ua: &str,
    ) {
        let off = eastern_offset(at.date());
        let stamp = at.format("%d/%b/%Y:%H:%M:%S");
        let sign = if off < 0 { '-' } else { '+' };
        let text = format!(
            "{ip} - {user} [{stamp} {sign}{:02}00] \"{method} {target} HTTP/1.1\" {status} {bytes} \"{referer}\" \"{ua}\"",
            off.abs()
        );
        self.lines.push(Line { at, text });
    }
}

fn residential_ip(r: &mut Draws) -> String {
    const FIRST: &[u8] = &[24, 47, 65, 66, 68, 71, 72, 73, 75, 76, 96, 97, 98, 99, 107, 108, 174];
    let a = FIRST[r.below(FIRST.len() as u64) as usize];
    format!("{a}.{}.{}.{}", r.below(256), r.below(256), 1 + r.below(254))
}

fn at_time(day: NaiveDate, hour: u32, r: &mut Draws) -> NaiveDateTime {
    day.and_hms_opt(hour, r.below(60) as u32, r.below(60) as u32).unwrap_or_default()
}

/// Writes the scenario's logs and ground truth into `out`.
pub fn generate(s: &InfraScenario, out: &Path) -> Result<InfraWritten, SimulateError> {
    if s.counties.is_empty() || s.days < 28 {
        return Err(SimulateError::Invalid(
            "infra scenario needs at least one county and 28 days (the ramp-up test compares the last two weeks with earlier ones)".into(),
        ));
    }
    let io = |p: &Path| {
        let p = p.to_owned();
        move |e| SimulateError::Io { path: p.clone(), source: e }
    };
    std::fs::create_dir_all(out).map_err(io(out))?;
    let first_day = s.election_day - Duration::days(i64::from(s.days) - 1);
    let actor_net = format!("45.{}.{}", 128 + s.seed % 64, 10 + s.seed % 200);
    let actor_ips: Vec<String> = [23u32, 71, 142].iter().map(|h| format!("{actor_net}.{h}")).collect();
    let targeted: Vec<String> = s.counties.iter().take(s.targeted).cloned().collect();

    let mut files = Vec::new();
    let mut lines_total = 0u64;
    let mut hostile_total = 0u64;
    let mut truth_rows: Vec<(String, String, String, u64, NaiveDateTime, NaiveDateTime)> = Vec::new();
    let mut last14 = 0u64;
    let mut prev14 = 0u64;

    for (ci, county) in s.counties.iter().enumerate() {
        let dir = out.join(county);
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let mut portal = LogBuf { lines: Vec::new() };
        let mut results = LogBuf { lines: Vec::new() };
        let slug = county.to_ascii_lowercase().replace(' ', "-");
        let host = format!("https://vote.{slug}.gov");
        for d in 0..s.days {
            let day = first_day + Duration::days(i64::from(d));
            let mut r = Draws::new(s.seed, (ci as u64) << 32 | u64::from(d), 71);
            let to_election = (s.election_day - day).num_days();
            // Interest grows toward the election: x1 far out, x4 in the last days.
            let interest = 1.0 + 3.0 * (-(to_election as f64) / 10.0).exp();
            let weekday = if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) { 0.7 } else { 1.0 };
            let mean = f64::from(s.visitors_per_day) * interest * weekday;
            let visitors = (mean * (0.85 + 0.3 * r.unit())).round() as u64;
            for _ in 0..visitors {
                visitor_session(&mut portal, &mut r, day, &host);
            }
            // Results site: a trickle before, a flood of refreshes on election night.
            let result_visitors =
                if to_election == 0 { visitors * 3 } else { (f64::from(s.visitors_per_day) * 0.1) as u64 };
            for _ in 0..result_visitors {
                results_session(&mut results, &mut r, day, to_election == 0);
            }
            crawler(&mut portal, &mut r, day, "66.249.66", GOOGLEBOT, 60);
            crawler(&mut results, &mut r, day, "157.55.39", BINGBOT, 25);
            if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
                staff_logins(&mut portal, &mut r, day, ci);
            }
            if ci < s.targeted {
                let before = portal.lines.len();
                let groups = actor_day(&mut portal, &mut r, s, day, d, &actor_ips, &host);
                let n = (portal.lines.len() - before) as u64;
                hostile_total += n;
                if to_election < 14 {
                    last14 += n;
                } else if to_election < 28 {
                    prev14 += n;
                }
                for (technique, ip, count, first, last) in groups {
                    truth_rows.push((technique, ip, county.clone(), count, first, last));
                }
            }
        }
        for (name, mut buf) in [("portal.log", portal), ("results.log", results)] {
            buf.lines.sort_by_key(|l| l.at);
            let path = dir.join(name);
            let f = File::create(&path).map_err(io(&path))?;
            let mut w = BufWriter::with_capacity(1 << 20, f);
            for l in &buf.lines {
                writeln!(w, "{}", l.text).map_err(io(&path))?;
            }
            w.flush().map_err(io(&path))?;
            lines_total += buf.lines.len() as u64;
            files.push(path);
        }
    }

    // Ground truth: one row per (technique, source, county), merged over days.
    let mut merged: std::collections::BTreeMap<
        (String, String, String),
        (u64, NaiveDateTime, NaiveDateTime),
    > = Default::default();
    for (t, ip, c, n, first, last) in truth_rows {
        let e = merged.entry((t, ip, c)).or_insert((0, first, last));
        e.0 += n;
        e.1 = e.1.min(first);
        e.2 = e.2.max(last);
    }
    let truth_path = out.join("truth.csv");
    let mut w = csv::Writer::from_path(&truth_path).map_err(|e| SimulateError::Invalid(e.to_string()))?;
    let csv_err = |e: csv::Error| SimulateError::Invalid(format!("{}: {e}", truth_path.display()));
    w.write_record(["actor", "technique", "source", "jurisdiction", "requests", "first_seen", "last_seen"])
        .map_err(csv_err)?;
    let mut techniques: Vec<String> = Vec::new();
    for ((t, ip, c), (n, first, last)) in &merged {
        if !techniques.contains(t) {
            techniques.push(t.clone());
        }
        w.write_record([
            "actor-1",
            t,
            ip,
            c,
            &n.to_string(),
            &first.format("%Y-%m-%dT%H:%M:%S").to_string(),
            &last.format("%Y-%m-%dT%H:%M:%S").to_string(),
        ])
        .map_err(csv_err)?;
    }
    w.flush().map_err(io(&truth_path))?;
    files.push(truth_path);
    let ramp_ratio = if prev14 > 0 { last14 as f64 / prev14 as f64 } else { f64::INFINITY };
    let campaign = TruthCampaign {
        actor: "actor-1".into(),
        sources: actor_ips.clone(),
        counties: targeted.clone(),
        techniques,
        first_day,
        last_day: s.election_day,
        requests: hostile_total,
        ramp_ratio,
    };
    let json_path = out.join("truth.json");
    let text = serde_json::to_string_pretty(&campaign).map_err(|e| SimulateError::Invalid(e.to_string()))?;
    std::fs::write(&json_path, text).map_err(io(&json_path))?;
    files.push(json_path);
    Ok(InfraWritten {
        files,
        lines: lines_total,
        hostile_lines: hostile_total,
        actor_sources: actor_ips,
        targeted,
        first_day,
        election_day: s.election_day,
        ramp_ratio,
    })
}

fn visitor_session(buf: &mut LogBuf, r: &mut Draws, day: NaiveDate, host: &str) {
    let ip = residential_ip(r);
    let ua = pick(r, BROWSERS);
    let mut t = at_time(day, hour_draw(r), r);
    let mut step =
        |buf: &mut LogBuf, r: &mut Draws, method: &str, target: &str, status: u16, referer: &str| {
            let bytes = if status == 200 { 1_500 + r.below(30_000) } else { 200 + r.below(300) };
            buf.push(t, &ip, "-", method, target, status, bytes, referer, ua);
            t += Duration::seconds(1 + r.below(40) as i64);
        };
    step(buf, r, "GET", "/", 200, "https://www.google.com/");
    step(buf, r, "GET", "/static/site.css", 200, &format!("{host}/"));
    step(buf, r, "GET", "/static/app.js", 200, &format!("{host}/"));
    // 1–6 further pages, geometric.
    let mut pages = 1;
    while pages < 6 && r.chance(0.45) {
        pages += 1;
    }
    for _ in 0..pages {
        let x = r.unit();
        if x < 0.5 {
            let q = format!(
                "/lookup?last_name={}&first_name={}&dob={}-{:02}-{:02}&county=",
                form_encode(pick(r, LAST_NAMES)),
                form_encode(pick(r, FIRST_NAMES)),
                1940 + r.below(66),
                1 + r.below(12),
                1 + r.below(28)
            );
            step(buf, r, "GET", &q, 200, &format!("{host}/"));
        } else if x < 0.75 {
            let q = format!(
                "/polling-place?address={}&zip=27{:03}",
                form_encode(&format!("{} {}", 1 + r.below(9000), pick(r, STREETS))),
                r.below(1000)
            );
            step(buf, r, "GET", &q, 200, &format!("{host}/"));
        } else if x < 0.85 {
            step(buf, r, "GET", "/absentee/request", 200, &format!("{host}/"));
            if r.chance(0.3) {
                step(buf, r, "POST", "/absentee/request", 302, &format!("{host}/absentee/request"));
                step(buf, r, "GET", "/absentee/confirmation", 200, &format!("{host}/absentee/request"));
            }
        } else if x < 0.95 {
            let page = pick(r, &["/sample-ballot", "/early-voting", "/faq", "/contact", "/candidates"]);
            step(buf, r, "GET", page, 200, &format!("{host}/"));
        } else {
            // A mistyped or stale link.
            let page =
                pick(r, &["/earlyvoting", "/polling_place", "/sample-ballot.pdf", "/results2020", "/vote"]);
            step(buf, r, "GET", page, 404, &format!("{host}/"));
        }
    }
}

fn results_session(buf: &mut LogBuf, r: &mut Draws, day: NaiveDate, election_night: bool) {
    let ip = residential_ip(r);
    let ua = pick(r, BROWSERS);
    let hour = if election_night { 19 + r.below(5) as u32 } else { hour_draw(r) };
    let mut t = at_time(day, hour, r);
    buf.push(t, &ip, "-", "GET", "/results/", 200, 8_000 + r.below(4_000), "-", ua);
    // The results page refreshes its figures every 30 s while it is open.
    let refreshes = if election_night { 2 + r.below(40) } else { r.below(3) };
    for _ in 0..refreshes {
        t += Duration::seconds(30);
        let q = format!("/results/api/contest?id={}&county=all", 1 + r.below(12));
        buf.push(t, &ip, "-", "GET", &q, 200, 2_000 + r.below(2_000), "-", ua);
    }
}

fn crawler(buf: &mut LogBuf, r: &mut Draws, day: NaiveDate, net: &str, ua: &str, pages: u64) {
    let ip = format!("{net}.{}", 1 + r.below(200));
    let mut t = at_time(day, r.below(24) as u32, r);
    for i in 0..pages {
        let (target, status) = match i % 10 {
            0 => ("/".to_owned(), 200),
            9 if r.chance(0.2) => (format!("/news/2020/{}", r.below(40)), 404),
            _ => (format!("/{}/{}", pick(r, &["news", "precincts", "candidates", "faq"]), r.below(80)), 200),
        };
        buf.push(t, &ip, "-", "GET", &target, status, 3_000 + r.below(20_000), "-", ua);
        t += Duration::seconds(5 + r.below(60) as i64);
    }
}

fn staff_logins(buf: &mut LogBuf, r: &mut Draws, day: NaiveDate, county: usize) {
    let staff = 2 + (county as u64 % 3);
    for s in 0..staff {
        if !r.chance(0.8) {
            continue;
        }
        let ip = format!("10.{}.0.{}", 20 + county, 10 + s);
        let ua = BROWSERS[s as usize % BROWSERS.len()];
        let mut t = at_time(day, 8 + r.below(2) as u32, r);
        let user = format!("staff{s}");
        if r.chance(0.1) {
            buf.push(t, &ip, &user, "GET", "/admin/", 401, 512, "-", ua);
            t += Duration::seconds(8 + r.below(20) as i64);
        }
        buf.push(t, &ip, &user, "GET", "/admin/", 200, 4_000 + r.below(2_000), "-", ua);
        for _ in 0..(3 + r.below(10)) {
            t += Duration::seconds(20 + r.below(600) as i64);
            let page = pick(r, &["/admin/", "/admin/requests", "/admin/precincts", "/admin/reports"]);
            buf.push(t, &ip, &user, "GET", page, 200, 5_000 + r.below(9_000), "-", ua);
        }
    }
}

type Group = (String, String, u64, NaiveDateTime, NaiveDateTime);

/// One day of the actor against one county's portal: nothing on most early days, more
/// and larger bursts as the election nears.
fn actor_day(
    buf: &mut LogBuf,
    r: &mut Draws,
    s: &InfraScenario,
    day: NaiveDate,
    d: u32,
    ips: &[String],
    host: &str,
) -> Vec<Group> {
    let progress = f64::from(d) / f64::from(s.days.max(1));
    let p_active = 0.15 + 0.8 * progress.powi(2);
    if !r.chance(p_active) {
        return Vec::new();
    }
    let scale = s.attack_intensity * (0.5 + 4.5 * progress.powi(3));
    let mut groups = Vec::new();
    let ip = ips[r.below(ips.len() as u64) as usize].clone();
    // The actor's office hours: 09:00–18:00 Moscow = 02:00–11:00 US Eastern.
    let mut t = at_time(day, 2 + r.below(9) as u32, r);
    let ua = BROWSERS[0];
    let x = r.unit();
    if x < 0.3 || d == 0 {
        let n = ((60.0 + 40.0 * r.unit()) * scale.max(1.0)).round() as usize;
        let first = t;
        for i in 0..n {
            let p = RECON_PATHS[(i + r.below(RECON_PATHS.len() as u64) as usize) % RECON_PATHS.len()];
            let status = if p == "/.env" || p.starts_with("/admin") { 403 } else { 404 };
            buf.push(t, &ip, "-", "GET", p, status, 150 + r.below(200), "-", ua);
            t += Duration::milliseconds(300 + r.below(1500) as i64);
        }
        groups.push(("scanning".to_owned(), ip.clone(), n as u64, first, t));
    }
    if x >= 0.3 || r.chance(0.3) {
        let n = ((8.0 + 12.0 * r.unit()) * scale).round().max(3.0) as usize;
        let first = t;
        for _ in 0..n {
            let payload = pick(r, SQLI_PAYLOADS);
            let q = if r.chance(0.5) {
                format!("/lookup?last_name={}&first_name=John&dob=1970-01-01&county=", form_encode(payload))
            } else {
                format!("/lookup?last_name=Smith&first_name=John&dob={}&county=", form_encode(payload))
            };
            let status = if r.chance(0.2) { 500 } else { 200 };
            buf.push(t, &ip, "-", "GET", &q, status, 400 + r.below(3000), &format!("{host}/"), ua);
            t += Duration::seconds(2 + r.below(20) as i64);
        }
        groups.push(("sql_injection".to_owned(), ip.clone(), n as u64, first, t));
    }
    if r.chance(0.35 + 0.4 * progress) {
        let n = ((20.0 + 20.0 * r.unit()) * scale.max(1.0)).round() as usize;
        let first = t;
        for i in 0..n {
            // The admin area sits behind HTTP basic authentication, so the access log
            // names the user each attempt tried.
            let user = LEAKED_USERS[(i + r.below(7) as usize) % LEAKED_USERS.len()];
            buf.push(t, &ip, user, "GET", "/admin/", 401, 512, "-", ua);
            t += Duration::seconds(1 + r.below(4) as i64);
        }
        groups.push(("credential_stuffing".to_owned(), ip, n as u64, first, t));
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(seed: u64) -> InfraScenario {
        let mut s = InfraScenario::new(seed, vec!["WAKE".into(), "DURHAM".into(), "ORANGE".into()]);
        s.visitors_per_day = 20;
        s.days = 35;
        s
    }

    #[test]
    fn same_seed_same_logs_and_ramp_up_in_truth() {
        let a = tempdir("a");
        let b = tempdir("b");
        let wa = generate(&scenario(7), &a).expect("generate a");
        let wb = generate(&scenario(7), &b).expect("generate b");
        assert_eq!(wa.lines, wb.lines);
        for file in ["WAKE/portal.log", "DURHAM/results.log", "ORANGE/portal.log", "truth.csv", "truth.json"]
        {
            let fa = std::fs::read(a.join(file)).expect("read");
            assert_eq!(fa, std::fs::read(b.join(file)).expect("read"), "{file} differs between runs");
        }
        assert!(wa.hostile_lines > 0);
        assert!(wa.ramp_ratio > 1.5, "ramp ratio {}", wa.ramp_ratio);
        assert_eq!(wa.targeted, vec!["WAKE".to_owned(), "DURHAM".to_owned()]);
        // Untargeted county: no actor address in either of its logs.
        for log in ["portal.log", "results.log"] {
            let orange = std::fs::read_to_string(a.join("ORANGE").join(log)).expect("read");
            assert!(!wa.actor_sources.iter().any(|ip| orange.contains(ip.as_str())), "ORANGE/{log}");
        }
        // Lines are in local-clock order within every file (logs are appended as requests
        // finish, and the stamp is the office's local time).
        for county in ["WAKE", "DURHAM", "ORANGE"] {
            for log in ["portal.log", "results.log"] {
                let text = std::fs::read_to_string(a.join(county).join(log)).expect("read");
                let stamps: Vec<NaiveDateTime> = text.lines().map(local_stamp).collect();
                assert!(stamps.len() > 100, "{county}/{log}: {} lines", stamps.len());
                assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "{county}/{log} is out of order");
            }
        }
    }

    /// The local time of a combined-format line (`[10/Oct/2024:13:55:36 -0400]`).
    fn local_stamp(line: &str) -> NaiveDateTime {
        let open = line.find('[').expect("a [stamp]");
        let stamp = &line[open + 1..open + 21];
        NaiveDateTime::parse_from_str(stamp, "%d/%b/%Y:%H:%M:%S").expect("a combined-format stamp")
    }

    #[test]
    fn eastern_offset_follows_daylight_time() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).expect("date");
        assert_eq!(eastern_offset(d(2024, 11, 2)), -4);
        assert_eq!(eastern_offset(d(2024, 11, 3)), -5);
        assert_eq!(eastern_offset(d(2024, 3, 9)), -5);
        assert_eq!(eastern_offset(d(2024, 3, 10)), -4);
    }

    fn tempdir(tag: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("scrutineer-sim-infra-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        p
    }
}
