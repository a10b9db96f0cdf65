//! Drives the simulator over loopback with a real HTTP client.

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use simulator::{seed, Simulator, SimulatorConfig, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use std::time::Duration;

struct Harness {
    sim: Simulator,
    http: Client,
    token: String,
}

impl Harness {
    async fn start(config: SimulatorConfig) -> Harness {
        let sim = Simulator::start(config).await.expect("simulator starts");
        let http = Client::new();
        let token = mint(&http, &sim.base_url()).await;
        Harness { sim, http, token }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.sim.base_url(), path)
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .get(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// GET with the headers the v2 device API declares as required.
    async fn get_v2(&self, path: &str) -> (StatusCode, Value) {
        let r = self.v2(self.http.get(self.url(path))).send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    fn v2(&self, b: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        b.bearer_auth(&self.token)
            .header(
                "Origin",
                "https://openapi.service.auplatform.connectwise.com",
            )
            .header("User-Agent", "asio-simulator-tests")
            .header("X-Request-ID", "00000000-0000-4000-8000-000000000001")
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .http
            .post(self.url(path))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

async fn mint(http: &Client, base: &str) -> String {
    let r = http
        .post(format!("{base}/v1/token"))
        .json(&json!({"grant_type": "client_credentials", "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET, "scope": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    body["access_token"].as_str().unwrap().to_string()
}

fn fast() -> SimulatorConfig {
    SimulatorConfig {
        task_step: Duration::from_millis(50),
        ..SimulatorConfig::default()
    }
}

#[tokio::test]
async fn token_errors_and_lockout() {
    let mut cfg = fast();
    cfg.mint_limit.max_mints = 2;
    let h = Harness::start(cfg).await;
    let post = |body: Value| h.http.post(h.url("/v1/token")).json(&body).send();
    let r = post(json!({"grant_type": "client_credentials", "client_id": DEMO_CLIENT_ID, "client_secret": "wrong"})).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_client");
    let r = post(json!({"grant_type": "password", "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET})).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = post(json!({"grant_type": "client_credentials", "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET, "scope": "platform.nope"})).await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_scope");
    let r = h
        .http
        .post(h.url("/v1/token"))
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // One mint happened in start(); the second succeeds, the third is locked.
    let ok = post(json!({"grant_type": "client_credentials", "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET, "scope": "platform.companies.read"})).await.unwrap();
    assert_eq!(
        ok.json::<Value>().await.unwrap()["scope"],
        "platform.companies.read"
    );
    let locked = post(json!({"grant_type": "client_credentials", "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET})).await.unwrap();
    assert_eq!(locked.status(), StatusCode::LOCKED);
    assert!(locked.headers().get("retry-after").is_some());
    assert_eq!(h.sim.token_mints(), 2);
    // Secrets never reach the request log.
    let log = serde_json::to_string(&h.sim.requests()).unwrap();
    assert!(!log.contains(DEMO_CLIENT_SECRET));
    h.sim.shutdown().await;
}

#[tokio::test]
async fn auth_failures_use_each_areas_shape() {
    let h = Harness::start(fast()).await;
    let anon = |p: &str| h.http.get(h.url(p)).send();
    let r = anon("/api/platform/v1/company/companies").await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "unauthorized request"
    );
    let r = anon("/api/platform/v1/automation/tasks").await.unwrap();
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let r = anon("/api/platform/v2/service/ticketing/tickets")
        .await
        .unwrap();
    assert!(r.json::<Value>().await.unwrap().is_array());
    let r = anon(&format!(
        "/api/platform/v2/patching/{}/patches",
        seed::DC01_ID
    ))
    .await
    .unwrap();
    assert!(r.json::<Value>().await.unwrap()["error"]["message"].is_string());
    // Expired tokens are rejected.
    h.sim.expire_all_tokens();
    let (status, _) = h.get("/api/platform/v1/company/companies").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let recorded = h.sim.requests();
    assert!(recorded
        .iter()
        .any(|r| r.had_bearer_token && r.status == 401));
    assert!(recorded
        .iter()
        .flat_map(|r| &r.headers)
        .filter(|(k, _)| k == "authorization")
        .all(|(_, v)| v == "REDACTED"));
    h.sim.shutdown().await;
}

#[tokio::test]
async fn companies_sites_and_devices() {
    let h = Harness::start(fast()).await;
    let (s, companies) = h.get("/api/platform/v1/company/companies").await;
    assert_eq!(s, StatusCode::OK);
    assert!(companies.as_array().unwrap().len() >= 3);
    let (_, c) = h
        .get(&format!(
            "/api/platform/v1/company/companies/{}",
            seed::CONTOSO_ID
        ))
        .await;
    assert_eq!(c["name"], seed::CONTOSO_NAME);
    let (s, _) = h.get("/api/platform/v1/company/companies/not-a-uuid").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, sites) = h.get("/api/platform/v1/company/sites").await;
    assert!(sites.as_array().unwrap().len() >= 6);
    let (_, cs) = h
        .get(&format!(
            "/api/platform/v1/company/companies/{}/sites",
            seed::CONTOSO_ID
        ))
        .await;
    assert_eq!(cs.as_array().unwrap().len(), 2);

    let list = "/api/platform/v2/device/categories/all/endpoints?field=os&filter=endpointType%20in%20(Server)";
    let r = h
        .v2(h.http.post(h.url(list)))
        .json(&json!({"resourceType": "company", "resources": [seed::CONTOSO_ID]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    let names: Vec<&str> = body["platform"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["endpoints"].as_array().unwrap())
        .map(|e| e["deviceName"].as_str().unwrap())
        .collect();
    assert!(names.contains(&seed::DC01_NAME));
    assert!(!names.contains(&seed::MARIA_LAPTOP_DEVICE_NAME));
    // Missing required v2 headers.
    let r = h
        .http
        .post(h.url(list))
        .bearer_auth(&h.token)
        .json(&json!({"resourceType": "company", "resources": [seed::CONTOSO_ID]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.json::<Value>().await.unwrap()["message"]
        .as_str()
        .unwrap()
        .contains("Origin"));
    // Malformed body and too many companies.
    let r = h
        .v2(h.http.post(h.url(list)))
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let five: Vec<String> = (0..5).map(|_| seed::CONTOSO_ID.to_string()).collect();
    let r = h
        .v2(h.http.post(h.url(list)))
        .json(&json!({"resourceType": "company", "resources": five}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let detail = format!(
        "/api/platform/v2/device/companies/{}/sites/{}/endpoints/{}",
        seed::CONTOSO_ID,
        seed::CONTOSO_SYDNEY_SITE_ID,
        seed::MARIA_LAPTOP_ID
    );
    let (s, d) = h.get_v2(&detail).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        d["platform"]["friendlyName"],
        seed::MARIA_LAPTOP_FRIENDLY_NAME
    );
    assert!(d["platform"]["os"]["product"]
        .as_str()
        .unwrap()
        .contains("Windows 11"));
    assert!(d["platform"].get("processors").is_none());
    let (_, d) = h.get_v2(&format!("{detail}?field=processors")).await;
    assert!(d["platform"]["processors"].is_array());
    let (s, e) = h
        .get_v2(&format!(
            "/api/platform/v2/device/companies/{}/sites/{}/endpoints/{}",
            seed::FABRIKAM_ID,
            seed::CONTOSO_SYDNEY_SITE_ID,
            seed::MARIA_LAPTOP_ID
        ))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(e["code"].is_string() && e["message"].is_string());
    h.sim.shutdown().await;
}

#[tokio::test]
async fn paging_ten_thousand_endpoints() {
    let h = Harness::start(SimulatorConfig {
        endpoint_count: 10_000,
        ..fast()
    })
    .await;
    let companies = [seed::CONTOSO_ID, seed::FABRIKAM_ID, seed::NORTHWIND_ID];
    let mut next = Some(h.url(
        "/api/platform/v2/device/categories/all/endpoints?limit=500&sortBy=friendlyName%20asc",
    ));
    let mut seen = std::collections::HashSet::new();
    let mut pages = 0;
    while let Some(url) = next.take() {
        let r = h
            .v2(h.http.post(&url))
            .json(&json!({"resourceType": "company", "resources": companies}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        next = r.headers().get("link").map(|l| {
            let l = l.to_str().unwrap();
            assert!(l.ends_with("rel=\"next\""));
            l[1..l.find('>').unwrap()].to_string()
        });
        let body: Value = r.json().await.unwrap();
        for g in body["platform"].as_array().unwrap() {
            for e in g["endpoints"].as_array().unwrap() {
                assert!(
                    seen.insert(e["endpointID"].as_str().unwrap().to_string()),
                    "duplicate across pages"
                );
            }
        }
        pages += 1;
    }
    assert_eq!(seen.len(), 10_000);
    assert_eq!(pages, 20);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn device_state_patches_and_groups() {
    let h = Harness::start(fast()).await;
    let dc = seed::DC01_ID;
    let (_, cpu) = h
        .get(&format!("/api/platform/v2/device/endpoints/{dc}/cpu-usage"))
        .await;
    assert!(cpu[0]["metric"]["percentUtil"].as_f64().unwrap() > 50.0);
    let (_, mem) = h
        .get(&format!(
            "/api/platform/v2/device/endpoints/{dc}/memory-usage"
        ))
        .await;
    assert!(mem[0]["physicalTotalBytes"].as_u64().unwrap() > 0);
    let (_, disk) = h
        .get(&format!(
            "/api/platform/v2/device/endpoints/{dc}/disk-usage"
        ))
        .await;
    let c = &disk[0]["storages"][0]["partitions"][0]["metric"];
    assert!(c["freeSpaceBytes"].as_f64().unwrap() / c["totalSpaceBytes"].as_f64().unwrap() < 0.1);
    let (_, st) = h
        .get(&format!(
            "/api/platform/v2/device/endpoints/{dc}/system-state-info"
        ))
        .await;
    assert!(st["startupStatus"]["lastBootUpTimeUTC"].is_string());
    let (_, hb) = h.get(&format!("/api/platform/v2/device/endpoints/heartbeat?resourceType=endpoints&resources={dc},{},{}", seed::OFFLINE_DESKTOP_ID, "00000000-0000-0000-0000-000000000000")).await;
    assert_eq!(hb["status"], "partial_success");
    assert_eq!(hb["failedRecords"][0]["error"], "Not Found");
    let (s, err) = h
        .get("/api/platform/v2/device/endpoints/heartbeat?resourceType=sites&resources=x")
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(err["description"].is_string());
    let (_, p) = h
        .get(&format!("/api/platform/v2/patching/{dc}/patches"))
        .await;
    assert_eq!(p["summary"]["pendingReboot"], true);
    assert!(p["summary"]["missingCount"].as_u64().unwrap() > 0);
    let (s, _) = h
        .get("/api/platform/v2/patching/00000000-0000-0000-0000-000000000000/patches")
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, groups) = h.get("/api/platform/v1/device-groups").await;
    let gid = groups[0]["id"].as_str().unwrap().to_string();
    let (s, members) = h
        .get_v2(&format!("/api/platform/v2/device-groups/{gid}/endpoints"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(!members.as_array().unwrap().is_empty());
    let (_, mine) = h
        .get(&format!(
            "/api/platform/v2/managed-endpoints/{dc}/device-groups"
        ))
        .await;
    assert!(mine.as_array().unwrap().len() >= 2);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn automation_catalog() {
    let h = Harness::start(fast()).await;
    let (_, ss) = h.get("/api/platform/v1/automation/shellScripts").await;
    let templates = ss["Templates"].as_array().unwrap();
    assert_eq!(ss["count"], templates.len());
    assert!(templates.len() >= 8);
    assert!(
        templates
            .iter()
            .filter(|t| t["state"] == seed::SCRIPT_STATE_INACTIVE)
            .count()
            >= 2
    );
    let dc = templates
        .iter()
        .find(|t| t["name"] == seed::DISK_CLEANUP_SCRIPT_NAME)
        .unwrap();
    assert_eq!(dc["templateId"], seed::DISK_CLEANUP_SCRIPT_ID);
    let schema: Value = serde_json::from_str(dc["jsonSchema"].as_str().unwrap()).unwrap();
    assert!(schema["properties"]["drive"].is_object());
    let (_, scripts) = h.get("/api/platform/v1/automation/scripts").await;
    assert!(!scripts.as_array().unwrap().is_empty());
    let (_, defs) = h.get("/api/platform/v1/automation/tasks").await;
    assert!(defs[0]["JSONSchema"].is_string());
    let (_, summary) = h.get("/api/platform/v1/automation/tasks/summary").await;
    assert!(!summary.as_array().unwrap().is_empty());
    let (s, e) = h
        .get("/api/platform/v1/automation/tasks/summary?From=garbage")
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(e["message"].is_string() && e["code"].is_string());
    h.sim.shutdown().await;
}

fn schedule_body(template: &str, targets: &[&str], regularity: &str, params: Value) -> Value {
    json!({
        "templateID": template, "templateType": "script", "name": "test run", "resourcesType": "Both",
        "parameters": params.to_string(), "targets": targets, "targetType": "MANAGED_ENDPOINT",
        "schedule": {"scheduleType": "TIME", "regularity": regularity, "category": "STZ"}
    })
}

const SCHEDULE: &str = "/api/platform/v2/automation/endpoints/schedule-tasks";

#[tokio::test]
async fn task_progression_and_results() {
    let h = Harness::start(fast()).await;
    let (s, created) = h
        .post(
            SCHEDULE,
            schedule_body(
                seed::DISK_CLEANUP_SCRIPT_ID,
                &[seed::MARIA_LAPTOP_ID, seed::OFFLINE_DESKTOP_ID],
                "NextAgentCheckIn",
                json!({"drive": "C:", "minFileAgeDays": 14}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let task = created["taskId"].as_str().unwrap().to_string();
    let (_, inst) = h
        .get(&format!(
            "/api/platform/v1/automation/tasks/{task}/instances/summary"
        ))
        .await;
    assert_eq!(inst["Count"], 1);
    assert_eq!(inst["Results"][0]["OverallStatus"], "Scheduled");
    let instance = inst["Results"][0]["Id"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(250)).await;
    let (_, inst) = h
        .get(&format!(
            "/api/platform/v1/automation/tasks/{task}/instances/summary"
        ))
        .await;
    assert_eq!(inst["Results"][0]["OverallStatus"], "Waiting");
    assert_eq!(inst["Results"][0]["SuccessCount"], 1);
    assert_eq!(inst["Results"][0]["WaitingCount"], 1);
    let (_, res) = h
        .get(&format!(
            "/api/platform/v2/automation/tasks/{task}/instances/{instance}/results"
        ))
        .await;
    let maria = res["Result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["endpointId"] == seed::MARIA_LAPTOP_ID)
        .unwrap();
    assert_eq!(maria["completionStatus"], "Success");
    assert!(maria["resultDetails"]
        .as_str()
        .unwrap()
        .contains("Bytes freed"));
    let (_, ep) = h
        .get(&format!(
            "/api/platform/v2/automation/endpoints/{}/tasks/summary",
            seed::MARIA_LAPTOP_ID
        ))
        .await;
    assert!(ep
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["taskID"] == task.as_str()));

    // RunNow on an offline endpoint fails with an offline error.
    let (_, created) = h
        .post(
            SCHEDULE,
            schedule_body(
                seed::DISK_CLEANUP_SCRIPT_ID,
                &[seed::OFFLINE_DESKTOP_ID],
                "RunNow",
                json!({"drive": "C:"}),
            ),
        )
        .await;
    let task = created["taskId"].as_str().unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let (_, inst) = h
        .get(&format!(
            "/api/platform/v1/automation/tasks/{task}/instances/summary"
        ))
        .await;
    assert_eq!(inst["Results"][0]["OverallStatus"], "Failed");
    let instance = inst["Results"][0]["Id"].as_str().unwrap();
    let (_, res) = h
        .get(&format!(
            "/api/platform/v2/automation/tasks/{task}/instances/{instance}/results"
        ))
        .await;
    assert!(res["Result"][0]["errorDetails"]
        .as_str()
        .unwrap()
        .contains("offline"));
    h.sim.shutdown().await;
}

#[tokio::test]
async fn schedule_validation() {
    let h = Harness::start(fast()).await;
    let cases = [
        (
            schedule_body(
                "00000000-0000-0000-0000-000000000000",
                &[seed::DC01_ID],
                "RunNow",
                json!({}),
            ),
            "templateID",
        ),
        (
            schedule_body(
                seed::DISK_CLEANUP_SCRIPT_ID,
                &["00000000-0000-0000-0000-000000000000"],
                "RunNow",
                json!({"drive": "C:"}),
            ),
            "targets",
        ),
        (
            schedule_body(
                seed::DISK_CLEANUP_SCRIPT_ID,
                &[seed::DC01_ID],
                "Sometimes",
                json!({"drive": "C:"}),
            ),
            "schedule.regularity",
        ),
        (
            schedule_body(
                seed::DISK_CLEANUP_SCRIPT_ID,
                &[seed::DC01_ID],
                "OneTime",
                json!({"drive": "C:"}),
            ),
            "schedule.startDate",
        ),
        (
            schedule_body(
                seed::DISK_CLEANUP_SCRIPT_ID,
                &[seed::DC01_ID],
                "RunNow",
                json!({}),
            ),
            "parameters",
        ),
    ];
    for (body, field) in cases {
        let (s, e) = h.post(SCHEDULE, body).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert!(e["message"].as_str().unwrap().contains(field), "{e}");
    }
    let mut wrong_type = schedule_body(
        seed::DISK_CLEANUP_SCRIPT_ID,
        &[seed::DC01_ID],
        "RunNow",
        json!({"drive": "C:"}),
    );
    wrong_type["targetType"] = json!("COMPANY");
    let (s, _) = h.post(SCHEDULE, wrong_type).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let mut object_params = schedule_body(
        seed::DISK_CLEANUP_SCRIPT_ID,
        &[seed::DC01_ID],
        "Immediate",
        json!({}),
    );
    object_params["parameters"] = json!({"drive": "C:"});
    let (s, _) = h.post(SCHEDULE, object_params).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let r = h
        .http
        .post(h.url(SCHEDULE))
        .bearer_auth(&h.token)
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let mut recurring = schedule_body(
        seed::DISK_CLEANUP_SCRIPT_ID,
        &[seed::DC01_ID],
        "Recurrent",
        json!({"drive": "C:"}),
    );
    recurring["schedule"]["startDate"] = json!("2030-01-01T02:00:00Z");
    recurring["schedule"]["repeat"] = json!({"every": 1, "frequency": "Weekly"});
    let (s, _) = h.post(SCHEDULE, recurring).await;
    assert_eq!(s, StatusCode::CREATED);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn tickets_list_get_create() {
    let h = Harness::start(fast()).await;
    const T: &str = "/api/platform/v2/service/ticketing/tickets";
    let (_, all) = h.get(T).await;
    let total = all["totalCount"].as_u64().unwrap();
    assert!(total >= 10);
    let (_, p1) = h.get(&format!("{T}?pageSize=5&pageNum=1")).await;
    let (_, p3) = h.get(&format!("{T}?pageSize=5&pageNum=3")).await;
    assert_eq!(p1["tickets"].as_array().unwrap().len(), 5);
    assert_eq!(p3["tickets"].as_array().unwrap().len() as u64, total - 10);
    let (_, past) = h.get(&format!("{T}?pageSize=5&pageNum=9")).await;
    assert_eq!(past["totalCount"], 0);
    let (s, e) = h.get(&format!("{T}?pageSize=5")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(e[0]["code"].is_string());
    let (_, dc) = h
        .get(&format!("{T}?summary=dc01&companyIds={}", seed::CONTOSO_ID))
        .await;
    assert_eq!(dc["totalCount"], 2);
    let (_, either) = h.get(&format!("{T}?summary=dc01&summary1=printer")).await;
    assert_eq!(either["totalCount"], 3);
    let (_, boards) = h
        .get("/api/platform/v1/service/ticketing/service-boards")
        .await;
    let (_, sources) = h.get("/api/platform/v1/service/ticketing/sources").await;
    let (_, prios) = h.get("/api/platform/v1/service/ticketing/priorities").await;
    let (_, statuses) = h.get("/api/platform/v1/service/ticketing/statuses").await;
    assert!(!prios.as_array().unwrap().is_empty() && !statuses.as_array().unwrap().is_empty());
    let body = json!({"summary": "Disk cleanup on Maria's laptop", "description": "Ran Disk Cleanup", "serviceBoard": {"id": boards[0]["id"]}, "source": {"id": sources[0]["id"]}, "company": {"id": seed::CONTOSO_ID}});
    let (s, created) = h.post(T, body).await;
    assert_eq!(s, StatusCode::CREATED);
    let id = created["id"].as_str().unwrap();
    let (s, got) = h.get(&format!("{T}/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(got["summary"], "Disk cleanup on Maria's laptop");
    let (_, all) = h.get(T).await;
    assert_eq!(all["totalCount"].as_u64().unwrap(), total + 1);
    let (s, e) = h.post(T, json!({"summary": "x"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(e[0]["message"].as_str().unwrap().contains("description"));
    let (s, e) = h
        .get(&format!("{T}/00000000-0000-0000-0000-000000000000"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(e.is_array());
    h.sim.shutdown().await;
}

#[tokio::test]
async fn response_bodies_are_recorded_tokens_redacted_streams_not() {
    let h = Harness::start(fast()).await;
    let (status, companies) = h.get("/api/platform/v1/company/companies").await;
    assert_eq!(status, StatusCode::OK);
    h.sim.inject(simulator::Fault::on_path(
        simulator::PathMatch::Exact("/api/platform/v1/automation/tasks".into()),
        simulator::FaultAction::OversizedBody { bytes: 4096 },
    ));
    let streamed = h
        .http
        .get(h.url("/api/platform/v1/automation/tasks"))
        .bearer_auth(&h.token)
        .send()
        .await
        .unwrap();
    assert_eq!(streamed.text().await.unwrap().len(), 4096);

    let recorded = h.sim.requests();
    let token = recorded.iter().find(|r| r.path == "/v1/token").unwrap();
    let token_body: Value = serde_json::from_str(token.response_body.as_deref().unwrap()).unwrap();
    assert_eq!(token_body["access_token"], "REDACTED");
    assert_eq!(token_body["expires_in"], 3599);
    assert!(!token.response_body.as_deref().unwrap().contains(&h.token));

    let list = recorded
        .iter()
        .find(|r| r.path == "/api/platform/v1/company/companies")
        .unwrap();
    let body: Value = serde_json::from_str(list.response_body.as_deref().unwrap()).unwrap();
    assert_eq!(body, companies, "the recorded body is what the client got");
    assert!(list
        .response_content_type
        .as_deref()
        .unwrap()
        .starts_with("application/json"));

    let tasks = recorded
        .iter()
        .find(|r| r.path == "/api/platform/v1/automation/tasks")
        .unwrap();
    assert_eq!(tasks.status, 200);
    assert_eq!(
        tasks.response_body, None,
        "streamed bodies are not captured"
    );
    h.sim.shutdown().await;
}
