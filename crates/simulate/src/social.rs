//! Social-media scenarios: organic US accounts with heavy-tailed activity, diurnal rhythms,
//! popularity-driven retweet cascades, link and hashtag mixes, plus injected influence
//! operations with known tactics; `truth.csv` lists every injected account.
//!
//! Calibration (sources in the crate README):
//! - posts per account: lognormal with a median of 2 posts a month and σ = 2.12, so that the
//!   most active 10% write about 80% of the posts (Pew Research Center, "Sizing Up Twitter
//!   Users", 2019: median US adult user tweets twice a month, top 10% write 80% of tweets);
//! - time zones: Eastern 47%, Central 29%, Mountain 5%, Arizona 2%, Pacific 17% (US
//!   population shares), with US daylight saving time; posting by local hour peaks in the
//!   evening (21–22 h) and bottoms out at 4–5 h, later mornings at weekends;
//! - retweets: a Yule–Simon urn (a new retweet copies the target of an earlier retweet of the
//!   last hours or days with probability 0.85, else picks a fresh recent post weighted by its
//!   author's followers), which gives power-law cascade sizes; Kwak et al. (WWW 2010) report
//!   half of retweets within an hour of the post and three quarters within a day.
//!
//! Every draw is a pure function of (seed, entity, stream) except the retweet urn, which is
//! one sequential stream in time order: the same seed and flags write the same bytes.

pub mod mixed;
pub(crate) mod text;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::{Datelike, NaiveDate, TimeZone, Utc, Weekday};

use crate::rng::Draws;
use crate::{SimulateError, csv_err, io_err};

/// How an injected operation coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tactic {
    /// A few lead accounts post; the rest retweet them.
    RetweetRing,
    /// The same messages posted by many accounts with small edits.
    CopyPaste,
    /// Articles from a few of the operation's own domains, shared by its accounts.
    LinkLaundering,
    /// Bursts of posts carrying the operation's hashtag set.
    HashtagCampaign,
}

impl Tactic {
    pub const ALL: [Tactic; 4] =
        [Tactic::RetweetRing, Tactic::CopyPaste, Tactic::LinkLaundering, Tactic::HashtagCampaign];

    pub fn as_str(self) -> &'static str {
        match self {
            Tactic::RetweetRing => "retweet_ring",
            Tactic::CopyPaste => "copy_paste",
            Tactic::LinkLaundering => "link_laundering",
            Tactic::HashtagCampaign => "hashtag_campaign",
        }
    }
}

impl fmt::Display for Tactic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Tactic {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().replace('-', "_");
        Tactic::ALL.into_iter().find(|t| t.as_str() == s).ok_or_else(|| {
            format!(
                "unknown tactic '{s}' (expected retweet_ring, copy_paste, link_laundering, hashtag_campaign)"
            )
        })
    }
}

/// Output schema of the posts file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocialFormat {
    /// `posts.csv` in the IRA per-author CSV schema.
    Ira,
    /// `posts.jsonl`: Twitter API v1.1 tweet objects, one per line.
    TwitterV1,
}

/// One injected operation.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OperationSpec {
    pub tactic: Tactic,
    /// Accounts in the operation.
    pub size: u32,
    /// The UTC offset of the operators' office, in minutes (e.g. 180 for Moscow).
    pub utc_offset_minutes: i32,
}

/// Foreign offices the default operations rotate through: Moscow, Beijing, Tehran, Kyiv,
/// Karachi, Lagos (minutes east of UTC).
const FOREIGN_OFFSETS: [i32; 6] = [180, 480, 210, 120, 300, 60];

/// `k` operations cycling through `tactics` and foreign offices.
pub fn default_operations(k: u32, size: u32, tactics: &[Tactic], offset: Option<i32>) -> Vec<OperationSpec> {
    let tactics = if tactics.is_empty() { &Tactic::ALL[..] } else { tactics };
    (0..k as usize)
        .map(|i| OperationSpec {
            tactic: tactics[i % tactics.len()],
            size,
            utc_offset_minutes: offset.unwrap_or(FOREIGN_OFFSETS[i % FOREIGN_OFFSETS.len()]),
        })
        .collect()
}

#[derive(Debug, Clone)]
pub struct SocialScenario {
    pub seed: u64,
    /// Organic accounts.
    pub accounts: u32,
    pub days: u32,
    pub start: NaiveDate,
    pub operations: Vec<OperationSpec>,
    /// Operations hide: random delays, paraphrase, staggered accounts, organic-looking filler.
    pub evasive: bool,
    pub format: SocialFormat,
}

impl SocialScenario {
    /// Organic traffic for the IRA file's period (2016-09-01 .. 2016-11-30), no operations.
    pub fn background(seed: u64) -> SocialScenario {
        SocialScenario {
            seed,
            accounts: 10_000,
            days: 91,
            start: NaiveDate::from_ymd_opt(2016, 9, 1).unwrap_or_default(),
            operations: Vec::new(),
            evasive: false,
            format: SocialFormat::Ira,
        }
    }
}

/// What a run wrote.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SocialWritten {
    pub files: Vec<PathBuf>,
    pub organic_accounts: u64,
    pub active_accounts: u64,
    pub injected_accounts: u64,
    pub operations: u64,
    pub posts: u64,
    pub originals: u64,
    pub retweets: u64,
    pub replies: u64,
    pub quotes: u64,
    pub injected_posts: u64,
    /// Distinct accounts that retweeted the most retweeted post.
    pub max_retweets_of_one_post: u64,
    pub start: String,
    pub end: String,
}

struct Zone {
    name: &'static str,
    std_offset_min: i32,
    dst: bool,
    weight: f64,
}

const ZONES: [Zone; 5] = [
    Zone { name: "Eastern Time (US & Canada)", std_offset_min: -300, dst: true, weight: 0.47 },
    Zone { name: "Central Time (US & Canada)", std_offset_min: -360, dst: true, weight: 0.29 },
    Zone { name: "Mountain Time (US & Canada)", std_offset_min: -420, dst: true, weight: 0.05 },
    Zone { name: "Arizona", std_offset_min: -420, dst: false, weight: 0.02 },
    Zone { name: "Pacific Time (US & Canada)", std_offset_min: -480, dst: true, weight: 0.17 },
];

/// Relative posting volume by local hour, weekdays and weekends.
const WEEKDAY_HOURS: [f64; 24] = [
    0.75, 0.50, 0.33, 0.22, 0.17, 0.20, 0.33, 0.50, 0.65, 0.75, 0.80, 0.85, 0.90, 0.88, 0.86, 0.86, 0.88,
    0.90, 0.95, 1.00, 1.05, 1.10, 1.05, 0.92,
];
const WEEKEND_HOURS: [f64; 24] = [
    0.90, 0.65, 0.45, 0.30, 0.20, 0.18, 0.22, 0.32, 0.48, 0.65, 0.78, 0.86, 0.92, 0.92, 0.90, 0.88, 0.88,
    0.90, 0.95, 1.00, 1.05, 1.08, 1.05, 0.98,
];

const NONE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Original,
    Retweet,
    Reply,
    Quote,
}

struct Account {
    key: String,
    handle: String,
    /// Index into ZONES, or None for an operation account (offset below).
    zone: Option<usize>,
    op_offset_min: i32,
    followers: u32,
    following: u32,
    statuses_base: u32,
    created: i64,
    topic: usize,
    client: &'static str,
    /// Share of the account's posts that are retweets, replies and quotes.
    mix: [f64; 3],
    /// Personal shift of the daily rhythm, in hours.
    shift: i32,
    /// The share-button outlet this account reads most (index into OUTLETS).
    outlet: usize,
    /// Share of the account's originals posted with an outlet's share button.
    share_button: f64,
    /// Share of the account's originals written by an app (video, liked video, photo).
    app_template: f64,
}

struct Post {
    time: i64,
    account: u32,
    kind: Kind,
    /// The retweeted, replied-to or quoted post, or NONE while the urn has to pick one.
    target: u32,
    text: Box<str>,
    injected: bool,
}

