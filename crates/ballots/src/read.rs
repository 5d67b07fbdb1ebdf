//! Readers: the four inputs, in any [`Layout`], into one normalised [`Dataset`] with ids
//! interned to integers. Rows that cannot be read are kept as [`Malformed`] with their
//! file, line and field; they are never dropped silently.

use std::io::Read;
use std::path::Path;
use std::sync::mpsc;

use std::hash::BuildHasher;

use csv::ByteRecord;

use crate::layout::Layout;
use crate::time::{self, DateFormat};
use crate::{BallotsError, Outcome, VoterStatus};
use scrutineer_core::input::Input;
use scrutineer_core::intern::Interner;
use scrutineer_core::lines::LineLimit;

/// The record type handed to a [`RecordSink`], re-exported so callers need no csv dependency.
pub type CsvRecord = ByteRecord;

/// A voter reference: an index into the roll, or (with this bit set) into the voters
/// that are named by issuance but absent from the roll.
pub const NOT_ON_ROLL: u32 = 1 << 31;
/// An envelope reference with this bit set is a receipt's envelope that was never issued.
pub const UNISSUED: u32 = 1 << 31;

/// One row that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// The file it is in.
    pub file: String,
    /// Its line (1-based).
    pub line: u64,
    /// The field at fault (empty when the row as a whole is).
    pub field: String,
    /// What is wrong, with the value quoted (bounded and escaped).
    pub problem: String,
}

/// One physical receipt of an envelope (or, with status events, one status of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    pub envelope: u32,
    pub outcome: Outcome,
    pub channel: u32,
    pub reason: u32,
    pub at: i64,
    pub line: u32,
}

/// One in-person check-in (poll book or early-voting site).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkin {
    pub voter: u32,
    pub at: i64,
    pub location: u32,
    pub line: u32,
    /// The election (day number) of a voter-history row; [`NO_ELECTION`] for poll books
    /// of this election alone.
    pub election: i32,
}

/// [`Checkin::election`] of rows that carry no election date.
pub const NO_ELECTION: i32 = i32::MIN;

/// An Intelligent Mail barcode carried by two issued envelopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DuplicateImb {
    pub imb: u128,
    /// The envelope that holds the barcode (the first issued); return scans by it go there.
    pub first: u32,
    pub other: u32,
}

/// Packs an Intelligent Mail barcode (20, 25, 29 or 31 digits: barcode id, service type,
/// mailer id, serial, and a routing ZIP of 0, 5, 9 or 11 digits) into a `u128`: the digits
/// as a number (below 10^31 < 2^104) and the length in the top byte, so that leading
/// zeros survive. `None` for anything else.
pub fn pack_imb(s: &[u8]) -> Option<u128> {
    let s = s.trim_ascii();
    if !matches!(s.len(), 20 | 25 | 29 | 31) || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    // Two u64 halves (at most 15 and 16 digits): cheaper than u128 arithmetic per digit.
    let digits = |d: &[u8]| d.iter().fold(0u64, |v, &c| v * 10 + (c - b'0') as u64);
    let (hi, lo) = s.split_at(s.len() - 16);
    let v = digits(hi) as u128 * 10_000_000_000_000_000 + digits(lo) as u128;
    Some(v | (s.len() as u128) << 120)
}

/// The digits of a packed barcode.
pub fn imb_text(imb: u128) -> String {
    let len = (imb >> 120) as usize;
    format!("{:0len$}", imb & ((1u128 << 120) - 1))
}

fn imb_hash(imb: u128) -> u64 {
    rustc_hash::FxBuildHasher.hash_one(imb)
}

/// Counts of rows read, by what became of them. The run summary keeps it as it is, so its
/// fields are part of the summary's layout (see `summary`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReadStats {
    /// Roll rows read.
    pub roll_rows: u64,
    /// Issuance rows read.
    pub issued_rows: u64,
    /// Return rows read.
    pub return_rows: u64,
    /// Check-in rows read.
    pub checkin_rows: u64,
    /// Rows naming an envelope already read (status history in NC-style files).
    pub status_updates: u64,
    /// Rows describing a request with no ballot sent yet (NC files), not envelopes.
    pub not_yet_sent: u64,
    /// Return-file rows of an unreturned ballot (no return date; NC files).
    pub not_returned: u64,
    /// Rows that record in-person votes (NC ONE-STOP), read as check-ins.
    pub in_person_rows: u64,
    /// Statuses that void an envelope without a vote (spoiled, undeliverable, cancelled).
    pub spoiled_rows: u64,
    /// Return rows matched to their envelope by Intelligent Mail barcode, not envelope id.
    pub imb_matched: u64,
    /// Voter-history rows of other elections (not check-ins of this one).
    pub other_election_rows: u64,
    /// Voter-history rows whose method is not an in-person vote (e.g. ABSENTEE BY MAIL).
    pub not_in_person_rows: u64,
    /// Rows that could not be read (the dataset's `malformed` lists them).
    pub malformed: u64,
}

impl ReadStats {
    /// Rows read in all: those counted by file, and malformed rows the csv layer rejected
    /// before any count (a few malformed rows are counted twice: the share errs low).
    pub fn rows_read(&self) -> u64 {
        self.roll_rows + self.issued_rows + self.return_rows + self.checkin_rows + self.malformed
    }

