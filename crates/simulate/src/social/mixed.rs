//! Mixed input: one operation seeded across Twitter, Telegram and Reddit, each platform
//! with organic traffic of its own, written in the layouts the influence readers take.
//!
//! - `twitter.csv`: the Clemson/FiveThirtyEight IRA release's full layout
//!   (`external_author_id,author,content,...,tco1_step1,tco2_step1,tco3_step1`): links in
//!   `content` are `t.co` addresses and the page each wraps is in `tco1_step1..`, dates are
//!   `M/D/YYYY H:MM` (UTC), retweets `RT @handle: ...` with `post_type` `RETWEET`.
//! - `telegram/result.json`: Telegram Desktop's machine-readable export of a whole
//!   account (`chats.list`): one public supergroup per topic community where the organic
//!   users write (originals, forwards `forwarded_from` the original author's name,
//!   replies `reply_to_message_id`), and the operation's public channels. Text with links
//!   or hashtags is an array of strings and entity objects, beside `text_entities`.
//! - `reddit.ndjson`: Pushshift NDJSON, submissions (`title`, `selftext`, `url`, `domain`,
//!   `is_self`) and comments (`body`, `link_id`, `parent_id`) of one subreddit per topic, in
//!   time order; 2% of organic authors are `[deleted]`.
//!
//! The organic traffic of each platform is the Twitter model of [`super`] run on its own
//! accounts and seed, its kinds mapped to what the platform has: a retweet is a forward on
//! Telegram and a comment on Reddit, a quote a plain message or a comment. The operation
//! runs a few accounts on each platform. Every weekday it publishes articles on its own
//! domains from its office; each article reaches the platforms in the order given
//! ([`MixedScenario::order`]), 20–60 minutes apart, and on each platform one account posts
//! it first and the others repost it with small edits within minutes.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{Datelike, TimeZone, Utc};

use super::{
    Gen, Kind, NONE, Office, SocialFormat, SocialScenario, base62, date_of, offset_label, text, write_truth,
};
use crate::rng::Draws;
use crate::{SimulateError, csv_err, io_err, json_err};

/// A platform the mixed scenario writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    /// `twitter.csv`, the IRA release's full layout.
    Twitter,
    /// `telegram/result.json`, a Telegram Desktop export.
    Telegram,
    /// `reddit.ndjson`, Pushshift submissions and comments.
    Reddit,
}

impl Platform {
    /// The three, in the order their files are listed.
    pub const ALL: [Platform; 3] = [Platform::Twitter, Platform::Telegram, Platform::Reddit];

    /// The name the influence engine gives the platform.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Twitter => "twitter",
            Platform::Telegram => "telegram",
            Platform::Reddit => "reddit",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl std::str::FromStr for Platform {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Platform::ALL
            .into_iter()
            .find(|p| p.as_str() == s.trim())
            .ok_or_else(|| format!("unknown platform '{s}' (expected twitter, telegram, reddit)"))
    }
}

/// A mixed scenario: organic traffic on three platforms and one operation across them.
#[derive(Debug, Clone)]
pub struct MixedScenario {
    /// Seed, days, start and organic accounts (split evenly among the platforms); its
    /// operations and format are not used.
    pub base: SocialScenario,
    /// The order in which the operation's articles reach the platforms: each of the three
    /// once.
    pub order: Vec<Platform>,
    /// The operation's accounts on each platform.
    pub accounts_per_platform: u32,
    /// The UTC offset of the operation's office, in minutes.
    pub utc_offset_minutes: i32,
}

/// What a mixed run wrote.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct MixedWritten {
    /// The files, the three inputs first.
    pub files: Vec<PathBuf>,
    /// Posts per platform (`twitter`, `telegram`, `reddit`).
    pub posts: HashMap<&'static str, u64>,
    /// The operation's posts, all platforms.
    pub injected_posts: u64,
    /// The operation's articles.
    pub articles: u64,
    /// The operation's accounts, as the influence engine keys them.
    pub injected_accounts: u64,
}

/// One post on one platform, before it is written.
struct Item {
    time: i64,
    /// Index into the platform's accounts (organic) or the operation's.
    author: Author,
    kind: Kind,
    /// For a repost, reply or comment: the post (index into the platform's items).
    target: u32,
    text: String,
}

#[derive(Clone, Copy)]
enum Author {
    Organic(u32),
    Operation(u32),
}

