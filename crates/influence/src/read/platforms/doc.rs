//! JSON documents written over several lines, read as a stream: the parser pulls bytes
//! through a [`LineCounter`], so that a record skipped from inside a document is reported
//! with the line it was read at, and the document is never held whole.

use std::cell::Cell;
use std::io::{self, BufRead, Read};
use std::rc::Rc;

use serde_json::Value;

use super::{Position, ValueHandler};
use crate::read::Out;

/// The line and byte offset reached in a stream, shared with whoever reads through a
/// [`LineCounter`].
#[derive(Clone, Default)]
pub(crate) struct Place {
    line: Rc<Cell<u64>>,
    offset: Rc<Cell<u64>>,
}

impl Place {
    /// The line (1-based) of the next byte to be read.
    pub fn line(&self) -> u64 {
        self.line.get() + 1
    }

    /// Bytes read so far.
    pub fn offset(&self) -> u64 {
        self.offset.get()
    }
}

/// A reader that counts the lines and bytes read through it. serde_json reads a stream
/// byte by byte, so the count is exact to the byte the parser has reached.
pub(crate) struct LineCounter<R> {
    inner: R,
    place: Place,
}

impl<R: BufRead> LineCounter<R> {
    pub fn new(inner: R) -> (LineCounter<R>, Place) {
        let place = Place::default();
        (LineCounter { inner, place: place.clone() }, place)
    }
}

impl<R: BufRead> Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.inner.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        let newlines = memchr::memchr_iter(b'\n', &available[..n]).count() as u64;
        self.inner.consume(n);
        self.place.line.set(self.place.line.get() + newlines);
        self.place.offset.set(self.place.offset.get() + n as u64);
        Ok(n)
    }
}

/// Records a document-level JSON error: where it is, and whether the input was cut.
pub(crate) fn skip_json_error(out: &mut Out<'_>, e: &serde_json::Error, place: &Place) {
    if e.is_io() {
        out.report.truncated = true;
        out.skip(
            place.line(),
            format!(
                "cannot read past byte {} ({e}): the input is truncated or corrupt; the records before it were kept",
                place.offset()
            ),
        );
    } else if e.is_eof() {
        out.report.truncated = true;
        out.skip(
            e.line() as u64,
            format!(
                "the JSON ends at byte {} before the document is complete: the input is truncated; the records \
                 before it were kept",
                place.offset()
            ),
        );
    } else {
        out.skip(
            e.line() as u64,
            format!(
                "invalid JSON at column {} (byte {}): {e}; nothing after it can be read",
                e.column(),
                place.offset()
            ),
        );
    }
}

/// Reads one or more JSON documents (each written over any number of lines, separated
/// by white space), handing each to `handle`. A syntax error ends the stream: what came
/// before it is kept, and the error is reported with its line and byte offset.
pub(crate) fn drive_documents(stream: impl BufRead, out: &mut Out<'_>, handle: ValueHandler) {
    let (counter, place) = LineCounter::new(stream);
    let mut docs = serde_json::Deserializer::from_reader(counter).into_iter::<Value>();
    loop {
        match docs.next() {
            None => break,
            Some(Ok(value)) => {
                out.report.records += 1;
                let at = Position { line: place.line(), ends: true };
                if let Err(reason) = handle(value, &at, out) {
                    out.skip(at.line, reason);
                }
            }
            Some(Err(e)) => {
                skip_json_error(out, &e, &place);
                break;
            }
        }
    }
}
