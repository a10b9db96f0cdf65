//! Roles: who may use which tool through the agent, checked before policy is consulted.
//!
//! The default table is the plugin's permission matrix (vendor knowledge, declared by the
//! plugin) or, when it declares none, the built-in role; `roles.toml` changes or adds roles. [`RoleTable::check`] refuses a call
//! (unknown role, AI Assist off, missing permission, outside a limited role's scope) and
//! [`RoleTable::filter_result`] drops list items outside a limited role's scope.

mod check;
mod file;
mod filter;
mod role;
mod table;
#[cfg(test)]
pub(crate) mod testing;

pub use check::RoleDenied;
pub use file::RolesFileError;
pub use role::{
    normalize_role_name, Role, Scope, ALL_PERMISSIONS, BUILTIN_ROLE, FIXED_AI_ASSIST,
    FIXED_LIMITED_ACCESS,
};
pub use table::RoleTable;