/// An account as one platform shows it.
struct Persona {
    /// The key the influence engine gives it (`telegram:channel...`, `reddit:...`, the
    /// Twitter handle).
    key: String,
    /// The name written in the file.
    name: String,
    /// Telegram: `user<id>` or `channel<id>`; Reddit and Twitter: unused.
    from_id: String,
    followers: u32,
    following: u32,
    topic: usize,
}

/// Operation stream of draws.
const S_MIXED_OP: u64 = 31;
const S_MIXED_TEXT: u64 = 32;

/// Generates the mixed scenario into `out`.
pub fn generate_mixed(
    s: &MixedScenario,
    out: &Path,
    progress: &dyn Fn(&str),
) -> Result<MixedWritten, SimulateError> {
    let mut order = s.order.clone();
    order.sort_by_key(|p| p.index());
    order.dedup();
    if s.order.len() != 3 || order.len() != 3 {
        return Err(SimulateError::Invalid(
            "--platforms must name twitter, telegram and reddit, each once, in the order the operation reaches them"
                .into(),
        ));
    }
    if s.accounts_per_platform < 2 {
        return Err(SimulateError::Invalid(
            "the operation needs at least 2 accounts on each platform".into(),
        ));
    }
    if s.base.days == 0 {
        return Err(SimulateError::Invalid("--days must be at least 1".into()));
    }
    std::fs::create_dir_all(out.join("telegram")).map_err(io_err(out))?;
    // One organic world per platform, each with its own seed and accounts.
    let scenarios: Vec<SocialScenario> = Platform::ALL
        .iter()
        .map(|p| SocialScenario {
            seed: crate::rng::mix(s.base.seed ^ (0x51A7 + p.index() as u64)),
            accounts: (s.base.accounts / 3).max(30),
            operations: Vec::new(),
            evasive: false,
            format: SocialFormat::TwitterV1,
            ..s.base.clone()
        })
        .collect();
    let mut worlds: Vec<(Gen, Vec<u32>)> = Vec::new();
    for (p, sc) in Platform::ALL.iter().zip(&scenarios) {
        progress(&format!("organic {} traffic", p.as_str()));
        let mut g = Gen::new(sc);
        let ids: Vec<u64> = (0..sc.accounts as u64).collect();
        g.make_waves();
        g.make_accounts(&ids);
        let mut ord: Vec<u32> = (0..g.posts.len() as u32).collect();
        ord.sort_by_key(|&i| (g.posts[i as usize].time, i));
        g.run_urn(&ord);
        g.render(&ord);
        worlds.push((g, ord));
    }

    // Organic items and personas per platform.
    let mut items: Vec<Vec<Item>> = Vec::new();
    let mut organic: Vec<Vec<Persona>> = Vec::new();
    for (p, (g, ord)) in Platform::ALL.iter().zip(&worlds) {
        let mut back = vec![NONE; g.posts.len()];
        let mut list = Vec::with_capacity(ord.len());
        for &i in ord {
            let post = &g.posts[i as usize];
            let target = if post.target == NONE { NONE } else { back[post.target as usize] };
            back[i as usize] = list.len() as u32;
            list.push(Item {
                time: post.time,
                author: Author::Organic(post.account),
                kind: if target == NONE && post.kind != Kind::Original { Kind::Original } else { post.kind },
                target,
                text: post.text.to_string(),
            });
        }
        items.push(list);
        organic.push(
            g.accounts
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    let name =
                        if i >= 10_000 { format!("{}_{}", a.handle, i / 10_000) } else { a.handle.clone() };
                    let user = 100_000_000 + i as u64 * 7919 + 17 * p.index() as u64;
                    Persona {
                        key: match p {
                            Platform::Twitter => name.clone(),
                            Platform::Telegram => format!("telegram:user{user}"),
                            Platform::Reddit => format!("reddit:{name}"),
                        },
                        from_id: format!("user{user}"),
                        name,
                        followers: a.followers,
                        following: a.following,
                        topic: a.topic,
                    }
                })
                .collect(),
        );
    }

    // The operation.
    progress("the operation across platforms");
    let op = operation_personas(s);
    let g0 = &worlds[0].0;
    let office = Office { offset_min: s.utc_offset_minutes, evasive: false };
    let mut d = Draws::new(s.base.seed, 0, S_MIXED_OP);
    let domains = ["freedom-ledger.info", "truth-dispatch.net", "patriot-wire.org"];
    let theme = d.below(4) as usize;
    let n = s.accounts_per_platform as usize;
    let mut written = MixedWritten::default();
    for day in 0..s.base.days as i64 {
        for k in 0..3u64 {
            let Some(t) = office.time_on(g0, &mut d, day, 9) else { continue };
            let date = date_of(s.base.start, day);
            let key = crate::rng::mix(s.base.seed ^ (day as u64) << 8 ^ k);
            let link = format!(
                "https://{}/{}/{:02}/{:02}/{}",
                domains[(key % 3) as usize],
                date.year(),
                date.month(),
                date.day(),
                text::slug(key)
            );
            let message = text::op_message(&mut d, theme);
            written.articles += 1;
            let mut arrival = t;
            for (step, p) in s.order.iter().enumerate() {
                if step > 0 {
                    arrival += 20 * 60 + d.below(40 * 60) as i64;
                }
                let list = &mut items[p.index()];
                // The platform's first account posts the article; the others follow within
                // minutes, most of them, each with a small edit.
                let first = d.below(n as u64) as usize;
                for m in 0..n {
                    if m != first && !d.chance(0.8) {
                        continue;
                    }
                    let time = if m == first { arrival } else { arrival + 30 + d.below(15 * 60) as i64 };
                    let words = if m == first { message.clone() } else { text::small_edit(&mut d, &message) };
                    list.push(Item {
                        time,
                        author: Author::Operation(m as u32),
                        kind: Kind::Original,
                        target: NONE,
                        text: format!("{words} {link}"),
                    });
                    written.injected_posts += 1;
                }
            }
        }
    }
    for list in &mut items {
        // Time order, targets renumbered.
        let mut idx: Vec<u32> = (0..list.len() as u32).collect();
        idx.sort_by_key(|&i| (list[i as usize].time, i));
        let mut new_of = vec![0u32; list.len()];
        for (new, &old) in idx.iter().enumerate() {
            new_of[old as usize] = new as u32;
        }
        let mut sorted: Vec<Item> = Vec::with_capacity(list.len());
        let mut taken: Vec<Option<Item>> = std::mem::take(list).into_iter().map(Some).collect();
        for &old in &idx {
            if let Some(mut it) = taken[old as usize].take() {
                if it.target != NONE {
                    it.target = new_of[it.target as usize];
                    // Targets come before what refers to them; anything else stands alone.
                    if it.target as usize >= sorted.len() {
                        it.target = NONE;
                        it.kind = Kind::Original;
                    }
                }
                sorted.push(it);
            }
        }
        *list = sorted;
    }

    progress("writing twitter.csv, telegram/result.json, reddit.ndjson");
    let paths =
        [out.join("twitter.csv"), out.join("telegram").join("result.json"), out.join("reddit.ndjson")];
    for (p, path) in Platform::ALL.iter().zip(&paths) {
        let i = p.index();
        let who = |a: Author| -> &Persona {
            match a {
                Author::Organic(k) => &organic[i][k as usize],
                Author::Operation(k) => &op[i][k as usize],
            }
        };
        match p {
            Platform::Twitter => write_twitter(&items[i], &who, s.base.seed, path)?,
            Platform::Telegram => write_telegram(&items[i], &who, &op[i], s.base.seed, path)?,
            Platform::Reddit => write_reddit(&items[i], &who, s.base.seed, path)?,
        }
        written.posts.insert(p.as_str(), items[i].len() as u64);
        written.files.push(path.clone());
    }

    let truth = out.join("truth.csv");
    written.injected_accounts += write_truth(
        &truth,
        op.iter().flatten().map(|persona| (persona.key.as_str(), 1, "cross_platform", s.utc_offset_minutes)),
    )?;
    written.files.push(truth);
    let scenario = out.join("scenario.json");
    let doc = serde_json::json!({
        "seed": s.base.seed,
        "accounts": s.base.accounts,
        "days": s.base.days,
        "start": s.base.start.to_string(),
        "platform_order": s.order.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        "operation_accounts_per_platform": s.accounts_per_platform,
        "operation_utc_offset": offset_label(s.utc_offset_minutes),
        "written": &written,
    });
    std::fs::write(&scenario, serde_json::to_string_pretty(&doc).unwrap_or_default())
        .map_err(io_err(&scenario))?;
    written.files.push(scenario);
    Ok(written)
}