    /// Fails when more than `max_share` (0..=1, `--max-malformed`) of the rows read were
    /// malformed.
    pub fn check_malformed(&self, max_share: f64) -> Result<(), scrutineer_core::lines::TooManyMalformed> {
        scrutineer_core::lines::check_malformed("rows", self.malformed, self.rows_read(), max_share)
    }
}

/// Everything read, normalised.
#[derive(Default)]
pub struct Dataset {
    /// Small vocabularies: precincts, styles, counties, ZIPs, channels, reasons, sites. Id 0 is "".
    pub labels: Interner,
    /// Voter ids of the roll; a voter's index is its position here.
    pub voters: Interner,
    /// Per voter: the roll status.
    pub voter_status: Vec<VoterStatus>,
    /// Per voter: the precinct (a label id).
    pub voter_precinct: Vec<u32>,
    /// Per voter: the ballot style (a label id).
    pub voter_style: Vec<u32>,
    /// Per voter: the county (a label id).
    pub voter_county: Vec<u32>,
    /// Per voter: the ZIP code (a label id).
    pub voter_zip: Vec<u32>,
    /// Per voter: the roll line.
    pub voter_line: Vec<u32>,
    /// Voter ids named by issuance but absent from the roll.
    pub unknown_voters: Interner,
    /// Envelope ids issued; an envelope's index is its position here.
    pub envelopes: Interner,
    /// Per envelope: the voter (an index, or [`NOT_ON_ROLL`] with an index into `unknown_voters`).
    pub env_voter: Vec<u32>,
    /// Per envelope: the ballot style issued (a label id).
    pub env_style: Vec<u32>,
    /// Per envelope: the issue day (days since 1970).
    pub env_day: Vec<i32>,
    /// FxHash of the normalised mailing address (0: none); the text is re-read only for evidence.
    pub env_address: Vec<u64>,
    /// Per envelope: the mailing ZIP code (a label id).
    pub env_zip: Vec<u32>,
    /// Per envelope: the issuance line.
    pub env_line: Vec<u32>,
    /// Per envelope: voided without a vote (spoiled, undeliverable, cancelled).
    pub env_spoiled: Vec<bool>,
    /// Packed Intelligent Mail barcode per envelope (`pack_imb`; 0: none). Empty until
    /// the first barcode is read, and only as long as the last envelope that has one.
    pub env_imb: Vec<u128>,
    /// Envelopes by barcode (hash of the packed IMb), the first issued for each barcode;
    /// built on the first lookup by barcode ([`Dataset::envelope_by_imb`]).
    imb_index: Option<hashbrown::HashTable<u32>>,
    /// Barcodes printed on more than one envelope.
    pub imb_duplicates: Vec<DuplicateImb>,
    /// Envelope ids received but never issued.
    pub unissued: Interner,
    /// Every receipt read.
    pub receipts: Vec<Receipt>,
    /// Every in-person check-in read.
    pub checkins: Vec<Checkin>,
    /// Every row that could not be read.
    pub malformed: Vec<Malformed>,
    /// What was read.
    pub stats: ReadStats,
    /// Several rows of one envelope are statuses of one receipt ([`Layout::status_events`]).
    pub status_events: bool,
    /// The inputs' names, for evidence.
    pub files: Files,
}

/// The display names of the inputs, for evidence and errors.
#[derive(Debug, Clone, Default)]
pub struct Files {
    pub roll: String,
    pub issued: String,
    pub returns: String,
    pub checkins: String,
}

/// Receives every record read (for the ledger); an error aborts reading.
pub type RecordSink<'a> = dyn FnMut(&str, u64, &ByteRecord) -> Result<(), String> + 'a;
/// Receives the bytes read so far of the named file.
pub type Progress<'a> = dyn Fn(&str, u64) + 'a;

/// The four input files.
pub struct Inputs<'p> {
    /// The voter roll.
    pub roll: &'p Path,
    /// Ballot issuance.
    pub issued: &'p Path,
    /// Return events.
    pub returns: &'p Path,
    /// In-person check-ins, if any.
    pub checkins: Option<&'p Path>,
    /// Longest line read ([`scrutineer_core::lines::LineLimit`]); a longer one is a
    /// malformed row, never held whole.
    pub max_line: usize,
}

/// An input after decompression, its first bytes (read to choose the delimiter) put back.
type Source = LineLimit<std::io::Chain<std::io::Cursor<Vec<u8>>, Input>>;

struct Csv {
    reader: csv::Reader<Source>,
    headers: Vec<String>,
    name: String,
    /// Rows expected, from the file size and the line lengths of its first 64 KiB.
    estimated_rows: usize,
}

/// CSV exports compress about four to ten times; the low end, so that room made for the
/// rows of a compressed input is rarely more than needed.
const COMPRESSED_CSV_RATIO: usize = 4;

