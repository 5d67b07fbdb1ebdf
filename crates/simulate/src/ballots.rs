//! Mail-ballot scenarios: a voter roll, ballot issuance, envelope returns and poll-book
//! check-ins, with every injected irregularity written to `truth.csv` and the legitimate
//! look-alikes to `lookalikes.csv`.
//!
//! Calibration (see the crate README for the sources):
//! - return curve: cumulative accepted mail ballots in North Carolina's 2020 absentee file
//!   (daily aggregates, 30 Sep – 2 Nov 2020), 2 Nov taken as 96.6% of on-time returns;
//! - return share 70% of issued (California 2020: 15.4 M of about 22 M mailed);
//! - rejections 0.8% of returns (EAVS 2020: 560,177 of 70,550,699), by reason as in
//!   California 2020 (signature 57.7%, late 17.4%, unsigned 17.0%, already voted 6.6%);
//! - cured 0.54%, spoiled-and-replaced 1.06% (NC 2020: 5,176 ACCEPTED - CURED and 10,182
//!   SPOILED of 961,427 mail ballots on 2 Nov); NC status mix from the same file;
//! - where voters live (NC layout): counties weighted by their 2020 mail ballots.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::SimulateError;
use crate::nc_counties::NC_COUNTIES;
use crate::rng::Draws;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputLayout {
    Generic,
    Nc,
}

#[derive(Debug, Clone)]
pub struct BallotScenario {
    pub seed: u64,
    pub voters: u64,
    pub layout: OutputLayout,
    /// Share of active voters mailed a ballot.
    pub mail_share: f64,
    /// Items injected per rule kind (generic layout).
    pub inject: u64,
    /// Legitimate look-alikes added per kind on top of the natural ones.
    pub lookalikes: u64,
    /// Share of non-mail active voters who vote in person (NC: one-stop).
    pub in_person_share: f64,
}

impl Default for BallotScenario {
    fn default() -> Self {
        BallotScenario {
            seed: 1,
            voters: 10_000,
            layout: OutputLayout::Generic,
            mail_share: 0.9,
            inject: 10,
            lookalikes: 10,
            in_person_share: 0.5,
        }
    }
}

/// What a run wrote.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Written {
    pub files: Vec<PathBuf>,
    pub voters: u64,
    pub envelopes: u64,
    pub receipts: u64,
    pub checkins: u64,
    pub injected: u64,
    pub deadline: String,
    pub election_day: String,
}

/// 2020-11-03, the election day of every scenario (days since 1970).
const ELECTION_DAY: i64 = 18_569;
/// Deadline: 19:30 on election day.
const DEADLINE_SECS: i64 = ELECTION_DAY * 86_400 + 19 * 3600 + 30 * 60;

/// (days before election day, cumulative share of on-time returns).
const RETURN_CURVE: [(f64, f64); 13] = [
    (60.0, 0.0),
    (34.0, 0.289),
    (33.0, 0.314),
    (29.0, 0.370),
    (24.0, 0.479),
    (19.0, 0.550),
    (15.0, 0.627),
    (12.0, 0.714),
    (9.0, 0.795),
    (6.0, 0.844),
    (3.0, 0.935),
    (1.0, 0.966),
    (0.0, 1.0),
];

const RETURN_SHARE: f64 = 0.70;
const REJECT_SHARE: f64 = 0.008;
const CURED_SHARE: f64 = 0.0054;
const PENDING_SHARE: f64 = 0.002;
const REPLACED_SHARE: f64 = 0.0106;
/// Returns handed back on the day of issue (in-person absentee at the election office).
const SAME_DAY_SHARE: f64 = 0.005;
const SURRENDER_SHARE: f64 = 0.04;
const REJECT_REASONS: [(&str, f64); 5] = [
    ("signature mismatch", 0.577),
    ("late", 0.174),
    ("unsigned", 0.170),
    ("already voted", 0.066),
    ("other", 0.013),
];
/// NC statuses of returned mail ballots other than ACCEPTED (2 Nov 2020 shares of returned).
const NC_OTHER_STATUSES: [(&str, f64); 7] = [
    ("PENDING CURE", 0.0070),
    ("WITNESS INFO INCOMPLETE", 0.0052),
    ("RETURNED UNDELIVERABLE", 0.0013),
    ("PENDING", 0.0002),
    ("CONFLICT", 0.000033),
    ("DUPLICATE", 0.000029),
    ("SIGNATURE DIFFERENT", 0.000015),
];
const STREETS: [&str; 16] = [
    "MAIN", "OAK", "PINE", "MAPLE", "CEDAR", "ELM", "WALNUT", "HICKORY", "DOGWOOD", "MAGNOLIA", "WILLOW",
    "CHURCH", "MILL", "RIDGE", "LAKE", "SPRING",
];