/// The operation's accounts on each platform (indexed like [`Platform::ALL`]).
fn operation_personas(s: &MixedScenario) -> Vec<Vec<Persona>> {
    Platform::ALL
        .iter()
        .map(|p| {
            (0..s.accounts_per_platform as u64)
                .map(|m| {
                    let mut d = Draws::new(s.base.seed, 1_000_000 + m + 1000 * p.index() as u64, S_MIXED_OP);
                    let handle = format!("{}_{}", text::handle(&mut d, 9_000 + m), 10 + m);
                    let channel = 1_400_000_000
                        + crate::rng::mix(s.base.seed ^ m ^ (p.index() as u64) << 20) % 100_000_000;
                    let (key, name, from_id) = match p {
                        Platform::Twitter => (handle.clone(), handle, String::new()),
                        Platform::Telegram => {
                            let name = format!("{} News", text::campaign_tag(&mut d).trim_start_matches('#'));
                            (
                                format!("telegram:channel{channel}"),
                                format!("{name} {m}"),
                                format!("channel{channel}"),
                            )
                        }
                        Platform::Reddit => (format!("reddit:{handle}"), handle, String::new()),
                    };
                    Persona {
                        key,
                        name,
                        from_id,
                        followers: 800 + d.below(5000) as u32,
                        following: 300,
                        topic: 0,
                    }
                })
                .collect()
        })
        .collect()
}

