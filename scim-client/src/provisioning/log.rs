//! The provisioning log (one entry per object per cycle, like Entra's provisioning
//! logs), notifications, and cycle progress.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ProvisioningError;
use super::state::QuarantineReason;

/// Users or groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    /// A user.
    User,
    /// A group.
    Group,
}

/// What was done to an object (Entra's provisioning-log actions).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Action {
    /// Created in the target.
    Create,
    /// Updated: changed attributes, a re-enable, or linked to an existing match.
    Update,
    /// Disabled (`active=false`).
    Disable,
    /// Deleted.
    Delete,
    /// A disable or delete held back by the accidental-deletion threshold.
    StagedDelete,
    /// Nothing to do: unchanged, out of scope, or waiting for an escrow retry.
    None,
}

/// How an object's action ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Status {
    /// Done.
    Success,
    /// Failed; the object is in escrow.
    Failure,
    /// Not done: nothing to do, out of scope, waiting, or held back.
    Skipped,
    /// Done, with something to know (a target object already gone, say).
    Warning,
    /// Dry run: what would be done.
    Planned,
}

/// One attribute an action changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModifiedProperty {
    /// The SCIM path.
    pub name: String,
    /// The value before (as last written), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    /// The value after; `None` when removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
}

/// Why an object failed: the target's code (`scimType`, `HTTP_503`...) and message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogError {
    /// The code.
    pub code: String,
    /// The message.
    pub message: String,
}

/// One object in one cycle.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// The cycle number (1 is the first cycle of the job).
    pub cycle: u64,
    /// When the action finished.
    pub timestamp: DateTime<Utc>,
    /// User or group.
    pub object: ObjectKind,
    /// The source object's id.
    pub source_id: String,
    /// The SCIM id, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_id: Option<String>,
    /// What was done.
    pub action: Action,
    /// How it ended.
    pub status: Status,
    /// The attributes the action changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<ModifiedProperty>,
    /// Why the action was chosen ("matched on userName", "left scope", ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The error, on failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<LogError>,
}

/// Receives the provisioning log. Entries are also emitted as `tracing` events
/// (target `scim_client::provisioning`), whatever log is configured.
pub trait ProvisioningLog: std::fmt::Debug + Send + Sync {
    /// Records one entry.
    fn record(&self, entry: &LogEntry) -> Result<(), ProvisioningError>;
    /// Makes the entries so far durable (called at the end of every cycle).
    fn flush(&self) -> Result<(), ProvisioningError> {
        Ok(())
    }
}

/// The log as JSON Lines, appended to a file.
#[derive(Debug)]
pub struct JsonlLog {
    out: Mutex<BufWriter<File>>,
}

impl JsonlLog {
    /// Appends to `path`, creating it if needed.
    pub fn append(path: impl AsRef<Path>) -> Result<Self, ProvisioningError> {
        let path = path.as_ref();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| ProvisioningError::Log(format!("creating {}: {e}", dir.display())))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| ProvisioningError::Log(format!("opening {}: {e}", path.display())))?;
        Ok(Self {
            out: Mutex::new(BufWriter::new(file)),
        })
    }
}

impl ProvisioningLog for JsonlLog {
    fn record(&self, entry: &LogEntry) -> Result<(), ProvisioningError> {
        let mut out = self
            .out
            .lock()
            .map_err(|_| ProvisioningError::Log("the log's lock is poisoned".into()))?;
        serde_json::to_writer(&mut *out, entry)
            .map_err(|e| ProvisioningError::Log(e.to_string()))?;
        out.write_all(b"\n")
            .map_err(|e| ProvisioningError::Log(e.to_string()))
    }

    fn flush(&self) -> Result<(), ProvisioningError> {
        let mut out = self
            .out
            .lock()
            .map_err(|_| ProvisioningError::Log("the log's lock is poisoned".into()))?;
        out.flush()
            .map_err(|e| ProvisioningError::Log(e.to_string()))
    }
}

/// The log kept in memory (tests, on-demand runs, small jobs).
#[derive(Debug, Default)]
pub struct MemoryLog {
    entries: Mutex<Vec<LogEntry>>,
}

