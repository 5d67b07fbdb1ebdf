//! The posts around a leaked dump's release (see [`crate::mail`]): ordinary accounts, a
//! share of whom mention the dump, and the network that amplifies it.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};

use crate::SimulateError;
use crate::mail::{MailScenario, MessageKind, Quotable};
use crate::rng::Draws;
use crate::social::text;

/// What [`write`] wrote.
pub(crate) struct PostsWritten {
    pub files: Vec<PathBuf>,
    pub posts: usize,
    pub organic_accounts: usize,
    pub amplifiers: usize,
}

struct Post {
    time: i64,
    account: usize,
    text: String,
    /// The account retweeted, for a retweet.
    retweet_of: Option<usize>,
}

const HOURS: i64 = 3600;
const DAYS: i64 = 86_400;

/// A time `mean` seconds after `t` on average (exponential), within `cap`.
fn after(d: &mut Draws, t: i64, mean: f64, cap: i64) -> i64 {
    let u = d.unit().max(1e-9);
    t + ((-u.ln() * mean) as i64).min(cap)
}

/// A second of the day weighted toward US waking hours (UTC 12:00 to 04:00).
fn waking_second(d: &mut Draws) -> i64 {
    loop {
        let s = d.below(DAYS as u64) as i64;
        let h = s / HOURS;
        let weight = if (4..12).contains(&h) { 0.2 } else { 1.0 };
        if d.chance(weight) {
            return s;
        }
    }
}

fn news_link(d: &mut Draws) -> String {
    const SITES: [&str; 6] = [
        "news-observer.example",
        "capitol-daily.example",
        "wral-news.example",
        "the-ledger.example",
        "citizen-times.example",
        "triad-post.example",
    ];
    format!("https://{}/2020/{}", SITES[d.below(SITES.len() as u64) as usize], 10_000 + d.below(90_000))
}

