//! The end-to-end tests, in one binary (as wasmtime's own `tests/all`): the real host, the
//! real component and the real simulator over loopback. One binary links wasmtime once.

mod approvals;
mod audit;
mod catalog;
mod cli;
mod clients;
mod conformance;
mod contract;
mod credentials;
mod devices;
mod front_door;
mod gate;
mod grants;
mod hostile;
mod mcp;
mod mcp_conformance;
mod mcp_rounds;
mod operator_role;
mod output;
mod passkeys;
mod policy;
mod pool;
mod previews;
mod progress;
mod property;
mod resilience;
mod roles;
mod routes;
mod scale;
mod secrets;
mod serve;
mod terminal;
mod tickets;
mod tokens;
mod tools;
mod ui;