impl MemoryLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every entry so far.
    pub fn entries(&self) -> Vec<LogEntry> {
        self.entries.lock().map(|e| e.clone()).unwrap_or_default()
    }

    /// The entries of `cycle`.
    pub fn cycle(&self, cycle: u64) -> Vec<LogEntry> {
        self.entries()
            .into_iter()
            .filter(|e| e.cycle == cycle)
            .collect()
    }
}

impl ProvisioningLog for MemoryLog {
    fn record(&self, entry: &LogEntry) -> Result<(), ProvisioningError> {
        self.entries
            .lock()
            .map_err(|_| ProvisioningError::Log("the log's lock is poisoned".into()))?
            .push(entry.clone());
        Ok(())
    }
}

/// No log beyond the `tracing` events.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoLog;

impl ProvisioningLog for NoLog {
    fn record(&self, _entry: &LogEntry) -> Result<(), ProvisioningError> {
        Ok(())
    }
}

/// Something a person should hear about.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Notification {
    /// An object failed and went into escrow (or stayed there).
    ObjectFailed {
        /// The cycle.
        cycle: u64,
        /// User or group.
        object: ObjectKind,
        /// The source id.
        source_id: String,
        /// The error.
        error: LogError,
    },
    /// A cycle planned more disables and deletes than the threshold allows and
    /// stopped before writing anything.
    DeletionThresholdExceeded {
        /// The cycle.
        cycle: u64,
        /// Disables and deletes planned.
        planned: usize,
        /// The threshold.
        threshold: usize,
    },
    /// The job entered quarantine.
    QuarantineEntered {
        /// Why.
        reason: QuarantineReason,
        /// The details.
        detail: String,
    },
    /// The job left quarantine.
    QuarantineLeft,
}

/// Hears about failures, deletion-threshold stops and quarantine: implement it to
/// send an e-mail, a chat message or a page.
#[async_trait]
pub trait Notifier: std::fmt::Debug + Send + Sync {
    /// Called for each notification; errors are the notifier's own business.
    async fn notify(&self, notification: &Notification);
}

/// No notifications.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoNotifier;

#[async_trait]
impl Notifier for NoNotifier {
    async fn notify(&self, _notification: &Notification) {}
}

/// Notifications collected in memory (tests).
#[derive(Debug, Default)]
pub struct MemoryNotifier {
    seen: Mutex<Vec<Notification>>,
}

impl MemoryNotifier {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every notification so far.
    pub fn notifications(&self) -> Vec<Notification> {
        self.seen.lock().map(|n| n.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl Notifier for MemoryNotifier {
    async fn notify(&self, notification: &Notification) {
        if let Ok(mut seen) = self.seen.lock() {
            seen.push(notification.clone());
        }
    }
}

/// The part of a cycle being worked on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Reading the source.
    Import,
    /// Writing users.
    Users,
    /// Writing groups and memberships.
    Groups,
    /// Done.
    Done,
}

/// How far a cycle is: `done` of `total` objects in `phase`, to draw as a progress
/// bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// The cycle.
    pub cycle: u64,
    /// The phase.
    pub phase: Phase,
    /// Objects done in this phase.
    pub done: u64,
    /// Objects in this phase (while importing: read so far).
    pub total: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonl_log_appends_one_line_per_entry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log/provisioning.jsonl");
        let entry = LogEntry {
            cycle: 1,
            timestamp: Utc::now(),
            object: ObjectKind::User,
            source_id: "7".into(),
            target_id: Some("u-7".into()),
            action: Action::Update,
            status: Status::Success,
            changed: vec![ModifiedProperty {
                name: "title".into(),
                old: Some("A".into()),
                new: Some("B".into()),
            }],
            reason: None,
            error: None,
        };
        {
            let log = JsonlLog::append(&path).unwrap();
            log.record(&entry).unwrap();
            log.flush().unwrap();
        }
        let log = JsonlLog::append(&path).unwrap();
        log.record(&entry).unwrap();
        log.flush().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<LogEntry> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines, vec![entry.clone(), entry]);
        assert!(text.contains(r#""action":"update""#), "{text}");
    }
}
