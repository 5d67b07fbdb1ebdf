//! The CSV driver shared by the `ira`, `io-archive` and `csv` readers: header lookup once,
//! records read by [`RecordReader`] into reused batches ([`Records`], one buffer each) and
//! mapped on other threads, UTF-8 (checked once per batch) with a Windows-1252 fallback per
//! cell, and the bookkeeping for skipped rows and truncated input.

use std::borrow::Cow;
use std::cell::Cell;
use std::io::{self, BufRead};
use std::sync::mpsc;

use chrono::{DateTime, Utc};

use super::records::{Record, RecordReader, Records};
use super::text::{clip, decode_1252, is_null_token, parse_count, parse_time};
use super::{Fields, Out, ReadError};
use crate::post::PostRef;

/// Column names of a CSV header, matched case-insensitively.
pub(crate) struct Headers {
    names: Vec<String>,
}

impl Headers {
    pub fn find(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|h| h.eq_ignore_ascii_case(name))
    }
}

/// Turns one row into a post that borrows from it, or says which field is wrong.
pub(crate) trait RowMapper {
    fn map<'r>(&mut self, row: &Row<'r>) -> Result<PostRef<'r>, String>;
}

/// One CSV row with typed accessors that name the field in their errors.
pub(crate) struct Row<'r> {
    rec: Record<'r>,
    /// The whole record's bytes, when they are UTF-8: checked once for all cells.
    whole: Option<&'r str>,
    names: &'r [String],
    decoded: Cell<bool>,
    /// The entity lists the caller uses.
    pub fields: Fields,
}

impl<'r> Row<'r> {
    pub fn name(&self, idx: usize) -> &'r str {
        self.names.get(idx).map_or("?", String::as_str)
    }

    /// A row over `rec`, whose bytes are `utf8` when its batch's check said so, and are
    /// checked here otherwise.
    fn new(rec: Record<'r>, utf8: Option<&'r str>, names: &'r [String], fields: Fields) -> Row<'r> {
        // simdutf8: the check runs on every record of millions that its batch's did not
        // cover.
        let whole = utf8.or_else(|| simdutf8::basic::from_utf8(rec.as_slice()).ok());
        Row { rec, whole, names, decoded: Cell::new(false), fields }
    }

    /// The cell borrowed from the record's `str`, when the record is UTF-8: the usual
    /// case. A cell of a UTF-8 record is UTF-8 unless it starts inside a character (input
    /// that splits a character with a delimiter), which `str::get` refuses.
    fn utf8_cell(&self, idx: usize) -> Option<&'r str> {
        self.whole.zip(self.rec.range(idx)).and_then(|(whole, range)| whole.get(range))
    }

    /// The cell as written, decoded.
    fn cell(&self, idx: usize) -> Cow<'r, str> {
        if let Some(cell) = self.utf8_cell(idx) {
            return Cow::Borrowed(cell);
        }
        let bytes = self.rec.get(idx).unwrap_or(b"");
        match std::str::from_utf8(bytes) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => {
                self.decoded.set(true);
                decode_1252(bytes)
            }
        }
    }

    /// The cell as written (not trimmed; only a CRLF line ending's `\r` removed): for
    /// post text.
    pub fn text(&self, idx: usize) -> Cow<'r, str> {
        let cell = self.cell(idx);
        if idx + 1 == self.rec.len() && cell.ends_with('\r') {
            return sub_cow(&cell, &cell[..cell.len() - 1]);
        }
        cell
    }

    /// The cell, trimmed.
    pub fn get(&self, idx: usize) -> Cow<'r, str> {
        if let Some(cell) = self.utf8_cell(idx) {
            return Cow::Borrowed(cell.trim_ascii());
        }
        let cell = self.cell(idx);
        let trimmed = cell.trim_ascii();
        if trimmed.len() == cell.len() { cell } else { sub_cow(&cell, trimmed) }
    }

    /// The trimmed cell, or `None` when the column is absent or the cell empty.
    pub fn opt(&self, idx: Option<usize>) -> Option<Cow<'r, str>> {
        let v = self.get(idx?);
        (!v.is_empty()).then_some(v)
    }

    /// Like [`Row::opt`] but also reads `NA`, `nan`, `None`, `null` as missing: for ids and
    /// numbers, which pandas and R write that way.
    pub fn opt_id(&self, idx: Option<usize>) -> Option<Cow<'r, str>> {
        let v = self.get(idx?);
        (!is_null_token(&v)).then_some(v)
    }

    pub fn count(&self, idx: Option<usize>) -> Option<u64> {
        self.opt(idx).and_then(|v| parse_count(&v))
    }

    /// A required time.
    pub fn time(&self, idx: usize) -> Result<DateTime<Utc>, String> {
        let v = self.get(idx);
        if v.is_empty() {
            return Err(format!("field {}: empty time", self.name(idx)));
        }
        parse_time(&v)
            .ok_or_else(|| format!("field {}: cannot parse '{}' as a time", self.name(idx), clip(&v)))
    }

    /// An optional time: unparseable values are dropped (only account metadata uses this).
    pub fn opt_time(&self, idx: Option<usize>) -> Option<DateTime<Utc>> {
        self.opt(idx).and_then(|v| parse_time(&v))
    }

    /// The required account key.
    pub fn account(&self, idx: usize) -> Result<Cow<'r, str>, String> {
        let v = self.get(idx);
        if v.is_empty() {
            return Err(format!("field {}: empty account", self.name(idx)));
        }
        Ok(v)
    }
}

