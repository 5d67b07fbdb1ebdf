//! Reddit: Pushshift and Arctic-Shift NDJSON dumps (`RS_*` submissions, `RC_*` comments,
//! or one subreddit's `*_submissions` and `*_comments`), one object per line, usually
//! zstd-compressed with a long window (`zstd --long=31`), which [`scrutineer_core::input`]
//! reads.
//!
//! - Account: `reddit:` + `author`. `[deleted]` and `[removed]` authors (and a missing or
//!   null `author`) are counted in [`crate::ReadReport::unattributed`], never made an
//!   account: they are many unrelated people.
//! - Time: `created_utc`, Unix seconds as an integer, a float (`1459364400.0`) or a string.
//! - A comment (`body`, `link_id`, `parent_id`) is a reply to `parent_id` (`t3_` the
//!   submission, `t1_` another comment) in the thread `link_id`; its post id is
//!   `reddit:t1_` + `id`. A submission (`title`, `selftext`, `url`) is an original post,
//!   `reddit:t3_` + `id`, with text `title` and `selftext`, and its `url` as a link unless
//!   it is a self post (`is_self`, or `domain` `self.<subreddit>`).
//! - Community: `reddit:r/` + `subreddit` in lower case (subreddit names are not case-sensitive).

use serde::Deserialize;

use super::{fill_entities_from_text, qualify, required_time};
use crate::post::{AccountMeta, Post, PostKind};
use crate::read::Out;
use crate::read::jsonl::{LineError, LineParser, lenient_id, parse_json};

const PLATFORM: &str = "reddit";

#[derive(Deserialize)]
struct Thing {
    author: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    created_utc: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    id: Option<String>,
    subreddit: Option<String>,
    link_id: Option<String>,
    parent_id: Option<String>,
    title: Option<String>,
    selftext: Option<String>,
    body: Option<String>,
    url: Option<String>,
    domain: Option<String>,
    is_self: Option<bool>,
    #[serde(default, deserialize_with = "lenient_id")]
    author_created_utc: Option<String>,
}

/// Text Reddit puts in place of what was deleted.
fn is_placeholder(s: &str) -> bool {
    matches!(s.trim(), "[deleted]" | "[removed]")
}

/// Posts from a Pushshift line.
pub(crate) struct RedditParser;

impl LineParser for RedditParser {
    fn parse(&mut self, line: &str, _line_no: u64, out: &mut Out<'_>) -> Result<(), LineError> {
        let thing: Thing = parse_json(line)?;
        match to_post(thing).map_err(LineError::Other)? {
            Some(post) => out.emit(post),
            None => out.report.unattributed += 1,
        }
        Ok(())
    }
}

fn to_post(t: Thing) -> Result<Option<Post>, String> {
    let time = required_time("created_utc", t.created_utc.as_deref())?;
    let id = t.id.ok_or("field id: missing")?;
    let author = match t.author {
        Some(a) if !a.trim().is_empty() && !is_placeholder(&a) => a,
        _ => return Ok(None),
    };
    let comment = t.body.is_some() || t.link_id.is_some() || t.parent_id.is_some();
    let mut post = Post::new(qualify(PLATFORM, &author), time, PostKind::Original, String::new());
    post.handle = Some(author);
    post.community = t.subreddit.as_deref().map(|s| qualify(PLATFORM, &format!("r/{}", s.to_lowercase())));
    if comment {
        let id = if id.starts_with("t1_") { id } else { format!("t1_{id}") };
        post.id = Some(qualify(PLATFORM, &id));
        post.text = t.body.filter(|b| !is_placeholder(b)).unwrap_or_default();
        post.reply_to_id = t.parent_id.as_deref().map(|p| qualify(PLATFORM, p));
        post.thread_id = t.link_id.as_deref().map(|l| qualify(PLATFORM, l));
        post.kind = if post.reply_to_id.is_some() { PostKind::Reply } else { PostKind::Original };
    } else {
        let id = if id.starts_with("t3_") { id } else { format!("t3_{id}") };
        post.id = Some(qualify(PLATFORM, &id));
        let title = t.title.unwrap_or_default();
        let body = t.selftext.filter(|s| !is_placeholder(s) && !s.is_empty());
        post.text = match body {
            Some(body) => format!("{title}\n\n{body}"),
            None => title,
        };
        let self_post =
            t.is_self.unwrap_or(false) || t.domain.as_deref().is_some_and(|d| d.starts_with("self."));
        if let Some(url) = t.url.filter(|u| !self_post && u.starts_with("http")) {
            post.urls.push(url);
        }
    }
    fill_entities_from_text(&mut post);
    // `#` and `@` mean nothing on Reddit; `u/name` mentions are not extracted.
    post.hashtags.clear();
    post.mentions.clear();
    let created = t.author_created_utc.as_deref().and_then(crate::read::text::parse_time);
    post.account_meta = AccountMeta { created_at: created, ..AccountMeta::default() }.non_empty();
    Ok(Some(post))
}

