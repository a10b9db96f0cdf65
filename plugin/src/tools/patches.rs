//! Patch status of one endpoint.

use super::context::Ctx;
use crate::args::Args;
use crate::errors::{ToolError, ToolResult};
use crate::http::segment;
use crate::shape::{array, discard, project};
use serde_json::{json, Value};

pub fn get_device_patches(ctx: &Ctx, raw: &str) -> ToolResult<Value> {
    let args = Args::parse(raw, &["endpointId"])?;
    let endpoint = args.req_uuid("endpointId", "find it with cw-rmm-list-devices")?;
    let body = ctx.api.get(
        &format!("/api/platform/v2/patching/{}/patches", segment(&endpoint)),
        &[],
    )?;
    if !body.is_object() {
        return Err(ToolError::upstream_shape(
            "patches: expected an object with summary and patches",
        ));
    }
    let summary = body.get("summary").cloned().unwrap_or(Value::Null);
    let patches: Vec<Value> = array(&body, &["patches"], "patches")?
        .iter()
        .map(|p| {
            project(
                p,
                &[
                    ("updateId", &["updateID", "updateId"]),
                    ("kbArticleId", &["kbArticleID", "kbArticleId"]),
                    ("title", &["title", "name"]),
                    ("classification", &["classification"]),
                    // The spec gives no code list for `status`, so it is passed through undecoded.
                    ("statusCode", &["status"]),
                    ("severity", &["msrcSeverity"]),
                    ("rebootBehavior", &["rebootBehavior"]),
                    ("approval", &["partnerApprovalStatus"]),
                    ("policyMatch", &["policyMatch"]),
                    ("installedDate", &["installedDate"]),
                    ("installedBy", &["installedBy"]),
                    ("size", &["size"]),
                    ("moreInformationLink", &["moreInformationLink"]),
                ],
            )
        })
        .collect();
    discard(body);
    let s = &summary;
    Ok(json!({
        "endpointId": endpoint,
        "summary": project(
            s,
            &[
            ("missing", &["missingCount"]),
            ("installed", &["installedCount"]),
            ("pendingReboot", &["pendingRebootCount"]),
            ("rebootRequired", &["pendingReboot"]),
            ("compliance", &["compliance"]),
            ("assessedAt", &["assessedAt"]),
            ("outOfSupport", &["outOfSupport"]),
            ("policyName", &["policyName"]),
            ("deploymentStatus", &["deploymentStatus"]),
            ("nextInstallAt", &["nextInstallAt"]),
            ("nextRebootAt", &["nextRebootAt"]),
            ("currentRebootState", &["currentRebootState"]),
            ],
        ),
        "patchCount": patches.len(),
        "patches": patches,
    }))
}

#[cfg(test)]
mod tests {
    use crate::http::fake::FakeTransport;
    use crate::tools::testing::*;

    #[test]
    fn summarizes_patches() {
        let fake = FakeTransport::new();
        fake.reply(200, r#"{"summary":{"missingCount":3,"installedCount":40,"pendingRebootCount":1,"compliance":92.5,"pendingReboot":true},
            "patches":[{"updateID":"u1","kbArticleID":"KB5034441","status":2,"classification":"Security Updates","msrcSeverity":"Critical"}]}"#);
        let out = run(
            &fake,
            "cw-rmm-get-device-patches",
            r#"{"endpointId":"11111111-1111-4111-8111-111111111111"}"#,
        )
        .unwrap();
        assert_eq!(out["summary"]["missing"], 3);
        assert_eq!(out["summary"]["rebootRequired"], true);
        assert_eq!(out["patches"][0]["statusCode"], 2);
        assert_eq!(
            fake.paths()[0],
            "/api/platform/v2/patching/11111111-1111-4111-8111-111111111111/patches"
        );
    }

    #[test]
    fn entitlement_errors_keep_their_message() {
        let fake = FakeTransport::new();
        fake.reply(
            401,
            r#"{"error":{"message":"Partner is not entitled for the feature"}}"#,
        );
        let err = run(
            &fake,
            "cw-rmm-get-device-patches",
            r#"{"endpointId":"11111111-1111-4111-8111-111111111111"}"#,
        )
        .unwrap_err();
        assert!(
            matches!(err, crate::errors::ToolError::Unauthorized(m) if m.contains("not entitled"))
        );
    }
}
