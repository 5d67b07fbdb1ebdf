//! Bad input: truncated files, wrong encodings, missing columns and garbage lines give a
//! clear error or a counted, reported skip, never a panic.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use scrutineer_influence::Post;
use scrutineer_influence::{Format, ReadError, ReadReport, read_posts, read_posts_from_path};

const IRA_HEADER: &str = "author_id,content,region,language,publish_date,harvested_date,following,followers,updates,post_type,retweet";

fn ira_row(i: usize) -> String {
    format!(
        "acct{},\"post number {i}, with \"\"quotes\"\" and #tag{}\",United States,English,2016-10-{:02} {:02}:{:02}:00,\
         2016-10-01 00:00:00,{},{},{},,0",
        i % 37,
        i % 11,
        1 + i % 28,
        i % 24,
        i % 60,
        i,
        i * 2,
        i * 3
    )
}

fn ira_csv(rows: usize) -> String {
    let mut s = String::from(IRA_HEADER);
    s.push('\n');
    for i in 0..rows {
        s.push_str(&ira_row(i));
        s.push('\n');
    }
    s
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

fn read(bytes: &[u8], format: &Format) -> (Vec<Post>, ReadReport) {
    let mut posts = Vec::new();
    let report = read_posts(bytes, "input", format, |p| posts.push(p)).expect("readable");
    (posts, report)
}

#[test]
fn truncated_gzip_keeps_complete_records() {
    let rows = 20_000;
    let full = ira_csv(rows);
    let gz = gzip(full.as_bytes());
    let cut = &gz[..gz.len() * 6 / 10];
    let (posts, report) = read(cut, &Format::Auto);
    assert!(report.truncated, "{report}");
    assert!(!posts.is_empty() && posts.len() < rows, "kept {} of {rows}", posts.len());
    // Every post kept is a complete, correct record, in order.
    for (i, p) in posts.iter().enumerate() {
        assert_eq!(p.account, format!("acct{}", i % 37));
        assert!(p.text.starts_with(&format!("post number {i}, with \"quotes\"")), "{}", p.text);
    }
    assert_eq!(report.skipped, 1);
    let skip = &report.skip_samples[0];
    assert_eq!(skip.line, posts.len() as u64 + 2, "the line after the last complete record");
    assert!(skip.reason.contains("truncated"), "{skip}");
}

#[test]
fn truncated_gzip_jsonl_keeps_complete_lines() {
    let mut s = String::new();
    for i in 0..5_000 {
        s.push_str(&format!(
            r#"{{"created_at":"Sat Oct 01 12:30:00 +0000 2016","id_str":"{i}","text":"post {i} #x","user":{{"id_str":"{}"}}}}"#,
            i % 10
        ));
        s.push('\n');
    }
    let gz = gzip(s.as_bytes());
    let (posts, report) = read(&gz[..gz.len() / 2], &Format::TwitterV1);
    assert!(report.truncated);
    assert!(!posts.is_empty() && posts.len() < 5_000);
    assert!(posts.iter().enumerate().all(|(i, p)| p.id.as_deref() == Some(i.to_string().as_str())));
    assert_eq!(report.skip_samples[0].line, posts.len() as u64 + 1);
}

#[test]
fn csv_ending_inside_a_quoted_field() {
    let mut csv = ira_csv(3);
    csv.push_str("acct9,\"this post was cut off in the mid");
    let (posts, report) = read(csv.as_bytes(), &Format::Ira);
    assert_eq!(posts.len(), 3, "the complete records are kept");
    assert!(report.truncated);
    assert_eq!(report.skipped, 1);
    assert_eq!(
        report.skip_samples[0].to_string(),
        "line 5: the record ends inside a quoted field: the input is truncated"
    );
}

#[test]
fn csv_ending_mid_record() {
    let mut csv = ira_csv(2);
    csv.push_str("acct9,plain text,United States,Eng");
    let (posts, report) = read(csv.as_bytes(), &Format::Ira);
    assert_eq!(posts.len(), 2);
    assert!(report.truncated);
    assert!(
        report.skip_samples[0].reason.starts_with("the input ends mid-record"),
        "{:?}",
        report.skip_samples
    );
    assert_eq!(report.skip_samples[0].line, 4);
}

#[test]
fn complete_file_without_final_newline_is_not_truncated() {
    let csv = ira_csv(2);
    let (posts, report) = read(csv.trim_end().as_bytes(), &Format::Ira);
    assert_eq!(posts.len(), 2);
    assert!(!report.truncated);
    assert_eq!(report.skipped, 0);
}

#[test]
fn latin1_bytes_in_utf8_csv_are_decoded_and_counted() {
    let mut bytes = format!("{IRA_HEADER}\n").into_bytes();
    bytes.extend_from_slice(
        b"acct1,Caf\xe9 cr\xe8me \x93quoted\x94,France,French,2016-10-01 12:00:00,x,1,2,3,,0\n",
    );
    bytes.extend_from_slice(
        "acct2,déjà vu in UTF-8,France,French,2016-10-01 12:00:00,x,1,2,3,,0\n".as_bytes(),
    );
    let (posts, report) = read(&bytes, &Format::Auto);
    assert_eq!(report.skipped, 0);
    assert_eq!(report.decoded_latin1, 1);
    assert_eq!(posts[0].text, "Café crème “quoted”");
    assert_eq!(posts[1].text, "déjà vu in UTF-8");
}

#[test]
fn latin1_bytes_in_json_are_decoded_and_counted() {
    let bytes = b"{\"created_at\":\"Sat Oct 01 12:30:00 +0000 2016\",\"id_str\":\"1\",\"text\":\"na\xefve\",\"user\":{\"id_str\":\"5\"}}\n";
    let (posts, report) = read(bytes, &Format::Auto);
    assert_eq!(report.decoded_latin1, 1);
    assert_eq!(posts[0].text, "naïve");
}

#[test]
fn missing_columns_name_file_missing_and_found() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ira.csv");
    std::fs::write(&path, "author_id,region,language\nx,y,z\n").expect("write");
    let err = read_posts_from_path(&path, &Format::Ira, |_| {}).expect_err("columns missing");
    let ReadError::MissingColumns { source_name, missing, found, .. } = &err else {
        panic!("unexpected error {err:?}");
    };
    assert_eq!(source_name, &path.display().to_string());
    assert_eq!(missing, &["content", "publish_date"]);
    assert_eq!(found, &["author_id", "region", "language"]);
    let msg = err.to_string();
    assert!(
        msg.contains("ira.csv") && msg.contains("content, publish_date") && msg.contains("author_id, region")
    );

    let err = read_posts("tweetid,tweet_text\n1,x\n".as_bytes(), "io.csv", &Format::IoArchive, |_| {})
        .expect_err("io-archive columns missing");
    assert_eq!(
        err.to_string(),
        "io.csv: missing required columns for format io-archive: userid (or user_screen_name), tweet_time; \
         the header has: tweetid, tweet_text"
    );
}

