//! What a provisioning job remembers between cycles, and where it keeps it.
//!
//! The state maps every source object the job manages to its SCIM id, the attribute
//! values last written, and any retry (escrow) it is waiting for; plus the source's
//! incremental watermarks and the job's quarantine. It is saved during a cycle (every
//! few hundred objects) and at its end, so a process killed mid-cycle resumes without
//! creating anything twice: an object written but not yet saved is found again by its
//! matching attribute and only updated.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use connector_core::state::StreamState;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::ProvisioningError;

/// The format version written by this release.
pub const STATE_VERSION: u32 = 1;

/// Everything a provisioning job remembers.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProvisioningState {
    /// The format version ([`STATE_VERSION`]).
    #[serde(default)]
    pub version: u32,
    /// Users, by source id.
    #[serde(default)]
    pub users: BTreeMap<String, ObjectState>,
    /// Groups, by source id.
    #[serde(default)]
    pub groups: BTreeMap<String, ObjectState>,
    /// The source streams' incremental state, by stream name: advanced only when a
    /// cycle completes, so an interrupted cycle reads the same changes again.
    #[serde(default)]
    pub watermarks: BTreeMap<String, StreamState>,
    /// Cycles completed.
    #[serde(default)]
    pub cycles_completed: u64,
    /// When the last cycle that read every source object completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_full_cycle: Option<DateTime<Utc>>,
    /// Set while the job is in quarantine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarantine: Option<Quarantine>,
}

impl ProvisioningState {
    /// An empty state of the current version.
    pub fn new() -> Self {
        Self {
            version: STATE_VERSION,
            ..Self::default()
        }
    }

    /// Objects waiting for an escrow retry, users and groups.
    pub fn escrowed(&self) -> usize {
        self.users
            .values()
            .chain(self.groups.values())
            .filter(|o| o.escrow.is_some())
            .count()
    }
}

/// One managed object.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ObjectState {
    /// Its SCIM `id`, once created or matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_id: Option<String>,
    /// The attribute values last written, by SCIM path (mappings applied on every
    /// update only; create-only ones are not compared).
    #[serde(default)]
    pub attributes: BTreeMap<String, Value>,
    /// Groups: the SCIM ids of the members last written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<BTreeSet<String>>,
    /// Whether the object is provisioned and active, or disabled.
    #[serde(default)]
    pub status: ObjectStatus,
    /// A failed write waiting to be retried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escrow: Option<Escrow>,
}

/// Whether a managed object is active in the target.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ObjectStatus {
    /// Written and in scope.
    #[default]
    Active,
    /// Disabled (`active=false`) because it left scope or the source; deleted once
    /// the grace period has passed, if one is configured.
    Disabled {
        /// When it was disabled.
        since: DateTime<Utc>,
        /// Why.
        reason: String,
    },
}

/// A failed object waiting for its retry, Entra's "escrow".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Escrow {
    /// Failed attempts so far.
    pub attempts: u32,
    /// When it first failed.
    pub first_failure: DateTime<Utc>,
    /// When it last failed.
    pub last_failure: DateTime<Utc>,
    /// When it is tried again, by the policy in force when it failed (a job with
    /// another policy computes its own time from `last_failure`).
    pub next_retry: DateTime<Utc>,
    /// The error code of the last failure (`scimType`, `HTTP_503`, ...).
    pub code: String,
    /// The message of the last failure.
    pub message: String,
    /// The source object as last read, so the retry needs no source read.
    #[serde(default)]
    pub source: Map<String, Value>,
}

/// Why a job is in quarantine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum QuarantineReason {
    /// The target refused the credentials (Entra's `EncounteredQuarantineException`).
    Credentials,
    /// Too many objects failed (Entra's `EncounteredEscrowProportionThreshold`).
    EscrowThreshold,
}

/// The job's quarantine.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Quarantine {
    /// Since when.
    pub since: DateTime<Utc>,
    /// Why.
    pub reason: QuarantineReason,
    /// The details: the error, or the failure counts.
    pub detail: String,
}

