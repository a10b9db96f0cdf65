//! The role table: the defaults, changed by `roles.toml`.

use super::defaults::default_roles;
use super::file::{self, RolesFileError};
use super::role::{normalize_role_name, Role};
use std::io;
use std::path::Path;

/// Every role the host knows: the seed matrix by default, changed by `roles.toml`. Asked
/// before policy whether a role may make a call at all ([`RoleTable::check`]), and after a
/// call what a limited role may see of the result ([`RoleTable::filter_result`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RoleTable {
    roles: Vec<Role>,
}

impl Default for RoleTable {
    /// The seed's permission matrix: Super Admin, Manager, Technician, Office Staff, Sales
    /// and Client Site Manager (limited access, with an empty scope until `roles.toml` gives
    /// it one).
    fn default() -> RoleTable {
        RoleTable {
            roles: default_roles(),
        }
    }
}

impl RoleTable {
    /// A table of exactly `roles`, without the defaults.
    pub fn from_roles(roles: Vec<Role>) -> RoleTable {
        RoleTable { roles }
    }

    /// The default table changed by the roles file at `path`; a missing file means the
    /// defaults. Anything wrong in the file is an error with line and column.
    pub fn load(path: &Path) -> Result<RoleTable, RolesFileError> {
        match std::fs::read_to_string(path) {
            Ok(text) => RoleTable::parse(path, &text),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(RoleTable::default()),
            Err(source) => Err(RolesFileError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// The default table changed by `text` (`path` is used in errors only).
    pub fn parse(path: &Path, text: &str) -> Result<RoleTable, RolesFileError> {
        let mut table = RoleTable::default();
        file::apply(&mut table.roles, path, text)?;
        Ok(table)
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
        let wanted = normalize_role_name(name);
        self.roles
            .iter()
            .find(|r| normalize_role_name(&r.name) == wanted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_roles_up_by_any_spelling() {
        let t = RoleTable::default();
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
        let t = RoleTable::load(Path::new("/nonexistent/roles.toml")).unwrap();
        assert_eq!(t, RoleTable::default());
    }
}