/// A named event of the 2016 season: (year, month, day, UTC hour, tag, topic).
type NamedWave = (i32, u32, u32, u32, &'static str, Option<usize>);

struct Wave {
    start: i64,
    end: i64,
    tag: String,
    topic: Option<usize>,
}

const CLIENTS: [(&str, f64); 8] = [
    ("Twitter for iPhone", 0.42),
    ("Twitter for Android", 0.26),
    ("Twitter Web Client", 0.18),
    ("TweetDeck", 0.04),
    ("Twitter for iPad", 0.04),
    ("Hootsuite", 0.02),
    ("IFTTT", 0.02),
    ("Buffer", 0.02),
];

// Streams of draws.
const S_ACCOUNT: u64 = 1;
const S_SLOTS: u64 = 2;
const S_TEXT: u64 = 3;
const S_URN: u64 = 4;
const S_OP: u64 = 5;
const S_WAVES: u64 = 6;
const S_IDS: u64 = 7;
const S_THIN: u64 = 8;
const S_EVENTS: u64 = 9;
const S_VIEWERS: u64 = 10;
const S_TEMPLATE: u64 = 11;

/// Share of organic accounts that pass by: one or two posts in the whole collection (1–3
/// with an event post), as most accounts of a keyword collection are.
const PASSER_BY_SHARE: f64 = 0.3;
/// Share of accounts that read one outlet and post many of its headlines with its share
/// button.
const OUTLET_READER_SHARE: f64 = 0.15;

fn normal(d: &mut Draws) -> f64 {
    let u1 = d.unit().max(1e-300);
    let u2 = d.unit();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn poisson(d: &mut Draws, mean: f64) -> u64 {
    if mean <= 0.0 {
        return 0;
    }
    if mean > 30.0 {
        return (mean + mean.sqrt() * normal(d)).round().max(0.0) as u64;
    }
    let l = (-mean).exp();
    let mut k = 0;
    let mut p = 1.0;
    loop {
        p *= d.unit();
        if p <= l {
            return k;
        }
        k += 1;
    }
}

fn weighted(d: &mut Draws, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut u = d.unit() * total;
    for (i, w) in weights.iter().enumerate() {
        if u < *w {
            return i;
        }
        u -= w;
    }
    weights.len() - 1
}

/// Zipf rank in 0..n with exponent s (small n: linear scan over a cached table).
fn zipf(d: &mut Draws, table: &[f64]) -> usize {
    let u = d.unit() * table.last().copied().unwrap_or(1.0);
    table.partition_point(|&c| c <= u).min(table.len().saturating_sub(1))
}

fn zipf_table(n: usize, s: f64) -> Vec<f64> {
    let mut acc = 0.0;
    (1..=n)
        .map(|k| {
            acc += 1.0 / (k as f64).powf(s);
            acc
        })
        .collect()
}

/// The long tail of hashtags: Zipf from rank 20 on, the head being the topic lists.
fn tail_table(n: usize) -> Vec<f64> {
    let mut acc = 0.0;
    (20..20 + n)
        .map(|k| {
            acc += 1.0 / (k as f64).powf(1.1);
            acc
        })
        .collect()
}

/// US daylight saving time on a date: second Sunday of March to first Sunday of November.
fn us_dst(date: NaiveDate) -> bool {
    let y = date.year();
    let nth_sunday = |month: u32, n: u8| NaiveDate::from_weekday_of_month_opt(y, month, Weekday::Sun, n);
    match (nth_sunday(3, 2), nth_sunday(11, 1)) {
        (Some(a), Some(b)) => date >= a && date < b,
        _ => false,
    }
}

fn zone_offset_min(zone: &Zone, date: NaiveDate) -> i32 {
    zone.std_offset_min + if zone.dst && us_dst(date) { 60 } else { 0 }
}

fn base62(mut x: u64, len: usize) -> String {
    const A: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    (0..len)
        .map(|_| {
            let c = A[(x % 62) as usize] as char;
            x /= 62;
            c
        })
        .collect()
}

fn date_of(day0: NaiveDate, day: i64) -> NaiveDate {
    day0.checked_add_signed(chrono::Duration::days(day)).unwrap_or(day0)
}

struct Gen<'a> {
    s: &'a SocialScenario,
    t0: i64,
    t_end: i64,
    accounts: Vec<Account>,
    posts: Vec<Post>,
    waves: Vec<Wave>,
    day_weights: Vec<f64>,
    tag_zipf: Vec<f64>,
    tail_zipf: Vec<f64>,
    article_zipf: Vec<f64>,
    events: Vec<TelevisedEvent>,
    creator_zipf: Vec<f64>,
    place_zipf: Vec<f64>,
}

/// A televised event (debate, panel, town hall, convention night) with its own hashtag:
/// viewers post it once each while it is on air.
struct TelevisedEvent {
    start: i64,
    end: i64,
    tag: String,
    /// Chance that an account of a politics or news community posts during it.
    reach: f64,
}

/// Outlets whose share buttons post "headline link #Outlet" or "headline link via @outlet":
/// (name for the hashtag, domain, handle, topic, headlines a day, share-button suffix style:
/// 0 hashtag, 1 via, 2 both).
const OUTLETS: [(&str, &str, &str, usize, u32, u8); 6] = [
    ("FoxBiz", "foxbiznews.com", "FoxBizNews", 1, 8, 0),
    ("CapitolLedger", "capitolledger.com", "CapitolLedger", 2, 6, 1),
    ("BlueWave", "bluewavedaily.com", "BlueWaveDaily", 0, 6, 2),
    ("HeartlandHerald", "heartlandherald.com", "HLHerald", 1, 5, 1),
    ("MorningWire", "morningwire.net", "MorningWire", 2, 8, 0),
    ("GridironNow", "gridironnow.com", "GridironNow", 3, 5, 2),
];

/// News domains: (domain, handle for share buttons, topic affinity).
const NEWS: [(&str, &str, usize); 24] = [
    ("nytimes.com", "nytimes", 0),
    ("washingtonpost.com", "washingtonpost", 0),
    ("huffingtonpost.com", "HuffingtonPost", 0),
    ("theguardian.com", "guardian", 0),
    ("msnbc.com", "MSNBC", 0),
    ("foxnews.com", "FoxNews", 1),
    ("breitbart.com", "BreitbartNews", 1),
    ("dailycaller.com", "DailyCaller", 1),
    ("thegatewaypundit.com", "gatewaypundit", 1),
    ("nypost.com", "nypost", 1),
    ("cnn.com", "CNN", 2),
    ("politico.com", "politico", 2),
    ("thehill.com", "thehill", 2),
    ("nbcnews.com", "NBCNews", 2),
    ("usatoday.com", "USATODAY", 2),
    ("reuters.com", "Reuters", 2),
    ("espn.com", "espn", 3),
    ("bleacherreport.com", "BleacherReport", 3),
    ("variety.com", "Variety", 4),
    ("buzzfeed.com", "BuzzFeed", 4),
    ("theverge.com", "verge", 5),
    ("techcrunch.com", "TechCrunch", 5),
    ("abc7.com", "ABC7", 6),
    ("pitchfork.com", "pitchfork", 7),
];

const SHORTENERS: [&str; 6] = ["bit.ly", "ow.ly", "buff.ly", "dlvr.it", "ift.tt", "goo.gl"];

impl<'a> Gen<'a> {
    fn new(s: &'a SocialScenario) -> Gen<'a> {
        let t0 = s.start.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp()).unwrap_or(0);
        let t_end = t0 + s.days as i64 * 86_400;
        Gen {
            s,
            t0,
            t_end,
            accounts: Vec::new(),
            posts: Vec::new(),
            waves: Vec::new(),
            day_weights: Vec::new(),
            tag_zipf: zipf_table(16, 1.0),
            tail_zipf: tail_table(1600),
            article_zipf: zipf_table(60, 1.1),
            events: Vec::new(),
            creator_zipf: zipf_table(400, 1.05),
            place_zipf: zipf_table(text::PLACES.len(), 0.9),
        }
    }

    fn day_count(&self) -> i64 {
        self.s.days as i64
    }

    /// Hashtag waves: the 2016 season's named events when they fall in the period, plus a
    /// trending tag every few days, each lasting hours to two days.
    fn make_waves(&mut self) {
        let named: [NamedWave; 9] = [
            (2016, 9, 27, 1, "#DebateNight", None),
            (2016, 10, 5, 1, "#VPDebate", None),
            (2016, 10, 7, 20, "#TrumpTapes", Some(1)),
            (2016, 10, 10, 1, "#Debate", None),
            (2016, 10, 20, 1, "#DebateNight", None),
            (2016, 10, 28, 17, "#FBI", Some(2)),
            (2016, 11, 3, 0, "#WorldSeries", Some(3)),
            (2016, 11, 8, 12, "#ElectionNight", None),
            (2016, 11, 9, 6, "#ElectionResults", None),
        ];
        for (y, m, d, h, tag, topic) in named {
            if let Some(date) = NaiveDate::from_ymd_opt(y, m, d) {
                let start = date.and_hms_opt(h, 0, 0).map(|t| t.and_utc().timestamp()).unwrap_or(0);
                if start >= self.t0 && start < self.t_end {
                    self.waves.push(Wave { start, end: start + 14 * 3600, tag: tag.to_string(), topic });
                }
            }
        }
        let mut d = Draws::new(self.s.seed, 0, S_WAVES);
        let n = (self.day_count() / 3).max(1);
        for i in 0..n {
            let start = self.t0 + d.below((self.t_end - self.t0).max(1) as u64) as i64;
            let len = 4 * 3600 + d.below(44 * 3600) as i64;
            let topic = weighted(&mut d, &text::TOPIC_WEIGHTS);
            let tags = text::topic_hashtags(topic);
            let tag = if d.chance(0.4) {
                tags[d.below(tags.len() as u64) as usize].to_string()
            } else {
                format!("#{}{}", ["Trending", "Breaking", "Why", "Stop", "Best", "Happy"][i as usize % 6], i)
            };
            self.waves.push(Wave { start, end: start + len, tag, topic: Some(topic) });
        }
        // Televised events: one every four days or so, in the U.S. evening (00–02 UTC),
        // on air for one to two hours.
        let mut d = Draws::new(self.s.seed, 0, S_EVENTS);
        for _ in 0..(self.day_count() / 4).max(1) {
            let day = d.below(self.day_count() as u64) as i64;
            let start = self.t0 + day * 86_400 + 3600 * d.below(3) as i64 + 60 * d.below(60) as i64;
            let end = start + 3600 + d.below(3601) as i64;
            let reach = (0.012f64.ln() + 0.6 * normal(&mut d)).exp().min(0.05);
            let tag = text::event_tag(&mut d, date_of(self.s.start, day).year());
            if start < self.t_end && !self.events.iter().any(|e| e.tag == tag) {
                self.events.push(TelevisedEvent { start, end: end.min(self.t_end), tag, reach });
            }
        }
        self.day_weights = (0..self.day_count())
            .map(|day| {
                let date = date_of(self.s.start, day);
                let base = if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) { 0.85 } else { 1.0 };
                let ds = self.t0 + day * 86_400;
                let boost: f64 = self
                    .waves
                    .iter()
                    .filter(|w| w.start < ds + 86_400 && w.end > ds)
                    .map(|w| if w.topic.is_none() { 0.6 } else { 0.08 })
                    .sum();
                base + boost
            })
            .collect();
    }

    fn make_accounts(&mut self, ids: &[u64]) {
        let zone_w: Vec<f64> = ZONES.iter().map(|z| z.weight).collect();
        let client_w: Vec<f64> = CLIENTS.iter().map(|c| c.1).collect();
        for i in 0..self.s.accounts as u64 {
            let mut d = Draws::new(self.s.seed, i, S_ACCOUNT);
            let zone = weighted(&mut d, &zone_w);
            let topic = weighted(&mut d, &text::TOPIC_WEIGHTS);
            // Posts per day: lognormal, median 2 a month, sigma 2.12 (top 10% write ~80%).
            let rate = ((2.0f64 / 30.0).ln() + 2.12 * normal(&mut d)).exp().min(150.0);
            let followers = (5.0 + 0.45 * rate.max(0.01).ln() + 1.6 * normal(&mut d)).exp().min(5.0e7) as u32;
            let following = (5.6 + 1.0 * normal(&mut d)).exp().min(5.0e5) as u32;
            let rt = (0.55 + 0.25 * normal(&mut d)).clamp(0.0, 0.97);
            let reply = ((1.0 - rt) * (0.35 + 0.15 * normal(&mut d)).clamp(0.0, 0.8)).max(0.0);
            let quote = (1.0 - rt - reply) * 0.12;
            let created = self.t0 - 86_400 * (30 + d.below(365 * 9) as i64);
            let handle = text::handle(&mut d, i);
            let key = self.account_key(ids[i as usize]);
            self.accounts.push(Account {
                key,
                handle,
                zone: Some(zone),
                op_offset_min: 0,
                followers,
                following,
                statuses_base: (rate * 365.0 * (1.0 + d.unit() * 4.0)) as u32,
                created,
                topic,
                client: CLIENTS[weighted(&mut d, &client_w)].0,
                mix: [rt, reply, quote],
                shift: (1.5 * normal(&mut d)).round() as i32,
                outlet: 0,
                share_button: 0.0,
                app_template: 0.0,
            });
            // Passers-by, outlet readers and app users: their own stream, so that the draws
            // above stay those of the activity calibration.
            let mut thin = Draws::new(self.s.seed, i, S_THIN);
            let passer_by = thin.chance(PASSER_BY_SHARE);
            let outlet_w: Vec<f64> = OUTLETS
                .iter()
                .map(|o| {
                    if o.3 == topic {
                        6.0
                    } else if o.3 == 2 {
                        1.5
                    } else {
                        0.3
                    }
                })
                .collect();
            let outlet = weighted(&mut thin, &outlet_w);
            let (share_button, app_template) = if passer_by {
                (0.5, 0.2)
            } else if thin.chance(OUTLET_READER_SHARE) {
                (0.15 + 0.25 * thin.unit(), 0.02)
            } else {
                (0.1, 0.03)
            };
            let last = self.accounts.len() - 1;
            let a = &mut self.accounts[last];
            (a.outlet, a.share_button, a.app_template) = (outlet, share_button, app_template);
            let n = if passer_by {
                1 + thin.chance(0.3) as u64
            } else {
                poisson(&mut d, rate * self.day_count() as f64)
            };
            self.organic_slots(i as u32, n, &mut Draws::new(self.s.seed, i, S_SLOTS), None);
            self.event_posts(i as u32, topic);
        }
    }

    /// One post with the event's hashtag from each viewer, while it is on air.
    fn event_posts(&mut self, account: u32, topic: usize) {
        let mut d = Draws::new(self.s.seed, account as u64, S_VIEWERS);
        let political = matches!(text::TOPICS[topic], "politics_left" | "politics_right" | "news");
        for e in 0..self.events.len() {
            let ev = &self.events[e];
            let reach = if political { ev.reach } else { ev.reach * 0.25 };
            if !d.chance(reach) {
                continue;
            }
            let time = ev.start + d.below((ev.end - ev.start).max(1) as u64) as i64;
            let mut body = format!("{} {}", text::organic_sentence(&mut d, topic), ev.tag);
            if d.chance(0.3) {
                let list = text::topic_hashtags(topic);
                body = format!("{body} {}", list[zipf(&mut d, &self.tag_zipf).min(list.len() - 1)]);
            }
            self.posts.push(Post {
                time,
                account,
                kind: Kind::Original,
                target: NONE,
                text: body.into(),
                injected: false,
            });
        }
    }

    fn account_key(&self, id: u64) -> String {
        match self.s.format {
            SocialFormat::Ira => format!("org_{id:07}"),
            SocialFormat::TwitterV1 => format!("{}", 700_000_000 + id * 7919),
        }
    }

    /// `n` posts of an account spread over the period by day weight and local hour.
    fn organic_slots(&mut self, account: u32, n: u64, d: &mut Draws, kind_override: Option<[f64; 3]>) {
        let (zone, shift, mix) = {
            let a = &self.accounts[account as usize];
            (a.zone.unwrap_or(0), a.shift, kind_override.unwrap_or(a.mix))
        };
        // Local days run from the day before the start (its evening is the start's UTC
        // morning in America) to the last; times outside the period are dropped.
        let first = self.day_weights.first().copied().unwrap_or(1.0);
        let total: f64 = first + self.day_weights.iter().sum::<f64>();
        let n = (n as f64 * total / (total - first)).round() as u64;
        for _ in 0..n {
            let mut u = d.unit() * total - first;
            let mut day = -1;
            if u >= 0.0 {
                day = self.day_weights.len() as i64 - 1;
                for (i, w) in self.day_weights.iter().enumerate() {
                    if u < *w {
                        day = i as i64;
                        break;
                    }
                    u -= w;
                }
            }
            let date = date_of(self.s.start, day);
            let profile = if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
                &WEEKEND_HOURS
            } else {
                &WEEKDAY_HOURS
            };
            let hour = (weighted(d, profile) as i32 + shift).rem_euclid(24) as i64;
            let local = day * 86_400 + hour * 3600 + d.below(3600) as i64;
            let time = self.t0 + local - zone_offset_min(&ZONES[zone], date) as i64 * 60;
            if time < self.t0 || time >= self.t_end {
                continue;
            }
            let kind = match weighted(d, &[mix[0], mix[1], mix[2], (1.0 - mix[0] - mix[1] - mix[2]).max(0.0)])
            {
                0 => Kind::Retweet,
                1 => Kind::Reply,
                2 => Kind::Quote,
                _ => Kind::Original,
            };
            self.posts.push(Post { time, account, kind, target: NONE, text: "".into(), injected: false });
        }
    }

    fn hashtags(&self, d: &mut Draws, topic: usize, time: i64) -> Vec<String> {
        let n = match d.below(100) {
            0..=69 => 1,
            70..=91 => 2,
            _ => 3,
        };
        let active: Vec<&Wave> = self
            .waves
            .iter()
            .filter(|w| w.start <= time && time < w.end && w.topic.is_none_or(|t| t == topic))
            .collect();
        let mut tags: Vec<String> = Vec::new();
        for _ in 0..n {
            let tag = if !active.is_empty() && d.chance(0.45) {
                active[d.below(active.len() as u64) as usize].tag.clone()
            } else if d.chance(0.75) {
                let list = text::topic_hashtags(if d.chance(0.85) { topic } else { d.below(8) as usize });
                list[zipf(d, &self.tag_zipf).min(list.len() - 1)].to_string()
            } else {
                // The long tail: tags few people use.
                let k = zipf(d, &self.tail_zipf) as u64;
                let mut w = Draws::new(k, 3, 0x7A65);
                format!("#{}", text::slug(w.next_u64()).split('-').take(2).collect::<Vec<_>>().concat())
            };
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        tags
    }

    /// A link and, for share-button posts, the share text that goes with it.
    fn link(&self, d: &mut Draws, topic: usize, time: i64) -> (String, Option<String>) {
        let day = (time - self.t0).div_euclid(86_400);
        let date = date_of(self.s.start, day);
        match weighted(d, &[0.45, 0.14, 0.18, 0.10, 0.13]) {
            0 => {
                let affine: Vec<f64> = NEWS
                    .iter()
                    .map(|n| {
                        if n.2 == topic {
                            6.0
                        } else if n.2 == 2 {
                            1.5
                        } else {
                            0.3
                        }
                    })
                    .collect();
                let dom = weighted(d, &affine);
                let age = weighted(d, &[0.6, 0.25, 0.15]) as i64;
                let k = zipf(d, &self.article_zipf) as u64;
                let key = crate::rng::mix(((day - age) as u64) << 24 ^ (dom as u64) << 8 ^ k ^ self.s.seed);
                let adate = date_of(self.s.start, day - age);
                let mut url = format!(
                    "https://www.{}/{}/{:02}/{:02}/{}",
                    NEWS[dom].0,
                    adate.year(),
                    adate.month(),
                    adate.day(),
                    text::slug(key)
                );
                if d.chance(0.2) {
                    url.push_str("?utm_source=twitter&utm_medium=social");
                }
                let share = d
                    .chance(0.35)
                    .then(|| format!("{} {url} via @{}", text::headline(key, NEWS[dom].2), NEWS[dom].1));
                (url, share)
            }
            1 => {
                let k = zipf(d, &self.article_zipf) as u64;
                let key = crate::rng::mix((day as u64) << 20 ^ k ^ 0x7007 ^ self.s.seed);
                let v = base62(key, 11);
                if d.chance(0.3) {
                    (format!("https://youtu.be/{v}"), None)
                } else {
                    (format!("https://www.youtube.com/watch?v={v}"), None)
                }
            }
            2 => {
                let sh = SHORTENERS[d.below(SHORTENERS.len() as u64) as usize];
                // Most shortened links are minted per share; publishers reuse theirs.
                let code = if d.chance(0.3) {
                    base62(
                        crate::rng::mix((day as u64) << 16 ^ zipf(d, &self.article_zipf) as u64 ^ 0x5407),
                        7,
                    )
                } else {
                    base62(d.next_u64(), 7)
                };
                (format!("https://{sh}/{code}"), None)
            }
            3 => (format!("https://www.instagram.com/p/{}/", base62(d.next_u64(), 11)), None),
            _ => {
                let site =
                    ["facebook.com", "amazon.com", "change.org", "gofundme.com", "reddit.com", "imgur.com"]
                        [d.below(6) as usize];
                (format!("https://www.{site}/{}/{}", date.format("%Y%m%d"), base62(d.next_u64(), 8)), None)
            }
        }
    }

    fn organic_text(&self, idx: usize, shared: &mut HashSet<(u32, u64)>) -> String {
        let p = &self.posts[idx];
        let a = &self.accounts[p.account as usize];
        let mut d = Draws::new(self.s.seed, idx as u64, S_TEXT);
        let topic = if d.chance(0.85) { a.topic } else { weighted(&mut d, &text::TOPIC_WEIGHTS) };
        let mut body = match p.kind {
            Kind::Reply => text::reply_text(&mut d, topic),
            _ => text::organic_sentence(&mut d, topic),
        };
        if p.kind == Kind::Original {
            let mut t = Draws::new(self.s.seed, idx as u64, S_TEMPLATE);
            let u = t.unit();
            if u < a.share_button {
                return self.share_button(&mut t, p.account, p.time, shared);
            }
            if u < a.share_button + a.app_template {
                return self.app_template(&mut t, p.time);
            }
            if d.chance(0.28) {
                let (url, share) = self.link(&mut d, topic, p.time);
                if let Some(share) = share {
                    return share;
                }
                body = format!("{body} {url}");
            }
            if d.chance(0.22) {
                let tags = self.hashtags(&mut d, topic, p.time);
                body = format!("{body} {}", tags.join(" "));
            }
        }
        body
    }
}

