//! Reddit's own data export (Settings → "Request your data", the GDPR/CCPA export): a zip
//! of CSVs about one account, of which two are its posts:
//!
//! - `posts.csv`: `id,permalink,date,ip,subreddit,gildings,title,url,body`
//! - `comments.csv`: `id,permalink,date,ip,subreddit,gildings,link,parent,body,media`
//!
//! and `statistics.csv` (`statistic,value`) names the account (`account name`): the post
//! files do not, so the reader takes the account from the `statistics.csv` beside the file
//! read, and refuses the file, saying so, when there is none.
//!
//! - Account: `reddit:` + the account name, as the Pushshift reader keys it, so that an
//!   account's own export and a Pushshift dump of the same subreddits meet.
//! - Ids as Pushshift's: a submission is `reddit:t3_` + `id`, a comment `reddit:t1_` +
//!   `id`, in the thread of the submission its `link` (or `permalink`) names
//!   (`/comments/<id>/`); it replies to `parent` (a comment id, `t1_` added when bare), or
//!   to that submission when `parent` is empty.
//! - Time: `date`, `2024-03-01 12:00:00 UTC`.
//! - A submission's text is `title` and `body`; its `url` is a link unless it is the post's
//!   own page (a self post).
//! - Community: `reddit:r/` + `subreddit` in lower case.

use std::borrow::Cow;
use std::path::Path;

use crate::post::{PostKind, PostRef};
use crate::read::ReadError;
use crate::read::csvio::{Headers, Row, RowMapper};
use crate::read::text::{clip, extract_entities_for, owned_cows, parse_time};

/// Whether a CSV header is one of the export's post files.
pub(crate) fn is_export_header(header: &[String]) -> bool {
    let has = |k: &str| header.iter().any(|h| h.eq_ignore_ascii_case(k));
    has("id")
        && has("permalink")
        && has("date")
        && has("subreddit")
        && ((has("title") && has("url")) || (has("link") && has("parent")))
}

/// The account the export at `source` belongs to: `account name` in the `statistics.csv`
/// beside it.
pub(crate) fn account_for(source: &str) -> Result<String, ReadError> {
    let no_account = |why: String| ReadError::NoAccount { source_name: source.to_string(), why };
    let stats = Path::new(source).parent().map(|dir| dir.join("statistics.csv"));
    let Some(stats) = stats.filter(|p| p.is_file()) else {
        return Err(no_account(
            "Reddit's export names its account only in statistics.csv, and there is none beside this file \
             (keep the export's files together)"
                .to_string(),
        ));
    };
    let file = std::fs::File::open(&stats)
        .map_err(|e| no_account(format!("cannot open {}: {e}", stats.display())))?;
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(
        scrutineer_core::input::decode(file, source)
            .map_err(|e| no_account(format!("cannot read {}: {e}", stats.display())))?,
    );
    for row in rdr.records() {
        let row = row.map_err(|e| no_account(format!("cannot read {}: {e}", stats.display())))?;
        if row.get(0).is_some_and(|k| k.trim().eq_ignore_ascii_case("account name"))
            && let Some(name) = row.get(1).map(str::trim).filter(|n| !n.is_empty())
        {
            return Ok(name.to_string());
        }
    }
    Err(no_account(format!("{} has no 'account name' row", stats.display())))
}

#[derive(Clone)]
pub(crate) struct RedditExportMapper {
    account: String,
    id: usize,
    permalink: usize,
    date: usize,
    subreddit: Option<usize>,
    title: Option<usize>,
    url: Option<usize>,
    body: Option<usize>,
    link: Option<usize>,
    parent: Option<usize>,
    /// `comments.csv` (it has `link` and `parent`), else `posts.csv`.
    comments: bool,
}

