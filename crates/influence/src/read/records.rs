//! CSV records for the CSV driver, as `csv::Reader::read_byte_record` reads them (same
//! fields, same positions) but faster on the common records. A line with no quote
//! character is scanned for its end and delimiters sixteen bytes at a time and copied
//! whole; a record whose fields are quoted in the usual way is read field by field; every
//! other record goes through `csv_core`'s state machine, exactly as the `csv` crate would
//! run it. Records are read back to back into one buffer per batch ([`Records`]), which
//! the mapping thread checks for UTF-8 in one call instead of one per record.
//!
//! Why by hand: parsing ran on the thread that also hands posts on, the slowest stage of a
//! scan (`csv_core` steps through every byte). The equivalence with the `csv` crate is
//! checked by property tests over inputs full of quotes, delimiters, carriage returns and
//! blank lines, read through buffers of every small size, and on the real IRA export.

use std::io::{self, Read};
use std::ops::Range;

use csv_core::ReadRecordResult;

/// CSV records read back to back into one buffer: each record's fields one after another,
/// one separator byte between two (the line as written, for a quote-free line, so that it
/// is copied in one go), with its field ends and its line. A batch of records is one
/// buffer, not one per record, so that it can be checked for UTF-8 in one go.
#[derive(Debug, Clone, Default)]
pub(crate) struct Records {
    bytes: Vec<u8>,
    /// Where each field ends, counted from the start of its record; the next starts one
    /// byte later.
    ends: Vec<usize>,
    records: Vec<Meta>,
}

/// Where one record of [`Records`] lies.
#[derive(Debug, Clone, Copy)]
struct Meta {
    /// Its first byte in `bytes`.
    start: usize,
    /// Its first field end in `ends`.
    first_end: usize,
    line: u64,
    nul_free: bool,
}

impl Records {
    /// The number of records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Every record's bytes, back to back.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Where record `i` lies in [`Records::as_bytes`].
    pub fn span(&self, i: usize) -> Option<Range<usize>> {
        let meta = self.records.get(i)?;
        let end = self.records.get(i + 1).map_or(self.bytes.len(), |next| next.start);
        Some(meta.start..end)
    }

    /// Record `i`.
    pub fn get(&self, i: usize) -> Option<Record<'_>> {
        let meta = self.records.get(i)?;
        let ends_end = self.records.get(i + 1).map_or(self.ends.len(), |next| next.first_end);
        Some(Record {
            bytes: &self.bytes[self.span(i)?],
            ends: &self.ends[meta.first_end..ends_end],
            line: meta.line,
            nul_free: meta.nul_free,
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = Record<'_>> {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    pub fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
        self.records.clear();
    }

    /// Drops what a record that was not finished wrote after `mark`.
    fn truncate(&mut self, mark: (usize, usize)) {
        self.bytes.truncate(mark.0);
        self.ends.truncate(mark.1);
    }
}

/// One record of [`Records`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Record<'a> {
    bytes: &'a [u8],
    ends: &'a [usize],
    line: u64,
    /// Known to hold no NUL byte: it was read from a buffer that held none.
    nul_free: bool,
}

impl<'a> Record<'a> {
    /// The number of fields.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Every field with the separators between them.
    pub fn as_slice(&self) -> &'a [u8] {
        self.bytes
    }

    /// Where field `idx` lies in [`Record::as_slice`].
    pub fn range(&self, idx: usize) -> Option<Range<usize>> {
        let end = *self.ends.get(idx)?;
        let start = if idx == 0 { 0 } else { self.ends[idx - 1] + 1 };
        Some(start..end)
    }

    pub fn get(&self, idx: usize) -> Option<&'a [u8]> {
        self.range(idx).map(|r| &self.bytes[r])
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &'a [u8]> + use<'a> {
        let rec = *self;
        (0..self.len()).map(move |i| rec.get(i).unwrap_or(b""))
    }

    /// Whether the record is known to hold no NUL byte (so it need not be searched for
    /// one). `false` says nothing: look.
    pub fn nul_free(&self) -> bool {
        self.nul_free
    }

    /// The line the record starts on, counting from 1 (as the `csv` crate reports it:
    /// blank lines before a record count as its start).
    pub fn line(&self) -> u64 {
        self.line
    }
}