impl Gen<'_> {
    /// A link minted per post, as Twitter wraps every link of a tweet in its own t.co
    /// address; in `twitter-v1` the page's own address is written and the writer mints the
    /// t.co link with the page as `expanded_url`.
    fn per_post_link(&self, d: &mut Draws, page: String) -> String {
        match self.s.format {
            SocialFormat::Ira => format!("https://t.co/{}", base62(d.next_u64(), 10)),
            SocialFormat::TwitterV1 => page,
        }
    }

    /// A share-button post: a headline the outlet published in the last hours, chosen by
    /// its popularity and its age (shares fall off with a one-hour time constant), as
    /// "headline link #Outlet" or "headline link via @outlet". Readers mostly share their
    /// own outlet; passers-by and occasional sharers land on any outlet.
    fn share_button(
        &self,
        d: &mut Draws,
        account: u32,
        time: i64,
        shared: &mut HashSet<(u32, u64)>,
    ) -> String {
        let a = &self.accounts[account as usize];
        let site = if d.chance(0.8) { a.outlet } else { d.below(OUTLETS.len() as u64) as usize };
        let (name, domain, handle, topic, per_day, style) = OUTLETS[site];
        let day = (time - self.t0).div_euclid(86_400);
        let mut best: Option<(u64, i64)> = None;
        let mut weights = Vec::with_capacity(2 * per_day as usize);
        let mut keys = Vec::with_capacity(2 * per_day as usize);
        for pd in [day - 1, day] {
            for k in 0..per_day {
                let key = crate::rng::mix(self.s.seed ^ (site as u64) << 40 ^ ((pd as u64) << 12) ^ k as u64);
                // Published between 7:00 and 23:00 Eastern (11–03 UTC).
                let published = self.t0 + pd * 86_400 + 11 * 3600 + (key % (16 * 3600)) as i64;
                if published > time || shared.contains(&(account, key)) {
                    continue;
                }
                // A few headlines of the day are hits: Zipf in the rank, times a lognormal
                // draw of its own.
                let hit = ((key >> 20) % 1000) as f64 / 1000.0;
                let age = (time - published) as f64 / 3600.0;
                let w = (-age).exp() * (4.0 * hit).exp() / (k as f64 + 1.0).powf(2.0);
                weights.push(w);
                keys.push((key, published));
            }
        }
        if !keys.is_empty() {
            best = Some(keys[weighted(d, &weights)]);
        }
        let Some((key, published)) = best else {
            // Before the outlet's first headline of the period, or every recent one shared
            // already: the person writes instead.
            return text::organic_sentence(d, topic);
        };
        shared.insert((account, key));
        let date = date_of(self.s.start, (published - self.t0).div_euclid(86_400));
        let page = format!(
            "https://www.{domain}/{}/{:02}/{:02}/{}",
            date.year(),
            date.month(),
            date.day(),
            text::slug(key)
        );
        let link = self.per_post_link(d, page);
        let headline = text::outlet_headline(key, topic);
        match style {
            0 => format!("{headline} {link} #{name}"),
            1 => format!("{headline} {link} via @{handle}"),
            _ => format!("{headline} {link} #{name} via @{handle}"),
        }
    }

    /// Text an app writes when someone shares from it: a short video of a creator, a liked
    /// YouTube video, a photo at a place. Creators, videos and places are Zipf-popular, so
    /// the same words come from many accounts, each with its own link.
    fn app_template(&self, d: &mut Draws, time: i64) -> String {
        let day = (time - self.t0).div_euclid(86_400);
        let date = date_of(self.s.start, day);
        match weighted(d, &[0.35, 0.35, 0.30]) {
            0 => {
                let creator = text::creator_name(zipf(d, &self.creator_zipf) as u64 ^ self.s.seed);
                // The short-video app was musical.ly until it became TikTok (2 August 2018).
                let tiktok = date >= NaiveDate::from_ymd_opt(2018, 8, 2).unwrap_or_default();
                let (tag, host) =
                    if tiktok { ("#TikTok", "www.tiktok.com") } else { ("#musically", "musical.ly") };
                let page = format!("https://{host}/v/{}", base62(d.next_u64(), 12));
                let link = self.per_post_link(d, page);
                format!("Check out {creator}'s video! {tag} {link}")
            }
            1 => {
                let age = weighted(d, &[0.6, 0.25, 0.15]) as i64;
                let k = zipf(d, &self.article_zipf) as u64;
                let key = crate::rng::mix(((day - age) as u64) << 20 ^ k ^ 0x11CE ^ self.s.seed);
                let link = self.per_post_link(d, format!("https://youtu.be/{}", base62(key, 11)));
                format!("I liked a @YouTube video {link} {}", text::video_title(key))
            }
            _ => {
                let place = text::PLACES[zipf(d, &self.place_zipf)];
                let page = format!("https://www.instagram.com/p/{}/", base62(d.next_u64(), 11));
                let link = self.per_post_link(d, page);
                format!("Just posted a photo @ {place} {link}")
            }
        }
    }
}

