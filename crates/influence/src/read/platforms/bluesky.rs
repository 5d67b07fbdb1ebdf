//! Bluesky: Jetstream JSON lines (`wss://jetstream2.us-east.bsky.network/subscribe`,
//! saved one event per line), the AT Protocol firehose re-encoded as JSON:
//! `{"did", "time_us", "kind": "commit", "commit": {"operation", "collection", "rkey",
//! "record", "cid"}}`.
//!
//! - Account: `bluesky:` + `did`. Post id: `bluesky:at://<did>/<collection>/<rkey>`, the
//!   record's AT URI, which is what replies, quotes and reposts point at.
//! - Time: `time_us`, when the relay saw the event. The record's own `createdAt` is set by
//!   the client and can be anything (back-dated posts exist); it is used only without
//!   `time_us`.
//! - `app.bsky.feed.post` (created): the text; `langs[0]`; links, hashtags and mentions
//!   from `facets` (`#link` `uri`, `#tag` `tag`, `#mention` `did`) and an external embed's
//!   `uri`; `reply.parent.uri` is replied to, in the thread `reply.root.uri`; a record
//!   embed (`app.bsky.embed.record`, or `recordWithMedia`) is a quote.
//! - `app.bsky.feed.repost`: a repost of `subject.uri`, by the DID in that URI.
//! - Likes, follows, blocks, profile updates, deletions and `identity` / `account` events
//!   are counted as not posts.

use serde::Deserialize;

use super::{fill_entities_from_text, qualify};
use crate::post::{Post, PostKind};
use crate::read::Out;
use crate::read::jsonl::{LineError, LineParser, lenient_id, parse_json};
use crate::read::text::parse_time;

const PLATFORM: &str = "bluesky";

#[derive(Deserialize)]
struct Event {
    did: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    time_us: Option<String>,
    kind: Option<String>,
    commit: Option<Commit>,
}

#[derive(Deserialize)]
struct Commit {
    operation: Option<String>,
    collection: Option<String>,
    rkey: Option<String>,
    record: Option<Record>,
}

/// A record of `app.bsky.feed.post` or `app.bsky.feed.repost`, as Jetstream writes it in
/// JSON and a repository holds it in DAG-CBOR (the fields read are the same in both).
#[derive(Deserialize, Default)]
pub(super) struct Record {
    #[serde(rename = "$type")]
    kind: Option<String>,
    #[serde(default)]
    text: String,
    #[serde(rename = "createdAt")]
    created_at: Option<String>,
    #[serde(default)]
    langs: Vec<String>,
    reply: Option<Reply>,
    embed: Option<Embed>,
    #[serde(default)]
    facets: Vec<Facet>,
    subject: Option<StrongRef>,
}

impl Record {
    /// The client-set creation time.
    pub(super) fn created_at(&self) -> Option<&str> {
        self.created_at.as_deref()
    }

    /// The record's `$type`, where it says.
    pub(super) fn kind(&self) -> Option<&str> {
        self.kind.as_deref()
    }
}

/// An embed: only its kind, the record a quote embeds and an external link are read.
#[derive(Deserialize)]
struct Embed {
    #[serde(rename = "$type", default)]
    kind: String,
    record: Option<EmbeddedRecord>,
    external: Option<External>,
}

/// `app.bsky.embed.record`'s `record` is a strong ref; `recordWithMedia`'s holds one
/// under `record`.
#[derive(Deserialize)]
struct EmbeddedRecord {
    uri: Option<String>,
    record: Option<StrongRef>,
}

#[derive(Deserialize)]
struct External {
    uri: Option<String>,
}

#[derive(Deserialize)]
struct Reply {
    parent: Option<StrongRef>,
    root: Option<StrongRef>,
}

#[derive(Deserialize)]
struct StrongRef {
    uri: Option<String>,
}

#[derive(Deserialize)]
struct Facet {
    #[serde(default)]
    features: Vec<Feature>,
}

#[derive(Deserialize)]
struct Feature {
    #[serde(rename = "$type", default)]
    kind: String,
    uri: Option<String>,
    tag: Option<String>,
    did: Option<String>,
}

pub(crate) struct JetstreamParser;

impl LineParser for JetstreamParser {
    fn parse(&mut self, line: &str, _line_no: u64, out: &mut Out<'_>) -> Result<(), LineError> {
        let event: Event = parse_json(line)?;
        match to_post(event).map_err(LineError::Other)? {
            Some(post) => out.emit(post),
            None => out.report.not_posts += 1,
        }
        Ok(())
    }
}

/// The DID an AT URI (`at://did:plc:abc/app.bsky.feed.post/xyz`) belongs to.
fn uri_did(uri: &str) -> Option<&str> {
    uri.strip_prefix("at://")?.split('/').next().filter(|d| !d.is_empty())
}

