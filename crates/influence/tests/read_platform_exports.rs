//! The platform exports read as files: Telegram Desktop's HTML export, Bluesky repository
//! CAR files and saved firehose frames, and Reddit's own data-export CSVs, each in its published layout (see the
//! crate README for the sources), with their awkward parts and malformed records.

use std::io::Write;
use std::path::Path;

use scrutineer_influence::{Format, Post, PostKind, ReadError, ReadReport, read_posts, read_posts_from_path};

fn read_path(path: &Path, format: &Format) -> (Vec<Post>, ReadReport) {
    let mut posts = Vec::new();
    let report = read_posts_from_path(path, format, |p| posts.push(p)).expect("reads");
    (posts, report)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).expect("gzip");
    gz.finish().expect("gzip")
}

fn zstd(bytes: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(bytes, ruzstd::encoding::CompressionLevel::Fastest)
}

// ------------------------------------------------------------------ Telegram HTML

/// A channel's `messages.html` as tdesktop's HTML writer lays it out (block tags on lines
/// of their own, indented by depth; text with `<br>` for line breaks and escaped
/// characters; hashtags as `ShowHashtag` anchors; mentions as `t.me` links).
const TELEGRAM_HTML: &str = r##"<!DOCTYPE html>
<html>

 <head>

  <meta charset="utf-8"/>
<title>Exported Data</title>

  <meta content="width=device-width, initial-scale=1.0" name="viewport"/>

  <link href="css/style.css" rel="stylesheet"/>

  <script src="js/script.js" type="text/javascript">

  </script>

 </head>

 <body onload="CheckLocation();">

  <div class="page_wrap">

   <div class="page_header">

    <div class="content">

     <div class="text bold">
Новости &amp; Мнения
     </div>

    </div>

   </div>

   <div class="page_body chat_page">

    <div class="history">

     <div class="message service" id="message-1">

      <div class="body details">
1 March 2024
      </div>

     </div>

     <div class="message default clearfix" id="message101">

      <div class="pull_left userpic_wrap">

       <div class="userpic userpic5" style="width: 42px; height: 42px">

        <div class="initials" style="line-height: 42px">
НМ
        </div>

       </div>

      </div>

      <div class="body">

       <div class="pull_right date details" title="01.03.2024 12:00:05 UTC+03:00">
12:00
       </div>

       <div class="from_name">
Новости &amp; Мнения 
       </div>

       <div class="text">
Read <a href="https://ex.org/a?b=1&amp;c=2">https://ex.org/a?b=1&amp;c=2</a> now <a href="" onclick="return ShowHashtag(&quot;выборы&quot;)">#выборы</a><br>cc <a href="https://t.me/press_desk">@press_desk</a> and <a href="" onclick="return ShowMentionName()">Ivan Petrov</a>, 1 &lt; 2
       </div>

      </div>

     </div>

     <div class="message default clearfix joined" id="message102">

      <div class="body">

       <div class="pull_right date details" title="01.03.2024 12:05:00 UTC+03:00">
12:05
       </div>

       <div class="text">
Second in a row: <strong>same sender</strong>
       </div>

      </div>

     </div>

     <div class="message default clearfix" id="message103">

      <div class="pull_left userpic_wrap">

       <div class="userpic userpic5" style="width: 42px; height: 42px">

        <div class="initials" style="line-height: 42px">
НМ
        </div>

       </div>

      </div>

      <div class="body">

       <div class="pull_right date details" title="01.03.2024 13:00:00 UTC+03:00">
13:00
       </div>

       <div class="from_name">
Новости &amp; Мнения 
       </div>

       <div class="pull_left forwarded userpic_wrap">

        <div class="userpic userpic3" style="width: 42px; height: 42px">

         <div class="initials" style="line-height: 42px">
RT
         </div>

        </div>

       </div>

       <div class="forwarded body">

        <div class="from_name">
Source Channel<span class="date details" title="01.03.2024 09:30:00 UTC+03:00"> 01.03.2024 09:30:00</span>
        </div>

        <div class="media_wrap clearfix">

         <div class="media clearfix pull_left media_photo">

          <div class="fill pull_left">

          </div>

          <div class="body">

           <div class="title bold">
Photo
           </div>

           <div class="description">
Not included, change data exporting settings to download.
           </div>

          </div>

         </div>

        </div>

        <div class="text">
Original words <a href="https://source.example/story">here</a>
        </div>

       </div>

      </div>

     </div>

     <div class="message default clearfix joined" id="message104">

      <div class="body">

       <div class="pull_right date details" title="01.03.2024 13:00:01 UTC+03:00">
13:00
       </div>

       <div class="forwarded body">

        <div class="text">
More from the same source
        </div>

       </div>

      </div>

     </div>

     <div class="message default clearfix" id="message105">

      <div class="pull_left userpic_wrap">

       <div class="userpic userpic1" style="width: 42px; height: 42px">

        <div class="initials" style="line-height: 42px">
Ed
        </div>

       </div>

      </div>

      <div class="body">

       <div class="pull_right date details" title="01.03.2024 14:10:00 UTC+03:00">
14:10
       </div>

       <div class="from_name">
Editor via @poster_bot
       </div>

       <div class="reply_to details">
In reply to <a href="#go_to_message101" onclick="return GoToMessage(101)">this message</a>
       </div>

       <div class="text">
Agreed
       </div>

      </div>

     </div>

     <div class="message default clearfix" id="message106">

      <div class="body">

       <div class="pull_right date details" title="02.03.2024 08:00:00 UTC+03:00">
08:00
       </div>

       <div class="from_name">
Deleted Account
       </div>

       <div class="text">
gone
       </div>

      </div>

     </div>

     <div class="message default clearfix" id="message107">

      <div class="body">

       <div class="pull_right date details" title="yesterday">
08:01
       </div>

       <div class="from_name">
Editor
       </div>

       <div class="reply_to details">
In reply to <a href="messages2.html#go_to_message1500" onclick="return GoToMessage(1500)">this message</a>
       </div>

       <div class="text">
