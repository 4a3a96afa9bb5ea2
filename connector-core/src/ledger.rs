//! The delivery ledger: which records a sink has resolved, and how.
//!
//! The copy driver registers every batch it hands a writer and applies every outcome
//! the writer reports. A record without an outcome counts as *not delivered*; an
//! outcome for an unknown id or a second outcome for the same id is a broken sink
//! contract and stops the copy.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use crate::{
    ConnectorError, ErrorKind, Record, RecordBatch, RecordError, RecordId, RecordOutcome,
    WriteAction,
};

const UNRESOLVED: u8 = 0;
const RESOLVED: u8 = 1;
const RETRYING: u8 = 2;

#[derive(Debug)]
struct Pending {
    first: RecordId,
    batch: Arc<RecordBatch>,
    state: Vec<u8>,
    unresolved: usize,
}

/// What the ledger learnt from one report.
#[derive(Debug, Default)]
pub(crate) struct Applied {
    pub(crate) created: u64,
    pub(crate) updated: u64,
    pub(crate) deleted: u64,
    pub(crate) unchanged: u64,
    /// Rejected records, with their batch (for the schema) and error.
    pub(crate) rejected: Vec<(Arc<RecordBatch>, usize, RecordError)>,
    /// Records that failed for good.
    pub(crate) failed: Vec<(Arc<RecordBatch>, usize, RecordError)>,
}

#[derive(Debug)]
pub(crate) struct Ledger {
    pending: VecDeque<Pending>,
    next_id: RecordId,
    unresolved: usize,
    /// Retry ids -> original ids.
    aliases: HashMap<RecordId, RecordId>,
    /// Records waiting to be written again: original ids and attempts made.
    retry_queue: Vec<(RecordId, u32)>,
    attempts: HashMap<RecordId, u32>,
    max_retries: u32,
    /// The lowest original id that failed for good (blocks later checkpoints).
    first_failed: Option<RecordId>,
    sink: String,
}

impl Ledger {
    pub(crate) fn new(sink: String, max_retries: u32) -> Self {
        Self {
            pending: VecDeque::new(),
            next_id: 0,
            unresolved: 0,
            aliases: HashMap::new(),
            retry_queue: Vec::new(),
            attempts: HashMap::new(),
            max_retries,
            first_failed: None,
            sink,
        }
    }

    /// Registers a batch of new records; returns the id of its first record.
    pub(crate) fn register(&mut self, batch: Arc<RecordBatch>) -> RecordId {
        let first = self.next_id;
        let n = batch.len();
        self.next_id += n as u64;
        if n > 0 {
            self.unresolved += n;
            self.pending.push_back(Pending {
                first,
                batch,
                state: vec![UNRESOLVED; n],
                unresolved: n,
            });
        }
        first
    }

    /// Takes the retry queue as batches with fresh ids aliased to the originals, one
    /// batch per source batch so that each keeps its location.
    pub(crate) fn take_retry_batches(&mut self) -> Vec<(RecordId, Arc<RecordBatch>)> {
        let queue = std::mem::take(&mut self.retry_queue);
        let mut batches: Vec<(RecordId, Arc<RecordBatch>)> = Vec::new();
        let mut group: Vec<Record> = Vec::new();
        let mut source: Option<Arc<RecordBatch>> = None;
        let mut first = self.next_id;
        let flush = |source: &Option<Arc<RecordBatch>>,
                     group: &mut Vec<Record>,
                     first: RecordId,
                     out: &mut Vec<(RecordId, Arc<RecordBatch>)>| {
            if let Some(src) = source
                && !group.is_empty()
            {
                let batch = RecordBatch {
                    stream: src.stream.clone(),
                    schema: src.schema.clone(),
                    records: std::mem::take(group),
                    location: src.location.clone(),
                };
                out.push((first, Arc::new(batch)));
            }
        };
        for (original, attempts) in queue {
            let Some((idx, offset)) = self.locate(original) else {
                continue;
            };
            let batch = self.pending[idx].batch.clone();
            if !source.as_ref().is_some_and(|s| Arc::ptr_eq(s, &batch)) {
                flush(&source, &mut group, first, &mut batches);
                first = self.next_id;
                source = Some(batch.clone());
            }
            self.aliases.insert(self.next_id, original);
            self.attempts.insert(original, attempts);
            self.next_id += 1;
            group.push(batch.records[offset].clone());
        }
        flush(&source, &mut group, first, &mut batches);
        batches
    }