/// `part`, a piece of `whole`, as a cow that borrows where `whole` does.
pub(crate) fn sub_cow<'r>(whole: &Cow<'r, str>, part: &str) -> Cow<'r, str> {
    match whole {
        Cow::Borrowed(s) => {
            // Where `part` sits in `whole`, from the addresses (never dereferenced).
            let start = (part.as_ptr() as usize).wrapping_sub(s.as_ptr() as usize);
            match s.get(start..start.wrapping_add(part.len())) {
                Some(piece) if piece.as_ptr() == part.as_ptr() => Cow::Borrowed(piece),
                _ => Cow::Owned(part.to_owned()),
            }
        }
        Cow::Owned(_) => Cow::Owned(part.to_owned()),
    }
}

/// Reads a CSV with a header, mapping each row with the mapper `build` makes from the
/// header. Missing columns are an error; everything row-level is a counted skip.
pub(crate) fn drive<M: RowMapper + Clone + Send, T: Send>(
    input: impl BufRead,
    delimiter: u8,
    out: &mut Out<'_, T>,
    format: &'static str,
    build: impl FnOnce(&Headers) -> Result<M, Vec<String>>,
) -> Result<(), ReadError> {
    // Only `\n` ends a record: bare carriage returns occur inside unquoted tweet text in
    // real exports, and CRLF endings leave a `\r` that the cell accessors drop.
    let mut rdr = RecordReader::new(input, delimiter, 256 * 1024);
    let mut header = Records::default();
    if let Err(source) = rdr.read_record(&mut header) {
        return Err(ReadError::Io {
            source_name: out.source().to_string(),
            source: io::Error::new(source.kind(), format!("cannot read the CSV header: {source}")),
        });
    }
    let names: Vec<String> = header
        .get(0)
        .into_iter()
        .flat_map(|h| h.iter())
        .enumerate()
        .map(|(i, f)| {
            let f = if i == 0 { f.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(f) } else { f };
            super::text::decode_cell(f).trim().to_string()
        })
        .collect();
    let headers = Headers { names };
    let mapper = build(&headers).map_err(|missing| ReadError::MissingColumns {
        source_name: out.source().to_string(),
        format,
        missing,
        found: headers
            .names
            .iter()
            .map(|n| if n.is_empty() { "(blank)".to_string() } else { n.clone() })
            .collect(),
    })?;
    let names = &headers.names;
    let transform = out.transform;
    let fields = out.fields;

    // This thread parses CSV (and decompresses) and calls the sink, which need not be
    // `Send`; mapping threads turn records into posts (UTF-8 checks, times, entities) and
    // run the caller's transform on them, which is most of the work. Batch `k` goes to
    // worker `k mod n` and its result is taken back from that worker in turn, so results
    // come back in input order. Batches of records travel in a fixed pool, so memory stays
    // bounded.
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, MAX_WORKERS);
    std::thread::scope(|scope| {
        let mut work_txs = Vec::with_capacity(workers);
        let mut done_rxs = Vec::with_capacity(workers);
        for _ in 0..workers {
            let (work_tx, work_rx) = mpsc::channel::<Work>();
            let (done_tx, done_rx) = mpsc::channel::<Done<T>>();
            let mut mapper = mapper.clone();
            let spawned = std::thread::Builder::new().name("scrutineer-csv-map".to_string()).spawn_scoped(
                scope,
                move || {
                    for batch in work_rx {
                        // The batch's bytes are checked for UTF-8 in one go: most records
                        // then need no check of their own.
                        let utf8 = simdutf8::basic::from_utf8(batch.as_bytes()).ok();
                        let n = batch.len();
                        // Only the input's last record is ever checked for a cut-off
                        // quoted field, and it ends a batch.
                        let mapped = batch
                            .iter()
                            .enumerate()
                            .map(|(i, rec)| {
                                let rec_utf8 = utf8.zip(batch.span(i)).and_then(|(all, span)| all.get(span));
                                map_record(rec, rec_utf8, names, fields, &mut mapper, transform, i + 1 == n)
                            })
                            .collect();
                        if done_tx.send((batch, mapped)).is_err() {
                            break;
                        }
                    }
                },
            );
            if let Err(source) = spawned {
                return Err(ReadError::Io { source_name: out.source().to_string(), source });
            }
            work_txs.push(work_tx);
            done_rxs.push(done_rx);
        }
        let mut lanes = Lanes { work: work_txs, done: done_rxs, sent: 0, received: 0 };

        let mut settler = Settler { pending: None };
        let mut pool: Vec<Records> = (0..IN_FLIGHT * workers).map(|_| Records::default()).collect();
        let end = loop {
            let mut batch = match pool.pop() {
                Some(batch) => batch,
                None => match lanes.recv() {
                    Some((batch, mapped)) => {
                        settler.settle_all(out, mapped);
                        batch
                    }
                    None => break End::Eof,
                },
            };
            batch.clear();
            let mut end = None;
            while batch.len() < BATCH {
                match rdr.read_record(&mut batch) {
                    Ok(true) => {}
                    Ok(false) => {
                        end = Some(End::Eof);
                        break;
                    }
                    Err(e) => {
                        end = Some(End::Io(rdr.next_record_line(), e.to_string()));
                        break;
                    }
                }
            }
            out.report.records += batch.len() as u64;
            if !batch.is_empty() {
                lanes.send(batch);
            } else {
                pool.push(batch);
            }
            while let Some((batch, mapped)) = lanes.try_recv() {
                settler.settle_all(out, mapped);
                pool.push(batch);
            }
            if let Some(end) = end {
                break end;
            }
        };
        while let Some((_, mapped)) = lanes.recv() {
            settler.settle_all(out, mapped);
        }
        drop(lanes);
        match end {
            End::Eof => {
                settler.finish_at_eof(out, rdr.odd_quotes(), !matches!(rdr.last_byte(), Some(b'\n' | b'\r')));
            }
            End::Io(line, err) => {
                if let Some(p) = settler.pending.take() {
                    settle(out, p);
                }
                out.report.truncated = true;
                out.skip(
                    line,
                    format!(
                        "cannot read past this point ({err}): the input is truncated or corrupt; \
                         the records before it were kept"
                    ),
                );
            }
        }
        Ok(())
    })
}

