//! The `set_script_state` test hook, observed over loopback like any client would.

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use simulator::{seed, Simulator, SimulatorConfig, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};

async fn token(http: &Client, base: &str) -> String {
    let r = http
        .post(format!("{base}/v1/token"))
        .json(&json!({"grant_type": "client_credentials", "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET, "scope": ""}))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn switching_a_script_changes_its_listed_state_and_whether_it_can_be_scheduled() {
    let sim = Simulator::start(SimulatorConfig::default()).await.unwrap();
    let http = Client::new();
    let base = sim.base_url();
    let bearer = token(&http, &base).await;
    let state_of = |id: &'static str| {
        let (http, base, bearer) = (http.clone(), base.clone(), bearer.clone());
        async move {
            let list: Value = http
                .get(format!("{base}/api/platform/v1/automation/shellScripts"))
                .bearer_auth(&bearer)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            list["Templates"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["templateId"] == id)
                .map(|t| t["state"].as_str().unwrap().to_string())
                .unwrap()
        }
    };
    let schedule = || {
        http.post(format!(
            "{base}/api/platform/v2/automation/endpoints/schedule-tasks"
        ))
        .bearer_auth(&bearer)
        .json(&json!({
            "templateID": seed::DISK_CLEANUP_SCRIPT_ID, "templateType": "script",
            "name": "hook test", "resourcesType": "Both",
            "parameters": json!({"drive": "C:"}).to_string(),
            "targets": [seed::MARIA_LAPTOP_ID], "targetType": "MANAGED_ENDPOINT",
            "schedule": {"scheduleType": "TIME", "regularity": "NextAgentCheckIn", "category": "STZ"}
        }))
            .send()
    };

    assert_eq!(state_of(seed::DISK_CLEANUP_SCRIPT_ID).await, "active");
    assert_eq!(schedule().await.unwrap().status(), StatusCode::CREATED);
    assert!(sim.set_script_state(seed::DISK_CLEANUP_SCRIPT_ID, false));
    assert_eq!(state_of(seed::DISK_CLEANUP_SCRIPT_ID).await, "inactive");
    let refused = schedule().await.unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.text().await.unwrap().contains("inactive"));

    assert!(sim.set_script_state(seed::DISK_CLEANUP_SCRIPT_ID, true));
    assert_eq!(state_of(seed::DISK_CLEANUP_SCRIPT_ID).await, "active");
    assert_eq!(schedule().await.unwrap().status(), StatusCode::CREATED);
    assert!(!sim.set_script_state("not-a-uuid", true));
    assert!(!sim.set_script_state("00000000-0000-4000-8000-000000000000", true));
    sim.shutdown().await;
}
