//! TikTok Research API responses: `/v2/research/video/query/`
//! (`{"data": {"videos": [...], "cursor", "has_more", "search_id"}, "error": {...}}`) and
//! `/v2/research/video/comment/list/` (`{"data": {"comments": [...]}, ...}`), saved one
//! response per line or pretty-printed; single video or comment objects per line are read
//! too.
//!
//! - A video (`id`, `create_time` in Unix seconds, `username`, `video_description`,
//!   `hashtag_names`, `region_code`, `voice_to_text`) is an original post by
//!   `tiktok:` + `username`, id `tiktok:video/<id>`; hashtags from `hashtag_names`, or from
//!   the description when the field was not requested.
//! - A comment (`id`, `video_id`, `text`, `create_time`, `parent_comment_id`) replies to
//!   its parent comment, or to the video when `parent_comment_id` is the video's id (as
//!   the API gives top-level comments), in the thread `tiktok:video/<video_id>`. The API
//!   does not name a comment's author: without a `username` field (which some collectors
//!   add) a comment is counted as without an account.
//! - A response whose `error.code` is not `ok` is skipped with the API's message.

use serde::Deserialize;
use serde_json::Value;

use super::{Position, fill_entities_from_text, from_value, qualify, required_time};
use crate::post::{AccountMeta, Post, PostKind};
use crate::read::Out;
use crate::read::jsonl::lenient_id;

const PLATFORM: &str = "tiktok";

#[derive(Deserialize)]
struct Video {
    #[serde(default, deserialize_with = "lenient_id")]
    id: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    create_time: Option<String>,
    username: Option<String>,
    video_description: Option<String>,
    hashtag_names: Option<Vec<String>>,
    region_code: Option<String>,
}

#[derive(Deserialize)]
struct Comment {
    #[serde(default, deserialize_with = "lenient_id")]
    id: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    video_id: Option<String>,
    text: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    create_time: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    parent_comment_id: Option<String>,
    username: Option<String>,
}

/// Hands the posts of a response, a video or a comment to `out`.
pub(crate) fn handle(value: Value, at: &Position, out: &mut Out<'_>) -> Result<(), String> {
    if let Some(data) = value.get("data") {
        if let Some(code) = value.pointer("/error/code").and_then(Value::as_str)
            && code != "ok"
        {
            let message = value.pointer("/error/message").and_then(Value::as_str).unwrap_or("");
            return Err(format!("an API error response (error.code {code}): {message}"));
        }
        let (what, items, video) = match (data.get("videos"), data.get("comments")) {
            (Some(Value::Array(v)), _) => ("video", v.clone(), true),
            (_, Some(Value::Array(c))) => ("comment", c.clone(), false),
            _ => return Err("field data: holds neither videos nor comments".to_string()),
        };
        for (i, item) in items.into_iter().enumerate() {
            let result = if video { video_post(item, out) } else { comment_post(item, out) };
            if let Err(reason) = result {
                at.skip_item(out, what, i, &reason);
            }
        }
        return Ok(());
    }
    if value.get("video_id").is_some() && value.get("video_description").is_none() {
        comment_post(value, out)
    } else {
        video_post(value, out)
    }
}

fn video_post(value: Value, out: &mut Out<'_>) -> Result<(), String> {
    emit(video_to_post(from_value(value)?)?, out);
    Ok(())
}

fn comment_post(value: Value, out: &mut Out<'_>) -> Result<(), String> {
    emit(comment_to_post(from_value(value)?)?, out);
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
    data: TypedData,
    error: Option<ApiError>,
}

#[derive(Deserialize)]
struct TypedData {
    videos: Option<Vec<Video>>,
    comments: Option<Vec<Comment>>,
}

#[derive(Deserialize)]
struct ApiError {
    code: Option<String>,
}

/// The common case in one pass: a well-formed response page whose every item maps. Any
/// doubt (an error response, an item that does not map) returns `false` with nothing
/// emitted, and the page goes the slow way, which names the item at fault.
pub(crate) fn fast_page(line: &str, out: &mut Out<'_>) -> bool {
    let Ok(page) = serde_json::from_str::<TypedPage>(line) else { return false };
    if page.error.and_then(|e| e.code).is_some_and(|c| c != "ok") {
        return false;
    }
    let posts: Result<Vec<Option<Post>>, String> = match (page.data.videos, page.data.comments) {
        (Some(videos), _) => videos.into_iter().map(video_to_post).collect(),
        (None, Some(comments)) => comments.into_iter().map(comment_to_post).collect(),
        (None, None) => return false,
    };
    let Ok(posts) = posts else { return false };
    for post in posts {
        emit(post, out);
    }
    true
}

