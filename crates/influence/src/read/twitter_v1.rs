//! Twitter API v1.1 tweet objects, one per line (the streaming API, `twarc` v1, GetOldTweets
//! exports with the same shape).
//!
//! - Account: `user.id_str` (else `user.id`); handle `user.screen_name`.
//! - Kind: `retweeted_status` = retweet, `quoted_status`/`quoted_status_id_str` = quote,
//!   `in_reply_to_status_id_str` = reply, else original.
//! - Text: `extended_tweet.full_text`, `full_text` or `text`, HTML entities decoded. For a
//!   retweet, the text, URLs, hashtags and mentions are those of the retweeted post (its
//!   full text, not the truncated `RT @x: ...` copy); `retweeted_account` is the retweeted
//!   author's user id.
//! - URLs: `entities.urls[].expanded_url`; without `entities`, links found in the text.
//! - Client: `source` without its HTML.
//!
//! Lines that are not tweets (stream `delete` and `limit` notices) are skipped and counted.

use serde::Deserialize;

use super::Out;
use super::jsonl::{LineError, LineParser, lenient_count, lenient_id, parse_json};
use super::text::{clip, extract_entities, parse_time, strip_html, unescape_html};
use crate::post::{AccountMeta, Post, PostKind};

#[derive(Deserialize, Default)]
struct Tweet {
    #[serde(default, deserialize_with = "lenient_id")]
    id_str: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    id: Option<String>,
    created_at: Option<String>,
    text: Option<String>,
    full_text: Option<String>,
    extended_tweet: Option<Extended>,
    user: Option<User>,
    retweeted_status: Option<Box<Tweet>>,
    quoted_status: Option<Box<Tweet>>,
    #[serde(default, deserialize_with = "lenient_id")]
    quoted_status_id_str: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    in_reply_to_status_id_str: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    in_reply_to_status_id: Option<String>,
    entities: Option<Entities>,
    source: Option<String>,
    lang: Option<String>,
    delete: Option<serde::de::IgnoredAny>,
    limit: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize, Default)]
struct Extended {
    full_text: Option<String>,
    entities: Option<Entities>,
}

#[derive(Deserialize, Default)]
struct Entities {
    urls: Option<Vec<UrlEntity>>,
    hashtags: Option<Vec<TagEntity>>,
    user_mentions: Option<Vec<MentionEntity>>,
}

#[derive(Deserialize)]
struct UrlEntity {
    expanded_url: Option<String>,
    url: Option<String>,
}

#[derive(Deserialize)]
struct TagEntity {
    text: Option<String>,
}

#[derive(Deserialize)]
struct MentionEntity {
    screen_name: Option<String>,
}

#[derive(Deserialize, Default)]
struct User {
    #[serde(default, deserialize_with = "lenient_id")]
    id_str: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    id: Option<String>,
    screen_name: Option<String>,
    name: Option<String>,
    location: Option<String>,
    created_at: Option<String>,
    #[serde(default, deserialize_with = "lenient_count")]
    followers_count: Option<u64>,
    #[serde(default, deserialize_with = "lenient_count")]
    friends_count: Option<u64>,
}

impl Tweet {
    /// The full text and the entities that go with it.
    fn full_text_and_entities(&mut self) -> (String, Option<Entities>) {
        if let Some(ext) = self.extended_tweet.take()
            && let Some(text) = ext.full_text
        {
            return (text, ext.entities.or_else(|| self.entities.take()));
        }
        let text = self.full_text.take().or_else(|| self.text.take()).unwrap_or_default();
        (text, self.entities.take())
    }
}

pub(crate) struct V1Parser;

impl LineParser for V1Parser {
    fn parse(&mut self, line: &str, _line_no: u64, out: &mut Out<'_>) -> Result<(), LineError> {
        let tweet: Tweet = parse_json(line)?;
        let post = to_post(tweet).map_err(LineError::Other)?;
        out.emit(post);
        Ok(())
    }
}