bad date
       </div>

      </div>

     </div>

     <div class="message default clearfix" id="message108">

      <div class="body">

       <div class="pull_right date details" title="02.03.2024 09:00:00">
09:00
       </div>

       <div class="from_name">
Editor
       </div>

       <div class="reply_to details">
In reply to a message in another chat
       </div>

       <div class="text">
old export, no offset
       </div>

      </div>

     </div>

    </div>

   </div>

  </div>

 </body>

</html>
"##;

#[test]
fn telegram_html_export() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("messages.html");
    std::fs::write(&path, TELEGRAM_HTML).expect("write");
    let (posts, report) = read_path(&path, &Format::Auto);
    assert_eq!(report.format, "telegram-html", "sniffed");
    assert_eq!(
        (report.records, report.posts, report.not_posts, report.unattributed, report.skipped),
        (9, 6, 1, 1, 1),
        "{report}: {:?}",
        report.skip_samples
    );
    assert!(!report.truncated);
    let line = TELEGRAM_HTML.lines().position(|l| l.contains("id=\"message107\"")).expect("marker") + 1;
    assert_eq!(report.skip_samples[0].line, line as u64, "the line the message starts on");
    assert!(
        report.skip_samples[0].reason.contains("field date: cannot parse 'yesterday'"),
        "{:?}",
        report.skip_samples
    );

    let chat = "telegram:name:Новости & Мнения";
    let first = &posts[0];
    assert_eq!(first.account, chat, "a channel's post is by the channel, entities decoded");
    assert_eq!(first.id.as_deref(), Some(format!("{chat}/101").as_str()));
    assert_eq!(first.community.as_deref(), Some(chat));
    assert_eq!(first.time.to_rfc3339(), "2024-03-01T09:00:05+00:00", "the export's UTC+03:00 applied");
    assert_eq!(
        first.text,
        "Read https://ex.org/a?b=1&c=2 now #выборы\ncc @press_desk and Ivan Petrov, 1 < 2"
    );
    assert_eq!(first.urls, ["https://ex.org/a?b=1&c=2"]);
    assert_eq!(first.hashtags, ["выборы"]);
    assert_eq!(first.mentions, ["press_desk", "telegram:name:Ivan Petrov"]);
    assert_eq!(first.kind, PostKind::Original);

    let joined = &posts[1];
    assert_eq!(joined.account, chat, "a joined message is the previous sender's");
    assert_eq!(joined.text, "Second in a row: same sender");

    let fwd = &posts[2];
    assert_eq!(fwd.kind, PostKind::Retweet);
    assert_eq!(fwd.account, chat);
    assert_eq!(
        fwd.retweeted_account.as_deref(),
        Some("telegram:name:Source Channel"),
        "the date span is not the name"
    );
    assert_eq!(fwd.text, "Original words here", "media descriptions are not text");
    assert_eq!(fwd.urls, ["https://source.example/story"]);
    let fwd2 = &posts[3];
    assert_eq!(fwd2.retweeted_account, fwd.retweeted_account, "a joined forward keeps the author");
    assert_eq!(fwd2.time.to_rfc3339(), "2024-03-01T10:00:01+00:00");

    let reply = &posts[4];
    assert_eq!(reply.account, "telegram:name:Editor", "'via @bot' is not part of the name");
    assert_eq!(reply.kind, PostKind::Reply);
    assert_eq!(reply.reply_to_id, first.id);

    let old = &posts[5];
    assert_eq!(old.time.to_rfc3339(), "2024-03-02T09:00:00+00:00", "no offset: read as UTC");
    assert_eq!(old.kind, PostKind::Reply, "a reply to another chat is a reply");
    assert_eq!(old.reply_to_id, None);

    // The same export compressed reads the same.
    for (name, bytes) in [
        ("messages.html.gz", gzip(TELEGRAM_HTML.as_bytes())),
        ("messages.html.zst", zstd(TELEGRAM_HTML.as_bytes())),
    ] {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).expect("write");
        let (again, _) = read_path(&p, &Format::Auto);
        assert_eq!(again, posts, "{name}");
    }
    // Forced, it reads the same too.
    let (forced, _) = read_path(&path, &Format::TelegramHtml);
    assert_eq!(forced, posts);
}

#[test]
fn telegram_html_cut_and_damaged() {
    // Cut inside message 105: the four posts before it are kept, the cut reported.
    let cut = &TELEGRAM_HTML[..TELEGRAM_HTML.find("Agreed").expect("marker")];
    let mut posts = Vec::new();
    let report = read_posts(cut.as_bytes(), "cut.html", &Format::Auto, |p| posts.push(p)).expect("reads");
    assert_eq!(posts.len(), 4);
    assert!(report.truncated, "{report}");
    assert!(
        report.skip_samples.iter().any(|s| s.reason.contains("ends inside this message")),
        "{:?}",
        report.skip_samples
    );

    // A joined message with nothing before it, and a message without an id.
    let page = TELEGRAM_HTML.replace(
        "<div class=\"message default clearfix\" id=\"message101\">",
        "<div class=\"message default clearfix joined\" id=\"message101\">",
    );
    let page = page.replace("<div class=\"pull_left userpic_wrap\">\n\n       <div class=\"userpic userpic5\" style=\"width: 42px; height: 42px\">\n\n        <div class=\"initials\" style=\"line-height: 42px\">\nНМ\n        </div>\n\n       </div>\n\n      </div>\n\n      <div class=\"body\">\n\n       <div class=\"pull_right date details\" title=\"01.03.2024 12:00:05 UTC+03:00\">\n12:00\n       </div>\n\n       <div class=\"from_name\">\nНовости &amp; Мнения \n       </div>\n", "<div class=\"body\">\n       <div class=\"pull_right date details\" title=\"01.03.2024 12:00:05 UTC+03:00\">\n12:00\n       </div>\n");
    let page = page.replace("id=\"message102\"", "");
    let mut posts = Vec::new();
    let report =
        read_posts(page.as_bytes(), "damaged.html", &Format::TelegramHtml, |p| posts.push(p)).expect("reads");
    let reasons: Vec<String> = report.skip_samples.iter().map(|s| s.to_string()).collect();
    assert!(reasons.iter().any(|r| r.contains("joined message with no message before it")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("field id")), "{reasons:?}");
    assert!(!report.truncated);

    // An HTML page that is not a Telegram export is named as such.
    let err = read_posts(
        &b"<!DOCTYPE html>\n<html><body>hello</body></html>\n"[..],
        "page.html",
        &Format::Auto,
        |_| {},
    )
    .expect_err("not an export");
    assert!(err.to_string().contains("not a Telegram Desktop HTML export"), "{err}");
}