impl RedditExportMapper {
    pub fn new(account: String, h: &Headers) -> Result<RedditExportMapper, Vec<String>> {
        let (id, permalink, date) = (h.find("id"), h.find("permalink"), h.find("date"));
        let (Some(id), Some(permalink), Some(date)) = (id, permalink, date) else {
            return Err(["id", "permalink", "date"]
                .iter()
                .filter(|c| h.find(c).is_none())
                .map(|c| c.to_string())
                .collect());
        };
        let (link, parent) = (h.find("link"), h.find("parent"));
        Ok(RedditExportMapper {
            account,
            id,
            permalink,
            date,
            subreddit: h.find("subreddit"),
            title: h.find("title"),
            url: h.find("url"),
            body: h.find("body"),
            link,
            parent,
            comments: link.is_some() || parent.is_some(),
        })
    }
}

/// The submission id in a Reddit URL (`.../comments/<id>/...`).
fn submission_of(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("/comments/")?;
    let id = rest.split(['/', '?', '#']).next()?;
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(id)
}

impl RowMapper for RedditExportMapper {
    fn map<'r>(&mut self, row: &Row<'r>) -> Result<PostRef<'r>, String> {
        let id = row.get(self.id);
        if id.is_empty() {
            return Err(format!("field {}: empty id", row.name(self.id)));
        }
        let raw = row.get(self.date);
        let time = parse_time(raw.trim().trim_end_matches("UTC").trim()).ok_or_else(|| {
            format!("field {}: cannot parse '{}' as a time", row.name(self.date), clip(&raw))
        })?;
        let permalink = row.get(self.permalink);
        let body =
            self.body.map(|i| row.text(i)).filter(|b| !matches!(b.trim(), "" | "[deleted]" | "[removed]"));
        let mut post = PostRef::from_parts(
            Cow::Owned(format!("reddit:{}", self.account)),
            time,
            PostKind::Original,
            Cow::Borrowed(""),
        );
        post.handle = Some(Cow::Owned(self.account.clone()));
        post.community =
            row.opt(self.subreddit).map(|s| Cow::Owned(format!("reddit:r/{}", s.trim().to_lowercase())));
        if self.comments {
            let id = id.trim_start_matches("t1_");
            post.id = Some(Cow::Owned(format!("reddit:t1_{id}")));
            let link = row.opt(self.link);
            let thread = link.as_deref().and_then(submission_of).or_else(|| submission_of(&permalink));
            post.thread_id = thread.map(|t| Cow::Owned(format!("reddit:t3_{t}")));
            let parent = row.opt(self.parent).map(|p| p.trim().to_string()).filter(|p| !p.is_empty());
            post.reply_to_id = match parent {
                Some(p) if p.starts_with("t1_") || p.starts_with("t3_") => {
                    Some(Cow::Owned(format!("reddit:{p}")))
                }
                Some(p) => Some(Cow::Owned(format!("reddit:t1_{p}"))),
                None => post.thread_id.clone(),
            };
            if post.reply_to_id.is_some() {
                post.kind = PostKind::Reply;
            }
            post.text = body.unwrap_or_default();
        } else {
            let id = id.trim_start_matches("t3_");
            post.id = Some(Cow::Owned(format!("reddit:t3_{id}")));
            let title = self.title.map(|i| row.text(i)).unwrap_or_default();
            post.text = match body {
                Some(body) => Cow::Owned(format!("{title}\n\n{body}")),
                None => title,
            };
            if let Some(url) = row.opt(self.url)
                && url.starts_with("http")
                && submission_of(&url) != Some(id)
                && row.fields.urls
            {
                post.urls.push(url);
            }
        }
        let ents = extract_entities_for(&post.text, row.fields);
        for url in owned_cows(ents.urls) {
            if !post.urls.contains(&url) {
                post.urls.push(url);
            }
        }
        Ok(post)
    }
}

#[cfg(test)]
mod tests {
    use super::submission_of;

    #[test]
    fn submission_ids_from_urls() {
        assert_eq!(
            submission_of("https://www.reddit.com/r/politics/comments/5a1b2c/some_title/d9x8y7z/"),
            Some("5a1b2c")
        );
        assert_eq!(submission_of("https://www.reddit.com/r/politics/comments/5a1b2c"), Some("5a1b2c"));
        assert_eq!(submission_of("https://example.org/comments/"), None);
        assert_eq!(submission_of("https://example.org/a"), None);
    }
}