/// Reads CSV records with `delimiter`; only `\n` ends a record (a `\r` is data).
pub(crate) struct RecordReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// The next unread byte of `buf`.
    pos: usize,
    /// The end of the bytes read into `buf`.
    len: usize,
    eof: bool,
    delimiter: u8,
    /// Whether quote-free lines can be split by hand: not when the delimiter is itself a
    /// line end or a quote.
    plain_lines: bool,
    /// The slow path, for records with a quote character.
    core: csv_core::Reader,
    out: Vec<u8>,
    ends: Vec<usize>,
    /// The line of `buf[pos]`, counting from 1.
    line: u64,
    /// The line the next record reports: where the previous one ended (blank lines
    /// skipped before a record do not move it, as in the `csv` crate).
    next_line: u64,
    /// Quote characters in the records read so far (lines without one are not counted).
    quotes: u64,
    /// The last byte of the input read so far.
    last_byte: Option<u8>,
    /// Whether the unread bytes of `buf` hold a NUL byte: one search per buffer filled
    /// instead of one per record.
    nul_in_buf: bool,
}

impl<R: Read> RecordReader<R> {
    pub fn new(inner: R, delimiter: u8, capacity: usize) -> RecordReader<R> {
        let core = csv_core::ReaderBuilder::new()
            .delimiter(delimiter)
            .terminator(csv_core::Terminator::Any(b'\n'))
            .build();
        RecordReader {
            inner,
            buf: vec![0; capacity.max(1)],
            pos: 0,
            len: 0,
            eof: false,
            delimiter,
            plain_lines: delimiter != b'\n' && delimiter != b'"',
            core,
            out: vec![0; 1024],
            ends: vec![0; 64],
            line: 1,
            next_line: 1,
            quotes: 0,
            last_byte: None,
            nul_in_buf: false,
        }
    }

    /// Whether the input read so far holds an odd number of quote characters: at its end,
    /// a sign that it was cut inside a quoted field.
    pub fn odd_quotes(&self) -> bool {
        self.quotes % 2 == 1
    }

    /// The last byte of the input read so far.
    pub fn last_byte(&self) -> Option<u8> {
        self.last_byte
    }

    /// The line after the last record read.
    pub fn next_record_line(&self) -> u64 {
        self.next_line
    }

    /// Reads the next record onto the end of `out`; `false` at the end of the input.
    pub fn read_record(&mut self, out: &mut Records) -> io::Result<bool> {
        let mark = (out.bytes.len(), out.ends.len());
        let line = self.next_line;
        let read = self.read_into(out, mark);
        match read {
            Ok(Some(nul_free)) => out.records.push(Meta { start: mark.0, first_end: mark.1, line, nul_free }),
            _ => out.truncate(mark),
        }
        read.map(|record| record.is_some())
    }

    /// Writes the next record's bytes and field ends after `mark` (where `out` ended);
    /// whether the record is known to be free of NUL bytes, or `None` at the end of the
    /// input.
    fn read_into(&mut self, out: &mut Records, mark: (usize, usize)) -> io::Result<Option<bool>> {
        if !self.plain_lines {
            return self.slow(out, mark);
        }
        loop {
            let avail = &self.buf[self.pos..self.len];
            let line_end = match scan_plain_line(avail, self.delimiter, &mut out.ends) {
                Scan::Quote(_) => {
                    // The fields before the quote were scanned: they are kept, and the
                    // record is read on from the field the quote is in.
                    let field = out.ends[mark.1..].last().map_or(0, |&end| end + 1);
                    out.bytes.extend_from_slice(&avail[..field]);
                    match read_quoted_record(avail, field, self.delimiter, out, mark.0) {
                        Quoted::Record { consumed, newlines, quotes } => {
                            self.quotes += quotes;
                            self.pos += consumed;
                            self.line += newlines;
                            self.finish_record();
                            return Ok(Some(!self.nul_in_buf));
                        }
                        Quoted::Open if !self.eof => {
                            out.truncate(mark);
                            self.fill()?;
                            continue;
                        }
                        Quoted::Open | Quoted::Unusual => {
                            out.truncate(mark);
                            return self.slow(out, mark);
                        }
                    }
                }
                Scan::Line(end) => Some(end),
                Scan::Open if !self.eof => {
                    out.truncate(mark);
                    self.fill()?;
                    continue;
                }
                Scan::Open if avail.is_empty() => return self.slow(out, mark),
                Scan::Open => None,
            };
            let line = line_end.map_or(avail, |end| &avail[..end]);
            if line.is_empty() {
                // A blank line between records is no record.
                self.pos += 1;
                self.line += 1;
                continue;
            }
            out.bytes.extend_from_slice(line);
            out.ends.push(line.len());
            match line_end {
                Some(end) => {
                    self.pos += end + 1;
                    self.line += 1;
                }
                None => self.pos = self.len,
            }
            self.finish_record();
            return Ok(Some(!self.nul_in_buf));
        }
    }