    /// The id the next registered record will get.
    pub(crate) fn next_id(&self) -> RecordId {
        self.next_id
    }

    /// Records handed to the writer and not resolved yet.
    pub(crate) fn unresolved(&self) -> usize {
        self.unresolved
    }

    /// Whether every original id below `barrier` is resolved.
    pub(crate) fn resolved_below(&self, barrier: RecordId) -> bool {
        match self.pending.front() {
            None => true,
            Some(front) => {
                let lowest = front
                    .state
                    .iter()
                    .position(|s| *s != RESOLVED)
                    .map_or(front.first + front.state.len() as u64, |i| {
                        front.first + i as u64
                    });
                lowest >= barrier
            }
        }
    }

    /// Whether a record below `barrier` failed for good (the checkpoint must not pass).
    pub(crate) fn failed_below(&self, barrier: RecordId) -> bool {
        self.first_failed.is_some_and(|f| f < barrier)
    }

    fn locate(&self, id: RecordId) -> Option<(usize, usize)> {
        let idx = self
            .pending
            .partition_point(|p| p.first <= id)
            .checked_sub(1)?;
        let p = &self.pending[idx];
        let offset = usize::try_from(id - p.first).ok()?;
        (offset < p.state.len()).then_some((idx, offset))
    }

    fn violation(&self, message: String) -> ConnectorError {
        ConnectorError::new(ErrorKind::Unexpected, "copy.ledger", message)
            .with_context("sink", self.sink.clone())
    }

    /// Applies a writer's outcomes. Returns what was applied, and a contract violation
    /// if one was found (outcomes after it are not applied).
    pub(crate) fn apply(
        &mut self,
        outcomes: Vec<(RecordId, RecordOutcome)>,
    ) -> (Applied, Result<(), ConnectorError>) {
        let mut applied = Applied::default();
        let result = self.apply_into(outcomes, &mut applied);
        while self.pending.front().is_some_and(|p| p.unresolved == 0) {
            self.pending.pop_front();
        }
        (applied, result)
    }

    fn apply_into(
        &mut self,
        outcomes: Vec<(RecordId, RecordOutcome)>,
        applied: &mut Applied,
    ) -> Result<(), ConnectorError> {
        for (reported, outcome) in outcomes {
            let id = match self.aliases.remove(&reported) {
                Some(original) => original,
                None if reported >= self.next_id => {
                    return Err(self.violation(format!(
                        "sink reported an outcome for record {reported}, which was never submitted"
                    )));
                }
                None => reported,
            };
            let Some((idx, offset)) = self.locate(id) else {
                return Err(self.violation(format!(
                    "sink reported a second outcome for record {reported}"
                )));
            };
            let p = &mut self.pending[idx];
            if p.state[offset] == RESOLVED {
                return Err(self.violation(format!(
                    "sink reported a second outcome for record {reported}"
                )));
            }
            if p.state[offset] == RETRYING && reported == id {
                return Err(self.violation(format!(
                    "sink reported an outcome for record {reported} after it was already failed"
                )));
            }
            match outcome {
                RecordOutcome::Written { action, .. } => {
                    match action {
                        WriteAction::Created => applied.created += 1,
                        WriteAction::Updated => applied.updated += 1,
                        WriteAction::Deleted => applied.deleted += 1,
                        WriteAction::Unchanged => applied.unchanged += 1,
                    }
                    p.state[offset] = RESOLVED;
                }
                RecordOutcome::Rejected { error } => {
                    applied.rejected.push((p.batch.clone(), offset, error));
                    p.state[offset] = RESOLVED;
                }
                RecordOutcome::Failed { error } => {
                    let attempts = self.attempts.get(&id).copied().unwrap_or(0);
                    if attempts < self.max_retries {
                        p.state[offset] = RETRYING;
                        self.retry_queue.push((id, attempts + 1));
                        continue;
                    }
                    applied.failed.push((p.batch.clone(), offset, error));
                    p.state[offset] = RESOLVED;
                    self.first_failed = Some(self.first_failed.map_or(id, |f| f.min(id)));
                }
            }
            p.unresolved -= 1;
            self.unresolved -= 1;
        }
        Ok(())
    }