fn open_csv(path: &Path, max_line: usize) -> Result<Csv, BallotsError> {
    let io = |source| BallotsError::Io { path: path.to_path_buf(), source };
    let mut input = scrutineer_core::input::open(path)?;
    let mut head = vec![0u8; 64 * 1024];
    let mut n = 0;
    while n < head.len() {
        match input.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io(e)),
        }
    }
    head.truncate(n);
    let first = head.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let tabs = first.iter().filter(|&&b| b == b'\t').count();
    let commas = first.iter().filter(|&&b| b == b',').count();
    let delimiter = if tabs > commas { b'\t' } else { b',' };
    let lines = head.iter().filter(|&&b| b == b'\n').count().max(1);
    let on_disk = input.file_len().unwrap_or(0) as usize;
    let file_len = if input.compression().is_compressed() {
        on_disk.saturating_mul(COMPRESSED_CSV_RATIO)
    } else {
        on_disk
    };
    let estimated_rows = file_len / (n / lines).max(1) + 1;
    let f = LineLimit::new(std::io::Cursor::new(head).chain(input), max_line);
    let mut reader =
        csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).buffer_capacity(1 << 20).from_reader(f);
    let headers = reader
        .byte_headers()
        .map_err(|e| BallotsError::Csv { path: path.to_path_buf(), message: e.to_string() })?
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().trim_start_matches('\u{feff}').to_owned())
        .collect();
    Ok(Csv { reader, headers, name: path.display().to_string(), estimated_rows })
}

impl Csv {
    fn col(&self, name: &str) -> Result<usize, BallotsError> {
        self.headers.iter().position(|h| h == name).ok_or_else(|| BallotsError::MissingColumn {
            file: self.name.clone(),
            column: name.to_owned(),
            found: self.headers.join(","),
        })
    }

    fn opt(&self, name: Option<&String>) -> Option<usize> {
        name.and_then(|n| self.headers.iter().position(|h| h == n))
    }

    /// Calls `f` for every record; csv-level errors become malformed rows. The CSV is
    /// parsed on a second thread, a batch of records ahead, while this one interns and
    /// checks: the two halves take about the same time on large files.
    ///
    /// `ahead` is called for the record [`LOOKAHEAD`] rows before `f` reaches it, to
    /// prefetch the table slots that `f` will probe for it: the probes into tables of
    /// millions of ids are cache misses, and started early they overlap.
    fn each(
        &mut self,
        ds: &mut Dataset,
        sink: &mut Option<&mut RecordSink<'_>>,
        progress: Option<&Progress<'_>>,
        source: &str,
        ahead: impl Fn(&Dataset, &ByteRecord),
        mut f: impl FnMut(&mut Dataset, u64, &ByteRecord),
    ) -> Result<(), BallotsError> {
        let (name, reader, headers) = (&self.name, &mut self.reader, &self.headers);
        std::thread::scope(|scope| {
            let (full_tx, full_rx) = mpsc::sync_channel::<Batch>(BATCHES);
            let (free_tx, free_rx) = mpsc::channel::<Batch>();
            for _ in 0..BATCHES + 2 {
                let _ = free_tx.send(Batch::new());
            }
            scope.spawn(move || parse_batches(reader, &free_rx, &full_tx));
            // Owning both channel ends here means an early return releases the parser.
            let mut consume = move |full_rx: mpsc::Receiver<Batch>, free_tx: mpsc::Sender<Batch>| {
                let mut n = 0u64;
                let mut byte = 0u64;
                while let Ok(b) = full_rx.recv() {
                    for rec in b.recs[..b.n.min(LOOKAHEAD)].iter() {
                        ahead(ds, rec);
                    }
                    for (i, rec) in b.recs[..b.n].iter().enumerate() {
                        if let Some(next) = b.recs[..b.n].get(i + LOOKAHEAD) {
                            ahead(ds, next);
                        }
                        let line = rec.position().map(|p| p.line()).unwrap_or(0);
                        if let Some(s) = sink.as_mut() {
                            s(source, line, rec).map_err(|message| BallotsError::Sink { message })?;
                        }
                        match unreadable(rec, headers) {
                            None => f(ds, line, rec),
                            Some((field, problem)) => ds.malformed(name, line, field, &problem),
                        }
                        n += 1;
                        if n.is_multiple_of(65_536)
                            && let Some(p) = progress
                        {
                            p(name, b.byte);
                        }
                    }
                    byte = b.byte;
                    if let Some(e) = &b.err {
                        if let csv::ErrorKind::Io(_) = e.kind() {
                            return Err(BallotsError::Csv { path: name.into(), message: e.to_string() });
                        }
                        let line = e.position().map(|p| p.line()).unwrap_or(0);
                        ds.malformed(name, line, "", &e.to_string());
                        n += 1;
                    }
                    let done = b.done;
                    let _ = free_tx.send(b);
                    if done {
                        break;
                    }
                }
                if let Some(p) = progress {
                    p(name, byte);
                }
                Ok(())
            };
            consume(full_rx, free_tx)
        })
    }
}

/// How many rows ahead of the row being read its table slots are prefetched: enough to
/// cover a memory access with the work of the rows between.
const LOOKAHEAD: usize = 16;

/// Records per batch handed from the parsing thread, and batches in flight.
const BATCH: usize = 2048;
const BATCHES: usize = 4;

struct Batch {
    recs: Vec<ByteRecord>,
    /// Records filled.
    n: usize,
    /// The error that ended the batch early (after its `n` records).
    err: Option<csv::Error>,
    /// Bytes read so far, for progress.
    byte: u64,
    /// The last batch of the file.
    done: bool,
}