/// Work times of an operation: office hours in its own time zone.
struct Office {
    offset_min: i32,
    evasive: bool,
}

impl Office {
    /// A time in office hours on `day` (days since the start), or None at a weekend.
    fn time_on(&self, g: &Gen, d: &mut Draws, day: i64, shift_start: i64) -> Option<i64> {
        let local_date = date_of(g.s.start, day);
        let weekend = matches!(local_date.weekday(), Weekday::Sat | Weekday::Sun);
        if weekend && !(self.evasive && d.chance(0.3)) {
            return None;
        }
        let hour = shift_start + d.below(9) as i64;
        let local = day * 86_400 + hour * 3600 + d.below(3600) as i64;
        let t = g.t0 + local - self.offset_min as i64 * 60;
        (t >= g.t0 && t < g.t_end).then_some(t)
    }
}

fn delay(d: &mut Draws, evasive: bool) -> i64 {
    if evasive {
        // Lognormal, median 2 h: most copies fall outside a minutes-wide window.
        ((2.0f64 * 3600.0).ln() + 1.2 * normal(d)).exp().min(48.0 * 3600.0) as i64
    } else {
        30 + d.below(40 * 60) as i64
    }
}

impl Gen<'_> {
    fn make_operations(&mut self, ids: &[u64]) -> Vec<(u32, usize)> {
        let mut members_of: Vec<(u32, usize)> = Vec::new();
        let client_w: Vec<f64> = CLIENTS.iter().map(|c| c.1).collect();
        let mut next = self.s.accounts as usize;
        let days = self.day_count();
        let evasive = self.s.evasive;
        let scenario = self.s;
        for (o, spec) in scenario.operations.iter().enumerate() {
            let mut d = Draws::new(self.s.seed, o as u64, S_OP);
            let burst = self.t0 - 86_400 * (90 + d.below(180) as i64);
            let theme = d.below(4) as usize;
            let mut members: Vec<u32> = Vec::new();
            // Staggered accounts (evasive): each joins and leaves on its own days.
            let mut active: Vec<(i64, i64, i64)> = Vec::new();
            for m in 0..spec.size.max(2) {
                let i = next;
                next += 1;
                let mut ad = Draws::new(self.s.seed, i as u64, S_ACCOUNT);
                let handle = text::handle(&mut ad, i as u64);
                let created = if evasive {
                    self.t0 - 86_400 * (200 + ad.below(365 * 5) as i64)
                } else {
                    burst + ad.below(30 * 86_400) as i64
                };
                let zone = weighted(&mut ad, &[0.47, 0.29, 0.05, 0.02, 0.17]);
                self.accounts.push(Account {
                    key: self.account_key(ids[i]),
                    handle,
                    zone: evasive.then_some(zone),
                    op_offset_min: spec.utc_offset_minutes,
                    followers: (6.5 + 1.0 * normal(&mut ad)).exp() as u32,
                    following: (6.8 + 0.8 * normal(&mut ad)).exp() as u32,
                    statuses_base: 500 + ad.below(20_000) as u32,
                    created,
                    topic: if theme == 1 { 0 } else { 1 },
                    client: if evasive {
                        CLIENTS[weighted(&mut ad, &client_w)].0
                    } else {
                        "Twitter Web Client"
                    },
                    mix: [0.6, 0.1, 0.0],
                    shift: 0,
                    outlet: 0,
                    share_button: 0.0,
                    app_template: 0.0,
                });
                members.push(i as u32);
                members_of.push((i as u32, o));
                let (join, leave) = if evasive {
                    let join = ad.below((days * 6 / 10).max(1) as u64) as i64;
                    (join, (join + days * 4 / 10 + ad.below((days / 2).max(1) as u64) as i64).min(days))
                } else {
                    (0, days)
                };
                let shift = if evasive { 7 + ad.below(6) as i64 } else { 9 };
                active.push((join, leave, shift));
                // Organic-looking filler in US rhythms (evasive): retweets of popular posts
                // and posts of their own.
                if evasive {
                    let n = poisson(&mut ad, 2.5 * (leave - join).max(1) as f64);
                    let mut sd = Draws::new(self.s.seed, i as u64, S_SLOTS);
                    let before = self.posts.len();
                    self.organic_slots(i as u32, n, &mut sd, Some([0.65, 0.05, 0.0]));
                    let (lo, hi) = (self.t0 + join * 86_400, self.t0 + leave * 86_400);
                    let mut k = before;
                    while k < self.posts.len() {
                        let p = &mut self.posts[k];
                        p.injected = true;
                        if p.time < lo || p.time >= hi {
                            self.posts.swap_remove(k);
                        } else {
                            k += 1;
                        }
                    }
                }
                let _ = m;
            }
            let office = Office { offset_min: spec.utc_offset_minutes, evasive };
            let n = members.len();
            let p_join = if evasive { 0.35 } else { 0.8 };
            let is_active = |m: usize, t: i64, t0: i64| {
                let day = (t - t0).div_euclid(86_400);
                day >= active[m].0 && day < active[m].1
            };
            let campaign: Vec<String> = {
                let a = text::campaign_tag(&mut d);
                let mut b = text::campaign_tag(&mut d);
                if b == a {
                    b.push('X');
                }
                vec![a, b]
            };
            let domains: Vec<String> = (0..3)
                .map(|k| {
                    format!(
                        "{}-{}.{}",
                        ["usa", "patriot", "real", "daily", "free", "true"][d.below(6) as usize],
                        ["news", "report", "truth", "post", "voice", "wire"][d.below(6) as usize],
                        ["com", "net", "info"][k]
                    )
                })
                .collect();
            for day in 0..days {
                match spec.tactic {
                    Tactic::RetweetRing => {
                        let leaders = (n / 5).max(2);
                        for l in 0..leaders {
                            for _ in 0..4 {
                                let Some(t) = office.time_on(self, &mut d, day, active[l].2) else {
                                    continue;
                                };
                                if !is_active(l, t, self.t0) {
                                    continue;
                                }
                                let mut msg = text::op_message(&mut d, theme);
                                if d.chance(0.3) {
                                    msg = format!("{msg} {}", campaign[0]);
                                }
                                let lead = self.push_op(t, members[l], Kind::Original, NONE, msg);
                                for (m, &acc) in members.iter().enumerate() {
                                    if m == l || !d.chance(p_join) {
                                        continue;
                                    }
                                    let tm = t + delay(&mut d, evasive);
                                    if tm < self.t_end && is_active(m, tm, self.t0) {
                                        self.push_op(tm, acc, Kind::Retweet, lead, String::new());
                                    }
                                }
                            }
                        }
                    }
                    Tactic::CopyPaste => {
                        for _ in 0..6 {
                            let first = d.below(n as u64) as usize;
                            let Some(t) = office.time_on(self, &mut d, day, active[first].2) else {
                                continue;
                            };
                            let msg = text::op_message(&mut d, theme);
                            for (m, &acc) in members.iter().enumerate() {
                                if m != first && !d.chance(p_join) {
                                    continue;
                                }
                                let tm = if m == first { t } else { t + delay(&mut d, evasive) };
                                if tm >= self.t_end || !is_active(m, tm, self.t0) {
                                    continue;
                                }
                                let body = if m == first {
                                    msg.clone()
                                } else if evasive {
                                    text::paraphrase(&mut d, &msg)
                                } else {
                                    text::small_edit(&mut d, &msg)
                                };
                                self.push_op(tm, acc, Kind::Original, NONE, body);
                            }
                        }
                    }
                    Tactic::LinkLaundering => {
                        for _ in 0..5 {
                            let first = d.below(n as u64) as usize;
                            let Some(t) = office.time_on(self, &mut d, day, active[first].2) else {
                                continue;
                            };
                            let dom = &domains[d.below(3) as usize];
                            let date = date_of(self.s.start, day);
                            let url = format!(
                                "https://{dom}/{}/{:02}/{}/",
                                date.year(),
                                date.month(),
                                text::slug(d.next_u64())
                            );
                            for (m, &acc) in members.iter().enumerate() {
                                if m != first && !d.chance(p_join) {
                                    continue;
                                }
                                let tm = if m == first { t } else { t + delay(&mut d, evasive) * 3 };
                                if tm >= self.t_end || !is_active(m, tm, self.t0) {
                                    continue;
                                }
                                // Laundering through shorteners hides the domain (evasive).
                                let link = if evasive && d.chance(0.4) {
                                    format!("https://bit.ly/{}", base62(d.next_u64(), 7))
                                } else {
                                    url.clone()
                                };
                                let body = format!("{} {link}", text::op_message(&mut d, theme));
                                self.push_op(tm, acc, Kind::Original, NONE, body);
                            }
                        }
                    }
                    Tactic::HashtagCampaign => {
                        for _ in 0..2 {
                            let Some(t) = office.time_on(self, &mut d, day, 9) else { continue };
                            // Each push launches a tag of its own beside the standing one,
                            // as hashtag games do.
                            let push_tag = text::campaign_tag(&mut d);
                            for (m, &acc) in members.iter().enumerate() {
                                if !d.chance(if evasive { 0.4 } else { 0.9 }) {
                                    continue;
                                }
                                for _ in 0..1 + d.below(2) {
                                    let spread = if evasive { 6 * 3600 } else { 3600 };
                                    let tm = t + d.below(spread) as i64;
                                    if tm >= self.t_end || !is_active(m, tm, self.t0) {
                                        continue;
                                    }
                                    let tags = if evasive && d.chance(0.5) {
                                        let list = text::topic_hashtags(1);
                                        format!("{push_tag} {}", list[d.below(6) as usize])
                                    } else {
                                        format!("{push_tag} {}", campaign[0])
                                    };
                                    let body = format!("{} {tags}", text::op_message(&mut d, theme));
                                    self.push_op(tm, acc, Kind::Original, NONE, body);
                                }
                            }
                        }
                    }
                }
            }
        }
        members_of
    }

    fn push_op(&mut self, time: i64, account: u32, kind: Kind, target: u32, text: String) -> u32 {
        let idx = self.posts.len() as u32;
        self.posts.push(Post { time, account, kind, target, text: text.into(), injected: true });
        idx
    }

    /// Picks retweet, reply and quote targets in time order with a Yule–Simon urn.
    fn run_urn(&mut self, order: &[u32]) -> u64 {
        // Originals per topic in time order, with cumulative follower weights.
        let topics = text::TOPICS.len();
        let mut by_topic: Vec<Vec<(i64, u32)>> = vec![Vec::new(); topics];
        let mut cum: Vec<Vec<f64>> = vec![Vec::new(); topics];
        for &i in order {
            let p = &self.posts[i as usize];
            if p.kind == Kind::Original && !p.injected {
                let a = &self.accounts[p.account as usize];
                let w = a.followers as f64 + 10.0;
                let t = a.topic;
                let last = cum[t].last().copied().unwrap_or(0.0);
                by_topic[t].push((p.time, i));
                cum[t].push(last + w);
            }
        }
        let mut d = Draws::new(self.s.seed, 0, S_URN);
        let mut events: Vec<(i64, u32)> = Vec::new();
        let mut seen: HashSet<u64> = HashSet::new();
        let mut rt_count: HashMap<u32, u64> = HashMap::new();
        for &i in order {
            let (time, account, kind, target) = {
                let p = &self.posts[i as usize];
                (p.time, p.account, p.kind, p.target)
            };
            if kind == Kind::Original {
                continue;
            }
            if target != NONE {
                if kind == Kind::Retweet {
                    events.push((time, target));
                    *rt_count.entry(target).or_default() += 1;
                }
                continue;
            }
            let topic = self.accounts[account as usize].topic;
            let mut chosen = NONE;
            for _ in 0..4 {
                let copy_p = if kind == Kind::Reply { 0.4 } else { 0.85 };
                let cand = if d.chance(copy_p) && !events.is_empty() {
                    let look = [6 * 3600, 24 * 3600, 72 * 3600][weighted(&mut d, &[0.5, 0.3, 0.2])];
                    let lo = events.partition_point(|e| e.0 < time - look);
                    if lo < events.len() {
                        events[lo + d.below((events.len() - lo) as u64) as usize].1
                    } else {
                        NONE
                    }
                } else {
                    let t = if d.chance(0.7) { topic } else { weighted(&mut d, &text::TOPIC_WEIGHTS) };
                    let list = &by_topic[t];
                    let lo = list.partition_point(|e| e.0 < time - 24 * 3600);
                    let hi = list.partition_point(|e| e.0 < time);
                    if lo < hi {
                        let base = if lo == 0 { 0.0 } else { cum[t][lo - 1] };
                        let u = base + d.unit() * (cum[t][hi - 1] - base);
                        let k = cum[t][lo..hi].partition_point(|&c| c <= u).min(hi - lo - 1);
                        list[lo + k].1
                    } else {
                        NONE
                    }
                };
                if cand == NONE {
                    continue;
                }
                let key = (account as u64) << 32 | cand as u64;
                if self.posts[cand as usize].account != account && !seen.contains(&key) {
                    seen.insert(key);
                    chosen = cand;
                    break;
                }
            }
            let p = &mut self.posts[i as usize];
            if chosen == NONE {
                p.kind = Kind::Original;
                continue;
            }
            p.target = chosen;
            if kind == Kind::Retweet {
                events.push((time, chosen));
                *rt_count.entry(chosen).or_default() += 1;
            }
        }
        rt_count.values().copied().max().unwrap_or(0)
    }

    fn content(&self, i: usize) -> &str {
        &self.posts[i].text
    }

    fn render(&mut self, order: &[u32]) {
        // (account, headline) pairs already posted: a reader shares a headline once.
        let mut shared: HashSet<(u32, u64)> = HashSet::new();
        for &i in order {
            let i = i as usize;
            let p = &self.posts[i];
            if p.text.is_empty() && p.kind != Kind::Retweet {
                let mut body = self.organic_text(i, &mut shared);
                let p = &self.posts[i];
                match p.kind {
                    Kind::Reply => {
                        let h = &self.accounts[self.posts[p.target as usize].account as usize].handle;
                        body = format!("@{h} {body}");
                    }
                    Kind::Quote => {
                        let t = &self.posts[p.target as usize];
                        let h = &self.accounts[t.account as usize].handle;
                        body = format!("{body} https://twitter.com/{h}/status/{}", self.tweet_id(p.target));
                    }
                    _ => {}
                }
                self.posts[i].text = body.into();
            }
        }
    }

    fn tweet_id(&self, idx: u32) -> u64 {
        let t = self.posts[idx as usize].time;
        let ms = (t * 1000 - 1_288_834_974_657).max(0) as u64;
        (ms << 22) | (idx as u64 & 0x3F_FFFF)
    }
}