#[test]
fn garbage_and_binary_lines_are_skipped_with_line_numbers() {
    let mut bytes = format!("{IRA_HEADER}\n{}\n", ira_row(0)).into_bytes();
    bytes.extend_from_slice(b"\x00\x01\x02\xff\xfe garbage\x00,,,,,,,,,,\n");
    bytes.extend_from_slice(format!("{}\n", ira_row(1)).as_bytes());
    bytes.extend_from_slice(b"acct3,text,US,English,not a date,x,1,2,3,,0\n");
    bytes.extend_from_slice(b",text,US,English,2016-10-01 00:00:00,x,1,2,3,,0\n");
    bytes.extend_from_slice(format!("{}\n", ira_row(2)).as_bytes());
    let (posts, report) = read(&bytes, &Format::Ira);
    assert_eq!(posts.len(), 3);
    assert_eq!(report.records, 6);
    assert_eq!(report.skipped, 3);
    let shown: Vec<String> = report.skip_samples.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "line 3: binary data (NUL bytes) in the record",
            "line 5: field publish_date: cannot parse 'not a date' as a time",
            "line 6: field author_id: empty account",
        ]
    );
}

#[test]
fn wrong_field_counts_are_skipped() {
    let csv = format!(
        "{IRA_HEADER}\n{}\nacct1,too few,fields\n{}\n{},extra,fields\n",
        ira_row(0),
        ira_row(1),
        ira_row(2)
    );
    let (posts, report) = read(csv.as_bytes(), &Format::Ira);
    assert_eq!(posts.len(), 2);
    let shown: Vec<String> = report.skip_samples.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "line 3: expected 11 fields as in the header, found 3",
            "line 5: expected 11 fields as in the header, found 13"
        ]
    );
}

