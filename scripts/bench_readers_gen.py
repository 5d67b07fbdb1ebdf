#!/usr/bin/env python3
"""Writes synthetic exports of about MB megabytes each, in each platform reader's layout,
for scripts/bench-readers.sh: the same shapes as the readers' tests (see
crates/influence/README.md, "Platforms beyond Twitter"), with realistic field sizes.

usage: bench_readers_gen.py OUT_DIR MB
"""
import csv
import hashlib
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


def telegram_html():
    """messages.html as tdesktop's HTML writer lays it out (see telegram_html.rs)."""
    path = os.path.join(out, "messages.html")
    with open(path, "w", encoding="utf-8") as f:
        f.write('<!DOCTYPE html>\n<html>\n\n <head>\n\n  <meta charset="utf-8"/>\n<title>Exported Data</title>\n\n'
                ' </head>\n\n <body onload="CheckLocation();">\n\n  <div class="page_wrap">\n\n'
                '   <div class="page_header">\n\n    <div class="content">\n\n     <div class="text bold">\nChannel\n'
                '     </div>\n\n    </div>\n\n   </div>\n\n   <div class="page_body chat_page">\n\n    <div class="history">\n')
        i = 0
        while f.tell() < target:
            u = url()
            when = f"{1 + i % 28:02d}.10.2024 {i % 24:02d}:{i % 60:02d}:00 UTC+03:00"
            joined = i % 4 != 0
            f.write(f'\n     <div class="message default clearfix{" joined" if joined else ""}" id="message{i + 1}">\n')
            if not joined:
                f.write('\n      <div class="pull_left userpic_wrap">\n\n       <div class="userpic userpic2" '
                        'style="width: 42px; height: 42px">\n\n        <div class="initials" style="line-height: 42px">\n'
                        'C\n        </div>\n\n       </div>\n\n      </div>\n')
            f.write(f'\n      <div class="body">\n\n       <div class="pull_right date details" title="{when}">\n'
                    f'{i % 24:02d}:{i % 60:02d}\n       </div>\n')
            if not joined:
                f.write('\n       <div class="from_name">\nChannel \n       </div>\n')
            inner = "      "
            if i % 3 == 0:
                f.write(f'\n       <div class="forwarded body">\n\n        <div class="from_name">\nOther {i % 40}'
                        f'<span class="date details" title="{when}"> {when[:19]}</span>\n        </div>\n')
                inner = "       "
            f.write(f'\n{inner} <div class="text">\n{text()} <a href="{u}">{u}</a> <a href="" '
                    f'onclick="return ShowHashtag(&quot;выборы&quot;)">#выборы</a><br>{text(6)}\n{inner} </div>\n')
            if i % 3 == 0:
                f.write('\n       </div>\n')
            f.write('\n      </div>\n\n     </div>\n')
            i += 1
        f.write('\n    </div>\n\n   </div>\n\n  </div>\n\n </body>\n\n</html>\n')


def cbor(v):
    """DAG-CBOR: maps with keys sorted by length then bytes, CID links as tag 42."""
    def head(major, n):
        if n < 24:
            return bytes([major << 5 | n])
        for extra, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
            if n < 1 << (8 * size):
                return bytes([major << 5 | extra]) + n.to_bytes(size, "big")
    if v is None:
        return b"\xf6"
    if isinstance(v, bool):
        return b"\xf5" if v else b"\xf4"
    if isinstance(v, int):
        return head(0, v) if v >= 0 else head(1, -1 - v)
    if isinstance(v, str):
        b = v.encode("utf-8")
        return head(3, len(b)) + b
    if isinstance(v, bytes):
        return head(2, len(v)) + v
    if isinstance(v, Link):
        b = b"\x00" + v.cid
        return b"\xd8\x2a" + head(2, len(b)) + b
    if isinstance(v, list):
        return head(4, len(v)) + b"".join(cbor(x) for x in v)
    if isinstance(v, dict):
        keys = sorted(v, key=lambda k: (len(k.encode()), k.encode()))
        return head(5, len(v)) + b"".join(cbor(k) + cbor(v[k]) for k in keys)
    raise TypeError(type(v))