// ------------------------------------------------------------------ Bluesky CAR

mod car {
    use std::collections::BTreeMap;

    use ipld_core::cid::Cid;
    use ipld_core::cid::multihash::Multihash;
    use ipld_core::ipld::Ipld;
    use sha2::Digest;

    /// `Ipld` from `(key, value)` pairs.
    pub fn map(pairs: Vec<(&str, Ipld)>) -> Ipld {
        Ipld::Map(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<BTreeMap<_, _>>())
    }

    pub fn s(v: &str) -> Ipld {
        Ipld::String(v.to_string())
    }

    /// A DAG-CBOR block and its CIDv1 (codec dag-cbor 0x71, sha2-256), as the PDS writes them.
    pub fn block(value: &Ipld) -> (Cid, Vec<u8>) {
        let bytes = serde_ipld_dagcbor::to_vec(value).expect("encode");
        let digest = sha2::Sha256::digest(&bytes);
        (Cid::new_v1(0x71, Multihash::<64>::wrap(0x12, &digest).expect("multihash")), bytes)
    }

    fn varint(mut n: u64, out: &mut Vec<u8>) {
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    /// A CAR v1 file: the header `{version: 1, roots: [root]}`, then each block as a
    /// varint length, its CID and its bytes.
    pub fn car(root: Cid, blocks: &[(Cid, Vec<u8>)]) -> Vec<u8> {
        let header = serde_ipld_dagcbor::to_vec(&map(vec![
            ("version", Ipld::Integer(1)),
            ("roots", Ipld::List(vec![Ipld::Link(root)])),
        ]))
        .expect("header");
        let mut out = Vec::new();
        varint(header.len() as u64, &mut out);
        out.extend_from_slice(&header);
        for (cid, data) in blocks {
            let cid = cid.to_bytes();
            varint((cid.len() + data.len()) as u64, &mut out);
            out.extend_from_slice(&cid);
            out.extend_from_slice(data);
        }
        out
    }

    /// A tree entry: `p` bytes shared with the key before it, the rest of the key, the
    /// record, and the subtree to its right.
    pub fn entry(p: usize, suffix: &str, v: Cid, t: Option<Cid>) -> Ipld {
        map(vec![
            ("p", Ipld::Integer(p as i128)),
            ("k", Ipld::Bytes(suffix.as_bytes().to_vec())),
            ("v", Ipld::Link(v)),
            ("t", t.map_or(Ipld::Null, Ipld::Link)),
        ])
    }
}

const DID: &str = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";

/// A repository as `com.atproto.sync.getRepo` returns it: the signed commit first, tree
/// nodes, then records (posts with facets, a reply quoting another account's post, an image
/// embed whose blob is a CID link, a repost, a like, a follow, a profile), and one post
/// whose `createdAt` is not a time.
fn repository() -> (Vec<u8>, Vec<(cid_alias::Cid, Vec<u8>)>) {
    use car::{block, entry, map, s};
    use ipld_core::ipld::Ipld;
    let post1 = map(vec![
        ("$type", s("app.bsky.feed.post")),
        ("text", s("Vote early #vote https://ex.org/a")),
        ("createdAt", s("2024-10-01T12:00:00.000Z")),
        ("langs", Ipld::List(vec![s("en")])),
        (
            "facets",
            Ipld::List(vec![
                map(vec![
                    ("index", map(vec![("byteStart", Ipld::Integer(11)), ("byteEnd", Ipld::Integer(16))])),
                    (
                        "features",
                        Ipld::List(vec![map(vec![
                            ("$type", s("app.bsky.richtext.facet#tag")),
                            ("tag", s("vote")),
                        ])]),
                    ),
                ]),
                map(vec![
                    ("index", map(vec![("byteStart", Ipld::Integer(17)), ("byteEnd", Ipld::Integer(33))])),
                    (
                        "features",
                        Ipld::List(vec![map(vec![
                            ("$type", s("app.bsky.richtext.facet#link")),
                            ("uri", s("https://ex.org/a")),
                        ])]),
                    ),
                ]),
            ]),
        ),
    ]);
    let (image_cid, _) = block(&s("image bytes stand-in"));
    let post2 = map(vec![
        ("$type", s("app.bsky.feed.post")),
        ("text", s("so true")),
        ("createdAt", s("2024-10-01T12:05:00Z")),
        (
            "reply",
            map(vec![
                (
                    "root",
                    map(vec![
                        ("uri", s("at://did:plc:other/app.bsky.feed.post/3kroot")),
                        ("cid", s("bafyroot")),
                    ]),
                ),
                (
                    "parent",
                    map(vec![
                        ("uri", s("at://did:plc:other/app.bsky.feed.post/3kparent")),
                        ("cid", s("bafyparent")),
                    ]),
                ),
            ]),
        ),
        (
            "embed",
            map(vec![
                ("$type", s("app.bsky.embed.recordWithMedia")),
                (
                    "record",
                    map(vec![
                        ("$type", s("app.bsky.embed.record")),
                        (
                            "record",
                            map(vec![
                                ("uri", s("at://did:plc:third/app.bsky.feed.post/3kq")),
                                ("cid", s("bafyq")),
                            ]),
                        ),
                    ]),
                ),
                (
                    "media",
                    map(vec![
                        ("$type", s("app.bsky.embed.images")),
                        (
                            "images",
                            Ipld::List(vec![map(vec![
                                ("alt", s("")),
                                (
                                    "image",
                                    map(vec![
                                        ("$type", s("blob")),
                                        ("ref", Ipld::Link(image_cid)),
                                        ("mimeType", s("image/jpeg")),
                                        ("size", Ipld::Integer(1234)),
                                    ]),
                                ),
                            ])]),
                        ),
                    ]),
                ),
            ]),
        ),
    ]);
    let bad_time =
        map(vec![("$type", s("app.bsky.feed.post")), ("text", s("when?")), ("createdAt", s("soon"))]);
    let repost = map(vec![
        ("$type", s("app.bsky.feed.repost")),
        ("createdAt", s("2024-10-01T12:10:00Z")),
        (
            "subject",
            map(vec![("uri", s("at://did:plc:other/app.bsky.feed.post/3kparent")), ("cid", s("bafyparent"))]),
        ),
    ]);
    let like = map(vec![
        ("$type", s("app.bsky.feed.like")),
        ("createdAt", s("2024-10-01T12:11:00Z")),
        (
            "subject",
            map(vec![("uri", s("at://did:plc:other/app.bsky.feed.post/3kparent")), ("cid", s("bafyparent"))]),
        ),
    ]);
    let follow = map(vec![
        ("$type", s("app.bsky.graph.follow")),
        ("createdAt", s("2024-10-01T12:12:00Z")),
        ("subject", s("did:plc:other")),
    ]);
    let profile = map(vec![("$type", s("app.bsky.actor.profile")), ("displayName", s("Someone"))]);
    let records: Vec<(&str, Ipld)> = vec![
        ("app.bsky.actor.profile/self", profile),
        ("app.bsky.feed.like/3l2aaaaaaaa2a", like),
        ("app.bsky.feed.post/3l2aaaaaaaa2a", post1),
        ("app.bsky.feed.post/3l2aaaaaaaa2b", post2),
        ("app.bsky.feed.post/3l2aaaaaaaa2c", bad_time),
        ("app.bsky.feed.repost/3l2aaaaaaaa2d", repost),
        ("app.bsky.graph.follow/3l2aaaaaaaa2e", follow),
    ];
    let blocks: Vec<_> = records.iter().map(|(_, r)| block(r)).collect();
    // Two layers: the first two keys in a left subtree, the rest at the root, the last one
    // in a right subtree, with prefix-compressed keys.
    let left = map(vec![
        ("l", Ipld::Null),
        (
            "e",
            Ipld::List(vec![
                entry(0, records[0].0, blocks[0].0, None),
                entry(9, &records[1].0[9..], blocks[1].0, None),
            ]),
        ),
    ]);
    let right =
        map(vec![("l", Ipld::Null), ("e", Ipld::List(vec![entry(0, records[6].0, blocks[6].0, None)]))]);
    let (left_cid, left_bytes) = block(&left);
    let (right_cid, right_bytes) = block(&right);
    let root = map(vec![
        ("l", Ipld::Link(left_cid)),
        (
            "e",
            Ipld::List(vec![
                entry(0, records[2].0, blocks[2].0, None),
                entry(29, &records[3].0[29..], blocks[3].0, None),
                entry(29, &records[4].0[29..], blocks[4].0, None),
                entry(9, &records[5].0[9..], blocks[5].0, Some(right_cid)),
            ]),
        ),
    ]);
    let (root_cid, root_bytes) = block(&root);
    let commit = map(vec![
        ("did", s(DID)),
        ("version", Ipld::Integer(3)),
        ("data", Ipld::Link(root_cid)),
        ("rev", s("3l2aaaaaaaa2f")),
        ("prev", Ipld::Null),
        ("sig", Ipld::Bytes(vec![7; 64])),
    ]);
    let (commit_cid, commit_bytes) = block(&commit);
    let mut all = vec![(commit_cid, commit_bytes), (root_cid, root_bytes), (left_cid, left_bytes)];
    all.extend(blocks);
    all.push((right_cid, right_bytes));
    (car::car(commit_cid, &all), all)
}

mod cid_alias {
    pub use ipld_core::cid::Cid;
}

#[test]
fn bluesky_repository_car() {
    let (file, _) = repository();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("repo.car");
    std::fs::write(&path, &file).expect("write");
    let (posts, report) = read_path(&path, &Format::Auto);
    assert_eq!(report.format, "bluesky-car", "sniffed from the header");
    assert_eq!(
        (report.records, report.posts, report.not_posts, report.skipped),
        (7, 3, 3, 1),
        "{report}: {:?}",
        report.skip_samples
    );
    assert!(
        report.skip_samples[0].to_string().contains("field createdAt: cannot parse 'soon'"),
        "{:?}",
        report.skip_samples
    );
    assert!(
        report.skip_samples[0].to_string().contains("app.bsky.feed.post/3l2aaaaaaaa2c"),
        "names the record"
    );

    let account = format!("bluesky:{DID}");
    let p = &posts[0];
    assert_eq!(p.account, account);
    assert_eq!(
        p.id.as_deref(),
        Some(format!("bluesky:at://{DID}/app.bsky.feed.post/3l2aaaaaaaa2a").as_str()),
        "the key from the tree"
    );
    assert_eq!(p.time.to_rfc3339(), "2024-10-01T12:00:00+00:00");
    assert_eq!(p.hashtags, ["vote"]);
    assert_eq!(p.urls, ["https://ex.org/a"]);
    assert_eq!(p.language.as_deref(), Some("en"));
    let q = &posts[1];
    assert_eq!(q.kind, PostKind::Quote, "a record with media embeds a quote, images and all");
    assert_eq!(q.quoted_id.as_deref(), Some("bluesky:at://did:plc:third/app.bsky.feed.post/3kq"));
    assert_eq!(q.reply_to_id.as_deref(), Some("bluesky:at://did:plc:other/app.bsky.feed.post/3kparent"));
    assert_eq!(q.thread_id.as_deref(), Some("bluesky:at://did:plc:other/app.bsky.feed.post/3kroot"));
    let r = &posts[2];
    assert_eq!(r.kind, PostKind::Retweet);
    assert_eq!(
        r.id.as_deref(),
        Some(format!("bluesky:at://{DID}/app.bsky.feed.repost/3l2aaaaaaaa2d").as_str())
    );
    assert_eq!(r.retweeted_id, q.reply_to_id);
    assert_eq!(r.retweeted_account.as_deref(), Some("bluesky:did:plc:other"));

    // Compressed, and forced: the same posts.
    for (name, bytes) in [("repo.car.gz", gzip(&file)), ("repo.car.zst", zstd(&file))] {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).expect("write");
        assert_eq!(read_path(&p, &Format::Auto).0, posts, "{name}");
    }
    assert_eq!(read_path(&path, &Format::BlueskyCar).0, posts);
}

