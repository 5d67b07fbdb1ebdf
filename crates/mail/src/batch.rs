//! Verifying on every core: messages are gathered in batches as the reader hands them
//! on, unparsed; a worker parses and verifies each batch on every core while the reader
//! goes on reading, and the results are handed on in input order, so the outputs are
//! the same bytes whatever the thread count.

use std::io;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};
use std::thread::JoinHandle;

use rayon::prelude::*;

use crate::analysis::MessageVerdicts;
use crate::arc::verify_arc;
use crate::dkim::verify_message;
use crate::keys::KeyArchive;
use crate::read::RawMessage;

/// Messages in a batch, at most.
const BATCH_MESSAGES: usize = 512;
/// Bytes of messages in a batch, at most (past it the batch is handed to the worker).
const BATCH_BYTES: usize = 64 << 20;
/// Batches waiting for the worker, at most: past it the reader waits (memory stays
/// bounded by a few batches whatever the dump's size).
const QUEUED_BATCHES: usize = 2;

/// One message's outcome, in input order.
#[derive(Debug)]
pub enum Verified {
    /// A message read and verified.
    Message(Box<MessageVerdicts>),
    /// A message that could not be read.
    Unreadable {
        /// The file.
        file: Arc<str>,
        /// The byte offset.
        offset: u64,
        /// Why.
        reason: String,
    },
}

/// A verified batch, and how many of its messages were read but could not be parsed.
struct Outcome {
    verified: Vec<Verified>,
    unparsable: u64,
}

/// Gathers messages into batches; a worker thread parses and verifies each batch on
/// every core while more are read.
pub struct BatchVerifier {
    batch: Vec<RawMessage>,
    bytes: usize,
    to_worker: Option<SyncSender<Vec<RawMessage>>>,
    from_worker: Receiver<Outcome>,
    worker: Option<JoinHandle<()>>,
    in_flight: usize,
    unparsable: u64,
}

impl BatchVerifier {
    /// A verifier against `keys`.
    pub fn new(keys: Arc<KeyArchive>) -> BatchVerifier {
        let (to_worker, batches) = sync_channel::<Vec<RawMessage>>(QUEUED_BATCHES);
        let (done, from_worker) = sync_channel::<Outcome>(QUEUED_BATCHES + 1);
        let worker = std::thread::spawn(move || {
            for batch in batches {
                if done.send(verify_batch(batch, &keys)).is_err() {
                    return;
                }
            }
        });
        BatchVerifier {
            batch: Vec::with_capacity(BATCH_MESSAGES),
            bytes: 0,
            to_worker: Some(to_worker),
            from_worker,
            worker: Some(worker),
            in_flight: 0,
            unparsable: 0,
        }
    }

    /// Adds a message; when the batch is full, hands it to the worker, and hands every
    /// outcome verified so far to `sink` in input order.
    pub fn push(
        &mut self,
        m: RawMessage,
        sink: &mut impl FnMut(Verified) -> io::Result<()>,
    ) -> io::Result<()> {
        self.bytes += m.result.as_ref().map(Vec::len).unwrap_or(0);
        self.batch.push(m);
        if self.batch.len() >= BATCH_MESSAGES || self.bytes >= BATCH_BYTES {
            self.send()?;
        }
        while self.in_flight > 0 {
            match self.from_worker.try_recv() {
                Ok(o) => self.hand_on(o, sink)?,
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return Err(stopped()),
            }
        }
        Ok(())
    }

    /// Verifies what is left and hands every outcome on.
    pub fn flush(&mut self, sink: &mut impl FnMut(Verified) -> io::Result<()>) -> io::Result<()> {
        if !self.batch.is_empty() {
            self.send()?;
        }
        while self.in_flight > 0 {
            let o = self.from_worker.recv().map_err(|_| stopped())?;
            self.hand_on(o, sink)?;
        }
        Ok(())
    }

    /// Messages read so far whose bytes could not be parsed as a message (each also
    /// handed on as [`Verified::Unreadable`]); the reader does not count them.
    pub fn unparsable(&self) -> u64 {
        self.unparsable
    }

    fn send(&mut self) -> io::Result<()> {
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH_MESSAGES));
        self.bytes = 0;
        let to_worker = self.to_worker.as_ref().ok_or_else(stopped)?;
        to_worker.send(batch).map_err(|_| stopped())?;
        self.in_flight += 1;
        Ok(())
    }

    fn hand_on(&mut self, o: Outcome, sink: &mut impl FnMut(Verified) -> io::Result<()>) -> io::Result<()> {
        self.in_flight -= 1;
        self.unparsable += o.unparsable;
        for v in o.verified {
            sink(v)?;
        }
        Ok(())
    }
}

impl Drop for BatchVerifier {
    fn drop(&mut self) {
        // Closing the queue ends the worker once it has finished its batch.
        self.to_worker = None;
        while self.in_flight > 0 && self.from_worker.recv().is_ok() {
            self.in_flight -= 1;
        }
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

fn stopped() -> io::Error {
    io::Error::other("the verification thread stopped")
}

fn verify_batch(batch: Vec<RawMessage>, keys: &KeyArchive) -> Outcome {
    let verified: Vec<(Verified, bool)> = batch
        .into_par_iter()
        .map(|raw| {
            let was_read = raw.result.is_ok();
            let m = raw.parse();
            match m.result {
                Ok(msg) => {
                    let checks = verify_message(&msg, keys);
                    let mut v = MessageVerdicts::new(&m.file, m.offset, &msg, checks);
                    v.arc = verify_arc(&msg, keys);
                    (Verified::Message(Box::new(v)), false)
                }
                Err(u) => {
                    (Verified::Unreadable { file: m.file, offset: m.offset, reason: u.reason }, was_read)
                }
            }
        })
        .collect();
    let unparsable = verified.iter().filter(|(_, bad)| *bad).count() as u64;
    Outcome { verified: verified.into_iter().map(|(v, _)| v).collect(), unparsable }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::Unreadable;

    #[test]
    fn outcomes_come_back_in_input_order_across_batches() {
        let mut v = BatchVerifier::new(Arc::new(KeyArchive::new()));
        let mut seen = Vec::new();
        let mut sink = |o: Verified| {
            seen.push(match o {
                Verified::Message(m) => (m.offset, true),
                Verified::Unreadable { offset, .. } => (offset, false),
            });
            Ok(())
        };
        let mut expected = Vec::new();
        for i in 0..1300u64 {
            let result = match i % 7 {
                0 => Err(Unreadable { reason: "bad".into() }),
                // Bytes read but no message: unreadable once parsed.
                3 => Ok(b"\x00\x01 not a header\n\nx".to_vec()),
                _ => Ok(format!("From: a@x\nMessage-ID: <{i}@x>\n\nbody {i}\n").into_bytes()),
            };
            expected.push((i, result.is_ok() && i % 7 != 3));
            v.push(RawMessage { file: Arc::from("f"), offset: i, result }, &mut sink).expect("push");
        }
        v.flush(&mut sink).expect("flush");
        assert_eq!(seen, expected);
        assert_eq!(v.unparsable(), (0..1300).filter(|i| i % 7 == 3).count() as u64);
    }
}