    /// Marks every unresolved record (retries included) as failed with `error`:
    /// after a writer error or a flush that left records without an outcome.
    pub(crate) fn fail_all_unresolved(
        &mut self,
        error: &RecordError,
    ) -> Vec<(Arc<RecordBatch>, usize, RecordError)> {
        let mut failed = Vec::new();
        self.retry_queue.clear();
        self.aliases.clear();
        for p in &mut self.pending {
            for (offset, state) in p.state.iter_mut().enumerate() {
                if *state != RESOLVED {
                    *state = RESOLVED;
                    failed.push((p.batch.clone(), offset, error.clone()));
                    let id = p.first + offset as u64;
                    self.first_failed = Some(self.first_failed.map_or(id, |f| f.min(id)));
                }
            }
            p.unresolved = 0;
        }
        self.pending.clear();
        self.unresolved = 0;
        failed
    }

    /// Whether records wait to be written again.
    #[cfg(test)]
    pub(crate) fn has_retries(&self) -> bool {
        !self.retry_queue.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StreamId;
    use type_mapping::{DataType, Field, Schema};

    fn batch(n: usize) -> Arc<RecordBatch> {
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64)]));
        Arc::new(RecordBatch::new(
            StreamId::new("s"),
            schema,
            (0..n as i64).map(|i| Record::from_iter([i])).collect(),
        ))
    }

    fn written() -> RecordOutcome {
        RecordOutcome::Written {
            action: WriteAction::Created,
            remote_id: None,
        }
    }

    #[test]
    fn resolves_in_any_order_and_gates_barriers() {
        let mut l = Ledger::new("t".into(), 0);
        assert_eq!(l.register(batch(3)), 0);
        assert_eq!(l.register(batch(2)), 3);
        l.apply(vec![(4, written()), (3, written())]).1.unwrap();
        assert!(!l.resolved_below(1));
        l.apply(vec![(0, written()), (1, written())]).1.unwrap();
        assert!(l.resolved_below(2));
        assert!(!l.resolved_below(3));
        l.apply(vec![(2, written())]).1.unwrap();
        assert!(l.resolved_below(5));
        assert_eq!(l.unresolved(), 0);
    }

    #[test]
    fn duplicate_and_unknown_outcomes_are_violations() {
        let mut l = Ledger::new("t".into(), 0);
        l.register(batch(2));
        l.apply(vec![(0, written())]).1.unwrap();
        let err = l.apply(vec![(0, written())]).1.unwrap_err();
        assert!(
            err.to_string().contains("second outcome for record 0"),
            "{err}"
        );
        let err = l.apply(vec![(9, written())]).1.unwrap_err();
        assert!(err.to_string().contains("never submitted"), "{err}");
    }

    #[test]
    fn failed_records_are_retried_then_counted_and_block_checkpoints() {
        let mut l = Ledger::new("t".into(), 1);
        l.register(batch(2));
        let fail = || RecordOutcome::Failed {
            error: RecordError::new("TIMEOUT", "try later"),
        };
        l.apply(vec![(0, written()), (1, fail())]).1.unwrap();
        assert!(l.has_retries());
        assert!(!l.resolved_below(2));
        let retries = l.take_retry_batches();
        assert_eq!(retries.len(), 1);
        assert_eq!((retries[0].0, retries[0].1.len()), (2, 1));
        let (applied, ok) = l.apply(vec![(2, fail())]);
        ok.unwrap();
        assert_eq!(
            applied.failed.len(),
            1,
            "second failure is final with one retry allowed"
        );
        assert!(l.resolved_below(2));
        assert!(l.failed_below(2));
        assert!(!l.failed_below(1));
    }

    #[test]
    fn retried_record_that_succeeds_heals() {
        let mut l = Ledger::new("t".into(), 2);
        l.register(batch(1));
        l.apply(vec![(
            0,
            RecordOutcome::Failed {
                error: RecordError::new("X", "y"),
            },
        )])
        .1
        .unwrap();
        let (first, _) = l.take_retry_batches().remove(0);
        let (applied, ok) = l.apply(vec![(first, written())]);
        ok.unwrap();
        assert_eq!(applied.created, 1);
        assert!(l.resolved_below(1));
        assert!(!l.failed_below(1));
    }
}