#[test]
fn bluesky_car_cut_and_damaged() {
    let (file, blocks) = repository();
    // Cut inside the repost's block: the posts before it are kept; the repost, which the
    // tree names, is reported missing, and the cut is reported with its byte offset.
    let repost_at =
        file.windows(blocks[8].1.len()).position(|w| w == blocks[8].1.as_slice()).expect("repost block");
    let cut = &file[..repost_at + 10];
    let mut posts = Vec::new();
    let report = read_posts(cut, "cut.car", &Format::Auto, |p| posts.push(p)).expect("reads");
    assert_eq!(report.format, "bluesky-car");
    assert_eq!(posts.len(), 2, "{:?}", report.skip_samples);
    assert!(report.truncated);
    let reasons: Vec<String> = report.skip_samples.iter().map(|s| s.to_string()).collect();
    assert!(
        reasons.iter().any(|r| r.contains("the input ends") && r.contains("bytes into the")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("app.bsky.feed.repost/3l2aaaaaaaa2d") && r.contains("not in the file")),
        "{reasons:?}"
    );

    // A block whose bytes are not DAG-CBOR is skipped, naming its number and offset.
    let mut damaged = file.clone();
    let first_post_at =
        damaged.windows(blocks[5].1.len()).position(|w| w == blocks[5].1.as_slice()).expect("post block");
    damaged[first_post_at] = 0xff;
    let mut posts = Vec::new();
    let report = read_posts(&damaged[..], "damaged.car", &Format::Auto, |p| posts.push(p)).expect("reads");
    let reasons: Vec<String> = report.skip_samples.iter().map(|s| s.to_string()).collect();
    assert!(
        reasons.iter().any(|r| r.starts_with("block 6 at byte ") && r.contains("not a DAG-CBOR")),
        "{reasons:?}"
    );
    assert_eq!(posts.len(), 2);

    // A CAR file that is not a repository (no commit for its root).
    let (other, _) = car::block(&car::s("not a commit"));
    let not_repo = car::car(other, &[]);
    let report = read_posts(&not_repo[..], "other.car", &Format::Auto, |_| {}).expect("reads");
    assert!(report.skip_samples[0].reason.contains("no commit for its root"), "{:?}", report.skip_samples);

    // Forced on a file that is no CAR: one skip, no panic.
    let report = read_posts(&b"hello\n"[..], "x", &Format::BlueskyCar, |_| {}).expect("reads");
    assert_eq!(report.posts, 0);
    assert!(report.skip_samples[0].reason.starts_with("not a CAR file"), "{:?}", report.skip_samples);
}