/// Writes `truth.csv` (`account,operation,tactic,utc_offset`), one row per injected
/// account: (account key, operation number from 1, tactic, UTC offset in minutes). Returns
/// the rows written.
fn write_truth<'a>(
    path: &Path,
    rows: impl IntoIterator<Item = (&'a str, usize, &'a str, i32)>,
) -> Result<u64, SimulateError> {
    let mut wr = csv::Writer::from_path(path).map_err(csv_err(path))?;
    wr.write_record(["account", "operation", "tactic", "utc_offset"]).map_err(csv_err(path))?;
    let mut n = 0;
    for (account, op, tactic, offset) in rows {
        wr.write_record([account, &format!("op{op}"), tactic, &offset_label(offset)])
            .map_err(csv_err(path))?;
        n += 1;
    }
    wr.flush().map_err(io_err(path))?;
    Ok(n)
}

fn offset_label(min: i32) -> String {
    let sign = if min < 0 { '-' } else { '+' };
    format!("{sign}{:02}:{:02}", min.abs() / 60, min.abs() % 60)
}

/// Generates a scenario into `out` and returns what was written.
pub fn generate(
    s: &SocialScenario,
    out: &Path,
    progress: &dyn Fn(&str),
) -> Result<SocialWritten, SimulateError> {
    if s.days == 0 {
        return Err(SimulateError::Invalid("--days must be at least 1".into()));
    }
    if s.operations.iter().any(|o| o.size < 3) {
        return Err(SimulateError::Invalid("an operation needs at least 3 accounts".into()));
    }
    std::fs::create_dir_all(out).map_err(io_err(out))?;
    let mut g = Gen::new(s);
    let injected: u64 = s.operations.iter().map(|o| o.size as u64).sum();
    let total = s.accounts as u64 + injected;
    // Ids: a seeded permutation, so injected accounts cannot be told apart by their ids.
    let mut ids: Vec<u64> = (0..total).collect();
    let mut d = Draws::new(s.seed, 0, S_IDS);
    for i in (1..ids.len()).rev() {
        let j = d.below(i as u64 + 1) as usize;
        ids.swap(i, j);
    }
    progress("hashtag waves and accounts");
    g.make_waves();
    g.make_accounts(&ids);
    progress("injected operations");
    let members = g.make_operations(&ids);
    let mut order: Vec<u32> = (0..g.posts.len() as u32).collect();
    order.sort_by_key(|&i| (g.posts[i as usize].time, i));
    progress("retweet cascades");
    let max_rt = g.run_urn(&order);
    progress("post texts");
    g.render(&order);

    let mut w = SocialWritten {
        organic_accounts: s.accounts as u64,
        injected_accounts: members.len() as u64,
        operations: s.operations.len() as u64,
        max_retweets_of_one_post: max_rt,
        start: s.start.to_string(),
        end: date_of(s.start, s.days as i64 - 1).to_string(),
        ..Default::default()
    };
    let mut active = vec![false; g.accounts.len()];
    for p in &g.posts {
        active[p.account as usize] = true;
        w.posts += 1;
        w.injected_posts += p.injected as u64;
        match p.kind {
            Kind::Original => w.originals += 1,
            Kind::Retweet => w.retweets += 1,
            Kind::Reply => w.replies += 1,
            Kind::Quote => w.quotes += 1,
        }
    }
    w.active_accounts = active.iter().filter(|a| **a).count() as u64;

    progress("writing posts");
    let posts_path = match s.format {
        SocialFormat::Ira => {
            let path = out.join("posts.csv");
            write_ira(&g, &order, &path)?;
            path
        }
        SocialFormat::TwitterV1 => {
            let path = out.join("posts.jsonl");
            write_v1(&g, &order, &path)?;
            path
        }
    };
    w.files.push(posts_path);

    let truth = out.join("truth.csv");
    write_truth(
        &truth,
        members.iter().map(|&(acc, o)| {
            let spec = &s.operations[o];
            (g.accounts[acc as usize].key.as_str(), o + 1, spec.tactic.as_str(), spec.utc_offset_minutes)
        }),
    )?;
    w.files.push(truth);

    let scen = out.join("scenario.json");
    let doc = serde_json::json!({
        "seed": s.seed,
        "accounts": s.accounts,
        "days": s.days,
        "start": s.start.to_string(),
        "evasive": s.evasive,
        "operations": s.operations,
        "written": &w,
    });
    std::fs::write(&scen, serde_json::to_string_pretty(&doc).unwrap_or_default()).map_err(io_err(&scen))?;
    w.files.push(scen);
    Ok(w)
}