impl Batch {
    fn new() -> Batch {
        Batch { recs: (0..BATCH).map(|_| ByteRecord::new()).collect(), n: 0, err: None, byte: 0, done: false }
    }
}

/// Why a row cannot be read as text, with the column at fault: a line over the length
/// limit (which reaches here as a marker), or bytes that are not UTF-8. Either would
/// otherwise be read as an id that matches nothing, and change the counts silently.
fn unreadable<'h>(rec: &ByteRecord, headers: &'h [String]) -> Option<(&'h str, String)> {
    // The marker is valid UTF-8, and holds NUL, which no CSV export of ours does.
    if memchr::memchr(0, rec.as_slice()).is_some()
        && let Some(long) = scrutineer_core::lines::long_line(rec.as_slice())
    {
        return Some(("", long.reason()));
    }
    if std::str::from_utf8(rec.as_slice()).is_ok() {
        return None;
    }
    let (i, cell, err) =
        rec.iter().enumerate().find_map(|(i, c)| std::str::from_utf8(c).err().map(|e| (i, c, e)))?;
    let column = headers.get(i).map_or("", String::as_str);
    Some((
        column,
        format!(
            "not UTF-8 (byte 0x{:02x} at offset {}): the row was not read; re-export the file as UTF-8. Value: '{}'",
            cell[err.valid_up_to()],
            err.valid_up_to(),
            scrutineer_core::text::echo(cell)
        ),
    ))
}

fn parse_batches(
    reader: &mut csv::Reader<Source>,
    free: &mpsc::Receiver<Batch>,
    full: &mpsc::SyncSender<Batch>,
) {
    while let Ok(mut b) = free.recv() {
        b.n = 0;
        b.err = None;
        b.done = false;
        while b.n < BATCH {
            match reader.read_byte_record(&mut b.recs[b.n]) {
                Ok(false) => {
                    b.done = true;
                    break;
                }
                Ok(true) => b.n += 1,
                Err(e) => {
                    b.done = matches!(e.kind(), csv::ErrorKind::Io(_));
                    b.err = Some(e);
                    break;
                }
            }
        }
        b.byte = reader.position().byte();
        let done = b.done;
        if full.send(b).is_err() || done {
            return;
        }
    }
}

fn field(rec: &ByteRecord, i: Option<usize>) -> &[u8] {
    i.and_then(|i| rec.get(i)).map(<[u8]>::trim_ascii).unwrap_or(b"")
}

/// The ZIP of an address: its last run of exactly five digits (ZIP+4 allowed).
pub fn zip_of(address: &[u8]) -> &[u8] {
    let mut end = address.len();
    while end > 0 {
        while end > 0 && !address[end - 1].is_ascii_digit() {
            end -= 1;
        }
        let mut start = end;
        while start > 0 && address[start - 1].is_ascii_digit() {
            start -= 1;
        }
        if end - start == 5 {
            return &address[start..end];
        }
        if end - start == 4 && start > 6 && address[start - 1] == b'-' {
            let z = &address[start - 6..start - 1];
            if z.iter().all(u8::is_ascii_digit) {
                return z;
            }
        }
        end = start;
    }
    b""
}

fn norm_address(a: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut space = true;
    for &b in a {
        if b.is_ascii_whitespace() || b == b',' || b == b'.' {
            if !space {
                out.push(b' ');
                space = true;
            }
        } else {
            out.push(b.to_ascii_uppercase());
            space = false;
        }
    }
    while out.last() == Some(&b' ') {
        out.pop();
    }
}

impl Dataset {
    fn malformed(&mut self, file: &str, line: u64, field: &str, problem: &str) {
        self.stats.malformed += 1;
        self.malformed.push(Malformed {
            file: file.to_owned(),
            line,
            field: field.to_owned(),
            problem: problem.to_owned(),
        });
    }

    fn label(&mut self, s: &[u8]) -> u32 {
        self.labels.intern(s).0
    }

    /// A voter's id, on the roll or not.
    pub fn voter_key(&self, v: u32) -> &str {
        if v & NOT_ON_ROLL != 0 {
            self.unknown_voters.get_str(v & !NOT_ON_ROLL)
        } else {
            self.voters.get_str(v)
        }
    }

    /// An envelope's id, issued or not.
    pub fn envelope_key(&self, e: u32) -> &str {
        if e & UNISSUED != 0 { self.unissued.get_str(e & !UNISSUED) } else { self.envelopes.get_str(e) }
    }

    /// Voters on the roll.
    pub fn voters_on_roll(&self) -> usize {
        self.voters.len()
    }

    /// Envelopes issued.
    pub fn envelopes_issued(&self) -> usize {
        self.envelopes.len()
    }

