//! YouTube Data API v3 comment threads: `commentThreads.list` responses
//! (`{"kind": "youtube#commentThreadListResponse", "items": [...]}`), saved one per line or
//! pretty-printed one after another; single `youtube#commentThread` or `youtube#comment`
//! resources per line are read too.
//!
//! - Each thread's `snippet.topLevelComment` and each of `replies.comments` is a post.
//! - Account: `youtube:` + `snippet.authorChannelId.value` (an object, not a string);
//!   comments without one (deleted channels) are counted as without an account. Handle:
//!   `authorDisplayName`.
//! - Time: `publishedAt`. Text: `textOriginal` (else `textDisplay`, which is HTML).
//! - A top-level comment replies to the video (`youtube:video/<videoId>`), a reply to its
//!   `parentId` (`youtube:comment/<id>`); both are in the thread `youtube:video/<videoId>`.

use serde::Deserialize;
use serde_json::Value;

use super::{Position, fill_entities_from_text, from_value, qualify, required_time};
use crate::post::{Post, PostKind};
use crate::read::Out;
use crate::read::text::{strip_html, unescape_html};

const PLATFORM: &str = "youtube";

#[derive(Deserialize)]
struct Comment {
    id: Option<String>,
    snippet: Option<CommentSnippet>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CommentSnippet {
    video_id: Option<String>,
    text_original: Option<String>,
    text_display: Option<String>,
    author_display_name: Option<String>,
    author_channel_id: Option<ChannelId>,
    parent_id: Option<String>,
    published_at: Option<String>,
}

#[derive(Deserialize)]
struct ChannelId {
    value: Option<String>,
}

#[derive(Deserialize)]
struct Thread {
    snippet: Option<ThreadSnippet>,
    replies: Option<Replies>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ThreadSnippet {
    video_id: Option<String>,
    top_level_comment: Option<Comment>,
}

#[derive(Deserialize)]
struct Replies {
    #[serde(default)]
    comments: Vec<Comment>,
}

/// Hands the posts of a response page, a thread or a comment to `out`.
pub(crate) fn handle(value: Value, at: &Position, out: &mut Out<'_>) -> Result<(), String> {
    let kind = value.get("kind").and_then(Value::as_str).unwrap_or("").to_string();
    match kind.as_str() {
        "youtube#commentThreadListResponse" => {
            let Some(Value::Array(items)) = value.get("items").cloned() else {
                return Err("field items: missing in a youtube#commentThreadListResponse".to_string());
            };
            for (i, item) in items.into_iter().enumerate() {
                if let Err(reason) = thread(item, out) {
                    at.skip_item(out, "comment thread", i, &reason);
                }
            }
            Ok(())
        }
        "youtube#commentListResponse" => {
            let Some(Value::Array(items)) = value.get("items").cloned() else {
                return Err("field items: missing in a youtube#commentListResponse".to_string());
            };
            for (i, item) in items.into_iter().enumerate() {
                if let Err(reason) = from_value::<Comment>(item).and_then(|c| comment(c, None, out)) {
                    at.skip_item(out, "comment", i, &reason);
                }
            }
            Ok(())
        }
        "youtube#commentThread" => thread(value, out),
        "youtube#comment" => comment(from_value(value)?, None, out),
        "" => Err("field kind: missing (not a YouTube Data API resource?)".to_string()),
        other => Err(format!("field kind: '{other}' is not a comment thread or comment resource")),
    }
}

fn thread(value: Value, out: &mut Out<'_>) -> Result<(), String> {
    for post in thread_posts(from_value(value)?)? {
        emit(post, out);
    }
    Ok(())
}

fn emit(post: Option<Post>, out: &mut Out<'_>) {
    match post {
        Some(post) => out.emit(post),
        None => out.report.unattributed += 1,
    }
}

#[derive(Deserialize)]
struct TypedPage {
    kind: String,
    items: Vec<Thread>,
}

/// The common case in one pass: a `commentThreadListResponse` whose every thread maps.
/// Anything else returns `false` with nothing emitted, and goes the slow way, which
/// names the thread at fault.
pub(crate) fn fast_page(line: &str, out: &mut Out<'_>) -> bool {
    let Ok(page) = serde_json::from_str::<TypedPage>(line) else { return false };
    if page.kind != "youtube#commentThreadListResponse" {
        return false;
    }
    let mut posts = Vec::new();
    for t in page.items {
        match thread_posts(t) {
            Ok(p) => posts.extend(p),
            Err(_) => return false,
        }
    }
    for post in posts {
        emit(post, out);
    }
    true
}

fn thread_posts(t: Thread) -> Result<Vec<Option<Post>>, String> {
    let snippet = t.snippet.ok_or("field snippet: missing")?;
    let top = snippet.top_level_comment.ok_or("field snippet.topLevelComment: missing")?;
    let video = snippet.video_id.as_deref();
    let mut posts = vec![comment_post(top, video)?];
    for reply in t.replies.map(|r| r.comments).unwrap_or_default() {
        posts.push(comment_post(reply, video)?);
    }
    Ok(posts)
}

fn comment(c: Comment, video: Option<&str>, out: &mut Out<'_>) -> Result<(), String> {
    emit(comment_post(c, video)?, out);
    Ok(())
}

fn comment_post(c: Comment, video: Option<&str>) -> Result<Option<Post>, String> {
    let s = c.snippet.ok_or("field snippet: missing")?;
    let time = required_time("snippet.publishedAt", s.published_at.as_deref())?;
    let Some(channel) = s.author_channel_id.and_then(|c| c.value).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let text = match (s.text_original, s.text_display) {
        (Some(t), _) => t,
        (None, Some(html)) => unescape_html(&strip_html(&html)).into_owned(),
        (None, None) => String::new(),
    };
    let mut post = Post::new(qualify(PLATFORM, &channel), time, PostKind::Reply, text);
    post.handle = s.author_display_name;
    post.id = c.id.map(|id| qualify(PLATFORM, &format!("comment/{id}")));
    let video = s.video_id.as_deref().or(video);
    post.thread_id = video.map(|v| qualify(PLATFORM, &format!("video/{v}")));
    post.reply_to_id = match s.parent_id {
        Some(parent) => Some(qualify(PLATFORM, &format!("comment/{parent}"))),
        None => post.thread_id.clone(),
    };
    post.kind = if post.reply_to_id.is_some() { PostKind::Reply } else { PostKind::Original };
    fill_entities_from_text(&mut post);
    Ok(Some(post))
}

#[cfg(test)]
mod tests {
    use crate::post::PostKind;
    use crate::read::Format;
    use crate::read::platforms::testing::{compressed_reads_the_same, read_both};