fn csv_io(path: &Path) -> impl Fn(csv::Error) -> SimulateError + '_ {
    csv_err(path)
}

/// The links of a text, in order.
fn links(text: &str) -> Vec<&str> {
    text.split_whitespace().filter(|t| t.starts_with("http://") || t.starts_with("https://")).collect()
}

/// The IRA release's full layout (FiveThirtyEight's `russian-troll-tweets`).
const CLEMSON_COLUMNS: [&str; 21] = [
    "external_author_id",
    "author",
    "content",
    "region",
    "language",
    "publish_date",
    "harvested_date",
    "following",
    "followers",
    "updates",
    "post_type",
    "account_type",
    "retweet",
    "account_category",
    "new_june_2018",
    "alt_external_id",
    "tweet_id",
    "article_url",
    "tco1_step1",
    "tco2_step1",
    "tco3_step1",
];

fn write_twitter<'p>(
    items: &[Item],
    who: &dyn Fn(Author) -> &'p Persona,
    seed: u64,
    path: &Path,
) -> Result<(), SimulateError> {
    let file = File::create(path).map_err(io_err(path))?;
    let mut wr = csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, file));
    wr.write_record(CLEMSON_COLUMNS).map_err(csv_io(path))?;
    let mut updates: HashMap<&str, u32> = HashMap::new();
    let date = |t: i64| {
        Utc.timestamp_opt(t, 0)
            .single()
            .map(|d| d.format("%-m/%-d/%Y %-H:%M").to_string())
            .unwrap_or_default()
    };
    for (i, it) in items.iter().enumerate() {
        let p = who(it.author);
        let n = updates.entry(p.key.as_str()).or_insert(100 + (p.followers % 900));
        *n += 1;
        // A retweet carries the original's text and links, behind `RT @author:`.
        let (body, post_type, retweet) = match it.kind {
            Kind::Retweet if it.target != NONE => {
                let t = &items[it.target as usize];
                (format!("RT @{}: {}", who(t.author).name, t.text), "RETWEET", "1")
            }
            Kind::Quote => (it.text.clone(), "QUOTE_TWEET", "0"),
            _ => (it.text.clone(), "", "0"),
        };
        let mut content = body.clone();
        let mut expanded: Vec<String> = Vec::new();
        for (k, link) in links(&body).into_iter().enumerate() {
            let short =
                format!("https://t.co/{}", base62(crate::rng::mix(seed ^ (i as u64) << 3 ^ k as u64), 10));
            content = content.replacen(link, &short, 1);
            expanded.push(link.to_owned());
        }
        expanded.resize(3, String::new());
        let tweet_id = 780_000_000_000_000_000u64 + (i as u64) * 4099;
        wr.write_record([
            &(crate::rng::mix(seed ^ p.key.len() as u64 ^ p.followers as u64) % 10_000_000_000).to_string(),
            p.name.as_str(),
            &content,
            "United States",
            "English",
            &date(it.time),
            &date(it.time + 60 * (i as i64 % 180)),
            &p.following.to_string(),
            &p.followers.to_string(),
            &n.to_string(),
            post_type,
            "",
            retweet,
            "",
            "",
            "",
            &tweet_id.to_string(),
            "",
            &expanded[0],
            &expanded[1],
            &expanded[2],
        ])
        .map_err(csv_io(path))?;
    }
    wr.flush().map_err(io_err(path))?;
    Ok(())
}