    /// The issued envelope that carries this barcode (the first issued, if several do).
    /// The barcode index is built on the first call: most counties' scans name the
    /// envelope id, and 20 M hash-table inserts would otherwise cost every run ~10 s.
    pub fn envelope_by_imb(&mut self, imb: u128) -> Option<u32> {
        if self.env_imb.is_empty() {
            return None;
        }
        let env_imb = &self.env_imb;
        let index = self.imb_index.get_or_insert_with(|| {
            let n = env_imb.iter().filter(|&&x| x != 0).count();
            let mut index = hashbrown::HashTable::with_capacity(n);
            for (e, &b) in env_imb.iter().enumerate() {
                if b == 0 {
                    continue;
                }
                if let hashbrown::hash_table::Entry::Vacant(slot) = index.entry(
                    imb_hash(b),
                    |&x: &u32| env_imb[x as usize] == b,
                    |&x| imb_hash(env_imb[x as usize]),
                ) {
                    slot.insert(e as u32);
                }
            }
            index
        });
        index.find(imb_hash(imb), |&e| env_imb[e as usize] == imb).copied()
    }

    /// Records envelope `e`'s barcode. The first barcode sizes the vector for `expected`
    /// envelopes, so that it does not double (and copy) while a large file is read.
    fn set_imb(&mut self, e: u32, imb: u128, expected: usize) {
        let i = e as usize;
        if self.env_imb.is_empty() {
            self.env_imb.reserve_exact(expected.max(i + 1));
        }
        if self.env_imb.len() <= i {
            self.env_imb.resize(i + 1, 0);
        }
        self.env_imb[i] = imb;
    }

    /// Barcodes printed on more than one issued envelope, found by sorting (a parallel
    /// sort of the packed barcodes costs far less than hashing each one): one entry per
    /// extra envelope, naming the first envelope issued with that barcode.
    fn find_duplicate_imbs(&mut self) {
        use rayon::slice::ParallelSliceMut;
        if self.env_imb.is_empty() {
            return;
        }
        let mut sorted: Vec<u128> = self.env_imb.iter().copied().filter(|&x| x != 0).collect();
        sorted.par_sort_unstable();
        let mut repeated: Vec<u128> = sorted.windows(2).filter(|w| w[0] == w[1]).map(|w| w[0]).collect();
        drop(sorted);
        if repeated.is_empty() {
            return;
        }
        repeated.dedup();
        let repeated: rustc_hash::FxHashSet<u128> = repeated.into_iter().collect();
        let mut first: rustc_hash::FxHashMap<u128, u32> = Default::default();
        for (e, &b) in self.env_imb.iter().enumerate() {
            if b != 0 && repeated.contains(&b) {
                match first.entry(b) {
                    std::collections::hash_map::Entry::Occupied(f) => {
                        self.imb_duplicates.push(DuplicateImb { imb: b, first: *f.get(), other: e as u32 })
                    }
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert(e as u32);
                    }
                }
            }
        }
    }
}

/// Reads all inputs in `layout`. `sink` sees every record in file order (roll, issued,
/// returns, check-ins).
pub fn read_all(
    inputs: &Inputs<'_>,
    layout: &Layout,
    mut sink: Option<&mut RecordSink<'_>>,
    progress: Option<&Progress<'_>>,
) -> Result<Dataset, BallotsError> {
    let mut ds = Dataset { status_events: layout.status_events, ..Dataset::default() };
    ds.labels.intern(b"");
    ds.files = Files {
        roll: inputs.roll.display().to_string(),
        issued: inputs.issued.display().to_string(),
        returns: inputs.returns.display().to_string(),
        checkins: inputs.checkins.map(|p| p.display().to_string()).unwrap_or_default(),
    };
    read_roll(&mut ds, inputs.roll, inputs.max_line, layout, &mut sink, progress)?;
    read_issued(&mut ds, inputs.issued, inputs.max_line, layout, &mut sink, progress)?;
    ds.find_duplicate_imbs();
    read_returns(&mut ds, inputs.returns, inputs.max_line, layout, &mut sink, progress)?;
    if let Some(c) = inputs.checkins {
        read_checkins(&mut ds, c, inputs.max_line, layout, &mut sink, progress)?;
    }
    Ok(ds)
}

