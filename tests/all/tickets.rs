//! Tickets by the number technicians quote ("ticket 1004"), not only by id: get-ticket resolves
//! it through the list's `number` filter, and list-tickets filters by it.

use e2e::*;
use serde_json::Value;

const TICKETS: &str = "/api/platform/v2/service/ticketing/tickets";

/// A seeded ticket other than the newest, so a lookup that ignored the number would show.
async fn seeded_ticket(env: &TestEnv) -> Value {
    let all = env
        .ok("cw-rmm-list-tickets", json!({"sortBy": "number"}))
        .await;
    all["tickets"][seed::SEEDED_TICKET_COUNT / 2].clone()
}

fn number_of(ticket: &Value) -> String {
    match &ticket["number"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_ticket_by_its_number() {
    let env = TestEnv::start().await;
    let seeded = seeded_ticket(&env).await;
    let number = number_of(&seeded);
    let id = seeded["ticketId"].as_str().expect("ticketId");

    let before = env.requests_to("GET", TICKETS).len();
    let by_number = env
        .ok("cw-rmm-get-ticket", json!({"ticketId": number}))
        .await;
    // One request, through the documented filter.
    let sent = env.requests_to("GET", TICKETS);
    assert_eq!(sent.len(), before + 1, "{sent:?}");
    let query = sent
        .last()
        .and_then(|r| r.query.clone())
        .unwrap_or_default();
    assert!(query.contains(&format!("number={number}")), "{query}");

    // The same details as by id.
    let by_id = env.ok("cw-rmm-get-ticket", json!({"ticketId": id})).await;
    assert_eq!(by_number, by_id);
    assert_eq!(by_number["ticketId"], id);
    assert!(by_number["description"].is_string(), "{by_number}");

    // As quoted: "#1007".
    let hashed = env
        .ok(
            "cw-rmm-get-ticket",
            json!({"ticketId": format!("#{number}")}),
        )
        .await;
    assert_eq!(hashed["ticketId"], id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_tickets_by_number() {
    let env = TestEnv::start().await;
    let seeded = seeded_ticket(&env).await;
    let number = number_of(&seeded);
    let listed = env
        .ok("cw-rmm-list-tickets", json!({"number": number}))
        .await;
    assert_eq!(listed["count"], 1, "{listed}");
    assert_eq!(listed["totalCount"], 1, "{listed}");
    assert_eq!(listed["tickets"][0]["ticketId"], seeded["ticketId"]);

    let none = env
        .ok("cw-rmm-list-tickets", json!({"number": "999999"}))
        .await;
    assert_eq!(none["count"], 0, "{none}");
    expect_invalid(
        env.call("cw-rmm-list-tickets", json!({"number": "10x"}))
            .await,
        "number",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_number_and_bad_ticket_ids() {
    let env = TestEnv::start().await;
    let message = expect_not_found(
        env.call("cw-rmm-get-ticket", json!({"ticketId": "999999"}))
            .await,
    );
    assert!(message.contains("999999"), "{message}");

    let message = expect_invalid(
        env.call("cw-rmm-get-ticket", json!({"ticketId": "ticket-12"}))
            .await,
        "ticketId",
    );
    assert!(
        message.contains("UUID") && message.contains("number"),
        "{message}"
    );
}
