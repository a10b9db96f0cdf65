//! The routes a plugin declares (for a tool, or for discovery), checked into the gate's
//! [`ToolRoute`]s: a tool annotated read-only may declare reads only.

use super::bindings::wit;
use super::declaration_error::{invalid, DeclarationError};
use crate::outbound::tool_routes::{Access, ToolRoute};

/// `routes`, declared at `field`, checked; `reads_only` refuses any write route.
pub(crate) fn declared_routes(
    routes: Vec<wit::Route>,
    field: &str,
    reads_only: bool,
) -> Result<Vec<ToolRoute>, DeclarationError> {
    routes
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let access = match r.access {
                wit::Access::Read => Access::Read,
                wit::Access::Write => Access::Write,
            };
            let at = format!("{field}[{i}]");
            let route = ToolRoute::new(&r.method, &r.path, access)
                .map_err(|e| invalid(at.clone(), e.to_string()))?;
            if reads_only && access == Access::Write {
                return Err(invalid(
                    at,
                    format!(
                        "`{} {}` is a write, but only reads may be declared here (a read-only \
                         tool, or discovery)",
                        r.method, r.path
                    ),
                ));
            }
            Ok(route)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(method: &str, path: &str, access: wit::Access) -> wit::Route {
        wit::Route {
            method: method.into(),
            path: path.into(),
            access,
        }
    }

    #[test]
    fn read_only_declarations_may_not_write() {
        let write = vec![route("POST", "/v2/schedule-tasks", wit::Access::Write)];
        let err = declared_routes(write.clone(), "tool `x`.routes", true).unwrap_err();
        assert_eq!(err.field, "tool `x`.routes[0]");
        assert!(declared_routes(write, "tool `x`.routes", false).is_ok());
    }

    #[test]
    fn malformed_routes_name_their_index() {
        let routes = vec![
            route("GET", "/ok", wit::Access::Read),
            route("GET", "relative", wit::Access::Read),
        ];
        let err = declared_routes(routes, "discovery-routes", true).unwrap_err();
        assert_eq!(err.field, "discovery-routes[1]");
    }
}
