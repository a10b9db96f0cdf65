//! Roles: who may use which tool through the agent, checked before policy is consulted.
//!
//! The default table is the seed's Tasks / Scheduled Task permission matrix ([`defaults`]);
//! `roles.toml` ([`file`]) changes or adds roles. [`RoleTable::check`] refuses a call
//! (unknown role, AI Assist off, missing permission, outside a limited role's scope) and
//! [`RoleTable::filter_result`] drops list items outside a limited role's scope.

mod check;
mod defaults;
mod file;
mod filter;
mod role;
mod table;

pub use check::RoleDenied;
pub use file::RolesFileError;
pub use role::{normalize_role_name, Role, Scope};
pub use table::RoleTable;
