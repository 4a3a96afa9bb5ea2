//! Bulk API 2.0 ingest jobs against the emulator: every operation, validation,
//! the three result files and the job life cycle.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "integration tests: a failure should panic"
)]

mod emulator_common;

use emulator_common::Api;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_validates_and_writes_the_result_files() {
    let api = Api::default().await;
    let account = api
        .emu
        .insert_records("Account", &[json!({"Name": "Acme"})])
        .unwrap()[0]
        .clone();
    let csv = format!(
        "Name,External_Id__c,Account__c,Amount__c,Paid__c,Issue_Date__c,Sent_At__c,Pickup_Time__c,Status__c,Contact_Email__c,Notes__c\n\
         INV-1,E1,{account},12.345,true,2024-01-31,2024-01-31T13:00:00.000+01:00,09:30:00.000Z,Draft,a@b.example,\"multi\nline, \"\"quoted\"\"\"\n\
         ,E2,,1,false,,,,,,\n\
         INV-3,E3,,abc,,,,,,,\n\
         INV-4,E4,,1,maybe,,,,,,\n\
         INV-5,E5,,1,,2024-13-01,,,,,\n\
         INV-6,E6,,1,,,,,Lost,,\n\
         INV-7,E7,,1,,,,,,not-an-email,\n\
         INV-8,E1,,1,,,,,,,\n\
         INV-9,E9,001000000000000AAA,1,,,,,,,\n\
         INV-10,E10,,99999999999999999,,,,,,,\n"
    );
    let (id, info) = api
        .ingest(json!({"object": "Invoice__c", "operation": "insert", "contentType": "CSV", "lineEnding": "LF"}), &csv)
        .await;
    assert_eq!(info["state"], "JobComplete");
    assert_eq!(info["jobType"], "V2Ingest");
    assert_eq!(info["numberRecordsProcessed"], 10);
    assert_eq!(info["numberRecordsFailed"], 9);

    let ok = api.ingest_results(&id, "successfulResults").await;
    assert_eq!(ok.len(), 1);
    assert_eq!(ok[0]["sf__Created"], "true");
    assert_eq!(ok[0]["Name"], "INV-1");
    assert_eq!(ok[0]["Notes__c"], "multi\nline, \"quoted\"");
    let new_id = ok[0]["sf__Id"].as_str().unwrap();
    assert!(new_id.starts_with("a01") && new_id.len() == 18);
    let stored = api.emu.record("Invoice__c", new_id).unwrap();
    assert_eq!(stored["Amount__c"], "12.35", "rounded to the field's scale");
    assert_eq!(stored["Sent_At__c"], "2024-01-31T12:00:00.000Z");
    assert_eq!(stored["Pickup_Time__c"], "09:30:00.000Z");
    assert_eq!(stored["Paid__c"], "true");
    assert_eq!(stored["Account__c"], account.as_str());
    assert_eq!(stored["IsDeleted"], "false");
    assert_eq!(stored["OwnerId"], api.emu.user_id().as_str());
    assert!(stored["CreatedDate"].as_str().unwrap().ends_with('Z'));

    let failed = api.ingest_results(&id, "failedResults").await;
    let errors: Vec<(&str, &str)> = failed
        .iter()
        .map(|r| {
            (
                r["External_Id__c"].as_str().unwrap(),
                r["sf__Error"].as_str().unwrap(),
            )
        })
        .collect();
    let error_of = |ext: &str| errors.iter().find(|(e, _)| *e == ext).unwrap().1;
    assert_eq!(
        error_of("E2"),
        "REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --"
    );
    assert!(error_of("E3").starts_with(
        "INVALID_TYPE_ON_FIELD_IN_RECORD:Amount: value not of required type: abc:Amount__c"
    ));
    assert!(error_of("E4").starts_with("INVALID_TYPE_ON_FIELD_IN_RECORD:Paid:"));
    assert!(error_of("E5").starts_with("INVALID_TYPE_ON_FIELD_IN_RECORD:Issue Date:"));
    assert!(error_of("E6").starts_with("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST:"));
    assert!(error_of("E7").starts_with("INVALID_EMAIL_ADDRESS:"));
    assert!(
        error_of("E1").starts_with("DUPLICATE_VALUE:duplicate value found: External_Id__c"),
        "{}",
        error_of("E1")
    );
    assert!(error_of("E9").starts_with("INVALID_CROSS_REFERENCE_KEY:"));
    assert!(error_of("E10").starts_with("NUMBER_OUTSIDE_VALID_RANGE:"));
    assert!(failed.iter().all(|r| r["sf__Id"] == ""));
    // Nothing left unprocessed; header only.
    let unprocessed = api
        .get(&format!("/jobs/ingest/{id}/unprocessedrecords"))
        .await;
    assert!(unprocessed.text.starts_with("\"Name\",\"External_Id__c\""));
    assert_eq!(unprocessed.csv().1.len(), 0);
    assert_eq!(api.emu.record_count("Invoice__c"), 1);
    assert_eq!(api.emu.limit_remaining("DailyBulkApiBatches"), Some(14_999));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upsert_update_and_null_semantics() {
    let api = Api::default().await;
    api.emu
        .insert_records(
            "Account",
            &[json!({"Name": "Acme", "Account_Code__c": "ACME"})],
        )
        .unwrap();
    let (id, info) = api
        .ingest(
            json!({"object": "Invoice__c", "operation": "upsert", "externalIdFieldName": "External_Id__c"}),
            "External_Id__c,Name,Amount__c,Account__r.Account_Code__c\nX1,First,10,ACME\nX2,Second,20,\n",
        )
        .await;
    assert_eq!(info["externalIdFieldName"], "External_Id__c");
    assert_eq!(info["numberRecordsFailed"], 0);
    let created = api.ingest_results(&id, "successfulResults").await;
    assert!(created.iter().all(|r| r["sf__Created"] == "true"));
    let x1 = created[0]["sf__Id"].as_str().unwrap().to_owned();
    assert!(
        api.emu.record("Invoice__c", &x1).unwrap()["Account__c"]
            .as_str()
            .unwrap()
            .starts_with("001")
    );

    // Same key again: updated; an empty cell leaves a field alone, #N/A clears it.
    let (id, info) = api
        .ingest(
            json!({"object": "Invoice__c", "operation": "upsert", "externalIdFieldName": "External_Id__c"}),
            "External_Id__c,Name,Amount__c,Account__r.Account_Code__c\nx1,,#N/A,\nX3,Third,30,NOPE\nX4,Dup,1,\nX4,Dup,2,\n",
        )
        .await;
    assert_eq!(info["numberRecordsProcessed"], 4);
    assert_eq!(info["numberRecordsFailed"], 3);
    let ok = api.ingest_results(&id, "successfulResults").await;
    assert_eq!(ok.len(), 1);
    assert_eq!(ok[0]["sf__Id"], x1.as_str());
    assert_eq!(ok[0]["sf__Created"], "false");
    let x1_now = api.emu.record("Invoice__c", &x1).unwrap();
    assert_eq!(x1_now["Name"], "First");
    assert!(x1_now["Amount__c"].is_null());
    let failed = api.ingest_results(&id, "failedResults").await;
    assert!(failed.iter().any(|r| r["sf__Error"]
        .as_str()
        .unwrap()
        .starts_with("INVALID_FIELD:Foreign key external ID: NOPE not found for field Account_Code__c in entity Account")));
    assert_eq!(
        failed
            .iter()
            .filter(|r| r["sf__Error"]
                == "DUPLICATE_VALUE:Duplicate external id specified: X4:External_Id__c --")
            .count(),
        2
    );

    // Update by Id; an unknown id and a read-only field are per-record failures.
    let contact = api
        .emu
        .insert_records(
            "Contact",
            &[json!({"LastName": "Smith", "FirstName": "Ann"})],
        )
        .unwrap()[0]
        .clone();
    let (id, info) = api
        .ingest(
            json!({"object": "Contact", "operation": "update"}),
            &format!(
                "Id,LastName,Email\n{},Smithers,ann@example.com\n003EM0000000zzz,X,\n",
                &contact[..15]
            ),
        )
        .await;
    assert_eq!(info["numberRecordsFailed"], 1);
    let ok = api.ingest_results(&id, "successfulResults").await;
    assert!(ok.iter().all(|r| r["sf__Id"] == contact.as_str()));
    let failed = api.ingest_results(&id, "failedResults").await;
    assert_eq!(
        failed[0]["sf__Error"],
        "INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:--"
    );
    let stored = api.emu.record("Contact", &contact).unwrap();
    assert_eq!(stored["Name"], "Ann Smithers");
    assert_eq!(stored["Email"], "ann@example.com");
    let (_, info) = api
        .ingest(
            json!({"object": "Contact", "operation": "update"}),
            &format!("Id,Email\n{contact},#N/A\n"),
        )
        .await;
    assert_eq!(info["numberRecordsFailed"], 0);
    assert!(api.emu.record("Contact", &contact).unwrap()["Email"].is_null());
    let (id, _) = api
        .ingest(
            json!({"object": "Contact", "operation": "update"}),
            &format!("Id,Name\n{contact},Nope\n"),
        )
        .await;
    let failed = api.ingest_results(&id, "failedResults").await;
    assert!(
        failed[0]["sf__Error"]
            .as_str()
            .unwrap()
            .starts_with("INVALID_FIELD_FOR_INSERT_UPDATE:")
    );
    assert_eq!(failed[0]["sf__Id"], contact.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_and_hard_delete() {
    let api = Api::default().await;
    let ids = api
        .emu
        .insert_records(
            "Account",
            &[
                json!({"Name": "A"}),
                json!({"Name": "B"}),
                json!({"Name": "C"}),
            ],
        )
        .unwrap();
    let (id, info) = api
        .ingest(
            json!({"object": "Account", "operation": "delete"}),
            &format!("Id\n{}\n{}\n", ids[0], ids[0]),
        )
        .await;
    assert_eq!(
        info["numberRecordsFailed"], 2,
        "the same id twice in one job"
    );
    let failed = api.ingest_results(&id, "failedResults").await;
    assert!(
        failed[0]["sf__Error"]
            .as_str()
            .unwrap()
            .starts_with("DUPLICATE_VALUE:Duplicate id in list")
    );
    let (_, info) = api
        .ingest(
            json!({"object": "Account", "operation": "delete"}),
            &format!("Id\n{}\n", ids[0]),
        )
        .await;
    assert_eq!(info["numberRecordsFailed"], 0);
    assert_eq!(
        api.emu.record("Account", &ids[0]).unwrap()["IsDeleted"],
        "true"
    );
    let (id, _) = api
        .ingest(
            json!({"object": "Account", "operation": "delete"}),
            &format!("Id\n{}\n", ids[0]),
        )
        .await;
    assert_eq!(
        api.ingest_results(&id, "failedResults").await[0]["sf__Error"],
        "ENTITY_IS_DELETED:entity is deleted:--"
    );
    let (_, info) = api
        .ingest(
            json!({"object": "Account", "operation": "hardDelete"}),
            &format!("Id\n{}\n{}\n", ids[0], ids[1]),
        )
        .await;
    assert_eq!(info["numberRecordsFailed"], 0);
    assert!(api.emu.record("Account", &ids[0]).is_none());
    assert!(api.emu.record("Account", &ids[1]).is_none());
    assert_eq!(api.emu.record_count("Account"), 1);
    // A delete job must carry only Id.
    let (_, info) = api
        .ingest(
            json!({"object": "Account", "operation": "delete"}),
            &format!("Id,Name\n{},C\n", ids[2]),
        )
        .await;
    assert_eq!(info["state"], "Failed");
    assert_eq!(
        info["errorMessage"],
        "InvalidBatch : The 'delete' batch must contain only 'Id' field"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_field_fails_the_job_and_leaves_rows_unprocessed() {
    let api = Api::default().await;
    let (id, info) = api
        .ingest(
            json!({"object": "Account", "operation": "insert"}),
            "Name,Bogus__c\nA,1\nB,2\n",
        )
        .await;
    assert_eq!(info["state"], "Failed");
    assert_eq!(
        info["errorMessage"],
        "InvalidBatch : Field name not found : Bogus__c"
    );
    assert_eq!(info["numberRecordsProcessed"], 0);
    let unprocessed = api
        .get(&format!("/jobs/ingest/{id}/unprocessedrecords/"))
        .await;
    assert_eq!(
        unprocessed.csv(),
        (
            vec!["Name".to_owned(), "Bogus__c".to_owned()],
            vec![
                vec!["A".to_owned(), "1".to_owned()],
                vec!["B".to_owned(), "2".to_owned()]
            ]
        )
    );
    // simple-salesforce spells it unprocessedRecords.
    assert_eq!(
        api.get(&format!("/jobs/ingest/{id}/unprocessedRecords"))
            .await
            .status,
        200
    );
    assert_eq!(api.emu.record_count("Account"), 0);

    // CRLF data in an LF job.
    let (_, info) = api
        .ingest(
            json!({"object": "Account", "operation": "insert"}),
            "Name\r\nA\r\n",
        )
        .await;
    assert_eq!(info["state"], "Failed");
    assert!(
        info["errorMessage"]
            .as_str()
            .unwrap()
            .contains("LineEnding is invalid")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_creation_errors_and_life_cycle() {
    let api = Api::default().await;
    let r = api
        .post(
            "/jobs/ingest",
            &json!({"object": "Nope", "operation": "insert"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "INVALIDJOB"));
    let r = api
        .post(
            "/jobs/ingest",
            &json!({"object": "Account", "operation": "upsert"}),
        )
        .await;
    assert_eq!(r.code(), "INVALIDJOB");
    assert!(
        r.body[0]["message"]
            .as_str()
            .unwrap()
            .contains("External ID was blank for Account")
    );
    let r = api
        .post(
            "/jobs/ingest",
            &json!({"object": "Account", "operation": "upsert", "externalIdFieldName": "Name"}),
        )
        .await;
    assert!(
        r.body[0]["message"]
            .as_str()
            .unwrap()
            .contains("does not match an External ID")
    );
    let r = api
        .post(
            "/jobs/ingest",
            &json!({"object": "Account", "operation": "merge"}),
        )
        .await;
    assert_eq!(r.code(), "INVALIDJOB");

    // Two uploads, then close; content URL without a leading slash.
    let created = api
        .post(
            "/jobs/ingest",
            &json!({"object": "Account", "operation": "insert"}),
        )
        .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created.body["contentUrl"],
        format!("services/data/v62.0/jobs/ingest/{id}/batches").as_str()
    );
    assert_eq!(
        api.put_csv(&format!("/jobs/ingest/{id}/batches"), "Name\nOne\n")
            .await
            .status,
        201
    );
    assert_eq!(
        api.put_csv(&format!("/jobs/ingest/{id}/batches"), "Name\nTwo\n")
            .await
            .status,
        201
    );
    let early = api
        .get(&format!("/jobs/ingest/{id}/successfulResults"))
        .await;
    assert_eq!(early.code(), "INVALIDJOBSTATE");
    assert_eq!(api.delete(&format!("/jobs/ingest/{id}")).await.status, 400);
    api.patch(
        &format!("/jobs/ingest/{id}"),
        &json!({"state": "UploadComplete"}),
    )
    .await;
    let info = api.wait(&format!("/jobs/ingest/{id}")).await;
    assert_eq!(info["numberRecordsProcessed"], 2);
    let late = api
        .put_csv(&format!("/jobs/ingest/{id}/batches"), "Name\nThree\n")
        .await;
    assert_eq!(late.code(), "INVALIDJOBSTATE");

    // Abort with data: every row is unprocessed, nothing written.
    let created = api
        .post(
            "/jobs/ingest",
            &json!({"object": "Account", "operation": "insert"}),
        )
        .await;
    let aborted_id = created.body["id"].as_str().unwrap().to_owned();
    api.put_csv(
        &format!("/jobs/ingest/{aborted_id}/batches"),
        "Name\nX\nY\n",
    )
    .await;
    let aborted = api
        .patch(
            &format!("/jobs/ingest/{aborted_id}"),
            &json!({"state": "Aborted"}),
        )
        .await;
    assert_eq!(aborted.body["state"], "Aborted");
    let unprocessed = api
        .get(&format!("/jobs/ingest/{aborted_id}/unprocessedrecords"))
        .await;
    assert_eq!(unprocessed.csv().1.len(), 2);
    assert_eq!(api.emu.record_count("Account"), 2);
    let list = api.get("/jobs/ingest").await;
    assert_eq!(list.body["records"].as_array().unwrap().len(), 2);
    assert_eq!(
        api.delete(&format!("/jobs/ingest/{aborted_id}"))
            .await
            .status,
        204
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_size_is_capped_per_job() {
    let api =
        Api::start(salesforce_bulk2::emulator::EmulatorConfig::new().max_upload_bytes(20)).await;
    let created = api
        .post(
            "/jobs/ingest",
            &json!({"object": "Account", "operation": "insert"}),
        )
        .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        api.put_csv(&format!("/jobs/ingest/{id}/batches"), "Name\nA\n")
            .await
            .status,
        201
    );
    let r = api
        .put_csv(
            &format!("/jobs/ingest/{id}/batches"),
            "Name\nBBBBBBBBBBBBBBBBBBBB\n",
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "LIMIT_EXCEEDED"));
}
