//! 4CAT exports: a dataset's CSV download, and NDJSON with the same mapped fields. 4CAT
//! maps every data source to common columns (`id`, `thread_id`, `author`, `body`,
//! `timestamp`, and per source `subject`, `url`, `hashtags`, `unix_timestamp`, ...); the
//! columns read are those.
//!
//! - Account: `4cat:` + `author` (4CAT datasets are one platform each, which the export
//!   does not name; pass one platform's dataset per file). Post id: `4cat:` + `id`.
//! - Time: `unix_timestamp` when present, else `timestamp` (`YYYY-MM-DD HH:MM:SS`, UTC).
//! - A post whose `thread_id` differs from its `id` is a reply in that thread.
//! - Text: `subject` and `body`; links from `url`/`urls` and the text; hashtags from
//!   `hashtags` (comma-separated) or the text.
//! - Authors 4CAT writes as `[deleted]` or leaves empty are counted as without an account.

use std::borrow::Cow;

use serde::Deserialize;

use super::{fill_entities_from_text, qualify};
use crate::post::{Post, PostKind, PostRef};
use crate::read::Out;
use crate::read::csvio::{Headers, Row, RowMapper};
use crate::read::jsonl::{LineError, LineParser, lenient_id, parse_json};
use crate::read::text::{extract_entities_for, owned_cows, parse_time, split_list};

const PLATFORM: &str = "4cat";

fn deleted(author: &str) -> bool {
    matches!(author.trim(), "" | "[deleted]" | "[removed]")
}

#[derive(Clone)]
pub(crate) struct FourCatMapper {
    id: usize,
    thread: Option<usize>,
    author: usize,
    body: usize,
    timestamp: usize,
    unix: Option<usize>,
    subject: Option<usize>,
    url: Option<usize>,
    hashtags: Option<usize>,
}

impl FourCatMapper {
    pub fn from_headers(h: &Headers) -> Result<FourCatMapper, Vec<String>> {
        let need = ["id", "author", "body", "timestamp"];
        let found: Vec<Option<usize>> = need.iter().map(|c| h.find(c)).collect();
        let (Some(id), Some(author), Some(body), Some(timestamp)) = (found[0], found[1], found[2], found[3])
        else {
            return Err(need
                .iter()
                .zip(&found)
                .filter(|(_, f)| f.is_none())
                .map(|(c, _)| c.to_string())
                .collect());
        };
        Ok(FourCatMapper {
            id,
            thread: h.find("thread_id"),
            author,
            body,
            timestamp,
            unix: h.find("unix_timestamp"),
            subject: h.find("subject"),
            url: h.find("url").or_else(|| h.find("urls")),
            hashtags: h.find("hashtags"),
        })
    }
}

impl RowMapper for FourCatMapper {
    fn map<'r>(&mut self, row: &Row<'r>) -> Result<PostRef<'r>, String> {
        let author = row.get(self.author);
        if deleted(&author) {
            return Err(format!("field {}: no author ('{author}'): not attributable", row.name(self.author)));
        }
        let time = match row.opt(self.unix).and_then(|u| parse_time(&u)) {
            Some(t) => t,
            None => row.time(self.timestamp)?,
        };
        let body = row.text(self.body);
        let text = match row.opt(self.subject) {
            Some(subject) => Cow::Owned(format!("{subject}\n\n{body}")),
            None => body,
        };
        let ents = extract_entities_for(&text, row.fields);
        let mut post =
            PostRef::from_parts(Cow::Owned(qualify(PLATFORM, &author)), time, PostKind::Original, text);
        post.handle = Some(author);
        let id = row.get(self.id);
        post.id = Some(Cow::Owned(qualify(PLATFORM, &id)));
        if let Some(thread) = row.opt(self.thread)
            && *thread != *id
        {
            post.kind = PostKind::Reply;
            post.reply_to_id = Some(Cow::Owned(qualify(PLATFORM, &thread)));
            post.thread_id = post.reply_to_id.clone();
        }
        post.urls = owned_cows(ents.urls);
        if let Some(cell) = row.opt(self.url) {
            for url in split_list(&cell, Some(',')) {
                if url.starts_with("http") && !post.urls.contains(&url) {
                    post.urls.push(Cow::Owned(url.into_owned()));
                }
            }
        }
        post.hashtags = match row.opt(self.hashtags) {
            Some(cell) => split_list(&cell, Some(','))
                .into_iter()
                .map(|t| Cow::Owned(t.trim_start_matches('#').to_string()))
                .collect(),
            None => owned_cows(ents.hashtags),
        };
        post.mentions = owned_cows(ents.mentions);
        Ok(post)
    }
}

