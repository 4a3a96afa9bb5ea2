"""Interop check: simple-salesforce's Bulk API 2.0 handler against the
salesforce-bulk2 emulator.

Runs a query (several pages, quoted values with newlines) and inserts (a clean
one and one with a rejected row) through `SFBulk2Handler`, given the Bulk 2.0
base URL directly, and asserts the results, including that inserted records are
then queryable.

Environment: SF_BASE_URL, SF_CLIENT_ID, SF_CLIENT_SECRET, SF_API_VERSION, and
SF_SEEDED_ACCOUNTS (how many Accounts the emulator was seeded with).
"""

import csv
import io
import os
import sys

import requests
from simple_salesforce.bulk2 import SFBulk2Handler

BASE = os.environ["SF_BASE_URL"].rstrip("/")
VERSION = os.environ.get("SF_API_VERSION", "62.0")
SEEDED = int(os.environ["SF_SEEDED_ACCOUNTS"])
WAIT = 0.05  # seconds between job polls


def check(condition, message):
    if not condition:
        print(f"FAIL: {message}", file=sys.stderr)
        sys.exit(1)


def parse(page):
    rows = list(csv.reader(io.StringIO(page)))
    return rows[0], rows[1:]


def query(handler, soql, max_records=50000):
    header, rows, pages = None, [], 0
    for page in handler.Account.query(soql, max_records=max_records, wait=WAIT):
        page_header, page_rows = parse(page)
        if header is None:
            header = page_header
        check(page_header == header, f"every page repeats the header: {page_header}")
        rows.extend(page_rows)
        pages += 1
    return header, rows, pages


def main():
    token = requests.post(
        f"{BASE}/services/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": os.environ["SF_CLIENT_ID"],
            "client_secret": os.environ["SF_CLIENT_SECRET"],
        },
        timeout=30,
    )
    check(token.status_code == 200, f"token: {token.status_code} {token.text}")
    session_id = token.json()["access_token"]
    handler = SFBulk2Handler(session_id, f"{BASE}/services/data/v{VERSION}/jobs/")

    # Query: several pages of 100.
    header, rows, pages = query(
        handler, "SELECT Id, Name, Description FROM Account ORDER BY Name", max_records=100
    )
    check(header == ["Id", "Name", "Description"], f"header {header}")
    check(len(rows) == SEEDED, f"{len(rows)} rows, expected {SEEDED}")
    check(pages == (SEEDED + 99) // 100, f"{pages} pages")
    check(rows[0][1] == "Account 0000001", f"first row {rows[0]}")
    check(all(len(r[0]) == 18 and r[0].startswith("001") for r in rows), "18-character Account ids")
    check(
        any('"quotes"\nand a second line' in r[2] for r in rows),
        "an embedded newline and quotes survive",
    )
    _, filtered, _ = query(handler, "SELECT Name FROM Account WHERE Name LIKE 'Account 000001%'")
    check(len(filtered) == 10, f"WHERE LIKE: {len(filtered)} rows")
    print(f"query: {len(rows)} rows in {pages} pages")

    # Insert three Contacts.
    records = [
        {"FirstName": "Py", "LastName": f"Interop {i}", "Email": f"py{i}@example.com"}
        for i in range(3)
    ]
    results = handler.Contact.insert(records=records, wait=WAIT)
    check(len(results) == 1, f"one job: {results}")
    result = results[0]
    check(result["numberRecordsProcessed"] == 3, f"processed: {result}")
    check(result["numberRecordsFailed"] == 0, f"failed: {result}")
    check(result["numberRecordsTotal"] == 3, f"total: {result}")
    successful, _ = None, None
    successful = list(csv.DictReader(io.StringIO(handler.Contact.get_successful_records(result["job_id"]))))
    check(len(successful) == 3, f"successfulResults: {successful}")
    check(all(r["sf__Created"] == "true" and r["sf__Id"].startswith("003") for r in successful), "created ids")

    # The inserted records are queryable.
    header, rows, _ = query(
        handler, "SELECT Name, Email FROM Contact WHERE LastName LIKE 'Interop%' ORDER BY LastName"
    )
    check(
        rows == [[f"Py Interop {i}", f"py{i}@example.com"] for i in range(3)],
        f"inserted contacts: {rows}",
    )

    # A rejected row is reported, with Salesforce's error format.
    results = handler.Contact.insert(
        records=[{"LastName": "Interop 3", "Email": "ok@example.com"}, {"LastName": "", "Email": "x@example.com"}],
        wait=WAIT,
    )
    check(results[0]["numberRecordsFailed"] == 1, f"one rejected: {results}")
    failed = list(csv.DictReader(io.StringIO(handler.Contact.get_failed_records(results[0]["job_id"]))))
    check(
        failed[0]["sf__Error"] == "REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --",
        f"failedResults: {failed}",
    )
    all_records = handler.Contact.get_all_ingest_records(results[0]["job_id"])
    check(len(all_records["successfulRecords"]) == 1, f"all ingest records: {all_records}")
    check(len(all_records["unprocessedRecords"]) == 0, f"all ingest records: {all_records}")

    # Upsert by external id, twice: created, then updated.
    for created in ("true", "false"):
        results = handler.Invoice__c.upsert(
            records=[{"External_Id__c": "PY-1", "Name": "Py invoice", "Amount__c": "12.5"}],
            external_id_field="External_Id__c",
            wait=WAIT,
        )
        ok = list(csv.DictReader(io.StringIO(handler.Invoice__c.get_successful_records(results[0]["job_id"]))))
        check(ok[0]["sf__Created"] == created, f"upsert created={created}: {ok}")
    print("insert, upsert and failed-row checks passed")
    print("simple-salesforce interop: OK")


if __name__ == "__main__":
    main()