fn to_post(e: Event) -> Result<Option<Post>, String> {
    let did = e.did.ok_or("field did: missing")?;
    if e.kind.as_deref() != Some("commit") {
        return Ok(None);
    }
    let commit = e.commit.ok_or("field commit: missing in a commit event")?;
    let collection = commit.collection.unwrap_or_default();
    let is_post = collection == "app.bsky.feed.post";
    if commit.operation.as_deref() != Some("create") || !(is_post || collection == "app.bsky.feed.repost") {
        return Ok(None);
    }
    let record = commit.record.ok_or("field commit.record: missing in a create")?;
    let time = match e.time_us.as_deref().and_then(|t| t.parse::<i64>().ok()) {
        Some(us) => chrono::DateTime::from_timestamp_micros(us).ok_or("field time_us: out of range")?,
        None => {
            let at = record.created_at.as_deref().ok_or("field time_us: missing, and no record.createdAt")?;
            parse_time(at)
                .ok_or_else(|| format!("field commit.record.createdAt: cannot parse '{at}' as a time"))?
        }
    };
    let rkey = commit.rkey.ok_or("field commit.rkey: missing")?;
    record_post(&did, &collection, &rkey, record, time, "commit.record.").map(Some)
}

/// The post a `app.bsky.feed.post` or `repost` record makes, by `did`, at `time`;
/// `field_prefix` is where the record sits, for the names of fields at fault.
pub(super) fn record_post(
    did: &str,
    collection: &str,
    rkey: &str,
    record: Record,
    time: chrono::DateTime<chrono::Utc>,
    field_prefix: &str,
) -> Result<Post, String> {
    let is_post = collection == "app.bsky.feed.post";
    let mut post = Post::new(qualify(PLATFORM, did), time, PostKind::Original, record.text);
    post.id = Some(qualify(PLATFORM, &format!("at://{did}/{collection}/{rkey}")));
    if !is_post {
        let subject = record
            .subject
            .and_then(|s| s.uri)
            .ok_or_else(|| format!("field {field_prefix}subject.uri: missing"))?;
        post.kind = PostKind::Retweet;
        post.retweeted_account = uri_did(&subject).map(|d| qualify(PLATFORM, d));
        post.retweeted_id = Some(qualify(PLATFORM, &subject));
        return Ok(post);
    }
    post.language = record.langs.into_iter().next();
    for feature in record.facets.into_iter().flat_map(|f| f.features) {
        match feature.kind.as_str() {
            "app.bsky.richtext.facet#link" => post.urls.extend(feature.uri),
            "app.bsky.richtext.facet#tag" => post.hashtags.extend(feature.tag),
            "app.bsky.richtext.facet#mention" => {
                post.mentions.extend(feature.did.map(|d| qualify(PLATFORM, &d)))
            }
            _ => {}
        }
    }
    if let Some(embed) = record.embed {
        let quoted = match (embed.kind.as_str(), embed.record) {
            ("app.bsky.embed.record", Some(r)) => r.uri,
            ("app.bsky.embed.recordWithMedia", Some(r)) => r.record.and_then(|r| r.uri),
            _ => None,
        };
        post.quoted_id = quoted.map(|u| qualify(PLATFORM, &u));
        if let Some(uri) = embed.external.and_then(|e| e.uri)
            && !post.urls.contains(&uri)
        {
            post.urls.push(uri);
        }
    }
    if let Some(reply) = record.reply {
        post.reply_to_id = reply.parent.and_then(|p| p.uri).map(|u| qualify(PLATFORM, &u));
        post.thread_id = reply.root.and_then(|r| r.uri).map(|u| qualify(PLATFORM, &u));
    }
    if post.urls.is_empty() && post.hashtags.is_empty() {
        // Clients that write no facets: links and tags as written.
        fill_entities_from_text(&mut post);
        post.mentions.clear();
    }
    post.kind = PostKind::from_references(false, post.quoted_id.is_some(), post.reply_to_id.is_some());
    Ok(post)
}

#[cfg(test)]
mod tests {
    use crate::post::PostKind;
    use crate::read::Format;
    use crate::read::platforms::testing::{compressed_reads_the_same, read_both};