fn to_post(mut t: Tweet) -> Result<Post, String> {
    if t.delete.is_some() {
        return Err("not a tweet: a delete notice".to_string());
    }
    if t.limit.is_some() {
        return Err("not a tweet: a rate-limit notice".to_string());
    }
    let user = t.user.take().ok_or("field user: missing (not a tweet object?)")?;
    let account = user.id_str.clone().or_else(|| user.id.clone()).ok_or("field user.id_str: missing")?;
    let created = t.created_at.as_deref().ok_or("field created_at: missing")?;
    let time = parse_time(created)
        .ok_or_else(|| format!("field created_at: cannot parse '{}' as a time", clip(created)))?;
    let quoted_id =
        t.quoted_status_id_str.take().or_else(|| t.quoted_status.as_ref().and_then(|q| q.id_str.clone()));
    let reply_to_id = t.in_reply_to_status_id_str.take().or_else(|| t.in_reply_to_status_id.take());
    let (kind, mut source_tweet, retweeted) = match t.retweeted_status.take() {
        Some(rt) => (PostKind::Retweet, *rt, true),
        None => {
            let kind = PostKind::from_references(false, quoted_id.is_some(), reply_to_id.is_some());
            (kind, std::mem::take(&mut t), false)
        }
    };
    let (text, entities) = source_tweet.full_text_and_entities();
    let text = unescape_html(&text).into_owned();
    let mut post = Post::new(account, time, kind, text);
    match entities {
        Some(e) => {
            post.urls =
                e.urls.unwrap_or_default().into_iter().filter_map(|u| u.expanded_url.or(u.url)).collect();
            post.hashtags = e.hashtags.unwrap_or_default().into_iter().filter_map(|h| h.text).collect();
            post.mentions =
                e.user_mentions.unwrap_or_default().into_iter().filter_map(|m| m.screen_name).collect();
        }
        None => {
            let ents = extract_entities(&post.text);
            post.urls = ents.urls;
            post.hashtags = ents.hashtags;
            post.mentions = ents.mentions;
        }
    }
    if retweeted {
        post.retweeted_id = source_tweet.id_str.take().or_else(|| source_tweet.id.take());
        post.retweeted_account =
            source_tweet.user.as_ref().and_then(|u| u.id_str.clone().or_else(|| u.id.clone()));
        // The retweet's own fields, not the retweeted post's.
        post.id = t.id_str.take().or_else(|| t.id.take());
        post.language = t.lang.take();
        post.client = t.source.as_deref().map(strip_html);
    } else {
        post.id = source_tweet.id_str.take().or_else(|| source_tweet.id.take());
        post.language = source_tweet.lang.take();
        post.client = source_tweet.source.as_deref().map(strip_html);
        post.reply_to_id = reply_to_id;
        post.quoted_id = quoted_id;
    }
    post.client = post.client.filter(|c| !c.is_empty());
    post.handle = user.screen_name;
    let meta = AccountMeta {
        created_at: user.created_at.as_deref().and_then(parse_time),
        followers: user.followers_count,
        following: user.friends_count,
        display_name: user.name,
        location: user.location.filter(|l| !l.is_empty()),
        category: None,
    };
    post.account_meta = meta.non_empty();
    Ok(post)
}

#[cfg(test)]
mod tests {
    use crate::post::PostKind;
    use crate::read::{Format, read_posts};

    const ORIGINAL: &str = r#"{"created_at":"Sat Oct 01 12:30:00 +0000 2016","id":780000000000000001,"id_str":"780000000000000001","text":"Vote &amp; win #Election https://t.co/a @bob","truncated":false,"entities":{"hashtags":[{"text":"Election","indices":[15,24]}],"urls":[{"url":"https://t.co/a","expanded_url":"https://example.com/story?utm_source=x"}],"user_mentions":[{"screen_name":"bob","id_str":"7"}]},"source":"<a href=\"http://twitter.com\" rel=\"nofollow\">Twitter Web Client</a>","in_reply_to_status_id_str":null,"user":{"id":42,"id_str":"42","name":"Alice","screen_name":"alice","location":"Moscow","followers_count":10,"friends_count":20,"created_at":"Mon Jan 05 10:00:00 +0000 2015"},"lang":"en"}"#;

    const RETWEET: &str = r#"{"created_at":"Sat Oct 01 12:31:00 +0000 2016","id_str":"780000000000000002","text":"RT @alice: Vote &amp; win #Election https://t.co/a @bob","source":"TweetDeck","user":{"id_str":"43","screen_name":"carol"},"retweeted_status":{"created_at":"Sat Oct 01 12:30:00 +0000 2016","id_str":"780000000000000001","text":"short…","extended_tweet":{"full_text":"Vote & win, the long version #Election #More","entities":{"hashtags":[{"text":"Election"},{"text":"More"}],"urls":[],"user_mentions":[]}},"user":{"id_str":"42","screen_name":"alice"}},"lang":"en"}"#;