/// A batch of records back from a mapping thread, with its results.
type Done<T> = (Records, Vec<Mapped<T>>);

/// The channels to and from the mapping threads, used round-robin so that results are
/// taken back in the order the work was sent.
struct Lanes<T> {
    work: Vec<mpsc::Sender<Work>>,
    done: Vec<mpsc::Receiver<Done<T>>>,
    sent: usize,
    received: usize,
}

impl<T> Lanes<T> {
    fn send(&mut self, work: Work) {
        // A worker only goes away if it panicked; the panic surfaces when the scope joins.
        let _ = self.work[self.sent % self.work.len()].send(work);
        self.sent += 1;
    }

    /// The next result in order, waiting for it; `None` once every sent batch is back.
    fn recv(&mut self) -> Option<Done<T>> {
        self.take(true)
    }

    /// The next result in order if it is ready.
    fn try_recv(&mut self) -> Option<Done<T>> {
        self.take(false)
    }

    fn take(&mut self, wait: bool) -> Option<Done<T>> {
        if self.received == self.sent {
            return None;
        }
        let lane = &self.done[self.received % self.done.len()];
        let got = if wait { lane.recv().ok()? } else { lane.try_recv().ok()? };
        self.received += 1;
        Some(got)
    }
}

const BATCH: usize = 512;
/// Batches in flight per mapping thread.
const IN_FLIGHT: usize = 4;
/// Mapping threads at most: beyond this the parsing thread cannot keep them busy.
const MAX_WORKERS: usize = 4;