#[cfg(test)]
mod tests {
    use crate::post::PostKind;
    use crate::read::Format;
    use crate::read::platforms::testing::{compressed_reads_the_same, read_both};

    /// Lines in the Pushshift dump layout (field order and types as in `RS_2016-10` and
    /// `RC_2016-10`; Arctic-Shift keeps the same fields): a link submission, a self post
    /// with a float `created_utc`, a comment on it and a reply to that comment, a
    /// `[deleted]` author, a string `created_utc`, and a line with a bad time.
    const DUMP: &str = r#"{"archived":false,"author":"Rebekah_Jones","author_flair_css_class":null,"created_utc":1476900000,"domain":"bluelivesmatter.blue","id":"58a1b2","is_self":false,"num_comments":3,"over_18":false,"permalink":"/r/The_Donald/comments/58a1b2/x/","score":12,"selftext":"","subreddit":"The_Donald","subreddit_id":"t5_38unr","title":"Look at this","url":"http://bluelivesmatter.blue/story/"}
{"author":"ordinary_user","created_utc":1476900060.0,"domain":"self.politics","id":"58a1b3","is_self":true,"selftext":"What do you think? https://example.org/poll","subreddit":"politics","title":"Question #1","url":"https://www.reddit.com/r/politics/comments/58a1b3/question/"}
{"author":"Rebekah_Jones","body":"Agreed, see https://example.com/a","created_utc":"1476900120","id":"d8x0001","link_id":"t3_58a1b3","parent_id":"t3_58a1b3","score":1,"subreddit":"politics"}
{"author":"another","body":"[removed]","created_utc":1476900180,"id":"d8x0002","link_id":"t3_58a1b3","parent_id":"t1_d8x0001","subreddit":"politics"}
{"author":"[deleted]","body":"[deleted]","created_utc":1476900240,"id":"d8x0003","link_id":"t3_58a1b3","parent_id":"t1_d8x0001","subreddit":"politics"}
{"author":"x","body":"when?","created_utc":"soon","id":"d8x0004","link_id":"t3_58a1b3","parent_id":"t3_58a1b3","subreddit":"politics"}
"#;

    #[test]
    fn pushshift_submissions_and_comments() {
        let (posts, report) = read_both(DUMP.as_bytes(), Format::Reddit);
        assert_eq!((report.records, report.unattributed, report.skipped), (6, 1, 1));
        assert_eq!(
            report.skip_samples[0].to_string(),
            "line 6: field created_utc: cannot parse 'soon' as a time"
        );
        assert_eq!(posts.len(), 4);

        let link = &posts[0];
        assert_eq!(link.account, "reddit:Rebekah_Jones");
        assert_eq!(link.id.as_deref(), Some("reddit:t3_58a1b2"));
        assert_eq!(link.kind, PostKind::Original);
        assert_eq!(link.urls, vec!["http://bluelivesmatter.blue/story/"]);
        assert_eq!(link.community.as_deref(), Some("reddit:r/the_donald"));
        assert_eq!(link.time.to_rfc3339(), "2016-10-19T18:00:00+00:00");

        let own = &posts[1];
        assert_eq!(own.text, "Question #1\n\nWhat do you think? https://example.org/poll");
        assert_eq!(own.urls, vec!["https://example.org/poll"], "a self post's own url is not a link");
        assert!(own.hashtags.is_empty(), "# is not a hashtag on Reddit");
        assert_eq!(own.time.to_rfc3339(), "2016-10-19T18:01:00+00:00", "float created_utc");

        let c = &posts[2];
        assert_eq!(c.kind, PostKind::Reply);
        assert_eq!(c.id.as_deref(), Some("reddit:t1_d8x0001"));
        assert_eq!(c.reply_to_id.as_deref(), Some("reddit:t3_58a1b3"));
        assert_eq!(c.thread_id.as_deref(), Some("reddit:t3_58a1b3"));
        assert_eq!(c.urls, vec!["https://example.com/a"]);

        let removed = &posts[3];
        assert_eq!(removed.text, "", "a removed body is no text, but the action is kept");
        assert_eq!(removed.reply_to_id.as_deref(), Some("reddit:t1_d8x0001"));
        compressed_reads_the_same(DUMP.as_bytes(), &Format::Reddit);
    }
}