/// Where a provisioning job's state is kept. Implement it for a database or an
/// object store; [`FileStore`] and [`MemoryStore`] are provided.
#[async_trait]
pub trait ProvisioningStore: std::fmt::Debug + Send + Sync {
    /// The saved state, or `None` before the first cycle.
    async fn load(&self) -> Result<Option<ProvisioningState>, ProvisioningError>;
    /// Saves `state`, replacing what was there. It must be atomic: a crash leaves
    /// the old state or the new one.
    async fn save(&self, state: &ProvisioningState) -> Result<(), ProvisioningError>;
}

/// The state as a JSON file, replaced atomically (written beside, then renamed).
#[derive(Clone, Debug)]
pub struct FileStore {
    path: PathBuf,
}

impl FileStore {
    /// A store at `path` (created on the first save).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn error(&self, what: &str, e: impl std::fmt::Display) -> ProvisioningError {
        ProvisioningError::State(format!("{what} {}: {e}", self.path.display()))
    }
}

#[async_trait]
impl ProvisioningStore for FileStore {
    async fn load(&self) -> Result<Option<ProvisioningState>, ProvisioningError> {
        let path = self.path.clone();
        let bytes = match tokio::task::spawn_blocking(move || std::fs::read(path)).await {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Ok(Err(e)) => return Err(self.error("reading", e)),
            Err(e) => return Err(self.error("reading", e)),
        };
        let state: ProvisioningState =
            serde_json::from_slice(&bytes).map_err(|e| self.error("parsing", e))?;
        if state.version > STATE_VERSION {
            return Err(self.error(
                "reading",
                format!(
                    "state version {} is newer than this release understands ({STATE_VERSION})",
                    state.version
                ),
            ));
        }
        Ok(Some(state))
    }

    async fn save(&self, state: &ProvisioningState) -> Result<(), ProvisioningError> {
        let bytes = serde_json::to_vec(state).map_err(|e| self.error("writing", e))?;
        let path = self.path.clone();
        let result = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let mut tmp = path.clone().into_os_string();
            tmp.push(".tmp");
            let tmp = PathBuf::from(tmp);
            {
                use std::io::Write;
                let mut file = std::fs::File::create(&tmp)?;
                file.write_all(&bytes)?;
                file.sync_all()?;
            }
            std::fs::rename(&tmp, &path)
        })
        .await;
        match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(self.error("writing", e)),
            Err(e) => Err(self.error("writing", e)),
        }
    }
}

/// The state in memory, for tests and one-off runs.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<Option<ProvisioningState>>,
    saves: AtomicUsize,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The last saved state.
    pub fn get(&self) -> Option<ProvisioningState> {
        self.state.lock().ok().and_then(|s| s.clone())
    }

    /// How many times the state was saved.
    pub fn save_count(&self) -> usize {
        self.saves.load(Ordering::Relaxed)
    }
}

#[async_trait]
impl ProvisioningStore for MemoryStore {
    async fn load(&self) -> Result<Option<ProvisioningState>, ProvisioningError> {
        Ok(self.get())
    }

    async fn save(&self, state: &ProvisioningState) -> Result<(), ProvisioningError> {
        let mut slot = self
            .state
            .lock()
            .map_err(|_| ProvisioningError::State("the memory store's lock is poisoned".into()))?;
        *slot = Some(state.clone());
        self.saves.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn file_store_round_trips_and_is_absent_at_first() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path().join("nested/state.json"));
        assert_eq!(store.load().await.unwrap(), None);
        let mut state = ProvisioningState::new();
        state.users.insert(
            "42".into(),
            ObjectState {
                target_id: Some("u-1".into()),
                attributes: [("title".to_owned(), Value::from("Engineer"))].into(),
                status: ObjectStatus::Disabled {
                    since: Utc::now(),
                    reason: "left scope".into(),
                },
                ..ObjectState::default()
            },
        );
        store.save(&state).await.unwrap();
        assert_eq!(store.load().await.unwrap(), Some(state));
    }

    #[tokio::test]
    async fn a_corrupt_or_newer_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::fs::write(&path, "{ not json").unwrap();
        let err = FileStore::new(&path).load().await.unwrap_err().to_string();
        assert!(err.contains("state.json"), "{err}");
        std::fs::write(&path, r#"{"version": 99}"#).unwrap();
        let err = FileStore::new(&path).load().await.unwrap_err().to_string();
        assert!(err.contains("newer"), "{err}");
    }
}