    /// Reads one record with `csv_core`, from `buf[pos]` at the start of a record.
    fn slow(&mut self, out: &mut Records, mark: (usize, usize)) -> io::Result<Option<bool>> {
        let (mut out_len, mut ends_len) = (0, 0);
        // The record may span several fills of the buffer.
        let mut nul = self.nul_in_buf;
        loop {
            let input = &self.buf[self.pos..self.len];
            let (result, nin, nout, nend) =
                self.core.read_record(input, &mut self.out[out_len..], &mut self.ends[ends_len..]);
            self.line += memchr::memchr_iter(b'\n', &input[..nin]).count() as u64;
            self.quotes += memchr::memchr_iter(b'"', &input[..nin]).count() as u64;
            self.pos += nin;
            out_len += nout;
            ends_len += nend;
            match result {
                ReadRecordResult::InputEmpty => {
                    if self.eof {
                        // Every byte went in: the next call, on no input, ends the record.
                        continue;
                    }
                    self.fill()?;
                    nul |= self.nul_in_buf;
                }
                ReadRecordResult::OutputFull => {
                    let grown = self.out.len() * 2;
                    self.out.resize(grown, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    let grown = self.ends.len() * 2;
                    self.ends.resize(grown, 0);
                }
                ReadRecordResult::Record => {
                    let mut start = 0;
                    for (i, &end) in self.ends[..ends_len].iter().enumerate() {
                        if i > 0 {
                            out.bytes.push(self.delimiter);
                        }
                        out.bytes.extend_from_slice(&self.out[start..end]);
                        out.ends.push(out.bytes.len() - mark.0);
                        start = end;
                    }
                    self.finish_record();
                    return Ok(Some(!nul));
                }
                ReadRecordResult::End => return Ok(None),
            }
        }
    }

    fn finish_record(&mut self) {
        self.next_line = self.line;
    }

    /// Keeps the unread bytes and reads more after them, growing the buffer when a record
    /// fills it; sets `eof` when the input has no more.
    fn fill(&mut self) -> io::Result<()> {
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.len, 0);
            self.len -= self.pos;
            self.pos = 0;
        }
        if self.len == self.buf.len() {
            let grown = self.buf.len() * 2;
            self.buf.resize(grown, 0);
        }
        loop {
            match self.inner.read(&mut self.buf[self.len..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.len += n;
                    self.last_byte = Some(self.buf[self.len - 1]);
                    self.nul_in_buf = memchr::memchr(0, &self.buf[..self.len]).is_some();
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// Where a scan of a record's first line stopped.
#[derive(Debug, PartialEq, Eq)]
enum Scan {
    /// At the line's end, `\n`, at this index: the delimiters before it are the field ends.
    Line(usize),
    /// At a quote, at this index: the record is read by [`read_quoted_record`] or
    /// `csv_core`; the delimiters before it are the field ends so far.
    Quote(usize),
    /// The input ended first.
    Open,
}

/// How [`read_quoted_record`] ended.
enum Quoted {
    /// A record taken from the first `consumed` bytes, which held `newlines` line ends and
    /// `quotes` quote characters.
    Record { consumed: usize, newlines: u64, quotes: u64 },
    /// The input ended first.
    Open,
    /// Something `csv_core` reads its own way: a quote inside an unquoted field, or a
    /// closing quote followed by more of the field.
    Unusual,
}

/// Reads a record whose fields are plain or quoted in the usual way (a quote opens the
/// field and closes it before a delimiter or the line end, `""` stands for a quote), the
/// way `csv_core` reads it: tweet text is quoted wherever it holds a comma or a quote.
/// Anything else is left to `csv_core` ([`Quoted::Unusual`]). Reading starts at `field`,
/// the start of a field: `out` holds the record's fields before it, from `start` on.
fn read_quoted_record(bytes: &[u8], field: usize, delimiter: u8, out: &mut Records, start: usize) -> Quoted {
    let mut at = field;
    let mut newlines = 0;
    let mut quotes = 0;
    loop {
        // `at` starts a field.
        let end = if bytes.get(at) == Some(&b'"') {
            quotes += 1;
            let mut from = at + 1;
            loop {
                // Line breaks inside the quotes are counted on the way (they are rare):
                // one pass over the field, not a second one to count them.
                let Some(stop) = memchr::memchr2(b'"', b'\n', &bytes[from..]).map(|i| from + i) else {
                    return Quoted::Open;
                };
                if bytes[stop] == b'\n' {
                    newlines += 1;
                    out.bytes.extend_from_slice(&bytes[from..=stop]);
                    from = stop + 1;
                    continue;
                }
                let close = stop;
                quotes += 1;
                out.bytes.extend_from_slice(&bytes[from..close]);
                match bytes.get(close + 1) {
                    Some(b'"') => {
                        quotes += 1;
                        out.bytes.push(b'"');
                        from = close + 2;
                    }
                    Some(&b) if b == delimiter || b == b'\n' => break close + 1,
                    Some(_) => return Quoted::Unusual,
                    None => return Quoted::Open,
                }
            }
        } else {
            match memchr::memchr3(delimiter, b'\n', b'"', &bytes[at..]).map(|i| at + i) {
                Some(stop) if bytes[stop] == b'"' => return Quoted::Unusual,
                Some(stop) => {
                    out.bytes.extend_from_slice(&bytes[at..stop]);
                    stop
                }
                None => return Quoted::Open,
            }
        };
        out.ends.push(out.bytes.len() - start);
        if bytes[end] == b'\n' {
            return Quoted::Record { consumed: end + 1, newlines: newlines + 1, quotes };
        }
        out.bytes.push(delimiter);
        at = end + 1;
    }
}

/// Each byte of `x` that is zero as 0x80, every other bit 0 (exact: no borrow reaches the
/// next byte, unlike the shorter formula).
fn zero_bytes(x: u64) -> u64 {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    !(((x & LOW7) + LOW7) | x | LOW7)
}

/// Scans `bytes` from a record's start for its line's end, pushing onto `ends` the index
/// of every delimiter before it, or stops at the first quote. The three bytes that matter
/// are found in one pass, where `memchr` took one pass for the line and one call per
/// field: sixteen bytes at a time with SSE2 where there is SSE2, then eight at a time.
fn scan_plain_line(bytes: &[u8], delimiter: u8, ends: &mut Vec<usize>) -> Scan {
    #[cfg(target_arch = "x86_64")]
    #[allow(unsafe_code)]
    // SAFETY: every x86_64 processor has SSE2: it is part of the architecture's baseline.
    let (at, stopped) = unsafe { scan_blocks(bytes, delimiter, ends) };
    #[cfg(not(target_arch = "x86_64"))]
    let (at, stopped) = (0, None);
    match stopped {
        Some(scan) => scan,
        None => scan_words(&bytes[at..], at, delimiter, ends),
    }
}

/// The sixteen-byte blocks of [`scan_plain_line`]: how far it got, and where it stopped
/// if it did.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn scan_blocks(bytes: &[u8], delimiter: u8, ends: &mut Vec<usize>) -> (usize, Option<Scan>) {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    let as_i8 = |b: u8| i8::from_ne_bytes([b]);
    let (delimiters, newlines, quotes) =
        (_mm_set1_epi8(as_i8(delimiter)), _mm_set1_epi8(as_i8(b'\n')), _mm_set1_epi8(as_i8(b'"')));
    let mut at = 0;
    while let Some(block) = bytes.get(at..at + 16) {
        #[allow(unsafe_code)]
        // SAFETY: `block` is 16 readable bytes, and an unaligned load needs no alignment.
        let v = unsafe { _mm_loadu_si128(block.as_ptr().cast::<__m128i>()) };
        let stops = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, newlines), _mm_cmpeq_epi8(v, quotes)));
        let mut delims = _mm_movemask_epi8(_mm_cmpeq_epi8(v, delimiters)).cast_unsigned();
        if stops != 0 {
            let stop = stops.trailing_zeros() as usize;
            delims &= (1u32 << stop) - 1;
            push_bits(ends, at, delims);
            let scan = if block[stop] == b'"' { Scan::Quote(at + stop) } else { Scan::Line(at + stop) };
            return (at, Some(scan));
        }
        push_bits(ends, at, delims);
        at += 16;
    }
    (at, None)
}