/// Writes `posts.csv` and `amplifiers.csv` into `out`.
pub(crate) fn write(
    s: &MailScenario,
    out: &Path,
    messages: &[Quotable],
    released: DateTime<Utc>,
) -> Result<PostsWritten, SimulateError> {
    let organic = s.organic_accounts.max(10) as usize;
    let amps = s.amplifiers.max(3) as usize;
    let accounts = organic + amps;
    let mut d = Draws::new(s.seed, 0, 0x7200);
    // Account ids in one range, the network's drawn among them.
    let ids: Vec<String> =
        (0..accounts).map(|i| format!("org_{:07}", 8_000_000 + i as u64 * 37 + d.below(37))).collect();
    let mut order: Vec<usize> = (0..accounts).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, d.below(i as u64 + 1) as usize);
    }
    let amplifiers: Vec<usize> = order[..amps].to_vec();
    let ordinary: Vec<usize> = order[amps..].to_vec();
    let rel = released.timestamp();
    let start = rel - 2 * DAYS;
    let mut posts: Vec<Post> = Vec::new();

    // Ordinary talk: originals about the election, then retweets of them.
    for (k, &a) in ordinary.iter().enumerate() {
        let mut r = Draws::new(s.seed, k as u64, 0x7201);
        let topic = r.below(text::TOPICS.len() as u64) as usize;
        let n = 1 + (-(r.unit().max(1e-9)).ln() * 3.0) as u64;
        for _ in 0..n.min(30) {
            let time = start + r.below(9) as i64 * DAYS + waking_second(&mut r);
            let mut body = text::organic_sentence(&mut r, topic);
            if r.chance(0.3) {
                let tags = text::topic_hashtags(topic);
                body = format!("{body} {}", tags[(r.below(tags.len() as u64) as usize).min(tags.len() - 1)]);
            }
            if r.chance(0.2) {
                body = format!("{body} {}", news_link(&mut r));
            }
            posts.push(Post { time, account: a, text: body, retweet_of: None });
        }
    }
    let originals = posts.len();
    for k in 0..originals / 3 {
        let mut r = Draws::new(s.seed, k as u64, 0x7202);
        let target = r.below(originals as u64) as usize;
        let who = ordinary[r.below(ordinary.len() as u64) as usize];
        if who == posts[target].account {
            continue;
        }
        let time = after(&mut r, posts[target].time, 2.0 * HOURS as f64, 2 * DAYS);
        let p = Post {
            time,
            account: who,
            text: posts[target].text.clone(),
            retweet_of: Some(posts[target].account),
        };
        posts.push(p);
    }

    // The amplifying network: three pushes a day for a week, the forgeries first.
    let mut quoted: Vec<usize> =
        (0..messages.len()).filter(|&i| messages[i].kind != MessageKind::Authentic).collect();
    quoted.extend((0..messages.len()).filter(|&i| messages[i].kind == MessageKind::Authentic));
    let mut pushes: Vec<usize> = Vec::new();
    for p in 0..21usize {
        let mut r = Draws::new(s.seed, p as u64, 0x7203);
        let time = rel + (p / 3) as i64 * DAYS + HOURS + r.below(14 * HOURS as u64) as i64;
        let lead = amplifiers[p % amps];
        let m = &messages[quoted[p % quoted.len()]];
        let said = m.line.clone().unwrap_or_else(|| m.subject.clone());
        let body = format!("\"{said}\" #{} https://{}/{}", crate::mail::HASHTAG, crate::mail::HOST, 1000 + p);
        pushes.push(posts.len());
        posts.push(Post { time, account: lead, text: body.clone(), retweet_of: None });
        for &other in &amplifiers {
            if other != lead && r.chance(0.85) {
                let t = time + 120 + r.below(40 * 60) as i64;
                posts.push(Post { time: t, account: other, text: body.clone(), retweet_of: Some(lead) });
            }
        }
    }

    // Ordinary accounts that notice the dump: a link, the hashtag, a quoted subject, or
    // a retweet of one of the network's posts.
    for (k, &a) in ordinary.iter().enumerate() {
        let mut r = Draws::new(s.seed, k as u64, 0x7204);
        if !r.chance(0.15) {
            continue;
        }
        for _ in 0..1 + r.below(2) {
            let time = after(&mut r, rel, 30.0 * HOURS as f64, 6 * DAYS);
            let m = &messages[r.below(messages.len() as u64) as usize];
            let post = match r.below(4) {
                0 => Post {
                    time,
                    account: a,
                    text: format!(
                        "Has anyone actually read these? https://{}/{}",
                        crate::mail::HOST,
                        r.below(500)
                    ),
                    retweet_of: None,
                },
                1 => Post {
                    time,
                    account: a,
                    text: format!("Not sure what to make of #{} yet", crate::mail::HASHTAG),
                    retweet_of: None,
                },
                2 => Post {
                    time,
                    account: a,
                    text: format!("\"{}\" - is this real?", m.subject),
                    retweet_of: None,
                },
                _ => {
                    let push = &posts[pushes[r.below(pushes.len() as u64) as usize]];
                    let time = after(&mut r, push.time, 3.0 * HOURS as f64, 2 * DAYS);
                    Post { time, account: a, text: push.text.clone(), retweet_of: Some(push.account) }
                }
            };
            posts.push(post);
        }
    }

    posts.sort_by(|x, y| x.time.cmp(&y.time).then(x.account.cmp(&y.account)));
    let path = out.join("posts.csv");
    let err = |e: csv::Error| SimulateError::Io { path: path.clone(), source: std::io::Error::other(e) };
    let mut w = csv::Writer::from_path(&path).map_err(err)?;
    w.write_record(crate::social::IRA_COLUMNS.iter().chain(&["tweet_id"])).map_err(err)?;
    let fmt = |t: i64| {
        Utc.timestamp_opt(t, 0)
            .single()
            .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default()
    };
    for (i, p) in posts.iter().enumerate() {
        let (content, post_type, rt) = match p.retweet_of {
            Some(of) => (format!("RT @{}: {}", ids[of], p.text), "R", "1"),
            None => (p.text.clone(), "", "0"),
        };
        let id = (1_320_000_000_000_000_000u64 + i as u64).to_string();
        let time = fmt(p.time);
        w.write_record([
            &ids[p.account],
            &content,
            "United States",
            "English",
            &time,
            &time,
            "200",
            "300",
            "1000",
            post_type,
            rt,
            &id,
        ])
        .map_err(err)?;
    }
    w.flush().map_err(|source| SimulateError::Io { path: path.clone(), source })?;

    let amp_path = out.join("amplifiers.csv");
    let io = |source| SimulateError::Io { path: amp_path.clone(), source };
    let mut f = std::io::BufWriter::new(std::fs::File::create(&amp_path).map_err(io)?);
    writeln!(f, "account").map_err(io)?;
    let names: BTreeSet<&str> = amplifiers.iter().map(|&a| ids[a].as_str()).collect();
    for n in names {
        writeln!(f, "{n}").map_err(io)?;
    }
    f.flush().map_err(io)?;
    Ok(PostsWritten {
        files: vec![path, amp_path],
        posts: posts.len(),
        organic_accounts: organic,
        amplifiers: amps,
    })
}
