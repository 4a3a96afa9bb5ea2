//! Users: list by type, get, count, create, update, deactivate, delete, and a
//! [`UserWatcher`] that reports added, changed and removed users between polls.

use std::collections::BTreeMap;
use std::fmt;

use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::client::{Call, ZohoClient};
use crate::error::{Result, ZohoError};

/// The `type` filter of the Users API.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum UserType {
    /// Every user.
    #[default]
    AllUsers,
    /// Active users.
    ActiveUsers,
    /// Deactivated users.
    DeactiveUsers,
    /// Users who accepted the invitation.
    ConfirmedUsers,
    /// Users who have not.
    NotConfirmedUsers,
    /// Deleted users.
    DeletedUsers,
    /// Active and confirmed users.
    ActiveConfirmedUsers,
    /// Administrators.
    AdminUsers,
    /// Active, confirmed administrators.
    ActiveConfirmedAdmins,
    /// The user the token belongs to.
    CurrentUser,
}

impl UserType {
    /// Zoho's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AllUsers => "AllUsers",
            Self::ActiveUsers => "ActiveUsers",
            Self::DeactiveUsers => "DeactiveUsers",
            Self::ConfirmedUsers => "ConfirmedUsers",
            Self::NotConfirmedUsers => "NotConfirmedUsers",
            Self::DeletedUsers => "DeletedUsers",
            Self::ActiveConfirmedUsers => "ActiveConfirmedUsers",
            Self::AdminUsers => "AdminUsers",
            Self::ActiveConfirmedAdmins => "ActiveConfirmedAdmins",
            Self::CurrentUser => "CurrentUser",
        }
    }
}

/// A `{ "id", "name" }` reference (role, profile).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NamedRef {
    /// The id.
    #[serde(default)]
    pub id: String,
    /// The name.
    #[serde(default)]
    pub name: String,
}

/// A CRM user; attributes this type does not name are kept in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ZohoUser {
    /// The user's id (a string of digits).
    #[serde(default)]
    pub id: String,
    /// The e-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// First name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Full name.
    #[serde(default)]
    pub full_name: Option<String>,
    /// `active`, `inactive` or `deleted`.
    #[serde(default)]
    pub status: Option<String>,
    /// The role.
    #[serde(default)]
    pub role: Option<NamedRef>,
    /// The profile.
    #[serde(default)]
    pub profile: Option<NamedRef>,
    /// When the user last changed.
    #[serde(rename = "Modified_Time", default)]
    pub modified_time: Option<String>,
    /// Every other attribute, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A new user: Zoho requires a last name, an e-mail, a role and a profile.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewUser {
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: String,
    /// E-mail (the login; must be unique).
    pub email: String,
    /// The role's id.
    pub role_id: String,
    /// The profile's id.
    pub profile_id: String,
}

/// The Users API.
#[derive(Clone, Debug)]
pub struct Users {
    client: ZohoClient,
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    users: Vec<ZohoUser>,
    #[serde(default)]
    info: Info,
}

#[derive(Default, Deserialize)]
struct Info {
    #[serde(default)]
    more_records: bool,
}

fn single_result(body: &Value, operation: &'static str) -> Result<Value> {
    let first = body
        .get("users")
        .and_then(|u| u.as_array()?.first())
        .cloned()
        .unwrap_or(Value::Null);
    match first.get("status").and_then(Value::as_str) {
        Some("success") => Ok(first),
        _ => Err(ZohoError::Api {
            operation,
            status: 400,
            code: first
                .get("code")
                .and_then(Value::as_str)
                .unwrap_or("UNKNOWN")
                .to_owned(),
            message: first
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            details: Box::new(first.get("details").cloned().unwrap_or(Value::Null)),
        }),
    }
}

impl ZohoClient {
    /// The Users API.
    pub fn users(&self) -> Users {
        Users {
            client: self.clone(),
        }
    }
}