    /// A `commentThreads.list` response as the API returns it (pretty-printed, as
    /// `json.dump(response, f, indent=2)` writes it): a thread with a reply, a thread whose
    /// author channel is gone, and a thread without its top-level comment.
    const PAGE: &str = r#"{
  "kind": "youtube#commentThreadListResponse",
  "etag": "abc",
  "nextPageToken": "QURTSl9p",
  "pageInfo": {"totalResults": 3, "resultsPerPage": 100},
  "items": [
    {
      "kind": "youtube#commentThread",
      "etag": "e1",
      "id": "UgzDE2tasfmrYLyNkGt4AaABAg",
      "snippet": {
        "channelId": "UCuAXFkgsw1L7xaCfnd5JJOw",
        "videoId": "dQw4w9WgXcQ",
        "topLevelComment": {
          "kind": "youtube#comment",
          "etag": "e2",
          "id": "UgzDE2tasfmrYLyNkGt4AaABAg",
          "snippet": {
            "channelId": "UCuAXFkgsw1L7xaCfnd5JJOw",
            "videoId": "dQw4w9WgXcQ",
            "textDisplay": "Vote &amp; see <a href=\"https://ex.org/a\">https://ex.org/a</a>",
            "textOriginal": "Vote & see https://ex.org/a",
            "authorDisplayName": "@patriot1",
            "authorProfileImageUrl": "https://yt3.ggpht.com/x",
            "authorChannelUrl": "http://www.youtube.com/@patriot1",
            "authorChannelId": {"value": "UCaaaaaaaaaaaaaaaaaaaaaa"},
            "canRate": true,
            "viewerRating": "none",
            "likeCount": 3,
            "publishedAt": "2024-10-01T12:00:00Z",
            "updatedAt": "2024-10-01T12:00:00Z"
          }
        },
        "canReply": true,
        "totalReplyCount": 1,
        "isPublic": true
      },
      "replies": {
        "comments": [
          {
            "kind": "youtube#comment",
            "id": "UgzDE2tasfmrYLyNkGt4AaABAg.9_xyz",
            "snippet": {
              "videoId": "dQw4w9WgXcQ",
              "textDisplay": "agreed",
              "textOriginal": "agreed",
              "parentId": "UgzDE2tasfmrYLyNkGt4AaABAg",
              "authorDisplayName": "@other",
              "authorChannelId": {"value": "UCbbbbbbbbbbbbbbbbbbbbbb"},
              "publishedAt": "2024-10-01T12:01:00Z"
            }
          }
        ]
      }
    },
    {
      "kind": "youtube#commentThread",
      "snippet": {
        "videoId": "dQw4w9WgXcQ",
        "topLevelComment": {
          "kind": "youtube#comment",
          "id": "Ugx_gone",
          "snippet": {"videoId": "dQw4w9WgXcQ", "textOriginal": "x", "authorDisplayName": "", "publishedAt": "2024-10-01T12:02:00Z"}
        }
      }
    },
    {
      "kind": "youtube#commentThread",
      "snippet": {"videoId": "dQw4w9WgXcQ"}
    }
  ]
}
"#;