// ------------------------------------------------------------------ Bluesky firehose frames

/// One `com.atproto.sync.subscribeRepos` frame as the event-stream spec lays it out: the
/// header `{op: 1, t}` and the body, two DAG-CBOR objects back to back.
fn frame(t: &str, body: &ipld_core::ipld::Ipld) -> Vec<u8> {
    use car::{map, s};
    use ipld_core::ipld::Ipld;
    let mut out =
        serde_ipld_dagcbor::to_vec(&map(vec![("op", Ipld::Integer(1)), ("t", s(t))])).expect("header");
    out.extend(serde_ipld_dagcbor::to_vec(body).expect("body"));
    out
}

/// A `#commit` body (the lexicon's required fields) by `repo`, whose `blocks` is a CAR
/// slice rooted at the commit holding the commit, one tree node and `records`.
fn commit_frame(
    seq: i64,
    repo: &str,
    ops: Vec<(&str, &str, Option<&ipld_core::ipld::Ipld>)>,
    time: &str,
    too_big: bool,
) -> Vec<u8> {
    use car::{block, entry, map, s};
    use ipld_core::ipld::Ipld;
    let records: Vec<_> = ops.iter().map(|(_, path, r)| (*path, r.map(block))).collect();
    let entries = records
        .iter()
        .filter_map(|(path, b)| b.as_ref().map(|(cid, _)| entry(0, path, *cid, None)))
        .collect();
    let (node_cid, node) = block(&map(vec![("l", Ipld::Null), ("e", Ipld::List(entries))]));
    let commit = map(vec![
        ("did", s(repo)),
        ("version", Ipld::Integer(3)),
        ("data", Ipld::Link(node_cid)),
        ("rev", s("3l3qo2vuowo2b")),
        ("prev", Ipld::Null),
        ("sig", Ipld::Bytes(vec![9; 64])),
    ]);
    let (commit_cid, commit_bytes) = block(&commit);
    let mut blocks = vec![(commit_cid, commit_bytes), (node_cid, node)];
    blocks.extend(records.iter().filter_map(|(_, b)| b.clone()));
    let ops = ops
        .iter()
        .zip(&records)
        .map(|((action, path, _), (_, b))| {
            map(vec![
                ("action", s(action)),
                ("path", s(path)),
                ("cid", b.as_ref().map_or(Ipld::Null, |(cid, _)| Ipld::Link(*cid))),
            ])
        })
        .collect();
    let body = map(vec![
        ("seq", Ipld::Integer(seq.into())),
        ("rebase", Ipld::Bool(false)),
        ("tooBig", Ipld::Bool(too_big)),
        ("repo", s(repo)),
        ("commit", Ipld::Link(commit_cid)),
        ("rev", s("3l3qo2vuowo2b")),
        ("since", Ipld::Null),
        ("blocks", Ipld::Bytes(if too_big { Vec::new() } else { car::car(commit_cid, &blocks) })),
        ("ops", Ipld::List(ops)),
        ("blobs", Ipld::List(Vec::new())),
        ("time", s(time)),
    ]);
    frame("#commit", &body)
}

