//! Meta Content Library CSV exports of Facebook and Instagram posts (the Content Library
//! user interface's "Download CSV", and the Researcher Platform's CSV of a search),
//! with the data dictionary's field names, nested fields flattened with dots:
//! `id`, `creation_time`, `text`, `lang`, `post_owner.id`, `post_owner.name`,
//! `post_owner.username`, `link_attachment.link` (Facebook); `owner.id`, `owner.username`
//! (Instagram).
//!
//! - Account: `facebook:` + `post_owner.id`, or `instagram:` + `owner.id` (either also
//!   written with `_` for the dot). Post id: the same prefix + `id`.
//! - Time: `creation_time` (ISO 8601, with or without a zone; without one, UTC).
//! - Text: `text`, which holds line breaks: such cells are quoted over several lines,
//!   and the record keeps the line it starts on.
//! - Links: `link_attachment.link`, and links in the text.

use std::borrow::Cow;

use crate::post::{AccountMeta, PostKind, PostRef};
use crate::read::csvio::{Headers, Row, RowMapper};
use crate::read::text::{extract_entities_for, owned_cows};

/// Columns that name a post's owner, with the platform each means.
pub(crate) const OWNER_COLUMNS: [&str; 4] = ["post_owner.id", "post_owner_id", "owner.id", "owner_id"];

#[derive(Clone)]
pub(crate) struct MetaMapper {
    platform: &'static str,
    owner: usize,
    id: usize,
    time: usize,
    text: Option<usize>,
    name: Option<usize>,
    username: Option<usize>,
    link: Option<usize>,
    lang: Option<usize>,
}

impl MetaMapper {
    pub fn from_headers(h: &Headers) -> Result<MetaMapper, Vec<String>> {
        let owner = OWNER_COLUMNS.iter().find_map(|c| h.find(c).map(|i| (i, *c)));
        let (id, time) = (h.find("id"), h.find("creation_time"));
        let (Some((owner, column)), Some(id), Some(time)) = (owner, id, time) else {
            let mut missing = Vec::new();
            if owner.is_none() {
                missing.push("post_owner.id (or owner.id)".to_string());
            }
            if id.is_none() {
                missing.push("id".to_string());
            }
            if time.is_none() {
                missing.push("creation_time".to_string());
            }
            return Err(missing);
        };
        let facebook = column.starts_with("post_owner");
        let nested = |field: &str| {
            let base = if facebook { "post_owner" } else { "owner" };
            h.find(&format!("{base}.{field}")).or_else(|| h.find(&format!("{base}_{field}")))
        };
        Ok(MetaMapper {
            platform: if facebook { "facebook" } else { "instagram" },
            owner,
            id,
            time,
            text: h.find("text"),
            name: nested("name"),
            username: nested("username"),
            link: h.find("link_attachment.link").or_else(|| h.find("link_attachment_link")),
            lang: h.find("lang"),
        })
    }
}

impl RowMapper for MetaMapper {
    fn map<'r>(&mut self, row: &Row<'r>) -> Result<PostRef<'r>, String> {
        let owner = row.account(self.owner)?;
        let raw_time = row.get(self.time);
        let time = super::parse_platform_time(&raw_time).ok_or_else(|| {
            format!(
                "field {}: cannot parse '{}' as a time",
                row.name(self.time),
                crate::read::text::clip(&raw_time)
            )
        })?;
        let text = self.text.map_or(Cow::Borrowed(""), |i| row.text(i));
        let ents = extract_entities_for(&text, row.fields);
        let mut post = PostRef::from_parts(
            Cow::Owned(format!("{}:{owner}", self.platform)),
            time,
            PostKind::Original,
            text,
        );
        post.id = row.opt_id(Some(self.id)).map(|id| Cow::Owned(format!("{}:{id}", self.platform)));
        post.handle = row.opt(self.username);
        post.urls = owned_cows(ents.urls);
        if let Some(link) = row.opt(self.link)
            && row.fields.urls
            && !post.urls.contains(&link)
        {
            post.urls.insert(0, link);
        }
        post.hashtags = owned_cows(ents.hashtags);
        post.mentions = owned_cows(ents.mentions);
        post.language = row.opt(self.lang);
        post.account_meta =
            AccountMeta { display_name: row.opt(self.name), ..AccountMeta::default() }.non_empty();
        Ok(post)
    }
}

#[cfg(test)]
mod tests {
    use crate::read::Format;
    use crate::read::platforms::testing::{compressed_reads_the_same, read_both};

    /// A Facebook posts CSV in the Content Library's layout: a text cell over several
    /// lines (quoted, with a quote inside), a link attachment, a row with an empty owner,
    /// and the row after it, to show that line numbers count the physical lines.
    const FACEBOOK: &str = "id,creation_time,modified_time,text,lang,post_owner.id,post_owner.name,post_owner.type,link_attachment.link,statistics.reaction_count\n\
        1000000000000001,2024-10-01T12:00:00+0000,2024-10-01T12:00:00+0000,\"Line one\nline \"\"two\"\" #vote\n\nhttps://ex.org/b\",en,100000000000001,Page One,PAGE,https://ex.org/a,10\n\
        1000000000000002,2024-10-01T12:01:00,,no owner,en,,x,PAGE,,0\n\
        1000000000000003,2024-10-01T12:02:00,,third,en,100000000000003,Page Three,PAGE,,1\n";

    #[test]
    fn facebook_posts_with_multiline_cells() {
        let (posts, report) = read_both(FACEBOOK.as_bytes(), Format::MetaContentLibrary);
        assert_eq!(report.skipped, 1, "{:?}", report.skip_samples);
        assert_eq!(report.skip_samples[0].to_string(), "line 6: field post_owner.id: empty account");
        let p = &posts[0];
        assert_eq!(p.account, "facebook:100000000000001");
        assert_eq!(p.id.as_deref(), Some("facebook:1000000000000001"));
        assert_eq!(p.text, "Line one\nline \"two\" #vote\n\nhttps://ex.org/b");
        assert_eq!(p.urls, vec!["https://ex.org/a", "https://ex.org/b"]);
        assert_eq!(p.hashtags, vec!["vote"]);
        assert_eq!(p.time.to_rfc3339(), "2024-10-01T12:00:00+00:00");
        assert_eq!(p.account_meta.as_ref().and_then(|m| m.display_name.as_deref()), Some("Page One"));
        assert_eq!(posts[1].account, "facebook:100000000000003");
        compressed_reads_the_same(FACEBOOK.as_bytes(), &Format::MetaContentLibrary);
    }

    #[test]
    fn instagram_posts() {
        let csv = "id,creation_time,text,owner.id,owner.username\n17900000000000001,2024-10-01T12:00:00Z,hello,17841400000000001,insta_user\n";
        let (posts, report) = read_both(csv.as_bytes(), Format::MetaContentLibrary);
        assert_eq!(report.skipped, 0);
        assert_eq!(posts[0].account, "instagram:17841400000000001");
        assert_eq!(posts[0].handle.as_deref(), Some("insta_user"));
    }
}