class Link:
    def __init__(self, cid):
        self.cid = cid


def cid_of(block):
    # CIDv1, dag-cbor (0x71), sha2-256 (0x12, 32 bytes).
    return b"\x01\x71\x12\x20" + hashlib.sha256(block).digest()


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n == 0:
            return out + bytes([b])
        out += bytes([b | 0x80])


def bluesky_car():
    """A repository as com.atproto.sync.getRepo returns it: commit, tree, records."""
    did = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
    records, size, i = [], 0, 0
    while size < target * 0.93:
        if i % 5 == 4:
            rec = {"$type": "app.bsky.feed.repost", "createdAt": "2024-10-01T00:00:00.000Z",
                   "subject": {"cid": "bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi",
                               "uri": f"at://did:plc:{i % 77:024d}/app.bsky.feed.post/3k{i % 991:011d}"}}
            key = f"app.bsky.feed.repost/3l{i:011d}"
        elif i % 5 == 3:
            rec = {"$type": "app.bsky.feed.like", "createdAt": "2024-10-01T00:00:00.000Z",
                   "subject": {"cid": "bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi",
                               "uri": f"at://did:plc:{i % 77:024d}/app.bsky.feed.post/3k{i % 991:011d}"}}
            key = f"app.bsky.feed.like/3l{i:011d}"
        else:
            t, u = text(), url()
            rec = {"$type": "app.bsky.feed.post", "createdAt": "2024-10-01T00:00:00.000Z", "langs": ["en"],
                   "text": f"{t} {u}",
                   "facets": [{"features": [{"$type": "app.bsky.richtext.facet#link", "uri": u}],
                               "index": {"byteStart": len(t) + 1, "byteEnd": len(t) + 1 + len(u)}}]}
            key = f"app.bsky.feed.post/3l{i:011d}"
        block = cbor(rec)
        records.append((key, cid_of(block), block))
        size += len(block) + 40
        i += 1
    records.sort()
    # Leaves of 16 keys; the root holds the key between each pair of leaves.
    blocks, root_entries, prev, left = [], [], b"", None
    for start in range(0, len(records), 17):
        leaf_keys = records[start:start + 16]
        entries, last = [], b""
        for key, cid, _ in leaf_keys:
            k = key.encode()
            p = len(os.path.commonprefix([last, k]))
            entries.append({"p": p, "k": k[p:], "v": Link(cid), "t": None})
            last = k
        leaf = cbor({"l": None, "e": entries})
        leaf_cid = cid_of(leaf)
        blocks.append((leaf_cid, leaf))
        if left is None:
            left = leaf_cid
        else:
            root_entries[-1]["t"] = Link(leaf_cid)
        if start + 16 < len(records):
            key, cid, _ = records[start + 16]
            k = key.encode()
            p = len(os.path.commonprefix([prev, k]))
            root_entries.append({"p": p, "k": k[p:], "v": Link(cid), "t": None})
            prev = k
    root = cbor({"l": Link(left), "e": root_entries})
    root_cid = cid_of(root)
    commit = cbor({"did": did, "version": 3, "data": Link(root_cid), "rev": "3l2aaaaaaaa2f", "prev": None,
                   "sig": bytes(64)})
    commit_cid = cid_of(commit)
    header = cbor({"version": 1, "roots": [Link(commit_cid)]})
    with open(os.path.join(out, "repo.car"), "wb") as f:
        f.write(varint(len(header)) + header)
        for cid, data in [(commit_cid, commit), (root_cid, root)] + blocks + [(c, b) for _, c, b in records]:
            f.write(varint(len(cid) + len(data)) + cid + data)


