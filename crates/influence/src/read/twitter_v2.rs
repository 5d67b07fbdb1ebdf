//! Twitter API v2 JSONL as twarc2 writes it: each line a response page
//! (`{"data":[...], "includes":{"users":[...], "tweets":[...]}, "meta":...}`), or, after
//! `twarc2 flatten`, one tweet per line with its `author` and `referenced_tweets` inlined.
//!
//! - Account: `author_id`; handle, creation date and follower counts from the author
//!   (`includes.users` or the inlined `author`).
//! - Kind from `referenced_tweets[].type`: `retweeted` > `quoted` > `replied_to`.
//! - A retweet's text, URLs, hashtags and mentions are those of the retweeted post (from
//!   `includes.tweets` or the inlined reference), and `retweeted_account` is its
//!   `author_id`. When the retweeted post is not in the file, the retweet's own text is
//!   used without its `RT @handle:` prefix.
//! - Text: `note_tweet.text` (long posts) else `text`, HTML entities decoded.
//! - URLs: `entities.urls[]` `unwound_url`, else `expanded_url`, else `url`.

use std::collections::HashMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::Out;
use super::jsonl::{LineError, LineParser, lenient_count, lenient_id, parse_json};
use super::text::{clip, extract_entities, parse_time, split_rt_prefix, strip_html, unescape_html};
use crate::post::{AccountMeta, Post, PostKind};

/// A tweet, or a whole response page (then only `data`, `includes`, `meta` and `errors`
/// are set): one type so that a line is parsed once whichever it is.
#[derive(Deserialize, Default)]
struct Tweet {
    #[serde(default, deserialize_with = "lenient_id")]
    id: Option<String>,
    text: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    author_id: Option<String>,
    created_at: Option<String>,
    referenced_tweets: Option<Vec<Tweet>>,
    #[serde(rename = "type")]
    ref_type: Option<String>,
    entities: Option<Entities>,
    note_tweet: Option<NoteTweet>,
    source: Option<String>,
    lang: Option<String>,
    author: Option<User>,
    #[serde(default, deserialize_with = "one_or_many")]
    data: Option<Vec<Tweet>>,
    includes: Option<Includes>,
    meta: Option<IgnoredAny>,
    errors: Option<IgnoredAny>,
}

#[derive(Deserialize, Default)]
struct NoteTweet {
    text: Option<String>,
    entities: Option<Entities>,
}

#[derive(Deserialize, Default, Clone)]
struct Entities {
    urls: Option<Vec<UrlEntity>>,
    hashtags: Option<Vec<TagEntity>>,
    mentions: Option<Vec<MentionEntity>>,
}

#[derive(Deserialize, Clone)]
struct UrlEntity {
    unwound_url: Option<String>,
    expanded_url: Option<String>,
    url: Option<String>,
}

#[derive(Deserialize, Clone)]
struct TagEntity {
    tag: Option<String>,
}

#[derive(Deserialize, Clone)]
struct MentionEntity {
    username: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
struct User {
    #[serde(default, deserialize_with = "lenient_id")]
    id: Option<String>,
    username: Option<String>,
    name: Option<String>,
    location: Option<String>,
    created_at: Option<String>,
    public_metrics: Option<UserMetrics>,
}

#[derive(Deserialize, Default, Clone)]
struct UserMetrics {
    #[serde(default, deserialize_with = "lenient_count")]
    followers_count: Option<u64>,
    #[serde(default, deserialize_with = "lenient_count")]
    following_count: Option<u64>,
}

#[derive(Deserialize, Default)]
struct Includes {
    users: Option<Vec<User>>,
    tweets: Option<Vec<Tweet>>,
}

/// `data` is an array in search and timeline pages, a single object in lookups.
fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<Tweet>>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<Vec<Tweet>>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a tweet or an array of tweets")
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_any(V)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
            while let Some(t) = seq.next_element::<Tweet>()? {
                out.push(t);
            }
            Ok(Some(out))
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            Ok(Some(vec![Tweet::deserialize(de::value::MapAccessDeserializer::new(map))?]))
        }
    }
    d.deserialize_option(V)
}

pub(crate) struct V2Parser;

impl LineParser for V2Parser {
    fn parse(&mut self, line: &str, line_no: u64, out: &mut Out<'_>) -> Result<(), LineError> {
        let mut page: Tweet = parse_json(line)?;
        if let Some(data) = page.data.take() {
            let includes = page.includes.take().unwrap_or_default();
            let users: HashMap<&str, &User> =
                includes.users.iter().flatten().filter_map(|u| Some((u.id.as_deref()?, u))).collect();
            let tweets: HashMap<&str, &Tweet> =
                includes.tweets.iter().flatten().filter_map(|t| Some((t.id.as_deref()?, t))).collect();
            for (i, tweet) in data.into_iter().enumerate() {
                let id = tweet.id.clone();
                match to_post(tweet, &users, &tweets) {
                    Ok(post) => out.emit(post),
                    Err(reason) => {
                        let which =
                            id.map_or_else(|| format!("data[{i}]"), |id| format!("data[{i}] (id {id})"));
                        out.skip(line_no, format!("{which}: {reason}"));
                    }
                }
            }
            return Ok(());
        }
        if page.id.is_some() || page.author_id.is_some() || page.author.is_some() {
            let post = to_post(page, &HashMap::new(), &HashMap::new()).map_err(LineError::Other)?;
            out.emit(post);
            return Ok(());
        }
        if page.meta.is_some() || page.errors.is_some() {
            // A page with no results (or only errors for deleted posts): nothing to read.
            return Ok(());
        }
        Err(LineError::Other("not a tweet or a response page: no data, id or author_id".to_string()))
    }
}