fn read_roll(
    ds: &mut Dataset,
    path: &Path,
    max_line: usize,
    l: &Layout,
    sink: &mut Option<&mut RecordSink<'_>>,
    progress: Option<&Progress<'_>>,
) -> Result<(), BallotsError> {
    let mut csv = open_csv(path, max_line)?;
    let c = &l.roll;
    let (vid, precinct) = (csv.col(&c.voter_id)?, csv.col(&c.precinct)?);
    let status = match &c.status {
        Some(s) => Some(csv.col(s)?),
        None => None,
    };
    let default_status = l.default_voter_status.unwrap_or(VoterStatus::Active);
    let status_name = c.status.as_deref().unwrap_or("status");
    let (style, address, zip, county) = (
        csv.opt(c.ballot_style.as_ref()),
        csv.opt(c.address.as_ref()),
        csv.opt(c.zip.as_ref()),
        csv.opt(c.county.as_ref()),
    );
    let name = csv.name.clone();
    ds.voters.reserve(csv.estimated_rows, 12);
    for v in [
        &mut ds.voter_precinct,
        &mut ds.voter_style,
        &mut ds.voter_county,
        &mut ds.voter_zip,
        &mut ds.voter_line,
    ] {
        v.reserve(csv.estimated_rows);
    }
    ds.voter_status.reserve(csv.estimated_rows);
    let ahead = |ds: &Dataset, rec: &ByteRecord| ds.voters.prefetch(field(rec, Some(vid)));
    csv.each(ds, sink, progress, "roll", ahead, |ds, line, rec| {
        ds.stats.roll_rows += 1;
        let id = field(rec, Some(vid));
        if id.is_empty() {
            return ds.malformed(&name, line, &c.voter_id, "empty voter id");
        }
        let st = match status {
            None => default_status,
            Some(_) => match l.voter_status(field(rec, status)) {
                Some(st) => st,
                None => {
                    let v = scrutineer_core::text::echo(field(rec, status));
                    return ds.malformed(&name, line, status_name, &format!("unknown voter status '{v}'"));
                }
            },
        };
        let (v, new) = ds.voters.intern(id);
        if !new {
            let first = ds.voter_line[v as usize];
            return ds.malformed(
                &name,
                line,
                &c.voter_id,
                &format!("duplicate voter id (first at line {first}); the first row is used"),
            );
        }
        let p = ds.label(field(rec, Some(precinct)));
        let s = ds.label(field(rec, style));
        let co = ds.label(field(rec, county));
        let z = if zip.is_some() {
            &field(rec, zip)[..field(rec, zip).len().min(5)]
        } else {
            zip_of(field(rec, address))
        };
        let z = ds.label(z);
        ds.voter_status.push(st);
        ds.voter_precinct.push(p);
        ds.voter_style.push(s);
        ds.voter_county.push(co);
        ds.voter_zip.push(z);
        ds.voter_line.push(line as u32);
    })
}

fn envelope_key(
    buf: &mut Vec<u8>,
    id_col: Option<usize>,
    voter: &[u8],
    date: &[u8],
    rec: &ByteRecord,
) -> bool {
    buf.clear();
    match id_col {
        Some(_) => buf.extend_from_slice(field(rec, id_col)),
        None => {
            if voter.is_empty() || date.is_empty() {
                return false;
            }
            buf.extend_from_slice(voter);
            buf.push(b'/');
            buf.extend_from_slice(date);
        }
    }
    !buf.is_empty()
}

fn read_issued(
    ds: &mut Dataset,
    path: &Path,
    max_line: usize,
    l: &Layout,
    sink: &mut Option<&mut RecordSink<'_>>,
    progress: Option<&Progress<'_>>,
) -> Result<(), BallotsError> {
    let mut csv = open_csv(path, max_line)?;
    let c = &l.issued;
    let env = match &c.envelope_id {
        Some(n) => Some(csv.col(n)?),
        None => None,
    };
    let (vid, day) = (csv.col(&c.voter_id)?, csv.col(&c.issue_date)?);
    let (style, address, zip, rtype) = (
        csv.opt(c.ballot_style.as_ref()),
        csv.opt(c.address.as_ref()),
        csv.opt(c.zip.as_ref()),
        csv.opt(c.request_type.as_ref()),
    );
    let imb_col = csv.opt(c.imb.as_ref());
    let imb_name = c.imb.as_deref().unwrap_or("imb");
    let expected = csv.estimated_rows + csv.estimated_rows / 8;
    let name = csv.name.clone();
    let mut key = Vec::new();
    let mut addr = Vec::new();
    ds.envelopes.reserve(csv.estimated_rows, 14);
    for v in [&mut ds.env_voter, &mut ds.env_style, &mut ds.env_zip, &mut ds.env_line] {
        v.reserve(csv.estimated_rows);
    }
    ds.env_day.reserve(csv.estimated_rows);
    ds.env_address.reserve(csv.estimated_rows);
    ds.env_spoiled.reserve(csv.estimated_rows);
    let ahead = |ds: &Dataset, rec: &ByteRecord| {
        ds.voters.prefetch(field(rec, Some(vid)));
        if env.is_some() {
            ds.envelopes.prefetch(field(rec, env));
        }
    };
    csv.each(ds, sink, progress, "issued", ahead, |ds, line, rec| {
        ds.stats.issued_rows += 1;
        if rtype.is_some() && l.is_in_person(field(rec, rtype)) {
            ds.stats.in_person_rows += 1;
            return;
        }
        let voter = field(rec, Some(vid));
        let date = field(rec, Some(day));
        if env.is_none() && date.is_empty() {
            ds.stats.not_yet_sent += 1;
            return;
        }
        if !envelope_key(&mut key, env, voter, date, rec) {
            return ds.malformed(
                &name,
                line,
                c.envelope_id.as_deref().unwrap_or(&c.voter_id),
                "empty envelope id",
            );
        }
        if voter.is_empty() {
            return ds.malformed(&name, line, &c.voter_id, "empty voter id");
        }
        let Some(t) = time::parse(date, &l.date_format) else {
            let v = scrutineer_core::text::echo(date);
            return ds.malformed(&name, line, &c.issue_date, &format!("unreadable date '{v}'"));
        };
        let (e, new) = ds.envelopes.intern(&key);
        if !new {
            if l.status_events {
                ds.stats.status_updates += 1;
            } else {
                let first = ds.env_line[e as usize];
                ds.malformed(
                    &name,
                    line,
                    c.envelope_id.as_deref().unwrap_or("envelope"),
                    &format!("envelope issued twice (first at line {first}); the first row is used"),
                );
            }
            return;
        }
        let v = match ds.voters.lookup(voter) {
            Some(v) => v,
            None => ds.unknown_voters.intern(voter).0 | NOT_ON_ROLL,
        };
        let s = ds.label(field(rec, style));
        norm_address(field(rec, address), &mut addr);
        let a = if addr.is_empty() { 0 } else { rustc_hash::FxBuildHasher.hash_one(&addr) | 1 };
        let z = if zip.is_some() { &field(rec, zip)[..field(rec, zip).len().min(5)] } else { zip_of(&addr) };
        let z = ds.label(z);
        ds.env_voter.push(v);
        ds.env_style.push(s);
        ds.env_day.push(t.div_euclid(86_400) as i32);
        ds.env_address.push(a);
        ds.env_zip.push(z);
        ds.env_line.push(line as u32);
        ds.env_spoiled.push(false);
        let imb = field(rec, imb_col);
        if !imb.is_empty() {
            match pack_imb(imb) {
                Some(p) => ds.set_imb(e, p, expected),
                None => {
                    let v = scrutineer_core::text::echo(imb);
                    ds.malformed(
                        &name,
                        line,
                        imb_name,
                        &format!(
                            "'{v}' is not an Intelligent Mail barcode (20, 25, 29 or 31 digits); the envelope is read without it"
                        ),
                    );
                }
            }
        }
    })
}