fn fmt_time(t: i64, pattern: &str) -> String {
    Utc.timestamp_opt(t, 0).single().map(|d| d.format(pattern).to_string()).unwrap_or_default()
}

/// The columns of the IRA file (Linvill and Warren's release) that simulated posts are
/// written in, in its order.
pub(crate) const IRA_COLUMNS: [&str; 11] = [
    "author_id",
    "content",
    "region",
    "language",
    "publish_date",
    "harvested_date",
    "following",
    "followers",
    "updates",
    "post_type",
    "retweet",
];

fn write_ira(g: &Gen, order: &[u32], path: &Path) -> Result<(), SimulateError> {
    let file = File::create(path).map_err(io_err(path))?;
    let mut wr = csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, file));
    wr.write_record(IRA_COLUMNS).map_err(csv_err(path))?;
    let mut updates: Vec<u32> = g.accounts.iter().map(|a| a.statuses_base).collect();
    for &i in order {
        let p = &g.posts[i as usize];
        let a = &g.accounts[p.account as usize];
        updates[p.account as usize] += 1;
        // The IRA file has minute resolution; its harvest follows within minutes to hours.
        let t = p.time - p.time.rem_euclid(60);
        let harvest = t + 60 * (crate::rng::mix(i as u64 ^ g.s.seed) % 240) as i64;
        let content = if p.kind == Kind::Retweet { g.content(p.target as usize) } else { &p.text };
        let (post_type, rt) = match p.kind {
            Kind::Retweet => ("R", "1"),
            Kind::Quote => ("Q", "0"),
            _ => ("", "0"),
        };
        wr.write_record([
            a.key.as_str(),
            content,
            "United States",
            "English",
            &fmt_time(t, "%Y-%m-%d %H:%M:%S"),
            &fmt_time(harvest, "%Y-%m-%d %H:%M:%S"),
            &a.following.to_string(),
            &a.followers.to_string(),
            &updates[p.account as usize].to_string(),
            post_type,
            rt,
        ])
        .map_err(csv_err(path))?;
    }
    wr.flush().map_err(io_err(path))?;
    Ok(())
}

