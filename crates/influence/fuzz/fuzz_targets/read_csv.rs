//! Any bytes as a generic CSV with a column mapping (the first columns named as the
//! mapping expects, so that rows reach the cell parsers) and as the IRA and
//! io-archive CSVs: posts or skips, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scrutineer_influence::{Fields, Format, read_posts_limited};

fuzz_target!(|data: &[u8]| {
    let mapping = "account=a,time=t,text=x,id=i,retweeted_id=r,urls=u,hashtags=h".parse().expect("mapping");
    let mut csv = b"a,t,x,i,r,u,h\n".to_vec();
    csv.extend_from_slice(data);
    let _ = read_posts_limited(
        &csv[..],
        "fuzz",
        &Format::Csv(mapping),
        Fields::ALL,
        1024,
        &|p| p.into_owned(),
        |_| {},
    );
    let mut ira = b"author_id,content,region,language,publish_date,harvested_date,following,followers,updates,post_type,retweet\n".to_vec();
    ira.extend_from_slice(data);
    let _ =
        read_posts_limited(&ira[..], "fuzz", &Format::Ira, Fields::ALL, 1024, &|p| p.into_owned(), |_| {});
    let mut io = b"tweetid,userid,user_screen_name,tweet_text,tweet_time,is_retweet,retweet_tweetid,hashtags,urls,user_mentions\n".to_vec();
    io.extend_from_slice(data);
    let _ = read_posts_limited(
        &io[..],
        "fuzz",
        &Format::IoArchive,
        Fields::ALL,
        1024,
        &|p| p.into_owned(),
        |_| {},
    );
});