fn parse_time(s: &[u8], primary: &DateFormat, fallback: &DateFormat) -> Option<i64> {
    time::parse(s, primary).or_else(|| time::parse(s, fallback))
}

fn read_returns(
    ds: &mut Dataset,
    path: &Path,
    max_line: usize,
    l: &Layout,
    sink: &mut Option<&mut RecordSink<'_>>,
    progress: Option<&Progress<'_>>,
) -> Result<(), BallotsError> {
    let mut csv = open_csv(path, max_line)?;
    let c = &l.returns;
    let env = match &c.envelope_id {
        Some(n) => Some(csv.col(n)?),
        None => None,
    };
    let (vid, iday) = if env.is_none() {
        let v = c.voter_id.as_deref().unwrap_or("voter_id");
        let d = c.issue_date.as_deref().unwrap_or("issue_date");
        (Some(csv.col(v)?), Some(csv.col(d)?))
    } else {
        (None, None)
    };
    let (at, outcome) = (csv.col(&c.returned_at)?, csv.col(&c.outcome)?);
    let (channel, reason, rtype, site) = (
        csv.opt(c.channel.as_ref()),
        csv.opt(c.reason.as_ref()),
        csv.opt(c.request_type.as_ref()),
        csv.opt(c.site.as_ref()),
    );
    let imb_col = csv.opt(c.imb.as_ref());
    let name = csv.name.clone();
    let mut key = Vec::new();
    let mail = ds.label(b"mail");
    ds.receipts.reserve(csv.estimated_rows);
    let ahead = |ds: &Dataset, rec: &ByteRecord| {
        if env.is_some() {
            ds.envelopes.prefetch(field(rec, env));
        }
    };
    csv.each(ds, sink, progress, "returns", ahead, |ds, line, rec| {
        ds.stats.return_rows += 1;
        let when = field(rec, Some(at));
        if rtype.is_some() && l.is_in_person(field(rec, rtype)) {
            // An in-person (one-stop) vote: a check-in if it was accepted.
            ds.stats.in_person_rows += 1;
            if matches!(l.outcome(field(rec, Some(outcome))), Some(Outcome::Accepted | Outcome::Cured))
                && let Some(t) = parse_time(when, &l.datetime_format, &l.date_format)
                && let Some(v) = ds
                    .voters
                    .lookup(field(rec, vid))
                    .or_else(|| ds.unknown_voters.lookup(field(rec, vid)).map(|v| v | NOT_ON_ROLL))
            {
                let loc = ds.label(field(rec, site));
                ds.checkins.push(Checkin {
                    voter: v,
                    at: t,
                    location: loc,
                    line: line as u32,
                    election: NO_ELECTION,
                });
            }
            return;
        }
        if env.is_none() && when.is_empty() {
            ds.stats.not_returned += 1;
            return;
        }
        let scanned_imb = field(rec, imb_col);
        if !envelope_key(&mut key, env, field(rec, vid), field(rec, iday), rec) {
            if scanned_imb.is_empty() {
                return ds.malformed(
                    &name,
                    line,
                    c.envelope_id.as_deref().unwrap_or("envelope"),
                    "empty envelope id",
                );
            }
            key.clear();
            key.extend_from_slice(scanned_imb);
        }
        let Some(t) = parse_time(when, &l.datetime_format, &l.date_format) else {
            let v = scrutineer_core::text::echo(when);
            return ds.malformed(&name, line, &c.returned_at, &format!("unreadable time '{v}'"));
        };
        let word = field(rec, Some(outcome));
        let Some(o) = l.outcome(word) else {
            let v = scrutineer_core::text::echo(word);
            return ds.malformed(&name, line, &c.outcome, &format!("unknown outcome '{v}'"));
        };
        // The envelope id; else the barcode scanned (its own column, or the id field
        // holding an issued envelope's IMb); else a receipt of an envelope never issued.
        let by_imb = |ds: &mut Dataset, b: &[u8]| {
            if ds.env_imb.is_empty() { None } else { pack_imb(b).and_then(|p| ds.envelope_by_imb(p)) }
        };
        let e = match ds.envelopes.lookup(&key) {
            Some(e) => e,
            None => match by_imb(ds, scanned_imb).or_else(|| by_imb(ds, &key)) {
                Some(e) => {
                    ds.stats.imb_matched += 1;
                    e
                }
                None => ds.unissued.intern(&key).0 | UNISSUED,
            },
        };
        if o == Outcome::Spoiled {
            ds.stats.spoiled_rows += 1;
            if e & UNISSUED == 0 {
                ds.env_spoiled[e as usize] = true;
            }
            return;
        }
        let ch = if channel.is_some() { ds.label(field(rec, channel)) } else { mail };
        let r = ds.label(field(rec, reason));
        ds.receipts.push(Receipt {
            envelope: e,
            outcome: o,
            channel: ch,
            reason: r,
            at: t,
            line: line as u32,
        });
    })
}