    const REPLY_NO_ENTITIES: &str = r#"{"created_at":"Sat Oct 01 12:32:00 +0000 2016","id_str":"3","full_text":"@alice agreed #yes http://x.org","in_reply_to_status_id_str":"780000000000000001","user":{"id_str":"44"}}"#;

    const QUOTE: &str = r#"{"created_at":"2016-10-01T12:33:00Z","id_str":"4","text":"look","quoted_status_id_str":"780000000000000001","is_quote_status":true,"user":{"id":45}}"#;

    fn read(input: &str) -> (Vec<crate::Post>, crate::read::ReadReport) {
        let mut posts = Vec::new();
        let report =
            read_posts(input.as_bytes(), "v1.jsonl", &Format::Auto, |p| posts.push(p)).expect("reads");
        (posts, report)
    }

    #[test]
    fn all_kinds() {
        let input = format!(
            "{ORIGINAL}\n{RETWEET}\n\n{REPLY_NO_ENTITIES}\n{QUOTE}\n{{\"delete\":{{\"status\":{{\"id\":1}}}}}}\n"
        );
        let (posts, report) = read(&input);
        assert_eq!(report.format, "twitter-v1");
        assert_eq!(report.records, 5);
        assert_eq!(posts.len(), 4);
        assert_eq!(report.skip_samples[0].to_string(), "line 6: not a tweet: a delete notice");

        let o = &posts[0];
        assert_eq!((o.account.as_str(), o.handle.as_deref()), ("42", Some("alice")));
        assert_eq!(o.kind, PostKind::Original);
        assert_eq!(o.text, "Vote & win #Election https://t.co/a @bob");
        assert_eq!(o.urls, vec!["https://example.com/story?utm_source=x"]);
        assert_eq!(o.hashtags, vec!["Election"]);
        assert_eq!(o.mentions, vec!["bob"]);
        assert_eq!(o.client.as_deref(), Some("Twitter Web Client"));
        assert_eq!(o.language.as_deref(), Some("en"));
        assert_eq!(o.time.to_rfc3339(), "2016-10-01T12:30:00+00:00");
        let meta = o.account_meta.as_ref().expect("meta");
        assert_eq!((meta.followers, meta.following), (Some(10), Some(20)));
        assert_eq!(meta.created_at.map(|t| t.to_rfc3339()).as_deref(), Some("2015-01-05T10:00:00+00:00"));

        let r = &posts[1];
        assert_eq!(r.kind, PostKind::Retweet);
        assert_eq!(r.id.as_deref(), Some("780000000000000002"));
        assert_eq!(r.retweeted_id.as_deref(), Some("780000000000000001"));
        assert_eq!(r.retweeted_account.as_deref(), Some("42"));
        assert_eq!(r.text, "Vote & win, the long version #Election #More");
        assert_eq!(r.hashtags, vec!["Election", "More"]);
        assert_eq!(r.client.as_deref(), Some("TweetDeck"));

        let p = &posts[2];
        assert_eq!(p.kind, PostKind::Reply);
        assert_eq!(p.reply_to_id.as_deref(), Some("780000000000000001"));
        assert_eq!(
            (p.mentions.clone(), p.hashtags.clone()),
            (vec!["alice".to_string()], vec!["yes".to_string()])
        );
        assert_eq!(p.urls, vec!["http://x.org"]);

        assert_eq!(posts[3].kind, PostKind::Quote);
        assert_eq!(posts[3].account, "45", "numeric user.id is accepted");
    }

    #[test]
    fn bad_fields_are_named() {
        let input = r#"{"created_at":"yesterday","id_str":"1","text":"x","user":{"id_str":"1"}}
{"created_at":"Sat Oct 01 12:30:00 +0000 2016","id_str":"1","text":"x","user":{"screen_name":"a"}}
{"created_at":"Sat Oct 01 12:30:00 +0000 2016","id_str":"1","text":"x","user":{"id_str":"1","followers_count":{"a":1}}}
"#;
        let (posts, report) = read(input);
        assert!(posts.is_empty());
        let shown: Vec<String> = report.skip_samples.iter().map(ToString::to_string).collect();
        assert_eq!(shown[0], "line 1: field created_at: cannot parse 'yesterday' as a time");
        assert_eq!(shown[1], "line 2: field user.id_str: missing");
        assert!(
            shown[2].starts_with("line 3: field user.followers_count: invalid type: map"),
            "{}",
            shown[2]
        );
    }
}