    #[test]
    fn comment_thread_page() {
        let (posts, report) = read_both(PAGE.as_bytes(), Format::YouTube);
        assert_eq!((posts.len() as u64, report.unattributed, report.skipped), (2, 1, 1));
        let skip = report.skip_samples[0].to_string();
        assert!(
            skip.ends_with(
                "comment thread 3 in the document ending on this line: field snippet.topLevelComment: missing"
            ),
            "{skip}"
        );
        let top = &posts[0];
        assert_eq!(top.account, "youtube:UCaaaaaaaaaaaaaaaaaaaaaa");
        assert_eq!(top.handle.as_deref(), Some("@patriot1"));
        assert_eq!(top.text, "Vote & see https://ex.org/a");
        assert_eq!(top.urls, vec!["https://ex.org/a"]);
        assert_eq!(top.kind, PostKind::Reply);
        assert_eq!(top.reply_to_id.as_deref(), Some("youtube:video/dQw4w9WgXcQ"));
        assert_eq!(top.thread_id.as_deref(), Some("youtube:video/dQw4w9WgXcQ"));
        let reply = &posts[1];
        assert_eq!(reply.reply_to_id.as_deref(), Some("youtube:comment/UgzDE2tasfmrYLyNkGt4AaABAg"));
        assert_eq!(reply.thread_id, top.thread_id);

        // The same page on one line (JSON lines of pages) reads the same.
        let one_line: serde_json::Value = serde_json::from_str(PAGE).expect("json");
        let line = format!("{one_line}\n{one_line}\n");
        let (twice, _) = read_both(line.as_bytes(), Format::YouTube);
        assert_eq!(twice.len(), 4);
        assert_eq!(&twice[..2], &posts[..]);
        compressed_reads_the_same(PAGE.as_bytes(), &Format::YouTube);

        // A page whose every thread maps takes the one-pass path on a line, and gives
        // what the item-by-item path gives for the same page written over several lines.
        let mut good = one_line.clone();
        good["items"].as_array_mut().expect("items").truncate(2);
        let pretty = serde_json::to_string_pretty(&good).expect("json");
        let (slow, slow_report) = read_both(pretty.as_bytes(), Format::YouTube);
        let (fast, fast_report) = read_both(format!("{good}\n").as_bytes(), Format::YouTube);
        assert_eq!(fast, slow);
        assert_eq!((fast_report.unattributed, fast_report.skipped), (slow_report.unattributed, 0));
        assert_eq!(fast.len(), 2);
    }
}
