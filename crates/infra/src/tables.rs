//! Offline tables an analyst hands to a scan: IP-to-ASN ranges, a MaxMind-format country
//! database, a host-to-office map, and ready-made daily counts for the trend test. Every
//! row that cannot be read is an error naming the file and the line: a table that loads
//! half its rows would link or place sources wrongly without saying so.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use rustc_hash::FxHashMap;

use crate::event::Event;
use crate::trend::DailySeries;

/// Why a table could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The file could not be opened or read, or is not CSV (e.g. not UTF-8).
    #[error("reading {}: {source}", path.display())]
    Read {
        /// The table's file.
        path: PathBuf,
        /// What the CSV reader reported.
        #[source]
        source: csv::Error,
    },
    /// A row does not have the table's shape.
    #[error("{}:{line}: expected '{expected}'", path.display())]
    Row {
        /// The table's file.
        path: PathBuf,
        /// 1-based line of the row.
        line: u64,
        /// The shape the table's rows have.
        expected: &'static str,
    },
    /// A field of a row holds a value of the wrong kind.
    #[error("{}:{line}: field '{field}': '{value}' is not {expected}", path.display())]
    Field {
        /// The table's file.
        path: PathBuf,
        /// 1-based line of the row.
        line: u64,
        /// The field's name.
        field: &'static str,
        /// The value found.
        value: String,
        /// What the field must hold.
        expected: &'static str,
    },
    /// The count field of a daily-counts row is not a whole number of events.
    #[error("{}:{line}: field 'count': '{value}' is not a count", path.display())]
    Count {
        /// The table's file.
        path: PathBuf,
        /// 1-based line of the row.
        line: u64,
        /// The value found.
        value: String,
        /// Why it does not parse.
        #[source]
        source: std::num::ParseIntError,
    },
    /// The geolocation database could not be opened.
    #[error("opening {}: {source}", path.display())]
    Geo {
        /// The database file.
        path: PathBuf,
        /// What the MaxMind reader reported.
        #[source]
        source: maxminddb::MaxMindDbError,
    },
}

/// One data row of a small CSV table, its fields trimmed and its line number kept.
struct Row {
    line: u64,
    fields: csv::StringRecord,
}

/// Reads the rows of a headerless, comma-separated table: `#` starts a comment line,
/// blank rows are skipped, rows may have any number of fields (each loader checks its own).
fn rows(path: &Path) -> Result<Vec<Row>, TableError> {
    let read_error = |source| TableError::Read { path: path.to_owned(), source };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(read_error)?;
    let mut out = Vec::new();
    for record in reader.records() {
        let fields = record.map_err(read_error)?;
        if fields.iter().all(str::is_empty) {
            continue;
        }
        let line = fields.position().map_or(0, |p| p.line());
        out.push(Row { line, fields });
    }
    Ok(out)
}

/// An offline IP-to-ASN table: `network,asn[,organisation]` rows (IPv4 CIDR networks).
#[derive(Debug, Default, Clone)]
pub struct AsnTable {
    /// `(first address, last address, ASN, organisation)`, by first address, widest first.
    v4: Vec<(u32, u32, u32, String)>,
}

impl AsnTable {
    const SHAPE: &'static str = "CIDR,ASN[,organisation]";

    /// Reads the CSV; a first line that is not `CIDR,ASN` is a header, any later one is an
    /// error naming the line.
    pub fn load(path: &Path) -> Result<AsnTable, TableError> {
        let mut v4 = Vec::new();
        for row in rows(path)? {
            let field = |i| row.fields.get(i).unwrap_or_default();
            let asn = field(1).trim_start_matches("AS").trim_start_matches("as");
            match parse_ipv4_range(field(0)).zip(asn.parse::<u32>().ok()) {
                Some(((start, end), asn)) => v4.push((start, end, asn, field(2).to_owned())),
                None if row.line == 1 => {} // header
                None => {
                    return Err(TableError::Row {
                        path: path.to_owned(),
                        line: row.line,
                        expected: Self::SHAPE,
                    });
                }
            }
        }
        v4.sort_by_key(|r| (r.0, std::cmp::Reverse(r.1)));
        Ok(AsnTable { v4 })
    }