/// Telegram Desktop's text field: a plain string, or, when the text holds links or
/// hashtags, an array of strings and entity objects; and `text_entities`, every piece
/// typed.
fn telegram_text(text: &str) -> (serde_json::Value, serde_json::Value) {
    let mut parts: Vec<serde_json::Value> = Vec::new();
    let mut entities: Vec<serde_json::Value> = Vec::new();
    let mut plain = String::new();
    let mut any = false;
    for (k, word) in text.split(' ').enumerate() {
        if k > 0 {
            plain.push(' ');
        }
        let kind = if word.starts_with("http://") || word.starts_with("https://") {
            Some("link")
        } else if word.len() > 1 && word.starts_with('#') {
            Some("hashtag")
        } else {
            None
        };
        match kind {
            Some(kind) => {
                any = true;
                if !plain.is_empty() {
                    parts.push(plain.clone().into());
                    entities.push(serde_json::json!({"type": "plain", "text": plain}));
                    plain.clear();
                }
                parts.push(serde_json::json!({"type": kind, "text": word}));
                entities.push(serde_json::json!({"type": kind, "text": word}));
            }
            None => plain.push_str(word),
        }
    }
    if !plain.is_empty() {
        parts.push(plain.clone().into());
        entities.push(serde_json::json!({"type": "plain", "text": plain}));
    }
    if any { (parts.into(), entities.into()) } else { (text.into(), entities.into()) }
}