def bluesky_firehose():
    """com.atproto.sync.subscribeRepos frames saved back to back: a header {t, op}, then a
    #commit body whose blocks are a CAR slice (the commit, a tree node, the new record)."""
    path = os.path.join(out, "firehose.bin")
    with open(path, "wb") as f:
        i = 0
        while f.tell() < target:
            did = f"did:plc:{i % 997:024d}"
            if i % 5 == 4:
                coll, rec = "app.bsky.feed.repost", {
                    "$type": "app.bsky.feed.repost", "createdAt": "2024-10-01T00:00:00.000Z",
                    "subject": {"cid": "bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi",
                                "uri": f"at://did:plc:{i % 77:024d}/app.bsky.feed.post/3k{i % 991:011d}"}}
            elif i % 5 == 3:
                coll, rec = "app.bsky.feed.like", {
                    "$type": "app.bsky.feed.like", "createdAt": "2024-10-01T00:00:00.000Z",
                    "subject": {"cid": "bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi",
                                "uri": f"at://did:plc:{i % 77:024d}/app.bsky.feed.post/3k{i % 991:011d}"}}
            else:
                t, u = text(), url()
                coll, rec = "app.bsky.feed.post", {
                    "$type": "app.bsky.feed.post", "createdAt": "2024-10-01T00:00:00.000Z", "langs": ["en"],
                    "text": f"{t} {u}",
                    "facets": [{"features": [{"$type": "app.bsky.richtext.facet#link", "uri": u}],
                                "index": {"byteStart": len(t) + 1, "byteEnd": len(t) + 1 + len(u)}}]}
            rkey = f"3l{i:011d}"
            block = cbor(rec)
            cid = cid_of(block)
            # A leaf of the tree as a PDS sends it: the new key among its neighbours.
            entries = [{"p": 0 if j == 0 else 19, "k": f"{coll}/3l{i + j:011d}".encode()[0 if j == 0 else 19:],
                        "v": Link(cid), "t": None} for j in range(4)]
            node = cbor({"l": None, "e": entries})
            node_cid = cid_of(node)
            commit = cbor({"did": did, "version": 3, "data": Link(node_cid), "rev": "3l2aaaaaaaa2f", "prev": None,
                           "sig": bytes(64)})
            commit_cid = cid_of(commit)
            header = cbor({"version": 1, "roots": [Link(commit_cid)]})
            car = varint(len(header)) + header
            for c, data in ((commit_cid, commit), (node_cid, node), (cid, block)):
                car += varint(len(c) + len(data)) + c + data
            body = {"seq": 1000 + i, "rebase": False, "tooBig": False, "repo": did, "commit": Link(commit_cid),
                    "rev": "3l2aaaaaaaa2f", "since": None, "blocks": car,
                    "ops": [{"action": "create", "path": f"{coll}/{rkey}", "cid": Link(cid)}], "blobs": [],
                    "time": f"2024-10-01T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}.123Z"}
            f.write(cbor({"op": 1, "t": "#commit"}) + cbor(body))
            i += 1


def reddit_export():
    """Reddit's data export: posts.csv and comments.csv, and statistics.csv naming the account."""
    d = os.path.join(out, "reddit-export")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "statistics.csv"), "w", encoding="utf-8") as f:
        f.write("statistic,value\naccount name,Civic_Reader_42\nexport time,2024-10-05 10:00:00 UTC\n")
    path = os.path.join(d, "comments.csv")
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "permalink", "date", "ip", "subreddit", "gildings", "link", "parent", "body", "media"])
        i = 0
        while f.tell() < target:
            post = f"1{i // 10:06x}"
            link = f"https://www.reddit.com/r/politics/comments/{post}/some_title/"
            w.writerow([f"k{i:07x}", f"{link}k{i:07x}/", f"2024-10-01 {i % 24:02d}:{i % 60:02d}:00 UTC", "",
                        "politics", "0", link, f"k{i - 1:07x}" if i % 3 else "",
                        text(30) + ("\n\n" + url() if i % 4 == 0 else ""), ""])
            i += 1


os.makedirs(out, exist_ok=True)
telegram_desktop()
telegram_html()
bluesky_car()
bluesky_firehose()
reddit_export()
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
