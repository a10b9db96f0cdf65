//! The context every tool call runs in.

use crate::errors::ToolResult;
use crate::http::{Api, Transport};
use crate::region::{ConfigSource, Settings};

/// Everything one call needs: the API client on the configured region, settings and the clock.
pub struct Ctx<'a> {
    pub api: Api<'a>,
    pub settings: Settings,
    /// Seconds since the Unix epoch when the call started.
    pub now: i64,
}

impl<'a> Ctx<'a> {
    pub fn new(
        transport: &'a dyn Transport,
        config: &dyn ConfigSource,
        now: i64,
    ) -> ToolResult<Ctx<'a>> {
        let settings = Settings::load(config)?;
        Ok(Ctx {
            api: Api::new(transport, settings.api_host.clone()),
            settings,
            now,
        })
    }
}