    /// Events as Jetstream sends them (its README's examples): a post with facets, an
    /// external embed and a back-dated `createdAt`, a reply quoting another post, a
    /// repost, a like, an identity event, a delete, and a create without a record.
    const EVENTS: &str = r#"{"did":"did:plc:eygmaihciaxprqvxpfvl6flk","time_us":1725911162329308,"kind":"commit","commit":{"rev":"3l3qo2vuowo2b","operation":"create","collection":"app.bsky.feed.post","rkey":"3l3qo2vutsw2b","record":{"$type":"app.bsky.feed.post","createdAt":"2019-01-01T00:00:00.000Z","langs":["en"],"text":"Read this #vote https://ex.org/a","facets":[{"features":[{"$type":"app.bsky.richtext.facet#tag","tag":"vote"}],"index":{"byteStart":10,"byteEnd":15}},{"features":[{"$type":"app.bsky.richtext.facet#link","uri":"https://ex.org/a"}],"index":{"byteStart":16,"byteEnd":32}}],"embed":{"$type":"app.bsky.embed.external","external":{"uri":"https://ex.org/card","title":"t","description":""}}},"cid":"bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi"}}
{"did":"did:plc:abc","time_us":1725911163000000,"kind":"commit","commit":{"rev":"x","operation":"create","collection":"app.bsky.feed.post","rkey":"3l3qo2vutsw2c","record":{"$type":"app.bsky.feed.post","createdAt":"2024-09-09T19:46:02.102Z","text":"yes","reply":{"parent":{"cid":"c1","uri":"at://did:plc:eygmaihciaxprqvxpfvl6flk/app.bsky.feed.post/3l3qo2vutsw2b"},"root":{"cid":"c1","uri":"at://did:plc:eygmaihciaxprqvxpfvl6flk/app.bsky.feed.post/3l3qo2vutsw2b"}},"embed":{"$type":"app.bsky.embed.record","record":{"cid":"c2","uri":"at://did:plc:other/app.bsky.feed.post/zzz"}}},"cid":"c3"}}
{"did":"did:plc:abc","time_us":1725911164000000,"kind":"commit","commit":{"rev":"y","operation":"create","collection":"app.bsky.feed.repost","rkey":"3l3qo2vv","record":{"$type":"app.bsky.feed.repost","createdAt":"2024-09-09T19:46:03Z","subject":{"cid":"c1","uri":"at://did:plc:eygmaihciaxprqvxpfvl6flk/app.bsky.feed.post/3l3qo2vutsw2b"}},"cid":"c4"}}
{"did":"did:plc:abc","time_us":1725911165000000,"kind":"commit","commit":{"rev":"z","operation":"create","collection":"app.bsky.feed.like","rkey":"3l3qo2vw","record":{"$type":"app.bsky.feed.like","createdAt":"2024-09-09T19:46:04Z","subject":{"cid":"c1","uri":"at://did:plc:eygmaihciaxprqvxpfvl6flk/app.bsky.feed.post/3l3qo2vutsw2b"}},"cid":"c5"}}
{"did":"did:plc:abc","time_us":1725911166000000,"kind":"identity","identity":{"did":"did:plc:abc","handle":"a.bsky.social","seq":1,"time":"2024-09-09T19:46:05Z"}}
{"did":"did:plc:abc","time_us":1725911167000000,"kind":"commit","commit":{"rev":"w","operation":"delete","collection":"app.bsky.feed.post","rkey":"3l3qo2vutsw2c"}}
{"did":"did:plc:abc","time_us":1725911168000000,"kind":"commit","commit":{"rev":"v","operation":"create","collection":"app.bsky.feed.post","rkey":"r"}}
"#;

    #[test]
    fn jetstream_events() {
        let (posts, report) = read_both(EVENTS.as_bytes(), Format::Bluesky);
        assert_eq!((report.records, report.not_posts, report.skipped), (7, 3, 1));
        assert_eq!(report.skip_samples[0].to_string(), "line 7: field commit.record: missing in a create");
        let p = &posts[0];
        assert_eq!(p.account, "bluesky:did:plc:eygmaihciaxprqvxpfvl6flk");
        assert_eq!(
            p.id.as_deref(),
            Some("bluesky:at://did:plc:eygmaihciaxprqvxpfvl6flk/app.bsky.feed.post/3l3qo2vutsw2b")
        );
        assert_eq!(p.time.to_rfc3339(), "2024-09-09T19:46:02.329308+00:00", "time_us, not createdAt");
        assert_eq!(p.hashtags, vec!["vote"]);
        assert_eq!(p.urls, vec!["https://ex.org/a", "https://ex.org/card"]);
        assert_eq!(p.language.as_deref(), Some("en"));
        let q = &posts[1];
        assert_eq!(q.kind, PostKind::Quote);
        assert_eq!(q.quoted_id.as_deref(), Some("bluesky:at://did:plc:other/app.bsky.feed.post/zzz"));
        assert_eq!(q.reply_to_id, p.id);
        assert_eq!(q.thread_id, p.id);
        let r = &posts[2];
        assert_eq!(r.kind, PostKind::Retweet);
        assert_eq!(r.retweeted_id, p.id);
        assert_eq!(r.retweeted_account.as_deref(), Some(p.account.as_str()));
        compressed_reads_the_same(EVENTS.as_bytes(), &Format::Bluesky);
    }
}