    /// The ASN and organisation of the most specific listed network holding `ip`.
    pub fn lookup(&self, ip: IpAddr) -> Option<(u32, &str)> {
        let IpAddr::V4(v4) = ip else { return None };
        let x = u32::from(v4);
        let i = self.v4.partition_point(|r| r.0 <= x);
        // The most specific enclosing network among the ranges starting at or before x.
        self.v4[..i]
            .iter()
            .rev()
            .take(64)
            .filter(|r| r.1 >= x)
            .min_by_key(|r| r.1 - r.0)
            .map(|r| (r.2, r.3.as_str()))
    }
}

/// The first and last address of an IPv4 CIDR network.
fn parse_ipv4_range(net: &str) -> Option<(u32, u32)> {
    let (ip, len) = net.split_once('/')?;
    let ip: Ipv4Addr = ip.parse().ok()?;
    let len: u32 = len.parse().ok().filter(|l| *l <= 32)?;
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    let start = u32::from(ip) & mask;
    Some((start, start | !mask))
}

/// Offline geolocation from a MaxMind-format country database.
pub struct GeoDb {
    reader: maxminddb::Reader<Vec<u8>>,
}

impl GeoDb {
    /// Opens the database (read whole into memory).
    pub fn open(path: &Path) -> Result<GeoDb, TableError> {
        maxminddb::Reader::open_readfile(path)
            .map(|reader| GeoDb { reader })
            .map_err(|source| TableError::Geo { path: path.to_owned(), source })
    }

    /// ISO 3166-1 alpha-2 code of the country the address is registered in.
    pub fn country(&self, ip: IpAddr) -> Option<String> {
        let r = self.reader.lookup(ip).ok()?;
        let c: maxminddb::geoip2::Country = r.decode().ok()??;
        c.country.iso_code.or(c.registered_country.iso_code).map(str::to_owned)
    }
}

/// Maps host names to offices (`hostname,jurisdiction` CSV rows).
#[derive(Debug, Default, Clone)]
pub struct JurisdictionMap {
    map: FxHashMap<String, Arc<str>>,
}

impl JurisdictionMap {
    /// Reads the CSV; host names compare without regard to case. A first row
    /// `host,...` or `hostname,...` is a header.
    pub fn load(path: &Path) -> Result<JurisdictionMap, TableError> {
        let mut map = FxHashMap::default();
        for row in rows(path)? {
            if row.fields.len() < 2 {
                return Err(TableError::Row {
                    path: path.to_owned(),
                    line: row.line,
                    expected: "hostname,jurisdiction",
                });
            }
            let host = row.fields[0].to_ascii_lowercase();
            if row.line == 1 && (host == "host" || host == "hostname") {
                continue;
            }
            map.insert(host, Arc::from(&row.fields[1]));
        }
        Ok(JurisdictionMap { map })
    }

    /// Reassigns the event to the office its host belongs to, if listed.
    pub fn resolve(&self, ev: &mut Event) {
        if let Some(h) = ev.host.as_deref()
            && let Some(j) = self.map.get(&h.to_ascii_lowercase())
        {
            ev.jurisdiction = j.clone();
        }
    }
}

