//! The role table: the defaults, changed by `roles.toml`.

use super::file::{self, RolesFileError};
use super::role::{same_role_name, Role};
use crate::parsed_files::{FileIdentity, ParsedFiles};
use std::io;
use std::path::Path;
use std::sync::{Arc, LazyLock};

/// Every role the host knows: the plugin's permission matrix (or the built-in role), changed
/// by `roles.toml`. Asked
/// before policy whether a role may make a call at all ([`RoleTable::check`]), and after a
/// call what a limited role may see of the result ([`RoleTable::filter_result`]).
///
/// Shared, not copied: a call clones the host's table and compares it with the one its roles
/// file was last applied to, and with the roles behind an `Arc` both are a pointer operation
/// (`Arc`'s equality looks at the pointer first) instead of copying every permission.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RoleTable {
    #[serde(serialize_with = "serialize_roles")]
    roles: Arc<Vec<Role>>,
}

fn serialize_roles<S: serde::Serializer>(roles: &Arc<Vec<Role>>, s: S) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(roles.as_slice(), s)
}

impl RoleTable {
    /// A table of exactly `roles`: the defaults a roles file changes. Empty: the built-in
    /// role alone ([`Role::builtin`]).
    pub fn from_roles(roles: Vec<Role>) -> RoleTable {
        if roles.is_empty() {
            return RoleTable {
                roles: Arc::new(vec![Role::builtin()]),
            };
        }
        RoleTable {
            roles: Arc::new(roles),
        }
    }

    /// This table changed by the roles file at `path`; a missing file changes nothing.
    /// Anything wrong in the file is an error with line and column.
    /// A file unchanged since it was last applied to an equal table is not read again.
    pub fn with_roles_file(self, path: &Path) -> Result<RoleTable, RolesFileError> {
        /// (the table the file was applied to, the result)
        static APPLIED: LazyLock<ParsedFiles<(RoleTable, RoleTable)>> =
            LazyLock::new(ParsedFiles::new);
        let read_error = |source| RolesFileError::Read {
            path: path.to_path_buf(),
            source,
        };
        let Some(identity) = FileIdentity::of(path).map_err(read_error)? else {
            return Ok(self);
        };
        if let Some((base, result)) = APPLIED.get(path, identity) {
            if base == self {
                return Ok(result);
            }
        }
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let result = self.clone().with_roles_text(path, &text)?;
                APPLIED.put(path, identity, (self, result.clone()));
                Ok(result)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(self),
            Err(source) => Err(read_error(source)),
        }
    }

    /// This table changed by `text` (`path` is used in errors only).
    pub fn with_roles_text(mut self, path: &Path, text: &str) -> Result<RoleTable, RolesFileError> {
        file::apply(Arc::make_mut(&mut self.roles), path, text)?;
        Ok(self)
    }

    /// Every role, in table order (the matrix's columns, then roles the file added).
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    /// Display names, in table order.
    pub fn names(&self) -> Vec<&str> {
        self.roles.iter().map(|r| r.name.as_str()).collect()
    }

    /// Case-insensitive; spaces, `-` and `_` are interchangeable.
    pub fn get(&self, name: &str) -> Option<&Role> {
        // Every call looks its caller's role up, almost always spelled as the table spells it:
        // bytes first, then words (names are unique once normalised, so both find the same role).
        self.roles
            .iter()
            .find(|r| r.name == name)
            .or_else(|| self.roles.iter().find(|r| same_role_name(&r.name, name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::roles::testing::matrix;

    #[test]
    fn looks_roles_up_by_any_spelling() {
        let t = matrix();
        assert_eq!(t.get("technician").unwrap().name, "Technician");
        assert_eq!(
            t.get("client-site-manager").unwrap().name,
            "Client Site Manager"
        );
        assert!(t.get("Admin").is_none());
        assert_eq!(t.names().len(), 6);
    }

    #[test]
    fn missing_file_means_defaults() {
        let t = matrix()
            .with_roles_file(Path::new("/nonexistent/roles.toml"))
            .unwrap();
        assert_eq!(t, matrix());
    }

    #[test]
    fn no_declared_roles_means_the_builtin_role_with_every_permission() {
        let t = RoleTable::from_roles(Vec::new());
        assert_eq!(t.names(), [crate::roles::role::BUILTIN_ROLE]);
        let r = t.get("operator").unwrap();
        assert!(r.ai_assist && !r.limited_access);
        assert!(r.has_permission("tasks:create") && r.has_permission("anything:else"));
    }
}
