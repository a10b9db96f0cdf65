//! [`RoleTable::filter_result`]: a limited role sees only the list items of its scope.

use super::role::Scope;
use super::table::RoleTable;
use serde_json::Value;

/// The list fields of tool results that carry companies, sites, devices or tickets.
pub const FILTERED_LISTS: [&str; 4] = ["devices", "sites", "companies", "tickets"];

impl RoleTable {
    /// Drops the items of the `devices`, `sites`, `companies` and `tickets` arrays of
    /// `result` that are outside a limited role's scope, and corrects a top-level `count`.
    /// An item is kept when its company (`companyId`, or `id` of a company) is a company of
    /// the scope or its site (`siteId`, or `id` of a site) is a site of the scope; an item
    /// with neither is dropped. Roles without limited access get `result` unchanged; an
    /// unknown role gets every such list emptied.
    pub fn filter_result(&self, role: &str, tool: &str, mut result: Value) -> Value {
        let scope = match self.get(role) {
            Some(r) if !r.limited_access => return result,
            Some(r) => Some(&r.scope),
            None => None,
        };
        let Some(obj) = result.as_object_mut() else {
            return result;
        };
        let mut dropped = 0usize;
        let mut kept_total = None;
        for list in FILTERED_LISTS {
            let Some(Value::Array(items)) = obj.get_mut(list) else {
                continue;
            };
            let before = items.len();
            items.retain(|item| scope.is_some_and(|s| in_scope(s, list, item)));
            dropped += before - items.len();
            kept_total = Some(kept_total.unwrap_or(0) + items.len());
        }
        if dropped > 0 {
            if let (Some(kept), Some(count)) = (kept_total, obj.get_mut("count")) {
                if count.is_u64() {
                    *count = Value::from(kept);
                }
            }
            tracing::debug!(role, tool, dropped, "dropped out-of-scope result items");
        }
        result
    }
}

fn in_scope(scope: &Scope, list: &str, item: &Value) -> bool {
    let field = |f: &str| item.get(f).and_then(Value::as_str);
    let company = field("companyId").or(if list == "companies" {
        field("id")
    } else {
        None
    });
    let site = field("siteId").or(if list == "sites" { field("id") } else { None });
    company.is_some_and(|c| scope.has_company(c)) || site.is_some_and(|s| scope.has_site(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    fn table() -> RoleTable {
        crate::roles::testing::matrix()
            .with_roles_text(
                Path::new("roles.toml"),
                "[roles.\"Client Site Manager\"]\ncompanies = [\"c1\"]\nsites = [\"s9\"]\n",
            )
            .unwrap()
    }

    #[test]
    fn drops_out_of_scope_items_and_fixes_the_count() {
        let result = json!({
            "devices": [
                {"endpointId": "e1", "companyId": "c1", "siteId": "s1"},
                {"endpointId": "e2", "companyId": "c2", "siteId": "s2"},
                {"endpointId": "e3", "companyId": "c2", "siteId": "s9"},
                {"endpointId": "e4"}
            ],
            "count": 4,
            "truncated": false
        });
        let out = table().filter_result("Client Site Manager", "t", result);
        let ids: Vec<_> = out["devices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["endpointId"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["e1", "e3"]);
        assert_eq!(out["count"], 2);
        assert_eq!(out["truncated"], false);
    }

    #[test]
    fn companies_and_sites_use_their_own_id() {
        let result = json!({
            "companies": [{"id": "c1"}, {"id": "c2"}],
            "sites": [{"id": "s9", "companyId": "c7"}, {"id": "s3", "companyId": "c1"}, {"id": "s4", "companyId": "c4"}],
            "tickets": [{"ticketId": "t1", "companyId": "C1"}, {"ticketId": "t2", "companyId": "c3"}]
        });
        let out = table().filter_result("client site manager", "t", result);
        assert_eq!(out["companies"], json!([{"id": "c1"}]));
        assert_eq!(out["sites"].as_array().unwrap().len(), 2);
        assert_eq!(
            out["tickets"],
            json!([{"ticketId": "t1", "companyId": "C1"}])
        );
    }

    #[test]
    fn unlimited_roles_see_everything_and_unknown_roles_nothing() {
        let result = json!({"devices": [{"companyId": "c2"}], "count": 1});
        let t = table();
        assert_eq!(t.filter_result("Technician", "t", result.clone()), result);
        let out = t.filter_result("nobody", "t", result);
        assert_eq!(out, json!({"devices": [], "count": 0}));
    }
}
