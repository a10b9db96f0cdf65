//! cw-rmm-list-devices resolving what a person says: ranked name matches ("DC01" is DC01, not
//! DC01-BACKUP) and a device found by its user when its name is an asset tag.

use e2e::*;
use serde_json::{json, Value};

fn rows(listing: &Value) -> &Vec<Value> {
    listing["devices"]
        .as_array()
        .unwrap_or_else(|| panic!("no devices in {listing}"))
}

fn device_names(listing: &Value) -> Vec<&str> {
    rows(listing)
        .iter()
        .map(|d| d["deviceName"].as_str().unwrap_or_default())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn name_ranks_exact_then_prefix_then_substring() {
    let env = TestEnv::start().await;
    let listing = env.ok("cw-rmm-list-devices", json!({"name": "dc01"})).await;
    let names = device_names(&listing);
    // The simulator lists DC01-BACKUP before DC01; ranking must put the exact match first.
    assert_eq!(
        names[..2],
        [seed::DC01_NAME, seed::DC01_BACKUP_NAME],
        "{listing}"
    );
    let devices = rows(&listing);
    assert_eq!(devices[0]["endpointId"], seed::DC01_ID);
    assert_eq!(devices[0]["matched"], "friendlyName exact");
    assert_eq!(devices[1]["matched"], "friendlyName prefix");
    // FAB-DC01 and NW-DC01 only contain it; "Fabrikam Domain Controller" does not, so the
    // device name is the field that matched.
    assert!(names.contains(&"FAB-DC01") && names.contains(&"NW-DC01"));
    for d in &devices[2..] {
        assert!(
            d["matched"].as_str().unwrap().ends_with(" substring"),
            "{d}"
        );
    }
    let fab = devices
        .iter()
        .find(|d| d["deviceName"] == "FAB-DC01")
        .unwrap();
    assert_eq!(fab["matched"], "deviceName substring");

    // The limit keeps the best match, not the first one listed.
    let one = env
        .ok("cw-rmm-list-devices", json!({"name": "DC01", "limit": 1}))
        .await;
    assert_eq!(device_names(&one), [seed::DC01_NAME]);
    assert_eq!(one["truncated"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_finds_a_persons_devices_whatever_their_names() {
    let env = TestEnv::start().await;
    let listing = env
        .ok("cw-rmm-list-devices", json!({"user": "maria"}))
        .await;
    let mut names = device_names(&listing);
    names.sort_unstable();
    assert_eq!(
        names,
        [seed::ASSET_TAG_LAPTOP_NAME, seed::MARIA_LAPTOP_DEVICE_NAME],
        "{listing}"
    );
    for d in rows(&listing) {
        assert_eq!(d["user"], seed::MARIA_USER, "{d}");
        // "maria" starts the bare account name of CONTOSO\maria.garcia.
        assert_eq!(d["matched"], "os.userName prefix", "{d}");
    }

    // Both filters must match: the asset tag is not named after Maria.
    let both = env
        .ok(
            "cw-rmm-list-devices",
            json!({"name": "maria", "user": "maria"}),
        )
        .await;
    assert_eq!(device_names(&both), [seed::MARIA_LAPTOP_DEVICE_NAME]);
    assert_eq!(
        both["devices"][0]["matched"],
        "friendlyName prefix, os.userName prefix"
    );
}