/// Pushes `base` plus the index of each bit set in `bits`.
fn push_bits(ends: &mut Vec<usize>, base: usize, mut bits: u32) {
    while bits != 0 {
        ends.push(base + bits.trailing_zeros() as usize);
        bits &= bits - 1;
    }
}

/// The eight-byte words of [`scan_plain_line`], over `bytes` that start at `base`.
fn scan_words(bytes: &[u8], base: usize, delimiter: u8, ends: &mut Vec<usize>) -> Scan {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let (delimiters, newlines, quotes) =
        (ONES * u64::from(delimiter), ONES * u64::from(b'\n'), ONES * u64::from(b'"'));
    let mut words = bytes.chunks_exact(8);
    let mut at = base;
    for chunk in &mut words {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let word = u64::from_le_bytes(word);
        let stops = zero_bytes(word ^ newlines) | zero_bytes(word ^ quotes);
        let mut delims = zero_bytes(word ^ delimiters);
        if stops != 0 {
            let stop = stops.trailing_zeros() as usize / 8;
            // Only the delimiters before the stop: bytes below it in the word.
            delims &= (1u64 << (stop * 8)).wrapping_sub(1);
            push_ends(ends, at, delims);
            return if chunk[stop] == b'"' { Scan::Quote(at + stop) } else { Scan::Line(at + stop) };
        }
        push_ends(ends, at, delims);
        at += 8;
    }
    for (i, &b) in words.remainder().iter().enumerate() {
        match b {
            b'\n' => return Scan::Line(at + i),
            b'"' => return Scan::Quote(at + i),
            b if b == delimiter => ends.push(at + i),
            _ => {}
        }
    }
    Scan::Open
}

