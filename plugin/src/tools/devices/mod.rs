//! Devices (endpoints): the v2 categorized list with cursor paging through `Link`, and details.

pub mod details;
pub mod list;
mod matching;