impl Users {
    /// Every user of a type, page by page as the stream is polled (200 per page).
    pub fn list(&self, kind: UserType) -> BoxStream<'static, Result<ZohoUser>> {
        let client = self.client.clone();
        stream::try_unfold(Some(1u32), move |page| {
            let client = client.clone();
            async move {
                let Some(page) = page else {
                    return Ok::<_, ZohoError>(None);
                };
                let call = Call::new(Method::GET, "users", "zoho.list_users")
                    .query("type", kind.as_str())
                    .query("page", page.to_string())
                    .query("per_page", "200");
                let answer = client.call(call).await?;
                if answer.body.is_null() {
                    return Ok(Some((Vec::new(), None)));
                }
                let parsed: Page = serde_json::from_value(answer.body).map_err(|e| {
                    ZohoError::InvalidResponse {
                        operation: "zoho.list_users",
                        message: e.to_string(),
                    }
                })?;
                let next =
                    (parsed.info.more_records && !parsed.users.is_empty()).then_some(page + 1);
                Ok(Some((parsed.users, next)))
            }
        })
        .map_ok(|users| stream::iter(users.into_iter().map(Ok)))
        .try_flatten()
        .boxed()
    }

    /// One user; a missing id is an error with Zoho's code.
    pub async fn get(&self, id: &str) -> Result<ZohoUser> {
        let answer = self
            .client
            .call(Call::new(
                Method::GET,
                format!("users/{}", path_id(id)?),
                "zoho.get_user",
            ))
            .await?;
        let page: Page =
            serde_json::from_value(answer.body).map_err(|e| ZohoError::InvalidResponse {
                operation: "zoho.get_user",
                message: e.to_string(),
            })?;
        page.users.into_iter().next().ok_or_else(|| ZohoError::Api {
            operation: "zoho.get_user",
            status: 204,
            code: "NO_CONTENT".into(),
            message: format!("no user {id}"),
            details: Box::new(Value::Null),
        })
    }

    /// How many users of a type there are.
    pub async fn count(&self, kind: UserType) -> Result<u64> {
        let call = Call::new(Method::GET, "users/actions/count", "zoho.count_users")
            .query("type", kind.as_str());
        let answer = self.client.call(call).await?;
        Ok(answer
            .body
            .get("count")
            .and_then(Value::as_u64)
            .unwrap_or(0))
    }

    /// Adds a user (one per request, as Zoho requires); returns the new id.
    pub async fn create(&self, user: &NewUser) -> Result<String> {
        let mut body = json!({
            "last_name": user.last_name, "email": user.email, "role": user.role_id, "profile": user.profile_id,
        });
        if let Some(first) = &user.first_name {
            body["first_name"] = json!(first);
        }
        let answer = self
            .client
            .call(
                Call::new(Method::POST, "users", "zoho.create_user")
                    .body(json!({ "users": [body] })),
            )
            .await?;
        let result = single_result(&answer.body, "zoho.create_user")?;
        result
            .get("details")
            .and_then(|d| d.get("id"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| ZohoError::InvalidResponse {
                operation: "zoho.create_user",
                message: "no id in the answer".into(),
            })
    }

    /// Changes a user's attributes (`{"role": "<id>"}`, `{"status": "inactive"}`).
    pub async fn update(&self, id: &str, changes: Map<String, Value>) -> Result<()> {
        let mut user = changes;
        user.insert("id".into(), json!(id));
        let call = Call::new(
            Method::PUT,
            format!("users/{}", path_id(id)?),
            "zoho.update_user",
        )
        .body(json!({ "users": [user] }));
        let answer = self.client.call(call).await?;
        single_result(&answer.body, "zoho.update_user").map(|_| ())
    }

    /// Deactivates a user (`status: inactive`).
    pub async fn deactivate(&self, id: &str) -> Result<()> {
        let mut changes = Map::new();
        changes.insert("status".into(), json!("inactive"));
        self.update(id, changes).await
    }

    /// Deletes a user.
    pub async fn delete(&self, id: &str) -> Result<()> {
        let answer = self
            .client
            .call(Call::new(
                Method::DELETE,
                format!("users/{}", path_id(id)?),
                "zoho.delete_user",
            ))
            .await?;
        single_result(&answer.body, "zoho.delete_user").map(|_| ())
    }

    /// A watcher of users of `kind`, starting from `state` (empty for the first poll).
    pub fn watcher(&self, kind: UserType, state: WatchState) -> UserWatcher {
        UserWatcher {
            users: self.clone(),
            kind,
            state,
        }
    }
}

