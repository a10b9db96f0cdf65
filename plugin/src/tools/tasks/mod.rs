//! Scheduled tasks: scheduling them (run-task and every script tool), their summaries and results.

pub mod results;
pub mod run;
pub mod summary;