fn read_checkins(
    ds: &mut Dataset,
    path: &Path,
    max_line: usize,
    l: &Layout,
    sink: &mut Option<&mut RecordSink<'_>>,
    progress: Option<&Progress<'_>>,
) -> Result<(), BallotsError> {
    let mut csv = open_csv(path, max_line)?;
    // The first check-in layout whose columns this file has (NC: absentee file or ncvhis).
    let fits = |c: &crate::layout::CheckinColumns| {
        [Some(&c.voter_id), Some(&c.checked_in_at), c.request_type.as_ref(), c.election.as_ref()]
            .into_iter()
            .flatten()
            .all(|n| csv.headers.iter().any(|h| h == n))
    };
    let c = std::iter::once(&l.checkins).chain(&l.checkins_alt).find(|c| fits(c)).unwrap_or(&l.checkins);
    let (vid, at) = (csv.col(&c.voter_id)?, csv.col(&c.checked_in_at)?);
    let (loc, rtype) = (csv.opt(c.location.as_ref()), csv.opt(c.request_type.as_ref()));
    let election = csv.opt(c.election.as_ref());
    let name = csv.name.clone();
    let ahead = |ds: &Dataset, rec: &ByteRecord| ds.voters.prefetch(field(rec, Some(vid)));
    csv.each(ds, sink, progress, "checkins", ahead, |ds, line, rec| {
        ds.stats.checkin_rows += 1;
        if rtype.is_some() && !l.is_in_person(field(rec, rtype)) {
            ds.stats.not_in_person_rows += 1;
            return;
        }
        let election_day = match election {
            None => NO_ELECTION,
            Some(_) => match time::parse(field(rec, election), &l.date_format) {
                Some(t) => t.div_euclid(86_400) as i32,
                None => {
                    let v = scrutineer_core::text::echo(field(rec, election));
                    let col = c.election.as_deref().unwrap_or("election");
                    return ds.malformed(&name, line, col, &format!("unreadable election date '{v}'"));
                }
            },
        };
        let voter = field(rec, Some(vid));
        if voter.is_empty() {
            return ds.malformed(&name, line, &c.voter_id, "empty voter id");
        }
        let when = field(rec, Some(at));
        let Some(t) = parse_time(when, &l.datetime_format, &l.date_format) else {
            let v = scrutineer_core::text::echo(when);
            return ds.malformed(&name, line, &c.checked_in_at, &format!("unreadable time '{v}'"));
        };
        // A check-in of someone with neither a roll entry nor an envelope cannot double-vote by mail.
        let v = match ds.voters.lookup(voter) {
            Some(v) => v,
            None => match ds.unknown_voters.lookup(voter) {
                Some(v) => v | NOT_ON_ROLL,
                None => return,
            },
        };
        let location = ds.label(field(rec, loc));
        ds.checkins.push(Checkin { voter: v, at: t, location, line: line as u32, election: election_day });
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zips_are_found_at_the_end() {
        assert_eq!(zip_of(b"12 MAIN ST, RALEIGH NC 27601"), b"27601");
        assert_eq!(zip_of(b"12 MAIN ST RALEIGH NC 27601-1234"), b"27601");
        assert_eq!(zip_of(b"12345 MAIN ST"), b"12345");
        assert_eq!(zip_of(b"PO BOX 12"), b"");
    }

    #[test]
    fn imbs_pack_losslessly_and_reject_other_lengths() {
        for s in [
            "00700901234000000001",
            "0070090123400000000127601",
            "00700901234000000001276011234",
            "0070090123400000000127601123401",
            "9999999999999999999999999999999",
        ] {
            let p = pack_imb(s.as_bytes()).expect(s);
            assert_eq!(imb_text(p), s);
        }
        // Same number, different length: different barcodes.
        assert_ne!(pack_imb(b"00000000000000000001"), pack_imb(b"0000000000000000000000001"));
        for s in ["", "123", "0070090123400000000", "00700901234000000001x", "E000000001-1"] {
            assert_eq!(pack_imb(s.as_bytes()), None, "{s}");
        }
    }
}