/// The text and entities of a tweet, long-form first.
fn text_and_entities(t: &Tweet) -> (Option<String>, Option<Entities>) {
    if let Some(note) = &t.note_tweet
        && let Some(text) = &note.text
    {
        return (Some(text.clone()), note.entities.clone().or_else(|| t.entities.clone()));
    }
    (t.text.clone(), t.entities.clone())
}

fn to_post(
    mut t: Tweet,
    users: &HashMap<&str, &User>,
    tweets: &HashMap<&str, &Tweet>,
) -> Result<Post, String> {
    let author = t.author.take();
    let account = t
        .author_id
        .take()
        .or_else(|| author.as_ref().and_then(|a| a.id.clone()))
        .ok_or("field author_id: missing")?;
    let created = t.created_at.as_deref().ok_or("field created_at: missing")?;
    let time = parse_time(created)
        .ok_or_else(|| format!("field created_at: cannot parse '{}' as a time", clip(created)))?;
    let refs = t.referenced_tweets.take().unwrap_or_default();
    let find = |ty: &str| refs.iter().find(|r| r.ref_type.as_deref() == Some(ty));
    let (retweeted, quoted, replied) = (find("retweeted"), find("quoted"), find("replied_to"));
    let kind = PostKind::from_references(retweeted.is_some(), quoted.is_some(), replied.is_some());

    let mut retweeted_account = None;
    let (text, entities) = match retweeted {
        Some(r) => {
            // The full referenced post: from includes, or inlined by `twarc2 flatten`.
            let full =
                r.id.as_deref().and_then(|id| tweets.get(id).copied()).or(r.text.is_some().then_some(r));
            match full {
                Some(full) => {
                    retweeted_account =
                        full.author_id.clone().or_else(|| full.author.as_ref().and_then(|a| a.id.clone()));
                    text_and_entities(full)
                }
                None => {
                    let own = t.text.clone().unwrap_or_default();
                    let rest = split_rt_prefix(&own).map_or(own.as_str(), |(_, rest)| rest).to_string();
                    (Some(rest), None)
                }
            }
        }
        None => text_and_entities(&t),
    };
    let text = unescape_html(&text.unwrap_or_default()).into_owned();
    let mut post = Post::new(account, time, kind, text);
    post.id = t.id.take();
    post.retweeted_id = retweeted.and_then(|r| r.id.clone());
    post.retweeted_account = retweeted_account;
    post.quoted_id = quoted.and_then(|r| r.id.clone());
    post.reply_to_id = replied.and_then(|r| r.id.clone());
    match entities {
        Some(e) => {
            post.urls = e
                .urls
                .unwrap_or_default()
                .into_iter()
                .filter_map(|u| u.unwound_url.or(u.expanded_url).or(u.url))
                .collect();
            post.hashtags = e.hashtags.unwrap_or_default().into_iter().filter_map(|h| h.tag).collect();
            post.mentions = e.mentions.unwrap_or_default().into_iter().filter_map(|m| m.username).collect();
        }
        None => {
            let ents = extract_entities(&post.text);
            post.urls = ents.urls;
            post.hashtags = ents.hashtags;
            post.mentions = ents.mentions;
        }
    }
    post.language = t.lang.take();
    post.client = t.source.as_deref().map(strip_html).filter(|c| !c.is_empty());
    let user = author.or_else(|| users.get(post.account.as_str()).map(|u| (*u).clone()));
    if let Some(user) = user {
        post.handle = user.username;
        let metrics = user.public_metrics.unwrap_or_default();
        let meta = AccountMeta {
            created_at: user.created_at.as_deref().and_then(parse_time),
            followers: metrics.followers_count,
            following: metrics.following_count,
            display_name: user.name,
            location: user.location.filter(|l| !l.is_empty()),
            category: None,
        };
        post.account_meta = meta.non_empty();
    }
    Ok(post)
}

#[cfg(test)]
mod tests {
    use crate::post::PostKind;
    use crate::read::{Format, read_posts};