/// Reads ready-made daily counts, CSV `date,count` or `date,jurisdiction,count` rows
/// (dates `YYYY-MM-DD`; a first row whose date does not parse is a header). Returns one
/// series per jurisdiction named and the total of all rows under `*`.
pub fn read_daily_counts(path: &Path) -> Result<BTreeMap<Arc<str>, DailySeries>, TableError> {
    let mut out: BTreeMap<Arc<str>, DailySeries> = BTreeMap::new();
    let all: Arc<str> = Arc::from("*");
    for row in rows(path)? {
        let line = row.line;
        let f = &row.fields;
        let (date, jurisdiction, count) = match f.len() {
            2 => (&f[0], None, &f[1]),
            3 => (&f[0], Some(&f[1]), &f[2]),
            _ => {
                return Err(TableError::Row {
                    path: path.to_owned(),
                    line,
                    expected: "date,count' or 'date,jurisdiction,count",
                });
            }
        };
        let Ok(day) = NaiveDate::parse_from_str(date, "%Y-%m-%d") else {
            if line == 1 {
                continue; // header
            }
            return Err(TableError::Field {
                path: path.to_owned(),
                line,
                field: "date",
                value: date.to_owned(),
                expected: "YYYY-MM-DD",
            });
        };
        let n: u64 = count.parse().map_err(|source| TableError::Count {
            path: path.to_owned(),
            line,
            value: count.to_owned(),
            source,
        })?;
        if let Some(j) = jurisdiction {
            out.entry(Arc::from(j)).or_default().add(day, n);
        }
        out.entry(all.clone()).or_default().add(day, n);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().expect("temp");
        std::io::Write::write_all(&mut f, text.as_bytes()).expect("write");
        f
    }

    #[test]
    fn asn_table_finds_most_specific_network() {
        let f = table("network,asn,org\n203.0.0.0/8,1,Big\n203.0.113.0/24,AS64500,\"Small, Inc.\"\n");
        let t = AsnTable::load(f.path()).expect("load");
        assert_eq!(t.lookup("203.0.113.9".parse().expect("ip")), Some((64500, "Small, Inc.")));
        assert_eq!(t.lookup("203.1.1.1".parse().expect("ip")), Some((1, "Big")));
        assert_eq!(t.lookup("8.8.8.8".parse().expect("ip")), None);
        assert_eq!(t.lookup("2001:db8::1".parse().expect("ip")), None);
    }

    #[test]
    fn asn_table_names_the_bad_line() {
        let f = table("network,asn\n# comment\n10.0.0.0/8,7\n10.1.0.0/33,8\n");
        let err = AsnTable::load(f.path()).expect_err("a /33 is no network");
        assert!(matches!(err, TableError::Row { line: 4, .. }), "{err}");
        assert!(err.to_string().ends_with(":4: expected 'CIDR,ASN[,organisation]'"), "{err}");
    }

    #[test]
    fn jurisdiction_map_resolves_hosts_without_case() {
        let f = table("hostname,jurisdiction\nVote.Cook.example,cook\n\nresults.lake.example, lake\n");
        let m = JurisdictionMap::load(f.path()).expect("load");
        let mut ev = Event {
            host: Some("vote.COOK.example".into()),
            jurisdiction: Arc::from("x"),
            ..Event::default()
        };
        m.resolve(&mut ev);
        assert_eq!(&*ev.jurisdiction, "cook");
        ev.host = Some("results.lake.example".into());
        m.resolve(&mut ev);
        assert_eq!(&*ev.jurisdiction, "lake");
        ev.host = Some("elsewhere.example".into());
        m.resolve(&mut ev);
        assert_eq!(&*ev.jurisdiction, "lake", "an unlisted host keeps its office");
        let bad = table("hostname,jurisdiction\nonly-a-host\n");
        assert!(matches!(JurisdictionMap::load(bad.path()), Err(TableError::Row { line: 2, .. })));
    }

    #[test]
    fn daily_counts_sum_per_office_and_overall() {
        let f = table("date,jurisdiction,count\n2024-10-01,cook,3\n2024-10-01,lake,4\n2024-10-02,cook,5\n");
        let s = read_daily_counts(f.path()).expect("load");
        let d1 = NaiveDate::from_ymd_opt(2024, 10, 1).expect("date");
        let d2 = NaiveDate::from_ymd_opt(2024, 10, 2).expect("date");
        assert_eq!(s["*"].days.get(&d1), Some(&7));
        assert_eq!(s["*"].days.get(&d2), Some(&5));
        assert_eq!(s["cook"].days.len(), 2);
        assert_eq!(s["lake"].days.get(&d1), Some(&4));
        let two = read_daily_counts(table("2024-10-01,9\n").path()).expect("no header");
        assert_eq!(two.keys().map(|k| &**k).collect::<Vec<_>>(), vec!["*"]);
    }

    #[test]
    fn daily_counts_errors_name_line_and_field() {
        let bad_date = table("date,count\n2024-10-01,1\n2024-13-01,2\n");
        let e = read_daily_counts(bad_date.path()).expect_err("month 13");
        assert!(e.to_string().ends_with(":3: field 'date': '2024-13-01' is not YYYY-MM-DD"), "{e}");
        let bad_count = table("2024-10-01,-1\n");
        let e = read_daily_counts(bad_count.path()).expect_err("negative");
        assert!(e.to_string().ends_with(":1: field 'count': '-1' is not a count"), "{e}");
        assert!(std::error::Error::source(&e).is_some(), "the parse error is kept as the cause");
        let wide = table("2024-10-01,a,b,1\n");
        assert!(matches!(read_daily_counts(wide.path()), Err(TableError::Row { line: 1, .. })));
    }
}
