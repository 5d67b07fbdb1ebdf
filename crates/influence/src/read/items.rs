//! User-supplied account–item actions (`--items FILE`): a CSV with the header
//! `account,item,time` (more columns are allowed and ignored), plain, gzip or zstd, for any
//! object an analyst can extract from posts themselves: images' perceptual hashes, phone
//! numbers, ad library ids, payment handles.

use std::io::Read;

use super::text::{clip, parse_time};
use super::{ReadError, ReadReport, input};
use crate::corpus::Corpus;

/// The columns an items file must have.
pub const ITEM_COLUMNS: [&str; 3] = ["account", "item", "time"];

/// Reads an items file into `corpus` as [`crate::Behaviour::CoItem`] actions. Rows with an empty
/// account or item, or a time that does not parse, are skipped and reported with their
/// line; a file without the three columns is an error naming them.
pub fn ingest_items<R: Read>(
    corpus: &mut Corpus,
    input: R,
    source_name: &str,
) -> Result<ReadReport, ReadError> {
    let mut input = input;
    let mut report = ReadReport::new(source_name);
    report.format = "items";
    let opened = input::open(&mut input, source_name, super::DEFAULT_MAX_LINE_BYTES)?;
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(opened.into_stream());
    let headers = rdr.headers().map_err(|e| ReadError::Io {
        source_name: source_name.to_string(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("cannot read the CSV header: {e}"),
        ),
    })?;
    let names: Vec<String> =
        headers.iter().map(|h| h.trim().trim_start_matches('\u{feff}').to_string()).collect();
    let find = |c: &str| names.iter().position(|h| h.eq_ignore_ascii_case(c));
    let (Some(account), Some(item), Some(time)) = (find("account"), find("item"), find("time")) else {
        return Err(ReadError::MissingColumns {
            source_name: source_name.to_string(),
            format: "items",
            missing: ITEM_COLUMNS.iter().filter(|c| find(c).is_none()).map(|c| c.to_string()).collect(),
            found: names,
        });
    };
    let mut record = csv::StringRecord::new();
    loop {
        let line = rdr.position().line();
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                if let csv::ErrorKind::Io(_) = e.kind() {
                    report.truncated = true;
                    report.skip(
                        line,
                        format!("cannot read past this point ({e}): the rows before it were kept"),
                    );
                    break;
                }
                report.records += 1;
                report.skip(line, format!("not a CSV row: {e}"));
                continue;
            }
        }
        report.records += 1;
        let get = |i: usize| record.get(i).unwrap_or("").trim();
        let (who, what, when) = (get(account), get(item), get(time));
        if who.is_empty() {
            report.skip(line, "field account: empty".to_string());
        } else if what.is_empty() {
            report.skip(line, "field item: empty".to_string());
        } else {
            match parse_time(when) {
                Some(t) => {
                    if corpus.add_item(who, what, t) {
                        report.posts += 1;
                    }
                }
                None => report.skip(line, format!("field time: cannot parse '{}' as a time", clip(when))),
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::{Behaviour, ScanParams};

    fn corpus() -> Corpus {
        Corpus::new(&ScanParams { behaviours: vec![Behaviour::CoItem], ..ScanParams::default() })
    }

    #[test]
    fn rows_are_read_and_bad_ones_named() {
        let csv = "account,item,time,note\n\
            telegram:channel1,phash:ffd8e0c0,2024-10-01T12:00:00Z,x\n\
            telegram:channel2,phash:ffd8e0c0,2024-10-01 12:05:00,\n\
            ,phash:1,2024-10-01T12:00:00Z,\n\
            a,,2024-10-01T12:00:00Z,\n\
            a,b,yesterday,\n";
        let mut c = corpus();
        let report = ingest_items(&mut c, csv.as_bytes(), "items.csv").expect("reads");
        assert_eq!((report.records, report.posts, report.skipped), (5, 2, 3));
        let shown: Vec<String> = report.skip_samples.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "line 4: field account: empty",
                "line 5: field item: empty",
                "line 6: field time: cannot parse 'yesterday' as a time"
            ]
        );
        assert_eq!(c.account_count(), 2);
    }

    #[test]
    fn missing_columns_are_named() {
        let err =
            ingest_items(&mut corpus(), "account,thing\n".as_bytes(), "i.csv").expect_err("no item column");
        assert!(err.to_string().contains("item, time"), "{err}");
    }

    #[test]
    fn a_scan_without_co_item_takes_nothing() {
        let mut c = Corpus::new(&ScanParams::default());
        let report =
            ingest_items(&mut c, "account,item,time\na,b,2024-10-01T00:00:00Z\n".as_bytes(), "i.csv")
                .expect("reads");
        assert_eq!((report.records, report.posts), (1, 0));
    }
}
