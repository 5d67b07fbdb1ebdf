//! Verifying on every core: messages are gathered in batches as the reader hands them
//! on, each batch is verified in parallel, and the results are handed on in input order,
//! so the outputs are the same bytes whatever the thread count.

use std::io;
use std::sync::Arc;

use rayon::prelude::*;

use crate::analysis::MessageVerdicts;
use crate::dkim::verify_message;
use crate::keys::KeyArchive;
use crate::read::ReadMessage;

/// Messages in a batch, at most.
const BATCH_MESSAGES: usize = 512;
/// Bytes of messages in a batch, at most (past it the batch is verified at once).
const BATCH_BYTES: usize = 64 << 20;

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

/// Gathers messages into batches and verifies each batch on every core.
pub struct BatchVerifier<'k> {
    keys: &'k KeyArchive,
    batch: Vec<ReadMessage>,
    bytes: usize,
}

impl<'k> BatchVerifier<'k> {
    /// A verifier against `keys`.
    pub fn new(keys: &'k KeyArchive) -> BatchVerifier<'k> {
        BatchVerifier { keys, batch: Vec::with_capacity(BATCH_MESSAGES), bytes: 0 }
    }

    /// Adds a message; when the batch is full, verifies it and hands every outcome to
    /// `sink` in input order.
    pub fn push(
        &mut self,
        m: ReadMessage,
        sink: &mut impl FnMut(Verified) -> io::Result<()>,
    ) -> io::Result<()> {
        self.bytes += m.result.as_ref().map(|msg| msg.raw.len()).unwrap_or(0);
        self.batch.push(m);
        if self.batch.len() >= BATCH_MESSAGES || self.bytes >= BATCH_BYTES {
            self.flush(sink)?;
        }
        Ok(())
    }

    /// Verifies what is left and hands it on.
    pub fn flush(&mut self, sink: &mut impl FnMut(Verified) -> io::Result<()>) -> io::Result<()> {
        let batch = std::mem::take(&mut self.batch);
        self.bytes = 0;
        let keys = self.keys;
        let outcomes: Vec<Verified> = batch
            .into_par_iter()
            .map(|m| match m.result {
                Ok(msg) => {
                    let checks = verify_message(&msg, keys);
                    Verified::Message(Box::new(MessageVerdicts::new(&m.file, m.offset, &msg, checks)))
                }
                Err(u) => Verified::Unreadable { file: m.file, offset: m.offset, reason: u.reason },
            })
            .collect();
        for o in outcomes {
            sink(o)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Message;
    use crate::read::Unreadable;

    #[test]
    fn outcomes_come_back_in_input_order_across_batches() {
        let keys = KeyArchive::new();
        let mut v = BatchVerifier::new(&keys);
        let mut seen = Vec::new();
        let mut sink = |o: Verified| {
            seen.push(match o {
                Verified::Message(m) => m.offset,
                Verified::Unreadable { offset, .. } => offset,
            });
            Ok(())
        };
        for i in 0..1300u64 {
            let result = if i % 7 == 0 {
                Err(Unreadable { reason: "bad".into() })
            } else {
                Ok(Message::parse(format!("From: a@x\nMessage-ID: <{i}@x>\n\nbody {i}\n").as_bytes())
                    .expect("parse"))
            };
            v.push(ReadMessage { file: Arc::from("f"), offset: i, result }, &mut sink).expect("push");
        }
        v.flush(&mut sink).expect("flush");
        assert_eq!(seen, (0..1300).collect::<Vec<_>>());
    }
}