/// Saved firehose frames: an `#identity` event; a commit creating a post (back-dated
/// `createdAt`), a like and a repost and deleting a post; a `tooBig` commit whose blocks
/// were left out; an `#account` event; a commit with a reply quoting a post; then an error
/// frame (`{op: -1}`) as a relay sends before it drops a slow consumer.
fn firehose() -> Vec<u8> {
    use car::{map, s};
    use ipld_core::ipld::Ipld;
    let post = map(vec![
        ("$type", s("app.bsky.feed.post")),
        ("text", s("Polls open at 7 #vote https://ex.org/a")),
        ("createdAt", s("2019-01-01T00:00:00.000Z")),
        ("langs", Ipld::List(vec![s("en")])),
        (
            "facets",
            Ipld::List(vec![
                map(vec![
                    ("index", map(vec![("byteStart", Ipld::Integer(16)), ("byteEnd", Ipld::Integer(21))])),
                    (
                        "features",
                        Ipld::List(vec![map(vec![
                            ("$type", s("app.bsky.richtext.facet#tag")),
                            ("tag", s("vote")),
                        ])]),
                    ),
                ]),
                map(vec![
                    ("index", map(vec![("byteStart", Ipld::Integer(22)), ("byteEnd", Ipld::Integer(38))])),
                    (
                        "features",
                        Ipld::List(vec![map(vec![
                            ("$type", s("app.bsky.richtext.facet#link")),
                            ("uri", s("https://ex.org/a")),
                        ])]),
                    ),
                ]),
            ]),
        ),
    ]);
    let like = map(vec![
        ("$type", s("app.bsky.feed.like")),
        ("createdAt", s("2024-10-01T12:00:00Z")),
        ("subject", map(vec![("uri", s("at://did:plc:other/app.bsky.feed.post/3kp")), ("cid", s("bafyp"))])),
    ]);
    let repost = map(vec![
        ("$type", s("app.bsky.feed.repost")),
        ("createdAt", s("2024-10-01T12:00:00Z")),
        ("subject", map(vec![("uri", s("at://did:plc:other/app.bsky.feed.post/3kp")), ("cid", s("bafyp"))])),
    ]);
    let reply = map(vec![
        ("$type", s("app.bsky.feed.post")),
        ("text", s("agreed")),
        ("createdAt", s("2024-10-01T12:03:00Z")),
        (
            "reply",
            map(vec![
                (
                    "root",
                    map(vec![
                        ("uri", s(&format!("at://{DID}/app.bsky.feed.post/3l3qo2vutsw2b"))),
                        ("cid", s("c")),
                    ]),
                ),
                (
                    "parent",
                    map(vec![
                        ("uri", s(&format!("at://{DID}/app.bsky.feed.post/3l3qo2vutsw2b"))),
                        ("cid", s("c")),
                    ]),
                ),
            ]),
        ),
        (
            "embed",
            map(vec![
                ("$type", s("app.bsky.embed.record")),
                (
                    "record",
                    map(vec![("uri", s("at://did:plc:third/app.bsky.feed.post/3kq")), ("cid", s("bafyq"))]),
                ),
            ]),
        ),
    ]);
    let mut file = frame(
        "#identity",
        &map(vec![("seq", Ipld::Integer(1)), ("did", s(DID)), ("time", s("2024-10-01T11:59:00Z"))]),
    );
    file.extend(commit_frame(
        2,
        DID,
        vec![
            ("create", "app.bsky.feed.post/3l3qo2vutsw2b", Some(&post)),
            ("create", "app.bsky.feed.like/3l3qo2vutsw2c", Some(&like)),
            ("create", "app.bsky.feed.repost/3l3qo2vutsw2d", Some(&repost)),
            ("delete", "app.bsky.feed.post/3l3qo2vutaaaa", None),
        ],
        "2024-10-01T12:00:01.234Z",
        false,
    ));
    file.extend(commit_frame(
        3,
        "did:plc:big",
        vec![("create", "app.bsky.feed.post/3l3qo2vzzzzzz", Some(&post))],
        "2024-10-01T12:01:00Z",
        true,
    ));
    file.extend(frame(
        "#account",
        &map(vec![
            ("seq", Ipld::Integer(4)),
            ("did", s("did:plc:gone")),
            ("time", s("2024-10-01T12:02:00Z")),
            ("active", Ipld::Bool(false)),
            ("status", s("deactivated")),
        ]),
    ));
    file.extend(commit_frame(
        5,
        "did:plc:abc",
        vec![("create", "app.bsky.feed.post/3l3qo2vw", Some(&reply))],
        "2024-10-01T12:03:00.5Z",
        false,
    ));
    let mut error = serde_ipld_dagcbor::to_vec(&map(vec![("op", Ipld::Integer(-1))])).expect("header");
    error.extend(
        serde_ipld_dagcbor::to_vec(&map(vec![
            ("error", s("ConsumerTooSlow")),
            ("message", s("Stream consumer too slow")),
        ]))
        .expect("body"),
    );
    file.extend(error);
    file
}