#[derive(Deserialize)]
struct Item {
    #[serde(default, deserialize_with = "lenient_id")]
    id: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    thread_id: Option<String>,
    author: Option<String>,
    #[serde(default)]
    body: String,
    subject: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    timestamp: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    unix_timestamp: Option<String>,
}

pub(crate) struct FourCatJsonParser;

impl LineParser for FourCatJsonParser {
    fn parse(&mut self, line: &str, _line_no: u64, out: &mut Out<'_>) -> Result<(), LineError> {
        let item: Item = parse_json(line)?;
        let author = match item.author {
            Some(a) if !deleted(&a) => a,
            _ => {
                out.report.unattributed += 1;
                return Ok(());
            }
        };
        let time = item
            .unix_timestamp
            .as_deref()
            .and_then(parse_time)
            .or_else(|| item.timestamp.as_deref().and_then(parse_time))
            .ok_or_else(|| LineError::Other("field timestamp: missing or not a time".to_string()))?;
        let text = match item.subject.filter(|s| !s.is_empty()) {
            Some(subject) => format!("{subject}\n\n{}", item.body),
            None => item.body,
        };
        let mut post = Post::new(qualify(PLATFORM, &author), time, PostKind::Original, text);
        post.handle = Some(author);
        post.id = item.id.as_deref().map(|id| qualify(PLATFORM, id));
        if let Some(thread) = item.thread_id.filter(|t| Some(t) != item.id.as_ref()) {
            post.kind = PostKind::Reply;
            post.reply_to_id = Some(qualify(PLATFORM, &thread));
            post.thread_id = post.reply_to_id.clone();
        }
        fill_entities_from_text(&mut post);
        out.emit(post);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::post::PostKind;
    use crate::read::Format;
    use crate::read::platforms::testing::{compressed_reads_the_same, read_both};

    /// A 4CAT CSV download (a 4chan dataset's columns, in 4CAT's order): an opening post
    /// with a subject, a reply in its thread with a body over several lines, and a
    /// deleted author.
    const CSV: &str = "thread_id,id,timestamp,unix_timestamp,subject,body,author,author_trip,country_code,url,hashtags\n\
        400000001,400000001,2020-11-03 14:00:00,1604412000,Stop the steal,OP text https://ex.org/a,Anonymous,,US,,\n\
        400000001,400000002,2020-11-03 14:01:00,1604412060,,\">>400000001\nsame #steal\",Anonymous2,,US,https://ex.org/b,steal\n\
        400000001,400000003,2020-11-03 14:02:00,1604412120,,gone,[deleted],,US,,\n";

    #[test]
    fn csv_download() {
        let (posts, report) = read_both(CSV.as_bytes(), Format::FourCat);
        assert_eq!(report.skipped, 1);
        assert!(report.skip_samples[0].to_string().starts_with("line 5: field author: no author"));
        let op = &posts[0];
        assert_eq!(op.account, "4cat:Anonymous");
        assert_eq!(op.kind, PostKind::Original);
        assert_eq!(op.text, "Stop the steal\n\nOP text https://ex.org/a");
        assert_eq!(op.time.to_rfc3339(), "2020-11-03T14:00:00+00:00");
        let reply = &posts[1];
        assert_eq!(reply.kind, PostKind::Reply);
        assert_eq!(reply.thread_id.as_deref(), Some("4cat:400000001"));
        assert_eq!(reply.urls, vec!["https://ex.org/b"]);
        assert_eq!(reply.hashtags, vec!["steal"]);
        compressed_reads_the_same(CSV.as_bytes(), &Format::FourCat);
    }

    #[test]
    fn ndjson() {
        let lines = "{\"id\":\"t3_a\",\"thread_id\":\"t3_a\",\"author\":\"u1\",\"body\":\"hi https://ex.org/z\",\"timestamp\":\"2020-11-03 14:00:00\",\"subject\":\"\"}\n\
            {\"id\":\"t1_b\",\"thread_id\":\"t3_a\",\"author\":\"[deleted]\",\"body\":\"x\",\"timestamp\":\"2020-11-03 14:00:00\"}\n\
            {\"id\":\"t1_c\",\"thread_id\":\"t3_a\",\"author\":\"u2\",\"body\":\"x\",\"timestamp\":\"never\"}\n";
        let (posts, report) = read_both(lines.as_bytes(), Format::FourCat);
        assert_eq!((posts.len() as u64, report.unattributed, report.skipped), (1, 1, 1));
        assert_eq!(posts[0].urls, vec!["https://ex.org/z"]);
        assert_eq!(report.skip_samples[0].to_string(), "line 3: field timestamp: missing or not a time");
    }
}