fn video_to_post(v: Video) -> Result<Option<Post>, String> {
    let time = required_time("create_time", v.create_time.as_deref())?;
    let user =
        v.username.filter(|u| !u.is_empty()).ok_or("field username: missing (request the username field)")?;
    let mut post = Post::new(
        qualify(PLATFORM, &user),
        time,
        PostKind::Original,
        v.video_description.unwrap_or_default(),
    );
    post.handle = Some(user);
    post.id = v.id.map(|id| qualify(PLATFORM, &format!("video/{id}")));
    fill_entities_from_text(&mut post);
    if let Some(tags) = v.hashtag_names {
        post.hashtags = tags;
    }
    post.account_meta = AccountMeta { location: v.region_code, ..AccountMeta::default() }.non_empty();
    Ok(Some(post))
}

fn comment_to_post(c: Comment) -> Result<Option<Post>, String> {
    let time = required_time("create_time", c.create_time.as_deref())?;
    let video = c.video_id.ok_or("field video_id: missing")?;
    let Some(user) = c.username.filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    let mut post = Post::new(qualify(PLATFORM, &user), time, PostKind::Reply, c.text.unwrap_or_default());
    post.handle = Some(user);
    post.id = c.id.map(|id| qualify(PLATFORM, &format!("comment/{id}")));
    post.thread_id = Some(qualify(PLATFORM, &format!("video/{video}")));
    post.reply_to_id = match c.parent_comment_id {
        Some(parent) if parent != video => Some(qualify(PLATFORM, &format!("comment/{parent}"))),
        _ => post.thread_id.clone(),
    };
    fill_entities_from_text(&mut post);
    Ok(Some(post))
}

#[cfg(test)]
mod tests {
    use crate::post::PostKind;
    use crate::read::Format;
    use crate::read::platforms::testing::{compressed_reads_the_same, read_both};

    /// Responses in the layout of the Research API reference (video query and comment
    /// list), one per line: two videos (one with the hashtags field, one without), an
    /// error response, and comments with and without a `username`.
    const RESPONSES: &str = r#"{"data":{"videos":[{"id":7360000000000000001,"create_time":1727780400,"username":"news_daily_us","region_code":"US","video_description":"They lied #election #fraud","hashtag_names":["election","fraud"],"like_count":10,"view_count":1000},{"id":"7360000000000000002","create_time":1727780460,"username":"news_daily_us2","video_description":"Same story #election https://ex.org/x"}],"cursor":100,"has_more":true,"search_id":"7361111111111111111"},"error":{"code":"ok","message":"","log_id":"2024100112000000"}}
{"data":{},"error":{"code":"rate_limit_exceeded","message":"API rate limit exceeded","log_id":"x"}}
{"data":{"comments":[{"id":7361000000000000001,"video_id":7360000000000000001,"text":"so true","create_time":1727780500,"like_count":1,"reply_count":0,"parent_comment_id":7360000000000000001},{"id":7361000000000000002,"video_id":7360000000000000001,"text":"reply","create_time":1727780560,"parent_comment_id":7361000000000000001,"username":"collector_added"}],"cursor":2,"has_more":false},"error":{"code":"ok","message":"","log_id":"y"}}
"#;

    #[test]
    fn research_api_responses() {
        let (posts, report) = read_both(RESPONSES.as_bytes(), Format::TikTok);
        assert_eq!((posts.len() as u64, report.unattributed, report.skipped), (3, 1, 1));
        assert_eq!(
            report.skip_samples[0].to_string(),
            "line 2: an API error response (error.code rate_limit_exceeded): API rate limit exceeded"
        );
        let v = &posts[0];
        assert_eq!(v.account, "tiktok:news_daily_us");
        assert_eq!(v.id.as_deref(), Some("tiktok:video/7360000000000000001"));
        assert_eq!(v.hashtags, vec!["election", "fraud"]);
        assert_eq!(v.time.to_rfc3339(), "2024-10-01T11:00:00+00:00");
        assert_eq!(posts[1].hashtags, vec!["election"], "hashtags from the description");
        assert_eq!(posts[1].urls, vec!["https://ex.org/x"]);
        let c = &posts[2];
        assert_eq!(c.kind, PostKind::Reply);
        assert_eq!(c.reply_to_id.as_deref(), Some("tiktok:comment/7361000000000000001"));
        assert_eq!(c.thread_id.as_deref(), Some("tiktok:video/7360000000000000001"));
        compressed_reads_the_same(RESPONSES.as_bytes(), &Format::TikTok);
    }
}