#[test]
fn bluesky_firehose_frames() {
    let file = firehose();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("firehose.bin");
    std::fs::write(&path, &file).expect("write");
    let (posts, report) = read_path(&path, &Format::Auto);
    assert_eq!(report.format, "bluesky-firehose", "sniffed from the first frame's header");
    assert_eq!(
        (report.records, report.posts, report.not_posts, report.skipped),
        (9, 3, 4, 2),
        "{report}: {:?}",
        report.skip_samples
    );
    let reasons: Vec<String> = report.skip_samples.iter().map(|s| s.to_string()).collect();
    assert!(
        reasons[0].starts_with("frame 3 at byte ")
            && reasons[0].contains("app.bsky.feed.post/3l3qo2vzzzzzz")
            && reasons[0].contains("tooBig"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].starts_with("frame 6 at byte ") && reasons[1].contains("ConsumerTooSlow"),
        "{reasons:?}"
    );
    let at: usize = reasons[1]["frame 6 at byte ".len()..]
        .split(':')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("offset");
    assert_eq!(&file[at..at + 5], b"\xa1\x62op\x20", "the offset named is the error frame's first byte");

    let p = &posts[0];
    assert_eq!(p.account, format!("bluesky:{DID}"));
    assert_eq!(
        p.id.as_deref(),
        Some(format!("bluesky:at://{DID}/app.bsky.feed.post/3l3qo2vutsw2b").as_str())
    );
    assert_eq!(p.time.to_rfc3339(), "2024-10-01T12:00:01.234+00:00", "the frame's time, not createdAt");
    assert_eq!(p.hashtags, ["vote"]);
    assert_eq!(p.urls, ["https://ex.org/a"]);
    assert_eq!(p.language.as_deref(), Some("en"));
    let r = &posts[1];
    assert_eq!(r.kind, PostKind::Retweet);
    assert_eq!(r.retweeted_id.as_deref(), Some("bluesky:at://did:plc:other/app.bsky.feed.post/3kp"));
    assert_eq!(r.retweeted_account.as_deref(), Some("bluesky:did:plc:other"));
    let q = &posts[2];
    assert_eq!(q.account, "bluesky:did:plc:abc");
    assert_eq!(q.kind, PostKind::Quote);
    assert_eq!(q.reply_to_id, p.id, "the reply points at the post's AT URI");
    assert_eq!(q.quoted_id.as_deref(), Some("bluesky:at://did:plc:third/app.bsky.feed.post/3kq"));

    // Compressed, and forced: the same posts.
    for (name, bytes) in [("firehose.bin.gz", gzip(&file)), ("firehose.bin.zst", zstd(&file))] {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).expect("write");
        assert_eq!(read_path(&p, &Format::Auto).0, posts, "{name}");
    }
    assert_eq!(read_path(&path, &Format::BlueskyFirehose).0, posts);
}

#[test]
fn bluesky_firehose_cut_and_damaged() {
    let file = firehose();
    // The reply's frame starts after the `#account` frame: find it by its record's text.
    let reply_at = file.windows(6).position(|w| w == b"agreed").expect("reply record");

    // Cut inside the reply's frame: the frames before it are kept, the cut reported.
    let mut posts = Vec::new();
    let report = read_posts(&file[..reply_at], "cut.bin", &Format::Auto, |p| posts.push(p)).expect("reads");
    assert_eq!(posts.len(), 2, "{:?}", report.skip_samples);
    assert!(report.truncated);
    assert!(
        report
            .skip_samples
            .iter()
            .any(|s| s.reason.starts_with("frame 5 at byte ") && s.reason.contains("the file is cut")),
        "{:?}",
        report.skip_samples
    );

    // Bytes that are no frame between two frames: skipped, and reading resumes at the
    // next frame header.
    let header = serde_ipld_dagcbor::to_vec(&car::map(vec![
        ("op", ipld_core::ipld::Ipld::Integer(1)),
        ("t", car::s("#account")),
    ]))
    .expect("header");
    let account_at = file.windows(header.len()).position(|w| w == header.as_slice()).expect("account frame");
    let mut damaged = file[..account_at].to_vec();
    damaged.extend_from_slice(b"\xff\x00\x13garbage");
    damaged.extend_from_slice(&file[account_at..]);
    let mut posts = Vec::new();
    let report = read_posts(&damaged[..], "damaged.bin", &Format::Auto, |p| posts.push(p)).expect("reads");
    assert_eq!(posts.len(), 3, "{:?}", report.skip_samples);
    assert!(
        report
            .skip_samples
            .iter()
            .any(|s| s.reason.starts_with(&format!("frame 4 at byte {account_at}: the header"))),
        "{:?}",
        report.skip_samples
    );
    assert_eq!(report.not_posts, 4, "the #account frame after the garbage is read");

    // A commit body without the fields its type needs: a skip, and the frames after it read.
    let mut missing = frame("#commit", &car::map(vec![("seq", ipld_core::ipld::Ipld::Integer(9))]));
    missing.extend_from_slice(&file);
    let mut posts = Vec::new();
    let report = read_posts(&missing[..], "missing.bin", &Format::Auto, |p| posts.push(p)).expect("reads");
    assert_eq!(posts.len(), 3);
    assert!(
        report.skip_samples[0].reason.starts_with("frame 1 at byte 0: #commit: "),
        "{:?}",
        report.skip_samples
    );

    // Forced on a file that is no firehose: skips, no panic, no post.
    let report = read_posts(&b"hello\n"[..], "x", &Format::BlueskyFirehose, |_| {}).expect("reads");
    assert_eq!(report.posts, 0);
    assert!(report.skipped > 0);
}

// ------------------------------------------------------------------ Reddit data export

/// `posts.csv` and `comments.csv` as Reddit's data export writes them (bodies over several
/// lines, quoted), and `statistics.csv` naming the account.
const POSTS_CSV: &str = "id,permalink,date,ip,subreddit,gildings,title,url,body\n\
1a2b3c,https://www.reddit.com/r/politics/comments/1a2b3c/turnout_is_up/,2024-03-01 12:00:00 UTC,,politics,0,Turnout is up,https://news.example/turnout,\n\
1a2b3d,https://www.reddit.com/r/AskReddit/comments/1a2b3d/a_question/,2024-03-01 13:00:00 UTC,,AskReddit,0,A question,https://www.reddit.com/r/AskReddit/comments/1a2b3d/a_question/,\"First line\n\nsee https://ex.org/q\"\n\
1a2b3e,https://www.reddit.com/r/politics/comments/1a2b3e/x/,last tuesday,,politics,0,Bad date,,\n";