/// A batch of records for a mapping thread.
type Work = Records;

enum End {
    Eof,
    Io(u64, String),
}

/// One record after mapping, with what the end-of-input checks need.
struct Mapped<T> {
    line: u64,
    result: Result<T, String>,
    decoded: bool,
    short: bool,
    /// Whether the last field holds a line end; worked out only for the last record of a
    /// batch, the only one that can be the input's last.
    last_field_has_newline: bool,
}

/// Maps one record; `names` is the header (whose length every record must have), `utf8`
/// the record's bytes when its batch's check covered them.
fn map_record<M: RowMapper, T>(
    rec: Record<'_>,
    utf8: Option<&str>,
    names: &[String],
    fields: Fields,
    mapper: &mut M,
    transform: &(dyn Fn(PostRef<'_>) -> T + Sync),
    ends_batch: bool,
) -> Mapped<T> {
    let width = names.len();
    let line = rec.line();
    let short = rec.len() < width;
    let last_field_has_newline = ends_batch && rec.iter().next_back().is_some_and(|f| f.contains(&b'\n'));
    let mut decoded = false;
    let result = if !rec.nul_free() && memchr::memchr(0, rec.as_slice()).is_some() {
        // A line over --max-line-bytes reaches here as a marker holding NUL bytes.
        Err(match scrutineer_core::lines::long_line(rec.as_slice()) {
            Some(long) => long.reason(),
            None => "binary data (NUL bytes) in the record".to_string(),
        })
    } else if rec.len() != width {
        Err(format!("expected {width} fields as in the header, found {}", rec.len()))
    } else {
        let row = Row::new(rec, utf8, names, fields);
        let result = mapper.map(&row).map(transform);
        decoded = row.decoded.get();
        result
    };
    Mapped { line, result, decoded, short, last_field_has_newline }
}

/// Hands results to the sink in order, holding back the latest record until it is known
/// not to be the cut-off end of a truncated input.
struct Settler<T> {
    pending: Option<Mapped<T>>,
}

impl<T> Settler<T> {
    fn settle_all(&mut self, out: &mut Out<'_, T>, mapped: Vec<Mapped<T>>) {
        for m in mapped {
            if m.decoded {
                out.report.decoded_latin1 += 1;
            }
            if let Some(p) = self.pending.replace(m) {
                settle(out, p);
            }
        }
    }

    fn finish_at_eof(&mut self, out: &mut Out<'_, T>, odd_quotes: bool, no_final_newline: bool) {
        let Some(p) = self.pending.take() else { return };
        if odd_quotes && (p.short || no_final_newline || p.last_field_has_newline) {
            out.report.truncated = true;
            out.skip(p.line, "the record ends inside a quoted field: the input is truncated".to_string());
        } else if p.short && no_final_newline {
            out.report.truncated = true;
            let why = p.result.err().unwrap_or_default();
            out.skip(p.line, format!("the input ends mid-record ({why}): the input is truncated"));
        } else {
            settle(out, p);
        }
    }
}

fn settle<T>(out: &mut Out<'_, T>, p: Mapped<T>) {
    match p.result {
        Ok(item) => out.emit_transformed(item),
        Err(reason) => out.skip(p.line, reason),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::read::text::decode_1252;
    use crate::read::{Format, read_posts};

    /// The text of each row as read, and how many rows were decoded as Windows-1252, of a
    /// CSV whose rows are `(text, note)` byte strings (`note` is a column nothing reads).
    fn read_texts(rows: &[(Vec<u8>, Vec<u8>)]) -> (Vec<String>, u64) {
        let mut csv = b"text,account,time,note\n".to_vec();
        for (i, (text, note)) in rows.iter().enumerate() {
            csv.extend_from_slice(text);
            csv.extend_from_slice(format!(",u{i},2016-10-05T20:00:00Z,").as_bytes());
            csv.extend_from_slice(note);
            csv.push(b'\n');
        }
        let format = Format::Csv("account=account,time=time,text=text".parse().expect("mapping"));
        let mut texts = Vec::new();
        let report = read_posts(&csv[..], "batch.csv", &format, |p| texts.push(p.text)).expect("reads");
        (texts, report.decoded_latin1)
    }

    /// What each text should read as: UTF-8 as it is, anything else as Windows-1252.
    fn decoded(rows: &[(Vec<u8>, Vec<u8>)]) -> (Vec<String>, u64) {
        let texts = rows
            .iter()
            .map(|(text, _)| match std::str::from_utf8(text) {
                Ok(s) => s.to_string(),
                Err(_) => decode_1252(text).into_owned(),
            })
            .collect();
        let latin = rows.iter().filter(|(text, _)| std::str::from_utf8(text).is_err()).count();
        (texts, latin as u64)
    }

    /// Pieces of cells: mostly UTF-8 (so that whole batches often are), with lone halves
    /// of `é` and a Windows-1252 `é` now and then.
    fn cell(max: usize) -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            prop_oneof![
                20 => Just(b"a".to_vec()),
                10 => Just("é".as_bytes().to_vec()),
                1 => Just(vec![0xC3]),
                1 => Just(vec![0xA9]),
                1 => Just(vec![0xE9]),
            ],
            0..max,
        )
        .prop_map(|pieces| pieces.concat())
    }

    proptest! {
        /// A batch of records checked for UTF-8 in one go decodes every cell as a check of
        /// each record alone would.
        #[test]
        fn batch_utf8_check_decodes_as_each_record_alone(
            rows in proptest::collection::vec((cell(6), cell(3)), 1..12),
        ) {
            prop_assert_eq!(read_texts(&rows), decoded(&rows));
        }
    }

    /// Records lie back to back in a batch, without their line breaks: a row ending in the
    /// first byte of `é` and a row starting with its second make the batch valid UTF-8,
    /// though neither row is.
    #[test]
    fn a_character_split_across_two_records_is_in_neither() {
        let rows = vec![
            (b"ok".to_vec(), vec![b'x', 0xC3]),
            (vec![0xA9, b'y'], b"z".to_vec()),
            ("fin é".as_bytes().to_vec(), Vec::new()),
        ];
        let (texts, latin) = read_texts(&rows);
        assert_eq!((texts.clone(), latin), decoded(&rows));
        assert_eq!(texts[1], "\u{A9}y", "the second row's text, decoded as Windows-1252");
        assert_eq!(latin, 1);
    }
}
