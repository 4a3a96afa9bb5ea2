//! The emulated Users API: types, paging, `If-Modified-Since`, 204/304, count, and
//! adding, updating and deleting users with Zoho's per-user results.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "integration tests: a failure should panic"
)]

mod emulator_common;

use emulator_common::Api;
use serde_json::{Value, json};
use zoho_crm::emulator::Endpoint;

fn count_of(body: &Value) -> usize {
    body["users"].as_array().map_or(0, Vec::len)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_users_by_type_and_page() {
    let api = Api::default().await;
    api.emu.seed_users(24); // 25 users with the primary administrator

    let all = api.get("/crm/v8/users", &[("type", "AllUsers")]).await;
    assert_eq!(all.status, 200);
    assert_eq!(count_of(&all.body), 25);
    assert_eq!(
        all.body["info"],
        json!({"per_page": 200, "count": 25, "page": 1, "more_records": false})
    );
    let user = &all.body["users"][0];
    for key in [
        "id",
        "zuid",
        "first_name",
        "last_name",
        "full_name",
        "email",
        "status",
        "confirm",
        "role",
        "profile",
        "created_by",
        "created_time",
        "Modified_By",
        "Modified_Time",
        "time_zone",
        "locale",
        "language",
        "country_locale",
        "date_format",
        "time_format",
        "offset",
        "type__s",
        "Reporting_To",
        "Isonline",
        "microsoft",
        "personal_account",
        "sandboxDeveloper",
        "name_format__s",
        "sort_order_preference__s",
        "status_reason__s",
        "decimal_separator",
        "number_separator",
    ] {
        assert!(user.get(key).is_some(), "missing {key}");
    }
    assert_eq!(user["id"].as_str().unwrap().len(), 19);
    assert_eq!(user["role"]["name"], "CEO");
    assert_eq!(user["profile"]["name"], "Administrator");
    assert!(user["role"]["id"].is_string());
    let created = user["created_time"].as_str().unwrap();
    assert_eq!(created.len(), 25, "{created}");
    assert!(created.ends_with("+00:00"));

    // Paging.
    let page1 = api.get("/crm/v8/users", &[("per_page", "10")]).await;
    assert_eq!(page1.body["info"]["more_records"], true);
    assert_eq!(count_of(&page1.body), 10);
    let page3 = api
        .get("/crm/v8/users", &[("per_page", "10"), ("page", "3")])
        .await;
    assert_eq!(count_of(&page3.body), 5);
    assert_eq!(page3.body["info"]["more_records"], false);
    assert_eq!(page3.body["info"]["page"], 3);
    let beyond = api
        .get("/crm/v8/users", &[("per_page", "10"), ("page", "4")])
        .await;
    assert_eq!(beyond.status, 204);
    assert!(beyond.bytes.is_empty());
    let too_many = api.get("/crm/v8/users", &[("per_page", "201")]).await;
    assert_eq!((too_many.status, too_many.code()), (400, "INVALID_DATA"));

    // Types: every 10th seeded user is inactive, every 7th unconfirmed, every 5th an admin.
    let n = |t: &'static str| {
        let api = &api;
        async move { count_of(&api.get("/crm/v8/users", &[("type", t)]).await.body) }
    };
    assert_eq!(n("ActiveUsers").await, 23);
    assert_eq!(n("DeactiveUsers").await, 2);
    assert_eq!(n("NotConfirmedUsers").await, 3);
    assert_eq!(n("ConfirmedUsers").await, 22);
    assert_eq!(n("AdminUsers").await, 1 + 4);
    assert_eq!(n("CurrentUser").await, 1);
    assert_eq!(n("ActiveConfirmedUsers").await, 25 - 2 - 3);
    assert_eq!(
        api.get("/crm/v8/users", &[("type", "DeletedUsers")])
            .await
            .status,
        204
    );
    let current = api.get("/crm/v8/users", &[("type", "CurrentUser")]).await;
    assert_eq!(current.body["users"][0]["id"], api.emu.current_user_id());
    assert_eq!(
        api.get("/crm/v8/users", &[("type", "Everybody")])
            .await
            .code(),
        "INVALID_DATA"
    );

    // ids and single users.
    let ids: Vec<String> = all.body["users"].as_array().unwrap()[3..6]
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();
    let some = api.get("/crm/v8/users", &[("ids", &ids.join(","))]).await;
    assert_eq!(count_of(&some.body), 3);
    let one = api.get(&format!("/crm/v8/users/{}", ids[0]), &[]).await;
    assert_eq!(one.body["users"][0]["id"], ids[0].as_str());
    assert_eq!(api.get("/crm/v8/users/123", &[]).await.status, 204);

    let counted = api
        .get("/crm/v8/users/actions/count", &[("type", "ActiveUsers")])
        .await;
    assert_eq!(counted.body, json!({"count": 23}));
    assert_eq!(api.emu.stats().count("GET", Endpoint::UsersCount), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn if_modified_since() {
    let api = Api::default().await;
    api.emu.seed_users(5);
    let all = api.get("/crm/v8/users", &[]).await;
    let users = all.body["users"].as_array().unwrap();
    // Seeded users have distinct Modified_Times, oldest first.
    let times: Vec<&str> = users
        .iter()
        .map(|u| u["Modified_Time"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), 6);

    let since = times[4];
    let newer = api.get_since("/crm/v8/users", &[], since).await;
    assert_eq!(newer.status, 200);
    assert_eq!(count_of(&newer.body), 2, "inclusive of the boundary");

    let nothing = api
        .get_since("/crm/v8/users", &[], "2099-01-01T00:00:00+00:00")
        .await;
    assert_eq!(nothing.status, 304);
    assert!(nothing.bytes.is_empty());

    // An update moves a user past the boundary.
    let id = users[1]["id"].as_str().unwrap();
    let updated = api
        .put(
            &format!("/crm/v8/users/{id}"),
            &json!({"users": [{"phone": "+1 555 0199"}]}),
        )
        .await;
    assert_eq!(updated.status, 200);
    let after = api.get_since("/crm/v8/users", &[], times[5]).await;
    let changed: Vec<&str> = after.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert!(changed.contains(&id));

    // An HTTP date works too.
    let http_date = api
        .get_since("/crm/v8/users", &[], "Thu, 01 Jan 2099 00:00:00 GMT")
        .await;
    assert_eq!(http_date.status, 304);
    let bad = api.get_since("/crm/v8/users", &[], "yesterday").await;
    assert_eq!(bad.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_update_delete_users() {
    let api = Api::default().await;
    let role = api.emu.role_id("Sales Representative").unwrap();
    let profile = api.emu.profile_id("Standard").unwrap();
    let new_user = |email: &str| {
        json!({"users": [{
            "first_name": "Ada", "last_name": "Lovelace", "email": email,
            "role": role, "profile": profile,
        }]})
    };
    let added = api
        .post("/crm/v8/users", &new_user("ada@example.com"))
        .await;
    assert_eq!(added.status, 201);
    assert_eq!(added.body["users"][0]["code"], "SUCCESS");
    assert_eq!(added.body["users"][0]["message"], "User added");
    assert_eq!(added.body["users"][0]["status"], "success");
    let id = added.body["users"][0]["details"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let user = api.emu.user(&id).unwrap();
    assert_eq!(user["full_name"], "Ada Lovelace");
    assert_eq!(user["status"], "active");
    assert_eq!(user["confirm"], false);
    assert_eq!(user["role"]["name"], "Sales Representative");

    // Errors come back per user.
    let dup = api
        .post("/crm/v8/users", &new_user("ADA@example.com"))
        .await;
    assert_eq!(dup.status, 400);
    assert_eq!(dup.body["users"][0]["code"], "DUPLICATE_DATA");
    assert_eq!(dup.body["users"][0]["details"]["api_name"], "email");
    for (missing, body) in [
        (
            "last_name",
            json!({"users": [{"email": "x@example.com", "role": role, "profile": profile}]}),
        ),
        (
            "email",
            json!({"users": [{"last_name": "X", "role": role, "profile": profile}]}),
        ),
        (
            "role",
            json!({"users": [{"last_name": "X", "email": "x@example.com", "profile": profile}]}),
        ),
        (
            "profile",
            json!({"users": [{"last_name": "X", "email": "x@example.com", "role": role}]}),
        ),
    ] {
        let r = api.post("/crm/v8/users", &body).await;
        assert_eq!(r.status, 400, "{missing}");
        assert_eq!(
            r.body["users"][0]["code"], "MANDATORY_NOT_FOUND",
            "{missing}"
        );
        assert_eq!(r.body["users"][0]["details"]["api_name"], missing);
    }
    let bad_role = api
        .post(
            "/crm/v8/users",
            &json!({"users": [{"last_name": "X", "email": "x@example.com", "role": "1", "profile": profile}]}),
        )
        .await;
    assert_eq!(bad_role.body["users"][0]["code"], "INVALID_DATA");
    let two = api
        .post(
            "/crm/v8/users",
            &json!({"users": [{"last_name": "A"}, {"last_name": "B"}]}),
        )
        .await;
    assert_eq!((two.status, two.code()), (400, "LIMIT_EXCEEDED"));

    // Deactivate, then reactivate.
    let off = api
        .put(
            "/crm/v8/users",
            &json!({"users": [{"id": id, "status": "inactive"}]}),
        )
        .await;
    assert_eq!(off.status, 200);
    assert_eq!(off.body["users"][0]["message"], "User updated");
    assert_eq!(api.emu.user(&id).unwrap()["status"], "inactive");
    let deactive = api.get("/crm/v8/users", &[("type", "DeactiveUsers")]).await;
    assert_eq!(deactive.body["users"][0]["id"], id.as_str());
    let on = api
        .put(&format!("/crm/v8/users/{id}"), &json!({"users": [{"status": "active", "profile": api.emu.profile_id("Administrator").unwrap()}]}))
        .await;
    assert_eq!(on.status, 200);
    assert_eq!(
        api.emu.user(&id).unwrap()["profile"]["name"],
        "Administrator"
    );
    let bogus = api
        .put(
            &format!("/crm/v8/users/{id}"),
            &json!({"users": [{"status": "asleep"}]}),
        )
        .await;
    assert_eq!(bogus.body["users"][0]["code"], "INVALID_DATA");
    let admin = api.emu.current_user_id();
    let primary = api
        .put(
            &format!("/crm/v8/users/{admin}"),
            &json!({"users": [{"status": "inactive"}]}),
        )
        .await;
    assert_eq!(primary.body["users"][0]["code"], "NOT_ALLOWED");

    // Delete.
    let deleted = api.delete(&format!("/crm/v8/users/{id}"), &[]).await;
    assert_eq!(deleted.status, 200);
    assert_eq!(
        deleted.body,
        json!({"users": [{"code": "SUCCESS", "details": {}, "message": "User deleted", "status": "success"}]})
    );
    let again = api.delete(&format!("/crm/v8/users/{id}"), &[]).await;
    assert_eq!(again.body["users"][0]["code"], "ID_ALREADY_DELETED");
    let update_deleted = api
        .put(
            &format!("/crm/v8/users/{id}"),
            &json!({"users": [{"phone": "1"}]}),
        )
        .await;
    assert_eq!(
        update_deleted.body["users"][0]["code"],
        "CANNOT_UPDATE_DELETED_USER"
    );
    let gone = api.get("/crm/v8/users", &[("type", "DeletedUsers")]).await;
    assert_eq!(gone.body["users"][0]["status"], "deleted");
    assert_eq!(count_of(&api.get("/crm/v8/users", &[]).await.body), 1);
    assert_eq!(api.emu.stats().by_endpoint(Endpoint::Users), 18);
}