const COMMENTS_CSV: &str = "id,permalink,date,ip,subreddit,gildings,link,parent,body,media\n\
kx1,https://www.reddit.com/r/politics/comments/1a2b3c/turnout_is_up/kx1/,2024-03-01 12:30:00 UTC,,politics,0,https://www.reddit.com/r/politics/comments/1a2b3c/turnout_is_up/,,\"Top level\nreply\",\n\
kx2,https://www.reddit.com/r/politics/comments/9z9z9z/other/kx2/,2024-03-01 12:31:00 UTC,,politics,0,https://www.reddit.com/r/politics/comments/9z9z9z/other/,kw7,answering a comment,\n\
,https://www.reddit.com/r/politics/comments/9z9z9z/other/kx3/,2024-03-01 12:32:00 UTC,,politics,0,https://www.reddit.com/r/politics/comments/9z9z9z/other/,,no id,\n";

const STATISTICS_CSV: &str =
    "statistic,value\naccount name,Civic_Reader_42\nexport time,2024-03-05 10:00:00 UTC\nis_deleted,False\n";

#[test]
fn reddit_data_export() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("statistics.csv"), STATISTICS_CSV).expect("write");
    let posts_path = dir.path().join("posts.csv");
    let comments_path = dir.path().join("comments.csv");
    std::fs::write(&posts_path, POSTS_CSV).expect("write");
    std::fs::write(&comments_path, gzip(COMMENTS_CSV.as_bytes())).expect("write");

    let (posts, report) = read_path(&posts_path, &Format::Auto);
    assert_eq!(report.format, "reddit-export");
    assert_eq!((report.records, report.posts, report.skipped), (3, 2, 1), "{:?}", report.skip_samples);
    assert_eq!(
        report.skip_samples[0].to_string(),
        "line 6: field date: cannot parse 'last tuesday' as a time",
        "the physical line"
    );
    let link = &posts[0];
    assert_eq!(link.account, "reddit:Civic_Reader_42", "the account from statistics.csv");
    assert_eq!(link.id.as_deref(), Some("reddit:t3_1a2b3c"), "Pushshift's id");
    assert_eq!(link.time.to_rfc3339(), "2024-03-01T12:00:00+00:00");
    assert_eq!(link.community.as_deref(), Some("reddit:r/politics"));
    assert_eq!(link.urls, ["https://news.example/turnout"]);
    assert_eq!(link.text, "Turnout is up");
    let own = &posts[1];
    assert_eq!(own.text, "A question\n\nFirst line\n\nsee https://ex.org/q");
    assert_eq!(own.urls, ["https://ex.org/q"], "a self post's url is its own page, not a link");
    assert_eq!(own.community.as_deref(), Some("reddit:r/askreddit"));

    let (comments, report) = read_path(&comments_path, &Format::Auto);
    assert_eq!(report.format, "reddit-export", "gzip, sniffed");
    assert_eq!((report.posts, report.skipped), (2, 1), "{:?}", report.skip_samples);
    assert_eq!(report.skip_samples[0].to_string(), "line 5: field id: empty id");
    let top = &comments[0];
    assert_eq!(top.id.as_deref(), Some("reddit:t1_kx1"));
    assert_eq!(top.kind, PostKind::Reply);
    assert_eq!(top.thread_id.as_deref(), Some("reddit:t3_1a2b3c"));
    assert_eq!(top.reply_to_id, link.id, "a top-level comment replies to the submission");
    assert_eq!(top.text, "Top level\nreply");
    let nested = &comments[1];
    assert_eq!(nested.reply_to_id.as_deref(), Some("reddit:t1_kw7"));
    assert_eq!(nested.thread_id.as_deref(), Some("reddit:t3_9z9z9z"));

    // Without statistics.csv beside it the export names no account: a clear error.
    let alone = tempfile::tempdir().expect("temp dir");
    let p = alone.path().join("posts.csv");
    std::fs::write(&p, POSTS_CSV).expect("write");
    let err = read_posts_from_path(&p, &Format::Auto, |_| {}).expect_err("no account");
    assert!(matches!(err, ReadError::NoAccount { .. }), "{err}");
    assert!(err.to_string().contains("statistics.csv"), "{err}");
}

// ------------------------------------------------------------------ damaged exports

mod damage {
    use std::sync::OnceLock;

    use proptest::prelude::*;
    use scrutineer_influence::{Format, read_posts};

    fn car_file() -> &'static [u8] {
        static FILE: OnceLock<Vec<u8>> = OnceLock::new();
        FILE.get_or_init(|| super::repository().0)
    }

    fn firehose_file() -> &'static [u8] {
        static FILE: OnceLock<Vec<u8>> = OnceLock::new();
        FILE.get_or_init(super::firehose)
    }

    /// Reads `bytes` as `format` and as `auto`: never a panic, every post counted, the
    /// skips in input order.
    fn check(bytes: &[u8], format: &Format) {
        for format in [format.clone(), Format::Auto] {
            let mut posts = 0u64;
            if let Ok(report) = read_posts(bytes, "damaged", &format, |_| posts += 1) {
                assert_eq!(report.posts, posts, "{format}");
                assert!(report.skip_samples.len() as u64 <= report.skipped, "{format}");
                assert!(report.skip_samples.windows(2).all(|w| w[0].line <= w[1].line), "{format}: in order");
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        /// The Telegram HTML, CAR and firehose fixtures with bytes overwritten and cut
        /// anywhere.
        #[test]
        fn damaged_exports_never_panic(
            which in 0..3u8,
            flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..12),
            cut in 0.0f64..=1.0,
        ) {
            let (mut bytes, format) = match which {
                0 => (super::TELEGRAM_HTML.as_bytes().to_vec(), Format::TelegramHtml),
                1 => (car_file().to_vec(), Format::BlueskyCar),
                _ => (firehose_file().to_vec(), Format::BlueskyFirehose),
            };
            for (at, byte) in flips {
                let i = at.index(bytes.len());
                bytes[i] = byte;
            }
            bytes.truncate((bytes.len() as f64 * cut) as usize);
            check(&bytes, &format);
        }
    }
}