fn civil(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

fn iso_date(day: i64) -> String {
    let (y, m, d) = civil(day);
    format!("{y:04}-{m:02}-{d:02}")
}

fn us_date(day: i64) -> String {
    let (y, m, d) = civil(day);
    format!("{m:02}/{d:02}/{y:04}")
}

fn iso_time(t: i64) -> String {
    let s = t.rem_euclid(86_400);
    format!("{}T{:02}:{:02}:{:02}", iso_date(t.div_euclid(86_400)), s / 3600, s / 60 % 60, s % 60)
}

/// Where a household lives.
struct Place {
    county: usize,
    precinct: u64,
    zip: u64,
    address: String,
    city: String,
}

struct Geo {
    cum: Vec<f64>,
    names: Vec<String>,
    precincts: Vec<u64>,
}

impl Geo {
    fn new(layout: OutputLayout, voters: u64) -> Geo {
        let weights: Vec<(String, f64)> = match layout {
            OutputLayout::Nc => NC_COUNTIES.iter().map(|(n, w)| ((*n).to_owned(), *w as f64)).collect(),
            OutputLayout::Generic => {
                (0..58).map(|c| (format!("COUNTY{c:02}"), 1.0 + (c % 7) as f64)).collect()
            }
        };
        let total: f64 = weights.iter().map(|w| w.1).sum();
        let mut acc = 0.0;
        let cum = weights.iter().map(|w| {
            acc += w.1 / total;
            acc
        });
        let cum: Vec<f64> = cum.collect();
        let precincts =
            weights.iter().map(|w| ((voters as f64 * w.1 / total) / 1500.0).ceil().max(1.0) as u64).collect();
        Geo { cum, names: weights.into_iter().map(|w| w.0).collect(), precincts }
    }

    fn place(&self, seed: u64, household: u64) -> Place {
        let mut d = Draws::new(seed, household, 1);
        let u = d.unit();
        let county = self.cum.partition_point(|&c| c < u).min(self.cum.len() - 1);
        let precinct = d.below(self.precincts[county]);
        let zip = 27_000 + (county as u64 * 37 + precinct / 4) % 1_999;
        let street = STREETS[d.below(STREETS.len() as u64) as usize];
        let address = format!("{} {} ST", 100 + household % 9_000, street);
        let city = format!("{} CITY", self.names[county]);
        Place { county, precinct, zip, address, city }
    }

    fn precinct_name(&self, p: &Place) -> String {
        format!("{}-{:03}", self.names[p.county], p.precinct)
    }

    fn style(&self, p: &Place) -> String {
        format!("BS-{:02}-{:03}", p.county, p.precinct / 3)
    }
}

fn return_day(u: f64) -> f64 {
    for w in RETURN_CURVE.windows(2) {
        let ((d0, c0), (d1, c1)) = (w[0], w[1]);
        if u <= c1 {
            let f = if c1 > c0 { (u - c0) / (c1 - c0) } else { 0.0 };
            return (ELECTION_DAY as f64) - (d0 + f * (d1 - d0));
        }
    }
    ELECTION_DAY as f64
}

fn pick<'a>(d: &mut Draws, table: &[(&'a str, f64)]) -> &'a str {
    let total: f64 = table.iter().map(|t| t.1).sum();
    let mut u = d.unit() * total;
    for (name, w) in table {
        if u < *w {
            return name;
        }
        u -= w;
    }
    table[table.len() - 1].0
}

/// One voter's rows in every file.
#[derive(Default)]
struct Chunk {
    roll: Vec<u8>,
    issued: Vec<u8>,
    returns: Vec<u8>,
    checkins: Vec<u8>,
    envelopes: u64,
    receipts: u64,
    checkin_count: u64,
}

struct Ctx<'a> {
    s: &'a BallotScenario,
    geo: Geo,
}