    const PAGE: &str = r#"{"data":[{"id":"10","text":"Vote #Now https://t.co/a","author_id":"1","created_at":"2020-11-01T12:00:00.000Z","entities":{"urls":[{"url":"https://t.co/a","expanded_url":"https://example.com/x","unwound_url":"https://example.com/x?full=1"}],"hashtags":[{"start":5,"end":9,"tag":"Now"}]},"source":"Twitter for iPhone","lang":"en"},{"id":"11","text":"RT @one: Vote #Now https://t.co/a","author_id":"2","created_at":"2020-11-01T12:01:00.000Z","referenced_tweets":[{"type":"retweeted","id":"10"}],"lang":"en"},{"id":"12","text":"@one yes","author_id":"2","created_at":"2020-11-01T12:02:00.000Z","referenced_tweets":[{"type":"replied_to","id":"10"}],"entities":{"mentions":[{"start":0,"end":4,"username":"one","id":"1"}]}},{"id":"13","text":"hmm","author_id":"2","created_at":"2020-11-01T12:03:00.000Z","referenced_tweets":[{"type":"quoted","id":"10"}]},{"id":"14","text":"no time","author_id":"2"}],"includes":{"users":[{"id":"1","username":"one","name":"One","created_at":"2019-01-01T00:00:00.000Z","public_metrics":{"followers_count":5,"following_count":6,"tweet_count":7}},{"id":"2","username":"two"}],"tweets":[{"id":"10","text":"Vote #Now https://t.co/a","author_id":"1","entities":{"hashtags":[{"tag":"Now"}]}}]},"meta":{"result_count":5},"__twarc":{"url":"x"}}"#;

    const FLAT: &str = r#"{"id":"20","text":"RT @one: long…","author_id":"3","created_at":"2020-11-02T00:00:00.000Z","author":{"id":"3","username":"three","public_metrics":{"followers_count":"9"}},"referenced_tweets":[{"type":"retweeted","id":"10","text":"Vote #Now and the rest","author_id":"1","author":{"id":"1","username":"one"}}],"__twarc":{}}"#;

    #[test]
    fn pages_and_flattened_lines() {
        let input = format!("{PAGE}\n{FLAT}\n{{\"meta\":{{\"result_count\":0}}}}\n");
        let mut posts = Vec::new();
        let report =
            read_posts(input.as_bytes(), "v2.jsonl", &Format::Auto, |p| posts.push(p)).expect("reads");
        assert_eq!(report.format, "twitter-v2");
        assert_eq!(report.records, 3);
        assert_eq!(posts.len(), 5);
        assert_eq!(report.skipped, 1);
        assert_eq!(report.skip_samples[0].to_string(), "line 1: data[4] (id 14): field created_at: missing");

        let o = &posts[0];
        assert_eq!((o.account.as_str(), o.handle.as_deref(), o.kind), ("1", Some("one"), PostKind::Original));
        assert_eq!(o.urls, vec!["https://example.com/x?full=1"]);
        assert_eq!(o.hashtags, vec!["Now"]);
        assert_eq!(o.client.as_deref(), Some("Twitter for iPhone"));
        let meta = o.account_meta.as_ref().expect("meta");
        assert_eq!((meta.followers, meta.following), (Some(5), Some(6)));

        let r = &posts[1];
        assert_eq!(r.kind, PostKind::Retweet);
        assert_eq!(r.handle.as_deref(), Some("two"));
        assert_eq!(r.retweeted_id.as_deref(), Some("10"));
        assert_eq!(r.retweeted_account.as_deref(), Some("1"));
        assert_eq!(r.text, "Vote #Now https://t.co/a");
        assert_eq!(r.hashtags, vec!["Now"]);

        assert_eq!(posts[2].kind, PostKind::Reply);
        assert_eq!(posts[2].reply_to_id.as_deref(), Some("10"));
        assert_eq!(posts[2].mentions, vec!["one"]);
        assert_eq!(posts[3].kind, PostKind::Quote);
        assert_eq!(posts[3].quoted_id.as_deref(), Some("10"));

        let f = &posts[4];
        assert_eq!(
            (f.account.as_str(), f.handle.as_deref(), f.kind),
            ("3", Some("three"), PostKind::Retweet)
        );
        assert_eq!(f.retweeted_account.as_deref(), Some("1"));
        assert_eq!(f.text, "Vote #Now and the rest");
        assert_eq!(f.account_meta.as_ref().and_then(|m| m.followers), Some(9));
    }

    #[test]
    fn retweet_without_its_original_keeps_own_text() {
        let line = r#"{"data":{"id":"5","text":"RT @x: hello #a","author_id":"9","created_at":"2020-11-01T00:00:00Z","referenced_tweets":[{"type":"retweeted","id":"4"}]}}"#;
        let mut posts = Vec::new();
        read_posts(line.as_bytes(), "one.jsonl", &Format::TwitterV2, |p| posts.push(p)).expect("reads");
        assert_eq!(posts.len(), 1);
        assert_eq!(posts[0].text, "hello #a");
        assert_eq!(posts[0].hashtags, vec!["a"]);
        assert_eq!(posts[0].retweeted_id.as_deref(), Some("4"));
        assert_eq!(posts[0].retweeted_account, None);
    }
}
