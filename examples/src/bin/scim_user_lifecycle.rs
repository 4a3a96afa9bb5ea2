//! Create, find, update and deactivate a user over SCIM 2.0.
//!
//! Runs against the in-process SCIM emulator by default:
//!
//! ```sh
//! cargo run -p examples --bin scim_user_lifecycle
//! ```
//!
//! or against any SCIM service (Zoho One, Okta, your own app) when given its tenant
//! URL and bearer token:
//!
//! ```sh
//! SCIM_URL=https://scim.example.com/v2 SCIM_TOKEN=... cargo run -p examples --bin scim_user_lifecycle
//! ```

use std::error::Error;

use futures::TryStreamExt;
use scim_client::emulator::{Emulator, EmulatorConfig};
use scim_client::filter::Filter;
use scim_client::model::{MultiValue, Name};
use scim_client::patch::PatchRequest;
use scim_client::{Attr, ListQuery, ScimClientBuilder, User};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // The service named by SCIM_URL and SCIM_TOKEN, else a local emulator.
    let (client, _emulator) = match ScimClientBuilder::from_env()? {
        Some(builder) => (builder.build()?, None),
        None => {
            let emulator = Emulator::start(EmulatorConfig::new()).await?;
            (emulator.client_builder().build()?, Some(emulator))
        }
    };
    let url = client.base_url().to_owned();
    println!("SCIM service: {url}");

    client.test_connection().await?;
    println!("1. Test connection: a filter on a random userName returned an empty list");

    let mut user = User::new("jdoe@example.com");
    user.name = Attr::Value(Name {
        given_name: Attr::Value("Jane".into()),
        family_name: Attr::Value("Doe".into()),
        ..Default::default()
    });
    user.display_name = Attr::Value("Jane Doe".into());
    user.title = Attr::Value("Analyst".into());
    user.active = Attr::Value(true.into());
    user.emails = Attr::Value(vec![
        MultiValue::typed("work", "jdoe@example.com").primary(),
    ]);
    let created = client.users().create(&user).await?;
    let id = created.id.clone().unwrap_or_default();
    println!("2. Created {} with id {id}", created.user_name);

    let found = client.users().find_by_user_name("JDOE@example.com").await?;
    println!(
        "3. Found by userName (case-insensitive): {:?}",
        found.map(|u| u.user_name)
    );
    let engineers: Vec<User> = client
        .users()
        .list(
            ListQuery::new().filter(Filter::eq("title", "Analyst").and(Filter::present("emails"))),
        )
        .try_collect()
        .await?;
    println!(
        "   Users with title Analyst and an e-mail: {}",
        engineers.len()
    );

    let patch = PatchRequest::new()
        .replace("title", "Senior Analyst")
        .replace("emails[type eq \"work\"].value", "jane.doe@example.com");
    client.users().patch(&id, &patch).await?;
    let updated = client.users().get(&id).await?;
    println!(
        "4. Updated: title {:?}, work e-mail {:?}",
        updated.title.as_ref(),
        updated.email("work")
    );

    client.users().deactivate(&id).await?;
    let deactivated = client.users().get(&id).await?;
    println!("5. Deactivated: active = {:?}", deactivated.is_active());
    Ok(())
}
