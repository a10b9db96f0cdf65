//! The context every tool call runs in.

use crate::errors::ToolResult;
use crate::http::{Api, Transport};
use crate::region::{ConfigSource, Settings};

/// Everything one call needs: the API client on the configured region, settings and the clock.
pub struct Ctx<'a> {
    pub api: Api<'a>,
    pub settings: Settings,
    /// Seconds since the Unix epoch, asked when a tool needs them: most tools never do,
    /// and each look at the host's clock is a host call.
    clock: fn() -> i64,
}

impl<'a> Ctx<'a> {
    pub fn new(
        transport: &'a dyn Transport,
        config: &dyn ConfigSource,
        clock: fn() -> i64,
    ) -> ToolResult<Ctx<'a>> {
        let settings = Settings::load(config)?;
        Ok(Ctx {
            api: Api::new(transport, settings.api_host.clone()),
            settings,
            clock,
        })
    }

    /// Seconds since the Unix epoch, now.
    pub fn now(&self) -> i64 {
        (self.clock)()
    }
}