fn write_telegram<'p>(
    items: &[Item],
    who: &dyn Fn(Author) -> &'p Persona,
    operation: &[Persona],
    seed: u64,
    path: &Path,
) -> Result<(), SimulateError> {
    // Chats: a public supergroup per topic for the organic users, a public channel per
    // account of the operation.
    let topics = text::TOPICS.len();
    let mut chats: Vec<(String, &'static str, u64, Vec<serde_json::Value>)> = (0..topics)
        .map(|t| {
            let id = 1_100_000_000 + crate::rng::mix(seed ^ t as u64) % 100_000_000;
            (format!("{} chat", text::TOPICS[t].replace('_', " ")), "public_supergroup", id, Vec::new())
        })
        .collect();
    for p in operation {
        let id: u64 = p.from_id.trim_start_matches("channel").parse().unwrap_or(0);
        chats.push((p.name.clone(), "public_channel", id, Vec::new()));
    }
    // Where each item went: (chat, message id).
    let mut placed: Vec<(usize, u64)> = Vec::with_capacity(items.len());
    for it in items {
        let p = who(it.author);
        let chat = match it.author {
            Author::Organic(_) => p.topic % topics,
            Author::Operation(m) => topics + m as usize,
        };
        let id = chats[chat].3.len() as u64 + 1;
        placed.push((chat, id));
        let dt = Utc.timestamp_opt(it.time, 0).single().unwrap_or_default();
        let mut m = serde_json::json!({
            "id": id,
            "type": "message",
            "date": dt.format("%Y-%m-%dT%H:%M:%S").to_string(),
            "date_unixtime": it.time.to_string(),
            "from": p.name,
            "from_id": p.from_id,
        });
        let mut body = it.text.as_str();
        if it.target != NONE {
            let t = &items[it.target as usize];
            match it.kind {
                Kind::Retweet => {
                    m["forwarded_from"] = who(t.author).name.clone().into();
                    body = t.text.as_str();
                }
                Kind::Reply if placed[it.target as usize].0 == chat => {
                    m["reply_to_message_id"] = placed[it.target as usize].1.into();
                }
                _ => {}
            }
        }
        // A quote's Twitter address means nothing here: its words are a message.
        let body = body.split(" https://twitter.com/").next().unwrap_or(body);
        let (text, entities) = telegram_text(body);
        m["text"] = text;
        m["text_entities"] = entities;
        chats[chat].3.push(m);
    }
    let list: Vec<serde_json::Value> = chats
        .into_iter()
        .map(|(name, kind, id, messages)| serde_json::json!({"name": name, "type": kind, "id": id, "messages": messages}))
        .collect();
    let doc = serde_json::json!({
        "about": "Here is the data you requested. Remember: Telegram is ad free, it doesn't sell your data.",
        "chats": {"about": "This page lists all chats from this export.", "list": list},
    });
    let file = File::create(path).map_err(io_err(path))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    serde_json::to_writer_pretty(&mut w, &doc).map_err(json_err(path))?;
    w.write_all(b"\n").map_err(io_err(path))?;
    w.flush().map_err(io_err(path))?;
    Ok(())
}

/// Reddit ids are base-36.
fn base36(mut x: u64) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut s = Vec::new();
    loop {
        s.push(DIGITS[(x % 36) as usize]);
        x /= 36;
        if x == 0 {
            break;
        }
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

const SUBREDDITS: [&str; 8] =
    ["politics", "Conservative", "news", "sports", "entertainment", "technology", "LocalNews", "Music"];

fn write_reddit<'p>(
    items: &[Item],
    who: &dyn Fn(Author) -> &'p Persona,
    seed: u64,
    path: &Path,
) -> Result<(), SimulateError> {
    let file = File::create(path).map_err(io_err(path))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    // Each item's id (`t3_`/`t1_` + base 36) and its submission.
    let mut fullname: Vec<String> = Vec::with_capacity(items.len());
    let mut root: Vec<u32> = Vec::with_capacity(items.len());
    let mut d = Draws::new(seed, 0, S_MIXED_TEXT);
    for (i, it) in items.iter().enumerate() {
        let p = who(it.author);
        let author = match it.author {
            Author::Organic(_) if d.chance(0.02) => "[deleted]".to_owned(),
            _ => p.name.clone(),
        };
        let id = base36(1_600_000_000 + i as u64 * 37);
        let submission = it.target == NONE || it.kind == Kind::Original;
        let v = if submission {
            let sub = match it.author {
                Author::Operation(_) => "politics",
                Author::Organic(_) => SUBREDDITS[p.topic % SUBREDDITS.len()],
            };
            let body = it.text.split(" https://twitter.com/").next().unwrap_or(&it.text);
            let url = links(body).first().map(|l| l.to_string());
            let title: String =
                body.split_whitespace().filter(|t| !t.starts_with("http")).collect::<Vec<_>>().join(" ");
            let (is_self, url, domain, selftext) = match url {
                Some(u) => {
                    let domain = u.split('/').nth(2).unwrap_or("").trim_start_matches("www.").to_owned();
                    (false, u, domain, String::new())
                }
                None => (
                    true,
                    format!("https://www.reddit.com/r/{sub}/comments/{id}/"),
                    format!("self.{sub}"),
                    String::new(),
                ),
            };
            fullname.push(format!("t3_{id}"));
            root.push(i as u32);
            serde_json::json!({
                "author": author,
                "created_utc": it.time,
                "domain": domain,
                "id": id,
                "is_self": is_self,
                "num_comments": 0,
                "over_18": false,
                "permalink": format!("/r/{sub}/comments/{id}/"),
                "score": 1 + (crate::rng::mix(seed ^ i as u64) % 50),
                "selftext": selftext,
                "subreddit": sub,
                "title": title,
                "url": url,
            })
        } else {
            let r = root[it.target as usize];
            let sub = match items[r as usize].author {
                Author::Operation(_) => "politics",
                Author::Organic(k) => SUBREDDITS[who(Author::Organic(k)).topic % SUBREDDITS.len()],
            };
            // A retweet has no words of its own: the comment is a reaction.
            let body = match it.kind {
                Kind::Retweet => text::reply_text(&mut d, p.topic),
                _ => it.text.split(" https://twitter.com/").next().unwrap_or(&it.text).to_owned(),
            };
            fullname.push(format!("t1_{id}"));
            root.push(r);
            serde_json::json!({
                "author": author,
                "body": body,
                "created_utc": it.time,
                "id": id,
                "link_id": fullname[r as usize],
                "parent_id": fullname[it.target as usize],
                "score": 1,
                "subreddit": sub,
            })
        };
        serde_json::to_writer(&mut w, &v).map_err(json_err(path))?;
        w.write_all(b"\n").map_err(io_err(path))?;
    }
    w.flush().map_err(io_err(path))?;
    Ok(())
}