#[test]
fn multi_line_quoted_fields_keep_physical_line_numbers() {
    let csv = format!(
        "{IRA_HEADER}\nacct1,\"two\nlines\",US,English,2016-10-01 00:00:00,x,1,2,3,,0\nacct2,x,US,English,bad,x,1,2,3,,0\n"
    );
    let (posts, report) = read(csv.as_bytes(), &Format::Ira);
    assert_eq!(posts[0].text, "two\nlines");
    assert_eq!(report.skip_samples[0].line, 4, "the header is line 1 and the first record spans lines 2-3");
}

#[test]
fn bad_json_lines_are_skipped_and_a_cut_last_line_is_truncation() {
    let good = |i: u32| {
        format!(
            r#"{{"created_at":"Sat Oct 01 12:30:00 +0000 2016","id_str":"{i}","text":"t","user":{{"id_str":"1"}}}}"#
        )
    };
    let input = format!(
        "{}\nnot json at all\n{{\"created_at\":\"Sat Oct 01 12:30:00 +0000 2016\",\"id_str\":\"9\",\"te\n{}\n\u{0}\u{1}binary\n{}\n{{\"created_at\":\"Sat Oct",
        good(1),
        good(2),
        good(3)
    );
    let (posts, report) = read(input.as_bytes(), &Format::TwitterV1);
    assert_eq!(posts.len(), 3);
    assert!(report.truncated);
    let shown: Vec<String> = report.skip_samples.iter().map(ToString::to_string).collect();
    assert_eq!(shown.len(), 4, "{shown:?}");
    assert!(shown[0].starts_with("line 2: invalid JSON: expected ident"), "{}", shown[0]);
    assert!(shown[1].starts_with("line 3: the JSON ends at column"), "{}", shown[1]);
    assert!(shown[1].ends_with("(line cut off?)"), "{}", shown[1]);
    assert_eq!(shown[2], "line 5: binary data (NUL bytes) in the line");
    assert!(
        shown[3].starts_with("line 7: the JSON ends at column")
            && shown[3].ends_with("the input is truncated")
    );
}

#[test]
fn unknown_and_empty_inputs_are_clear_errors() {
    let err = read_posts(
        "tweetid,user_display_name,tweet_text\n1,a,b\n".as_bytes(),
        "x.csv",
        &Format::Auto,
        |_| {},
    )
    .expect_err("unknown");
    let msg = err.to_string();
    assert!(msg.starts_with("x.csv: cannot tell the input format: saw a CSV header with columns tweetid, user_display_name, tweet_text"), "{msg}");
    assert!(msg.contains("--format csv"), "{msg}");
    let err = read_posts("\n\n".as_bytes(), "e.csv", &Format::Auto, |_| {}).expect_err("empty");
    assert_eq!(err.to_string(), "e.csv: the input is empty");
    let gz = gzip(b"");
    let err = read_posts(gz.as_slice(), "e.csv.gz", &Format::Auto, |_| {}).expect_err("empty gzip");
    assert_eq!(err.to_string(), "e.csv.gz: the input is empty");
}

#[test]
fn gzip_is_detected_by_content_not_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("posts.csv");
    std::fs::write(&path, gzip(ira_csv(10).as_bytes())).expect("write");
    let mut n = 0;
    let report = read_posts_from_path(&path, &Format::Auto, |_| n += 1).expect("reads");
    assert_eq!((n, report.posts, report.skipped), (10, 10, 0));
}