pub(crate) fn path_id(id: &str) -> Result<&str> {
    if id.is_empty()
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(ZohoError::InvalidRequest {
            operation: "zoho",
            message: format!("{id:?} is not a Zoho id"),
        });
    }
    Ok(id)
}

/// What a watcher remembers of a user between polls.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// `Modified_Time`.
    pub modified_time: Option<String>,
    /// Status.
    pub status: Option<String>,
    /// Role id.
    pub role: Option<String>,
    /// Profile id.
    pub profile: Option<String>,
}

impl Seen {
    fn of(user: &ZohoUser) -> Self {
        Self {
            modified_time: user.modified_time.clone(),
            status: user.status.clone(),
            role: user.role.as_ref().map(|r| r.id.clone()),
            profile: user.profile.as_ref().map(|p| p.id.clone()),
        }
    }
}

/// A watcher's state: every user seen at the last poll. Serializable, so a process can
/// stop and resume without reporting everyone as new.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchState {
    /// Users by id.
    pub users: BTreeMap<String, Seen>,
    /// Whether a first poll happened.
    pub initialised: bool,
}

/// A change between two polls.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum UserChange {
    /// A user that was not there before.
    Added(ZohoUser),
    /// A user whose attributes changed.
    Changed {
        /// The user now.
        user: ZohoUser,
        /// Whether the role changed.
        role_changed: bool,
        /// Whether the profile changed.
        profile_changed: bool,
        /// Whether the status changed (activated, deactivated).
        status_changed: bool,
    },
    /// A user that is no longer listed (deleted, or out of the watched type).
    Removed {
        /// The user's id.
        id: String,
    },
}

/// Polls users and reports what changed since the last poll (what JumpCloud's Zoho CRM
/// connector does on a schedule).
pub struct UserWatcher {
    users: Users,
    kind: UserType,
    state: WatchState,
}

impl fmt::Debug for UserWatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserWatcher")
            .field("kind", &self.kind)
            .field("known", &self.state.users.len())
            .finish()
    }
}

impl UserWatcher {
    /// The state to save for resuming.
    pub fn state(&self) -> &WatchState {
        &self.state
    }

    /// Lists the users and returns the changes since the last poll. The first poll of a
    /// fresh state reports every user as added.
    pub async fn poll(&mut self) -> Result<Vec<UserChange>> {
        let users: Vec<ZohoUser> = self.users.list(self.kind).try_collect().await?;
        let mut changes = Vec::new();
        let mut next = BTreeMap::new();
        for user in users {
            let seen = Seen::of(&user);
            match self.state.users.get(&user.id) {
                None => changes.push(UserChange::Added(user.clone())),
                Some(before) if *before != seen => changes.push(UserChange::Changed {
                    role_changed: before.role != seen.role,
                    profile_changed: before.profile != seen.profile,
                    status_changed: before.status != seen.status,
                    user: user.clone(),
                }),
                Some(_) => {}
            }
            next.insert(user.id.clone(), seen);
        }
        for id in self.state.users.keys() {
            if !next.contains_key(id) {
                changes.push(UserChange::Removed { id: id.clone() });
            }
        }
        self.state = WatchState {
            users: next,
            initialised: true,
        };
        Ok(changes)
    }

    /// Polls every `interval`, calling `on_changes` with each non-empty set of changes
    /// and the state to save; stops when `on_changes` returns `false`.
    pub async fn run<F>(&mut self, interval: std::time::Duration, mut on_changes: F) -> Result<()>
    where
        F: FnMut(Vec<UserChange>, &WatchState) -> bool,
    {
        loop {
            let changes = self.poll().await?;
            if !changes.is_empty() && !on_changes(changes, &self.state) {
                return Ok(());
            }
            ZohoClient::sleep(interval).await;
        }
    }
}
