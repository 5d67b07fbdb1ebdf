#!/usr/bin/env python3
"""Writes synthetic exports of about MB megabytes each, in each platform reader's layout,
for scripts/bench-readers.sh: the same shapes as the readers' tests (see
crates/influence/README.md, "Platforms beyond Twitter"), with realistic field sizes.

usage: bench_readers_gen.py OUT_DIR MB
"""
import csv
import json
import os
import random
import sys

out, mb = sys.argv[1], float(sys.argv[2])
target = int(mb * 1e6)
rng = random.Random(20241001)
WORDS = ("the vote election count fraud ballot county mail poll news story share before they delete it "
         "выборы новости правда канал why how what today breaking report official video watch").split()
START = 1_727_740_800


def text(n=18):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def url():
    return f"https://site{rng.randrange(500)}.example/story/{rng.randrange(10**6)}"


def write_lines(name, make):
    path = os.path.join(out, name)
    size = 0
    with open(path, "w", encoding="utf-8") as f:
        i = 0
        while size < target:
            line = make(i) + "\n"
            f.write(line)
            size += len(line.encode("utf-8"))
            i += 1


def telethon(i):
    t = text()
    u = url()
    msg = f"{t} {u} #выборы"
    d = {"_": "Message", "id": i, "peer_id": {"_": "PeerChannel", "channel_id": 1000 + i % 300},
         "date": f"2024-10-01 {i % 24:02d}:{i % 60:02d}:00+00:00", "message": msg, "out": False,
         "mentioned": False, "media_unread": False, "silent": False, "post": True, "from_id": None,
         "fwd_from": ({"_": "MessageFwdHeader", "date": "2024-10-01 00:00:00+00:00",
                       "from_id": {"_": "PeerChannel", "channel_id": 5000 + i % 50}, "channel_post": i % 997}
                      if i % 3 == 0 else None),
         "reply_to": None, "media": None, "views": rng.randrange(10**5), "forwards": rng.randrange(100),
         "entities": [{"_": "MessageEntityUrl", "offset": len(t) + 1, "length": len(u)},
                      {"_": "MessageEntityHashtag", "offset": len(t) + len(u) + 2, "length": 7}]}
    return json.dumps(d, ensure_ascii=False)


def reddit(i):
    if i % 4 == 0:
        d = {"author": f"user{i % 5000}", "created_utc": START + i, "domain": "site.example", "id": f"s{i:x}",
             "is_self": False, "num_comments": 3, "over_18": False, "permalink": f"/r/politics/comments/s{i:x}/x/",
             "score": 5, "selftext": "", "subreddit": "politics", "subreddit_id": "t5_2cneq", "title": text(12),
             "url": url()}
    else:
        d = {"author": f"user{i % 5000}" if i % 50 else "[deleted]", "author_flair_text": None,
             "body": text(30), "controversiality": 0, "created_utc": START + i, "gilded": 0, "id": f"c{i:x}",
             "link_id": f"t3_s{(i // 4 * 4):x}", "parent_id": f"t3_s{(i // 4 * 4):x}", "score": 1,
             "subreddit": "politics", "subreddit_id": "t5_2cneq"}
    return json.dumps(d)


def bluesky(i):
    did = f"did:plc:{i % 4000:024d}"
    if i % 5 == 0:
        rec = {"$type": "app.bsky.feed.repost", "createdAt": "2024-10-01T00:00:00Z",
               "subject": {"cid": "bafy", "uri": f"at://did:plc:{i % 77:024d}/app.bsky.feed.post/{i % 991}"}}
        coll = "app.bsky.feed.repost"
    else:
        t = text()
        u = url()
        rec = {"$type": "app.bsky.feed.post", "createdAt": "2024-10-01T00:00:00.000Z", "langs": ["en"],
               "text": f"{t} {u}", "facets": [{"features": [{"$type": "app.bsky.richtext.facet#link", "uri": u}],
                                                "index": {"byteStart": len(t) + 1, "byteEnd": len(t) + 1 + len(u)}}]}
        coll = "app.bsky.feed.post"
    d = {"did": did, "time_us": (START + i) * 1_000_000, "kind": "commit",
         "commit": {"rev": f"3l{i:x}", "operation": "create", "collection": coll, "rkey": f"3k{i:x}",
                    "record": rec, "cid": "bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi"}}
    return json.dumps(d)


