//! List a Zoho CRM org's users with a Self Client, then watch for changes.
//!
//! Runs against the in-process Zoho emulator by default:
//!
//! ```sh
//! cargo run -p examples --bin zoho_users
//! ```
//!
//! or against a real org with a Self Client's client credentials:
//!
//! ```sh
//! ZOHO_REGION=eu ZOHO_SOID=20081234567 ZOHO_SCOPE=ZohoCRM.users.ALL \
//!   ZOHO_CLIENT_ID=1000.XXX ZOHO_CLIENT_SECRET=... cargo run -p examples --bin zoho_users
//! ```

use std::error::Error;
use std::time::Duration;

use futures::TryStreamExt;
use secrecy::SecretString;
use zoho_crm::auth::Credentials;
use zoho_crm::emulator::{Emulator, EmulatorConfig};
use zoho_crm::{UserChange, UserType, ZohoClientBuilder};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // A real org when ZOHO_* variables are set, else the emulator; either way a Self
    // Client's credentials (client id, secret, org id and scope).
    let (client, emulator) = match ZohoClientBuilder::from_env()? {
        Some(builder) => (builder.build()?, None),
        None => {
            let emulator = Emulator::start(EmulatorConfig::new()).await?;
            emulator.seed_users(4);
            let self_client = Credentials::ClientCredentials {
                client_id: emulator.client_id().into(),
                client_secret: SecretString::from(emulator.client_secret().to_owned()),
                scope: "ZohoCRM.users.ALL".into(),
                soid: emulator.soid().into(),
            };
            (
                emulator.client_builder().credentials(self_client).build()?,
                Some(emulator),
            )
        }
    };
    println!("Zoho CRM at {}", client.api_domain().await?);

    let users: Vec<_> = client
        .users()
        .list(UserType::ActiveUsers)
        .try_collect()
        .await?;
    println!("{} active users:", users.len());
    for u in &users {
        let role = u.role.as_ref().map_or("", |r| r.name.as_str());
        println!(
            "  {:<32} {:<24} {role}",
            u.email.as_deref().unwrap_or(""),
            u.full_name.as_deref().unwrap_or("")
        );
    }

    // The watcher's state is plain data: save it between runs to resume.
    let mut watcher = client
        .users()
        .watcher(UserType::AllUsers, Default::default());
    watcher.poll().await?;
    println!("\nWatching for changes...");
    if let Some(emulator) = &emulator {
        emulator.seed_users(1); // someone joins while we watch
    }
    let polls = if emulator.is_some() { 1 } else { 10 };
    for _ in 0..polls {
        tokio::time::sleep(Duration::from_secs(if emulator.is_some() { 1 } else { 60 })).await;
        for change in watcher.poll().await? {
            match change {
                UserChange::Added(u) => println!("  added   {}", u.email.unwrap_or_default()),
                UserChange::Changed {
                    user,
                    role_changed,
                    profile_changed,
                    status_changed,
                    ..
                } => println!(
                    "  changed {} (role {role_changed}, profile {profile_changed}, status {status_changed})",
                    user.email.unwrap_or_default()
                ),
                UserChange::Removed { id } => println!("  removed {id}"),
                _ => {}
            }
        }
    }
    Ok(())
}