/// Pushes `base` plus the index of each byte marked in `marks` (0x80 per byte).
fn push_ends(ends: &mut Vec<usize>, base: usize, mut marks: u64) {
    while marks != 0 {
        ends.push(base + marks.trailing_zeros() as usize / 8);
        marks &= marks - 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every record with its fields and line, as the `csv` crate reads them.
    fn by_csv_crate(input: &[u8], delimiter: u8) -> Vec<(Vec<Vec<u8>>, u64)> {
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .has_headers(false)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_reader(input);
        let mut rec = csv::ByteRecord::new();
        let mut out = Vec::new();
        while rdr.read_byte_record(&mut rec).expect("in memory") {
            let line = rec.position().map_or(0, csv::Position::line);
            out.push((rec.iter().map(<[u8]>::to_vec).collect(), line));
        }
        out
    }

    /// Every record with its fields and line, read by [`RecordReader`] in batches of three
    /// (so records are both appended to a batch and read into a cleared one).
    fn by_record_reader(input: &[u8], delimiter: u8, capacity: usize) -> Vec<(Vec<Vec<u8>>, u64)> {
        let mut rdr = RecordReader::new(input, delimiter, capacity);
        let mut records = Records::default();
        let mut out = Vec::new();
        loop {
            let more = rdr.read_record(&mut records).expect("in memory");
            if records.len() == 3 || !more {
                for rec in records.iter() {
                    assert!(
                        !(rec.nul_free() && rec.as_slice().contains(&0)),
                        "a record with a NUL is called NUL-free"
                    );
                    out.push((rec.iter().map(<[u8]>::to_vec).collect(), rec.line()));
                }
                records.clear();
            }
            if !more {
                return out;
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn reads_as_the_csv_crate(
            bytes in proptest::collection::vec(
                proptest::sample::select(vec![b'a', b'b', b',', b';', b'"', b'\n', b'\r', b' ', 0xC3, 0xA9, 0]),
                0..160,
            ),
            capacity in 1usize..40,
            semicolon in any::<bool>(),
        ) {
            let delimiter = if semicolon { b';' } else { b',' };
            prop_assert_eq!(by_record_reader(&bytes, delimiter, capacity), by_csv_crate(&bytes, delimiter));
        }
    }

    #[test]
    fn records_from_a_buffer_without_nul_are_known_free_of_it() {
        let mut records = Records::default();
        let mut rdr = RecordReader::new(&b"a,b\nc,d\n"[..], b',', 64);
        assert!(rdr.read_record(&mut records).expect("in memory"));
        assert!(records.get(0).expect("read").nul_free());
        let mut rdr = RecordReader::new(&b"a,b\nc,\0\n"[..], b',', 64);
        assert!(rdr.read_record(&mut records).expect("in memory"));
        assert!(!records.get(1).expect("read").nul_free());
    }

    proptest! {
        /// The word-at-a-time scan finds what a byte-by-byte one finds, on lines long enough
        /// to fill words and with the bytes that matter anywhere in them.
        #[test]
        fn line_scan_agrees_with_a_byte_loop(
            bytes in proptest::collection::vec(
                prop_oneof![40 => b'a'..=b'z', 4 => Just(b','), 1 => Just(b'\n'), 1 => Just(b'"'), 1 => Just(0x80u8)],
                0..200,
            ),
        ) {
            let mut want_ends = Vec::new();
            let mut want = Scan::Open;
            for (i, &b) in bytes.iter().enumerate() {
                match b {
                    b'\n' => { want = Scan::Line(i); break; }
                    b'"' => { want = Scan::Quote(i); break; }
                    b',' => want_ends.push(i),
                    _ => {}
                }
            }
            let mut ends = Vec::new();
            let got = scan_plain_line(&bytes, b',', &mut ends);
            if !matches!(want, Scan::Quote(_)) {
                prop_assert_eq!(ends, want_ends);
            }
            prop_assert_eq!(got, want);
        }
    }

    proptest! {
        /// The quote count kept from the records read is that of the whole input, line breaks
        /// inside quotes included.
        #[test]
        fn quote_parity_is_the_whole_input(
            bytes in proptest::collection::vec(
                proptest::sample::select(vec![b'a', b',', b'"', b'"', b'\n', b'\r']),
                0..120,
            ),
            capacity in 1usize..40,
        ) {
            let mut rdr = RecordReader::new(&bytes[..], b',', capacity);
            let mut records = Records::default();
            while rdr.read_record(&mut records).expect("in memory") {}
            let quotes = bytes.iter().filter(|&&b| b == b'"').count();
            prop_assert_eq!(rdr.quotes, quotes as u64);
            prop_assert_eq!(rdr.odd_quotes(), quotes % 2 == 1);
            prop_assert_eq!(rdr.last_byte(), bytes.last().copied());
        }
    }

    /// The real IRA export, with its quoted tweet texts, embedded line breaks and carriage
    /// returns: every record, field and line as the `csv` crate reads them.
    #[test]
    fn reads_the_real_ira_file_as_the_csv_crate() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/influence/ira/tweets-2016-09-01_2016-11-30.csv.gz");
        assert!(path.is_file(), "missing shared data file {} (see ../shared/data/README.md)", path.display());
        let open = || flate2::read::GzDecoder::new(std::fs::File::open(&path).expect("open"));
        let mut ours = RecordReader::new(open(), b',', 64 * 1024);
        let mut theirs = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_reader(open());
        let (mut batch, mut want) = (Records::default(), csv::ByteRecord::new());
        let mut records = 0u64;
        loop {
            batch.clear();
            let more = ours.read_record(&mut batch).expect("readable");
            assert_eq!(more, theirs.read_byte_record(&mut want).expect("readable"), "record {records}");
            if !more {
                break;
            }
            let rec = batch.get(0).expect("read");
            assert!(rec.iter().eq(want.iter()), "record {records}, line {}", rec.line());
            assert_eq!(rec.line(), want.position().map_or(0, csv::Position::line), "record {records}");
            records += 1;
        }
        assert!(records > 100_000, "{records} records");
    }

    #[test]
    fn quoted_records_and_plain_lines_mix() {
        let input = b"h1,h2\n\"a,\"\"b\"\"\nc\",d\n\nplain,line\r\nlast,\"open";
        let got = by_record_reader(input, b',', 7);
        assert_eq!(got, by_csv_crate(input, b','));
        assert_eq!(got.len(), 4, "{got:?}");
        assert_eq!(got[1].0, vec![b"a,\"b\"\nc".to_vec(), b"d".to_vec()]);
    }
}