impl Ctx<'_> {
    fn voter_id(&self, i: u64) -> String {
        match self.s.layout {
            OutputLayout::Generic => format!("V{i:09}"),
            OutputLayout::Nc => {
                format!("{}{}", ["AA", "BN", "CW", "DL", "EH", "FT"][(i % 6) as usize], 100_000 + i)
            }
        }
    }

    fn channel(&self, d: &mut Draws, p: &Place) -> String {
        let u = d.unit();
        if u < 0.55 {
            "mail".into()
        } else if u < 0.95 {
            format!("DB-{:02}-{:02}", p.county, p.precinct / 10)
        } else {
            "in_person".into()
        }
    }

    fn time_of_day(d: &mut Draws) -> i64 {
        8 * 3600 + d.below(12 * 3600) as i64
    }

    /// The base population: voter `i` and everything that happens to them.
    fn voter(&self, i: u64, c: &mut Chunk) {
        let s = self.s;
        let mut d = Draws::new(s.seed, i, 2);
        let household = i * 3 / 5;
        let p = self.geo.place(s.seed, household);
        let u = d.unit();
        let status = if u < 0.88 {
            "active"
        } else if u < 0.98 {
            "inactive"
        } else {
            "removed"
        };
        let id = self.voter_id(i);
        let birth = 1930 + d.below(75);
        let reg = ELECTION_DAY - 30 - d.below(365 * 30) as i64;
        let precinct = self.geo.precinct_name(&p);
        let style = self.geo.style(&p);
        match s.layout {
            OutputLayout::Generic => {
                let _ = writeln!(
                    c.roll,
                    "{id},{status},{precinct},{style},\"{}, {} NC {}\",{birth},{},{}",
                    p.address,
                    p.city,
                    p.zip,
                    iso_date(reg),
                    self.geo.names[p.county]
                );
            }
            OutputLayout::Nc => {
                let st = status.to_uppercase();
                let _ = writeln!(
                    c.roll,
                    "{}\t{}\t{id}\tDOE\tPAT\t{st}\t{}\t{}\tNC\t{}\tUNA\t{birth}\t{}\t{precinct}",
                    self.geo.names[p.county],
                    i,
                    p.address,
                    p.city,
                    p.zip,
                    us_date(reg)
                );
            }
        }
        if status != "active" {
            return;
        }
        if !d.chance(s.mail_share) {
            if d.chance(s.in_person_share) {
                let early = s.layout == OutputLayout::Nc || d.chance(0.4);
                let day = if early { ELECTION_DAY - 3 - d.below(15) as i64 } else { ELECTION_DAY };
                self.checkin(c, &id, &p, day * 86_400 + Self::time_of_day(&mut d), i);
            }
            return;
        }
        let first_issue = ELECTION_DAY - 45 - d.below(15) as i64;
        let replaced = d.chance(REPLACED_SHARE);
        let mut issue = first_issue;
        if replaced {
            // First envelope spoiled (lost, damaged): never counted; a replacement follows.
            self.issue(c, &id, &p, &style, 1, issue, Some(issue + 5 + d.below(10) as i64), i);
            issue += 10 + d.below(10) as i64;
        }
        let env = if replaced { 2 } else { 1 };
        self.issue(c, &id, &p, &style, env, issue, None, i);
        if !d.chance(RETURN_SHARE) {
            // Unreturned; some of these voters surrender the ballot at the polls and vote there.
            if d.chance(SURRENDER_SHARE) {
                self.checkin(c, &id, &p, ELECTION_DAY * 86_400 + Self::time_of_day(&mut d), i);
            }
            return;
        }
        // Most returns take the mail's two days at least; a few voters are issued their
        // ballot at the office and hand it back the same day.
        let same_day = d.chance(SAME_DAY_SHARE);
        // The curve's last step (the day before the election to election day) is election
        // day itself: those returns arrive until the deadline.
        let curve_day = return_day(d.unit());
        let curve_day =
            if curve_day > (ELECTION_DAY - 1) as f64 { ELECTION_DAY } else { curve_day.floor() as i64 };
        let by_mail = curve_day.max(issue + 2).min(ELECTION_DAY);
        let day = if same_day { issue } else { by_mail };
        let mut at = day * 86_400 + Self::time_of_day(&mut d);
        if at > DEADLINE_SECS {
            // Election-day returns after the deadline would be late: those land in the last
            // half hour instead, up to the deadline itself (on time: late is after it).
            at = DEADLINE_SECS - d.below(1_800) as i64;
        }
        let u = d.unit();
        let (outcome, reason) = if u < REJECT_SHARE {
            let r = pick(&mut d, &REJECT_REASONS);
            match r {
                "late" => {
                    // Arrives after the deadline and is rejected: the system working.
                    at = DEADLINE_SECS + 3600 + d.below(6 * 86_400) as i64;
                }
                "already voted" => {
                    // Voted in person first; the mail ballot is then rejected.
                    self.checkin(
                        c,
                        &id,
                        &p,
                        (ELECTION_DAY - 3 - d.below(10) as i64) * 86_400 + Self::time_of_day(&mut d),
                        i,
                    );
                }
                _ => {}
            }
            ("rejected", r)
        } else if u < REJECT_SHARE + CURED_SHARE {
            ("cured", "")
        } else if u < REJECT_SHARE + CURED_SHARE + PENDING_SHARE {
            ("pending", "")
        } else {
            ("accepted", "")
        };
        self.receipt(c, &id, &p, env, issue, at, outcome, reason, &mut d);
        if outcome == "rejected" && reason != "already voted" && reason != "late" && d.chance(0.3) {
            // Rejected-then-in-person: the voter is told and votes at the polls.
            self.checkin(c, &id, &p, ELECTION_DAY * 86_400 + Self::time_of_day(&mut d), i);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn issue(
        &self,
        c: &mut Chunk,
        id: &str,
        p: &Place,
        style: &str,
        env: u32,
        day: i64,
        spoiled_on: Option<i64>,
        i: u64,
    ) {
        c.envelopes += 1;
        let env_id = format!("E{}-{env}", &id[1..]);
        match self.s.layout {
            OutputLayout::Generic => {
                // Barcode id 00, service type 700, mailer id 901234, a 9-digit serial unique per
                // envelope (from the voter number, also for injected voters), routing ZIP.
                let n = id[1..].parse::<u64>().unwrap_or(i);
                let imb = format!("00700901234{:09}{}", (n * 2 + env as u64) % 1_000_000_000, p.zip);
                let _ = writeln!(
                    c.issued,
                    "{env_id},{id},{style},{},\"{}, {} NC {}\",{imb}",
                    iso_date(day),
                    p.address,
                    p.city,
                    p.zip
                );
            }
            OutputLayout::Nc => {
                let (rtn, status) = match spoiled_on {
                    Some(s) => (us_date(s), "SPOILED"),
                    None => (String::new(), ""),
                };
                // Unreturned ballots appear once with an empty status; spoiled ones with theirs.
                if spoiled_on.is_some() || !self.will_be_returned_nc(i, env) {
                    self.nc_row(c, id, p, "MAIL", day, &rtn, status, "", i);
                }
            }
        }
    }

    /// In NC output the return row carries the issue as well; the issue row is written only
    /// for envelopes with no return. Deterministic re-draw of the voter's return decision.
    fn will_be_returned_nc(&self, i: u64, _env: u32) -> bool {
        // Replay the draws of `voter` up to the return decision.
        let s = self.s;
        let mut d = Draws::new(s.seed, i, 2);
        d.unit(); // status
        d.below(75);
        d.below(365 * 30);
        d.unit(); // mail share
        d.below(15);
        let replaced = d.chance(REPLACED_SHARE);
        if replaced {
            d.below(10);
            d.below(10);
        }
        d.chance(RETURN_SHARE)
    }

    #[allow(clippy::too_many_arguments)]
    fn receipt(
        &self,
        c: &mut Chunk,
        id: &str,
        p: &Place,
        env: u32,
        issue: i64,
        at: i64,
        outcome: &str,
        reason: &str,
        d: &mut Draws,
    ) {
        c.receipts += 1;
        match self.s.layout {
            OutputLayout::Generic => {
                let ch = self.channel(d, p);
                let _ = writeln!(c.returns, "E{}-{env},{},{ch},{outcome},{reason}", &id[1..], iso_time(at));
            }
            OutputLayout::Nc => {
                let day = at.div_euclid(86_400);
                let status = match outcome {
                    "accepted" => {
                        let u = d.unit();
                        let other_total: f64 = NC_OTHER_STATUSES.iter().map(|t| t.1).sum();
                        if u < other_total { pick(d, &NC_OTHER_STATUSES) } else { "ACCEPTED" }
                    }
                    "cured" => {
                        // Status history: first incomplete, then accepted after the cure.
                        self.nc_row(c, id, p, "MAIL", issue, &us_date(day), "WITNESS INFO INCOMPLETE", "", 0);
                        "ACCEPTED - CURED"
                    }
                    "pending" => "PENDING",
                    _ => match reason {
                        "signature mismatch" => "SIGNATURE DIFFERENT",
                        "already voted" => "CONFLICT",
                        "late" => "RETURNED AFTER DEADLINE",
                        _ => "WITNESS INFO INCOMPLETE",
                    },
                };
                // A cure changes the status, not the return date: both rows are one receipt.
                self.nc_row(c, id, p, "MAIL", issue, &us_date(day), status, "", 0);
            }
        }
    }

    fn checkin(&self, c: &mut Chunk, id: &str, p: &Place, at: i64, i: u64) {
        c.checkin_count += 1;
        let site = format!("{} SITE {}", self.geo.names[p.county], p.precinct % 7);
        match self.s.layout {
            OutputLayout::Generic => {
                let _ = writeln!(c.checkins, "{id},{},{site}", iso_time(at));
            }
            OutputLayout::Nc => {
                let day = at.div_euclid(86_400);
                self.nc_row(c, id, p, "ONE-STOP", day, &us_date(day), "ACCEPTED", &site, i);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn nc_row(
        &self,
        c: &mut Chunk,
        id: &str,
        p: &Place,
        kind: &str,
        send: i64,
        rtn: &str,
        status: &str,
        site: &str,
        _i: u64,
    ) {
        let county = &self.geo.names[p.county];
        let delivery = if kind == "MAIL" { "MAIL" } else { "IN PERSON" };
        let _ = writeln!(
            c.returns,
            "{county},{},{id},DOE,PAT,,WHITE,NL,F,50,{addr},{city},NC,{zip},{addr},{city},NC,{zip},,,,,,,,,11/03/2020,UNA,{precinct},CONGRESSIONAL DISTRICT 1,NC HOUSE DISTRICT 1,NC SENATE DISTRICT 1,{delivery},{kind},UNA,{},{},{rtn},{status},{site},N,",
            &id[2..],
            us_date(send - 3),
            us_date(send),
            addr = p.address,
            city = p.city,
            zip = p.zip,
            precinct = self.geo.precinct_name(p),
        );
    }
}

pub const NC_ABSENTEE_HEADER: &str = "county_desc,voter_reg_num,ncid,voter_last_name,voter_first_name,voter_middle_name,race,ethnicity,gender,age,voter_street_address,voter_city,voter_state,voter_zip,ballot_mail_street_address,ballot_mail_city,ballot_mail_state,ballot_mail_zip,other_mail_addr1,other_mail_addr2,other_city_state_zip,relative_request_name,relative_request_address,relative_request_city,relative_request_state,relative_request_zip,election_dt,voter_party_code,precinct_desc,cong_dist_desc,nc_house_desc,nc_senate_desc,ballot_req_delivery_type,ballot_req_type,ballot_request_party,ballot_req_dt,ballot_send_dt,ballot_rtn_dt,ballot_rtn_status,site_name,sdr,mail_veri_status";
pub const NC_ROLL_HEADER: &str = "county_desc\tvoter_reg_num\tncid\tlast_name\tfirst_name\tvoter_status_desc\tres_street_address\tres_city_desc\tstate_cd\tzip_code\tparty_cd\tbirth_year\tregistr_dt\tprecinct_desc";

struct Out {
    path: PathBuf,
    w: BufWriter<File>,
}

fn create(dir: &Path, name: &str, header: &str) -> Result<Out, SimulateError> {
    let path = dir.join(name);
    let f = File::create(&path).map_err(|source| SimulateError::Io { path: path.clone(), source })?;
    let mut w = BufWriter::with_capacity(1 << 20, f);
    writeln!(w, "{header}").map_err(|source| SimulateError::Io { path: path.clone(), source })?;
    Ok(Out { path, w })
}

impl Out {
    fn put(&mut self, b: &[u8]) -> Result<(), SimulateError> {
        self.w.write_all(b).map_err(|source| SimulateError::Io { path: self.path.clone(), source })
    }
    fn done(mut self) -> Result<PathBuf, SimulateError> {
        self.w.flush().map_err(|source| SimulateError::Io { path: self.path.clone(), source })?;
        Ok(self.path)
    }
}

/// Writes the scenario into `dir`. `progress` gets the number of voters written so far.
pub fn generate(
    s: &BallotScenario,
    dir: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Written, SimulateError> {
    if s.voters == 0 {
        return Err(SimulateError::Invalid("--voters must be at least 1".into()));
    }
    if !(0.0..=1.0).contains(&s.mail_share) {
        return Err(SimulateError::Invalid("--mail-share must be within 0..1".into()));
    }
    std::fs::create_dir_all(dir).map_err(|source| SimulateError::Io { path: dir.to_path_buf(), source })?;
    let ctx = Ctx { s, geo: Geo::new(s.layout, s.voters) };
    let (mut roll, mut issued, mut returns, mut checkins) = match s.layout {
        OutputLayout::Generic => (
            create(
                dir,
                "roll.csv",
                "voter_id,status,precinct,ballot_style,address,birth_year,registration_date,county",
            )?,
            Some(create(dir, "issued.csv", "envelope_id,voter_id,ballot_style,issue_date,address,imb")?),
            create(dir, "returns.csv", "envelope_id,returned_at,channel,outcome,reason")?,
            Some(create(dir, "checkins.csv", "voter_id,checked_in_at,location")?),
        ),
        OutputLayout::Nc => (
            create(dir, "ncvoter.txt", NC_ROLL_HEADER)?,
            None,
            create(dir, "absentee.csv", NC_ABSENTEE_HEADER)?,
            None,
        ),
    };
    let mut written = Written {
        voters: s.voters,
        deadline: iso_time(DEADLINE_SECS),
        election_day: iso_date(ELECTION_DAY),
        ..Written::default()
    };
    const CHUNK: u64 = 50_000;
    let chunks: Vec<u64> = (0..s.voters.div_ceil(CHUNK)).collect();
    for batch in chunks.chunks(rayon::current_num_threads().max(1) * 4) {
        let parts: Vec<Chunk> = batch
            .par_iter()
            .map(|&k| {
                let mut c = Chunk::default();
                for i in k * CHUNK..((k + 1) * CHUNK).min(s.voters) {
                    ctx.voter(i, &mut c);
                }
                c
            })
            .collect();
        for c in parts {
            roll.put(&c.roll)?;
            if let Some(w) = issued.as_mut() {
                w.put(&c.issued)?;
            }
            returns.put(&c.returns)?;
            if let Some(w) = checkins.as_mut() {
                w.put(&c.checkins)?;
            }
            written.envelopes += c.envelopes;
            written.receipts += c.receipts;
            written.checkins += c.checkin_count;
        }
        progress(((batch[batch.len() - 1] + 1) * CHUNK).min(s.voters));
    }
    let mut truth = create(dir, "truth.csv", "kind,envelope_id,voter_id,detail")?;
    let mut look = create(dir, "lookalikes.csv", "kind,envelope_id,voter_id,detail")?;
    if let (OutputLayout::Generic, Some(iw), Some(cw)) = (s.layout, issued.as_mut(), checkins.as_mut()) {
        let mut c = Chunk::default();
        let (t, l) = inject(&ctx, &mut c);
        written.injected = t.lines().count() as u64;
        roll.put(&c.roll)?;
        iw.put(&c.issued)?;
        returns.put(&c.returns)?;
        cw.put(&c.checkins)?;
        truth.put(t.as_bytes())?;
        look.put(l.as_bytes())?;
        written.envelopes += c.envelopes;
        written.receipts += c.receipts;
        written.checkins += c.checkin_count;
    }
    written.files.push(roll.done()?);
    if let Some(w) = issued {
        written.files.push(w.done()?);
    }
    written.files.push(returns.done()?);
    if let Some(w) = checkins {
        written.files.push(w.done()?);
    }
    written.files.push(truth.done()?);
    written.files.push(look.done()?);
    let meta = dir.join("scenario.json");
    let text = serde_json::json!({
        "seed": s.seed, "voters": s.voters, "layout": match s.layout { OutputLayout::Generic => "generic", OutputLayout::Nc => "nc" },
        "mail_share": s.mail_share, "deadline": written.deadline, "election_day": written.election_day,
        "envelopes": written.envelopes, "receipts": written.receipts, "checkins": written.checkins, "injected": written.injected,
    });
    std::fs::write(&meta, format!("{text:#}\n"))
        .map_err(|source| SimulateError::Io { path: meta.clone(), source })?;
    written.files.push(meta);
    Ok(written)
}

/// Injected irregularities and extra look-alikes, on dedicated voters appended to the roll
/// so that each produces exactly the finding it is meant to.
fn inject(ctx: &Ctx<'_>, c: &mut Chunk) -> (String, String) {
    use std::fmt::Write as _;
    let s = ctx.s;
    let mut truth = String::new();
    let mut look = String::new();
    let mut next = s.voters + 1_000_000;
    let e = ELECTION_DAY;
    let mut new_voter = |c: &mut Chunk, status: &str| -> (String, Place, String) {
        let i = next;
        next += 1;
        let p = ctx.geo.place(s.seed, i);
        let id = format!("V{i:09}");
        let style = ctx.geo.style(&p);
        let _ = writeln!(
            c.roll,
            "{id},{status},{},{style},\"{}, {} NC {}\",1970,2010-01-01,{}",
            ctx.geo.precinct_name(&p),
            p.address,
            p.city,
            p.zip,
            ctx.geo.names[p.county]
        );
        (id, p, style)
    };
    let t = |day: i64, h: i64| day * 86_400 + h * 3600;
    for j in 0..s.inject {
        let mut d = Draws::new(s.seed, j, 99);
        // unissued_envelope: a receipt for an envelope nobody issued.
        let x = format!("X{:08}", j);
        let _ = writeln!(c.returns, "{x},{},DB-00-00,accepted,", iso_time(t(e - 5, 10)));
        c.receipts += 1;
        let _ = writeln!(truth, "unissued_envelope,{x},,");
        // voter_not_on_roll.
        let ghost = format!("G{:08}", j);
        let env = format!("EG{:08}", j);
        let _ = writeln!(
            c.issued,
            "{env},{ghost},BS-00-000,{},\"1 NOWHERE RD, NOWHERE NC 27999\",",
            iso_date(e - 40)
        );
        c.envelopes += 1;
        let _ = writeln!(truth, "voter_not_on_roll,{env},{ghost},");
        // voter_not_active.
        let (id, _p, style) = new_voter(c, if j % 2 == 0 { "inactive" } else { "removed" });
        ctx.issue(c, &id, &_p, &style, 1, e - 40, None, 0);
        let _ = writeln!(truth, "voter_not_active,E{}-1,{id},", &id[1..]);
        // duplicate_return: one envelope scanned twice.
        let (id, p, style) = new_voter(c, "active");
        ctx.issue(c, &id, &p, &style, 1, e - 40, None, 0);
        ctx.receipt(c, &id, &p, 1, e - 40, t(e - 20, 11), "accepted", "", &mut d);
        ctx.receipt(c, &id, &p, 1, e - 40, t(e - 18, 15), "rejected", "duplicate", &mut d);
        let _ = writeln!(truth, "duplicate_return,E{}-1,{id},", &id[1..]);
        // double_vote: two accepted envelopes, or an accepted one and a check-in.
        let (id, p, style) = new_voter(c, "active");
        ctx.issue(c, &id, &p, &style, 1, e - 40, None, 0);
        ctx.receipt(c, &id, &p, 1, e - 40, t(e - 20, 11), "accepted", "", &mut d);
        if j % 2 == 0 {
            ctx.issue(c, &id, &p, &style, 2, e - 30, None, 0);
            ctx.receipt(c, &id, &p, 2, e - 30, t(e - 10, 11), "accepted", "", &mut d);
        } else {
            ctx.checkin(c, &id, &p, t(e, 9), 0);
        }
        let _ = writeln!(truth, "double_vote,,{id},");
        // style_mismatch.
        let (id, p, _style) = new_voter(c, "active");
        ctx.issue(c, &id, &p, "BS-WRONG", 1, e - 40, None, 0);
        let _ = writeln!(truth, "style_mismatch,E{}-1,{id},", &id[1..]);
        // return_before_issue.
        let (id, p, style) = new_voter(c, "active");
        ctx.issue(c, &id, &p, &style, 1, e - 20, None, 0);
        ctx.receipt(c, &id, &p, 1, e - 20, t(e - 25, 10), "accepted", "", &mut d);
        let _ = writeln!(truth, "return_before_issue,E{}-1,{id},", &id[1..]);
        // late_return: accepted after the deadline.
        let (id, p, style) = new_voter(c, "active");
        ctx.issue(c, &id, &p, &style, 1, e - 40, None, 0);
        ctx.receipt(c, &id, &p, 1, e - 40, DEADLINE_SECS + 7200, "accepted", "", &mut d);
        let _ = writeln!(truth, "late_return,E{}-1,{id},", &id[1..]);
    }
    for j in 0..s.lookalikes {
        let mut d = Draws::new(s.seed, j, 98);
        // Rejected mail ballot, then an in-person vote.
        let (id, p, style) = new_voter(c, "active");
        ctx.issue(c, &id, &p, &style, 1, e - 40, None, 0);
        ctx.receipt(c, &id, &p, 1, e - 40, t(e - 12, 10), "rejected", "signature mismatch", &mut d);
        ctx.checkin(c, &id, &p, t(e, 10), 0);
        let _ = writeln!(look, "rejected_then_in_person,E{}-1,{id},", &id[1..]);
        // Unreturned ballot surrendered at the polls.
        let (id, p, style) = new_voter(c, "active");
        ctx.issue(c, &id, &p, &style, 1, e - 40, None, 0);
        ctx.checkin(c, &id, &p, t(e, 11), 0);
        let _ = writeln!(look, "surrendered_at_polls,E{}-1,{id},", &id[1..]);
        // Replacement: first envelope never returned, the second accepted.
        let (id, p, style) = new_voter(c, "active");
        ctx.issue(c, &id, &p, &style, 1, e - 40, None, 0);
        ctx.issue(c, &id, &p, &style, 2, e - 25, None, 0);
        ctx.receipt(c, &id, &p, 2, e - 25, t(e - 15, 10), "accepted", "", &mut d);
        let _ = writeln!(look, "replaced,E{}-2,{id},", &id[1..]);
        // Late and rejected.
        let (id, p, style) = new_voter(c, "active");
        ctx.issue(c, &id, &p, &style, 1, e - 40, None, 0);
        ctx.receipt(c, &id, &p, 1, e - 40, DEADLINE_SECS + 86_400, "rejected", "late", &mut d);
        let _ = writeln!(look, "late_and_rejected,E{}-1,{id},", &id[1..]);
        // Accepted minutes before the deadline, and one exactly at it: on time.
        let (id, p, style) = new_voter(c, "active");
        ctx.issue(c, &id, &p, &style, 1, e - 40, None, 0);
        ctx.receipt(
            c,
            &id,
            &p,
            1,
            e - 40,
            DEADLINE_SECS - 60 * (1 + (j % 15) as i64),
            "accepted",
            "",
            &mut d,
        );
        let _ = writeln!(look, "minutes_before_deadline,E{}-1,{id},", &id[1..]);
        let (id, p, style) = new_voter(c, "active");
        ctx.issue(c, &id, &p, &style, 1, e - 40, None, 0);
        ctx.receipt(c, &id, &p, 1, e - 40, DEADLINE_SECS, "accepted", "", &mut d);
        let _ = writeln!(look, "at_the_deadline,E{}-1,{id},", &id[1..]);
        // Issued and handed back the same day, at the election office.
        let (id, p, style) = new_voter(c, "active");
        let office_day = e - 3 - (j % 20) as i64;
        ctx.issue(c, &id, &p, &style, 1, office_day, None, 0);
        ctx.receipt(c, &id, &p, 1, office_day, t(office_day, 16), "accepted", "", &mut d);
        let _ = writeln!(look, "same_day_issue_and_return,E{}-1,{id},", &id[1..]);
        // A ballot cured after a signature problem: one receipt, counted.
        let (id, p, style) = new_voter(c, "active");
        ctx.issue(c, &id, &p, &style, 1, e - 40, None, 0);
        ctx.receipt(c, &id, &p, 1, e - 40, t(e - 9, 13), "cured", "", &mut d);
        let _ = writeln!(look, "cured,E{}-1,{id},", &id[1..]);
        // A replacement envelope after the first was returned and rejected (unsigned):
        // two receipts on two envelopes, one vote.
        let (id, p, style) = new_voter(c, "active");
        ctx.issue(c, &id, &p, &style, 1, e - 40, None, 0);
        ctx.receipt(c, &id, &p, 1, e - 40, t(e - 30, 10), "rejected", "unsigned", &mut d);
        ctx.issue(c, &id, &p, &style, 2, e - 26, None, 0);
        ctx.receipt(c, &id, &p, 2, e - 26, t(e - 20, 10), "accepted", "", &mut d);
        let _ = writeln!(look, "replaced_after_rejection,E{}-2,{id},", &id[1..]);
    }
    (truth, look)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_curve_is_monotone_and_ends_on_election_day() {
        let mut prev = f64::MIN;
        for k in 0..=100 {
            let day = return_day(k as f64 / 100.0);
            assert!(day >= prev);
            prev = day;
        }
        assert_eq!(return_day(1.0), ELECTION_DAY as f64);
        assert_eq!(iso_date(ELECTION_DAY), "2020-11-03");
        assert_eq!(iso_time(DEADLINE_SECS), "2020-11-03T19:30:00");
    }

    #[test]
    fn same_seed_same_files_and_seed_matters() {
        let dir = std::env::temp_dir().join(format!("scrutineer-sim-{}", std::process::id()));
        let s = BallotScenario { voters: 3_000, ..BallotScenario::default() };
        generate(&s, &dir.join("a"), &|_| {}).expect("a");
        generate(&s, &dir.join("b"), &|_| {}).expect("b");
        generate(&BallotScenario { seed: 2, ..s.clone() }, &dir.join("c"), &|_| {}).expect("c");
        let read = |p: &str| std::fs::read(dir.join(p)).expect("read");
        assert_eq!(read("a/returns.csv"), read("b/returns.csv"));
        assert_ne!(read("a/returns.csv"), read("c/returns.csv"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