/// Entities of a text: (hashtags, urls).
fn entities(text: &str) -> (Vec<String>, Vec<String>) {
    let mut tags = Vec::new();
    let mut urls = Vec::new();
    for tok in text.split_whitespace() {
        if let Some(t) = tok.strip_prefix('#') {
            let t: String = t.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !t.is_empty() {
                tags.push(t);
            }
        } else if tok.starts_with("http://") || tok.starts_with("https://") {
            urls.push(tok.to_string());
        }
    }
    (tags, urls)
}

fn write_v1(g: &Gen, order: &[u32], path: &Path) -> Result<(), SimulateError> {
    let file = File::create(path).map_err(io_err(path))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let by_handle: HashMap<&str, &str> =
        g.accounts.iter().map(|a| (a.handle.as_str(), a.key.as_str())).collect();
    let mut updates: Vec<u32> = g.accounts.iter().map(|a| a.statuses_base).collect();
    let user = |a: &Account, statuses: u32| {
        let (tz, off) = match a.zone {
            Some(z) => {
                let date = NaiveDate::from_ymd_opt(2016, 10, 1).unwrap_or_default();
                (ZONES[z].name, zone_offset_min(&ZONES[z], date) * 60)
            }
            None => ("", a.op_offset_min * 60),
        };
        serde_json::json!({
            "id_str": a.key,
            "screen_name": a.handle,
            "name": a.handle,
            "followers_count": a.followers,
            "friends_count": a.following,
            "statuses_count": statuses,
            "created_at": fmt_time(a.created, "%a %b %d %H:%M:%S +0000 %Y"),
            "utc_offset": if tz.is_empty() { serde_json::Value::Null } else { off.into() },
            "time_zone": if tz.is_empty() { serde_json::Value::Null } else { tz.into() },
            "lang": "en",
        })
    };
    let tweet = |i: u32, statuses: u32| -> serde_json::Value {
        let p = &g.posts[i as usize];
        let a = &g.accounts[p.account as usize];
        let id = g.tweet_id(i);
        let (tags, urls) = entities(&p.text);
        let mut text = p.text.to_string();
        let mut url_ents = Vec::new();
        for (k, u) in urls.iter().enumerate() {
            let short = format!("https://t.co/{}", base62(crate::rng::mix(id ^ k as u64), 10));
            text = text.replacen(u.as_str(), &short, 1);
            url_ents.push(serde_json::json!({"url": short, "expanded_url": u}));
        }
        let mentions: Vec<serde_json::Value> = p
            .text
            .split_whitespace()
            .filter_map(|t| t.strip_prefix('@'))
            .map(
                |h| serde_json::json!({"screen_name": h, "id_str": by_handle.get(h).copied().unwrap_or("0")}),
            )
            .collect();
        let mut v = serde_json::json!({
            "created_at": fmt_time(p.time, "%a %b %d %H:%M:%S +0000 %Y"),
            "id": id,
            "id_str": id.to_string(),
            "text": text,
            "entities": {
                "hashtags": tags.iter().map(|t| serde_json::json!({"text": t})).collect::<Vec<_>>(),
                "urls": url_ents,
                "user_mentions": mentions,
            },
            "source": format!("<a href=\"https://twitter.com\" rel=\"nofollow\">{}</a>", a.client),
            "user": user(a, statuses),
            "lang": "en",
        });
        if p.kind == Kind::Reply && p.target != NONE {
            let t = &g.posts[p.target as usize];
            v["in_reply_to_status_id_str"] = g.tweet_id(p.target).to_string().into();
            v["in_reply_to_user_id_str"] = g.accounts[t.account as usize].key.clone().into();
            v["in_reply_to_screen_name"] = g.accounts[t.account as usize].handle.clone().into();
        }
        if p.kind == Kind::Quote && p.target != NONE {
            v["is_quote_status"] = true.into();
            v["quoted_status_id_str"] = g.tweet_id(p.target).to_string().into();
        }
        v
    };
    for &i in order {
        let p = &g.posts[i as usize];
        updates[p.account as usize] += 1;
        let statuses = updates[p.account as usize];
        let v = if p.kind == Kind::Retweet {
            let orig = tweet(p.target, g.accounts[g.posts[p.target as usize].account as usize].statuses_base);
            let a = &g.accounts[p.account as usize];
            let oa = &g.accounts[g.posts[p.target as usize].account as usize];
            let id = g.tweet_id(i);
            serde_json::json!({
                "created_at": fmt_time(p.time, "%a %b %d %H:%M:%S +0000 %Y"),
                "id": id,
                "id_str": id.to_string(),
                "text": format!("RT @{}: {}", oa.handle, orig["text"].as_str().unwrap_or_default()),
                "entities": orig["entities"].clone(),
                "source": format!("<a href=\"https://twitter.com\" rel=\"nofollow\">{}</a>", a.client),
                "user": user(a, statuses),
                "retweeted_status": orig,
                "lang": "en",
            })
        } else {
            tweet(i, statuses)
        };
        serde_json::to_writer(&mut out, &v)
            .map_err(|e| SimulateError::Io { path: path.to_path_buf(), source: std::io::Error::other(e) })?;
        out.write_all(b"\n").map_err(io_err(path))?;
    }
    out.flush().map_err(io_err(path))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dst_matches_the_2016_calendar() {
        let d = |m, day| NaiveDate::from_ymd_opt(2016, m, day).expect("date");
        assert!(us_dst(d(11, 5)));
        assert!(!us_dst(d(11, 6)));
        assert!(us_dst(d(3, 13)));
        assert!(!us_dst(d(3, 12)));
    }

    #[test]
    fn tactics_parse_both_spellings() {
        assert_eq!("retweet-ring".parse::<Tactic>(), Ok(Tactic::RetweetRing));
        assert_eq!("hashtag_campaign".parse::<Tactic>(), Ok(Tactic::HashtagCampaign));
        assert!("spam".parse::<Tactic>().is_err());
    }

    #[test]
    fn small_edits_stay_near_duplicates_and_paraphrases_do_not() {
        let jaccard = |a: &str, b: &str| {
            let sa: HashSet<&str> = a.split_whitespace().collect();
            let sb: HashSet<&str> = b.split_whitespace().collect();
            sa.intersection(&sb).count() as f64 / sa.union(&sb).count() as f64
        };
        let mut d = Draws::new(1, 2, 3);
        let (mut near, mut para) = (0.0, 0.0);
        for _ in 0..200 {
            let m = text::op_message(&mut d, 0);
            near += jaccard(&m, &text::small_edit(&mut d, &m));
            para += jaccard(&m, &text::paraphrase(&mut d, &m));
        }
        assert!(near / 200.0 > 0.85, "small edits: mean Jaccard {}", near / 200.0);
        assert!(para / 200.0 < near / 200.0 - 0.1, "paraphrase {} vs edit {}", para / 200.0, near / 200.0);
    }

    #[test]
    fn zipf_favours_low_ranks() {
        let table = zipf_table(100, 1.0);
        let mut d = Draws::new(9, 9, 9);
        let mut counts = [0u32; 100];
        for _ in 0..20_000 {
            counts[zipf(&mut d, &table)] += 1;
        }
        assert!(counts[0] > 5 * counts[20], "{} vs {}", counts[0], counts[20]);
    }
}