def youtube(i):
    items = []
    for j in range(20):
        cid = f"Ug{i:08x}{j:02x}"
        snip = {"channelId": "UCuAXFkgsw1L7xaCfnd5JJOw", "videoId": f"v{i % 400:010d}",
                "textDisplay": text(20), "textOriginal": text(20), "authorDisplayName": f"@user{j}",
                "authorProfileImageUrl": "https://yt3.ggpht.com/x", "authorChannelUrl": "http://www.youtube.com/@x",
                "authorChannelId": {"value": f"UC{(i * 20 + j) % 9000:022d}"}, "canRate": True,
                "viewerRating": "none", "likeCount": 0, "publishedAt": "2024-10-01T12:00:00Z",
                "updatedAt": "2024-10-01T12:00:00Z"}
        items.append({"kind": "youtube#commentThread", "etag": "e", "id": cid,
                      "snippet": {"channelId": "UCuAXFkgsw1L7xaCfnd5JJOw", "videoId": snip["videoId"],
                                  "topLevelComment": {"kind": "youtube#comment", "etag": "e", "id": cid,
                                                      "snippet": snip},
                                  "canReply": True, "totalReplyCount": 0, "isPublic": True}})
    return json.dumps({"kind": "youtube#commentThreadListResponse", "etag": "x", "nextPageToken": "t",
                       "pageInfo": {"totalResults": 20, "resultsPerPage": 20}, "items": items})


def tiktok(i):
    videos = [{"id": 7360000000000000000 + i * 20 + j, "create_time": START + i, "username": f"user{j * 7 % 3000}",
               "region_code": "US", "video_description": f"{text()} #election #vote", "music_id": 1,
               "like_count": 10, "comment_count": 1, "share_count": 0, "view_count": 1000,
               "hashtag_names": ["election", "vote"]} for j in range(20)]
    return json.dumps({"data": {"videos": videos, "cursor": i * 20, "has_more": True, "search_id": "1"},
                       "error": {"code": "ok", "message": "", "log_id": "x"}})


def fourcat_json(i):
    return json.dumps({"id": str(i), "thread_id": str(i // 10 * 10), "timestamp": "2020-11-03 14:00:00",
                       "unix_timestamp": START + i, "subject": "", "body": f"{text(25)} {url()}",
                       "author": f"user{i % 3000}"})


def write_csv(name, header, row):
    path = os.path.join(out, name)
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        i = 0
        while f.tell() < target:
            w.writerow(row(i))
            i += 1


def telegram_desktop():
    path = os.path.join(out, "result.json")
    with open(path, "w", encoding="utf-8") as f:
        f.write('{\n "name": "Channel",\n "type": "public_channel",\n "id": 1036362176,\n "messages": [\n')
        i = 0
        while f.tell() < target:
            u = url()
            m = {"id": i, "type": "message", "date": "2024-10-01T12:00:00", "date_unixtime": str(START + i),
                 "from": "Channel", "from_id": "channel1036362176",
                 "text": [text() + " ", {"type": "link", "text": u}, " ", {"type": "hashtag", "text": "#выборы"}],
                 "text_entities": [{"type": "plain", "text": text()}, {"type": "link", "text": u}]}
            if i % 3 == 0:
                m["forwarded_from"] = f"Other {i % 40}"
            body = json.dumps(m, ensure_ascii=False, indent=1)
            f.write(("" if i == 0 else ",\n") + "  " + body.replace("\n", "\n  "))
            i += 1
        f.write("\n ]\n}\n")


os.makedirs(out, exist_ok=True)
telegram_desktop()
write_lines("telethon.jsonl", telethon)
write_lines("RC_2024-10.ndjson", reddit)
write_lines("jetstream.jsonl", bluesky)
write_lines("youtube.jsonl", youtube)
write_lines("tiktok.jsonl", tiktok)
write_lines("4cat.ndjson", fourcat_json)
write_csv("meta.csv", ["id", "creation_time", "modified_time", "text", "lang", "post_owner.id", "post_owner.name",
                       "post_owner.type", "link_attachment.link", "statistics.reaction_count"],
          lambda i: [str(10**15 + i), "2024-10-01T12:00:00+0000", "", text(25) + ("\nsecond line" if i % 5 == 0 else ""),
                     "en", str(10**14 + i % 2000), f"Page {i % 2000}", "PAGE", url(), "3"])
write_csv("crowdtangle.csv", ["Page Name", "User Name", "Facebook Id", "Page Category", "Page Created",
                              "Likes at Posting", "Followers at Posting", "Post Created", "Type", "URL", "Message",
                              "Link", "Final Link"],
          lambda i: [f"Page {i % 2000}", f"page{i % 2000}", str(10**8 + i % 2000), "NEWS", "2015-04-01 10:00:00 EDT",
                     "100", "120", "2020-10-01 12:00:00 EDT", "Link", f"https://www.facebook.com/x/posts/{i}",
                     text(25), url(), url()])
write_csv("4cat.csv", ["thread_id", "id", "timestamp", "unix_timestamp", "subject", "body", "author"],
          lambda i: [str(i // 10 * 10), str(i), "2020-11-03 14:00:00", str(START + i), "", f"{text(25)} {url()}",
                     f"user{i % 3000}"])
