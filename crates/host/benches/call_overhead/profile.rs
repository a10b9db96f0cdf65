//! A steady loop of one kind of call, for a profiler and for comparing two builds by CPU:
//! `<bench binary> profile [front-door|call-tool|instantiate|native] [calls]`. Not part of the
//! default run (it measures nothing side by side); it prints the CPU per call of the loop.

use crate::loopback::TOOL;
use std::time::Instant;
use toolhost_host::{Caller, DeferApprovals, ToolHost};

pub async fn run(host: &ToolHost, sim: &simulator::Simulator) -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let after = args.iter().skip_while(|a| *a != "profile").skip(1);
    let (mut kind, mut calls) = ("front-door".to_string(), 5_000u32);
    for arg in after.filter(|a| *a != "current-thread") {
        match arg.parse::<u32>() {
            Ok(n) => calls = n,
            Err(_) => kind = arg.clone(),
        }
    }
    let caller = Caller::new("bench", None);
    let runtime = host.runtime();
    let context = crate::loopback::tool_context(host);
    let token = crate::mint_token(&sim.base_url(), &reqwest::Client::new()).await?;
    let native = reqwest::Client::new();
    let url = format!("{}/api/platform/v1/company/companies", sim.base_url());
    let one = || async {
        match kind.as_str() {
            "front-door" => {
                host.call(TOOL, "{}", &caller, &DeferApprovals)
                    .await
                    .expect("front door call");
            }
            "call-tool" => {
                let outcome = runtime.call_tool(context.clone(), TOOL, "{}").await;
                outcome.result.expect("component call");
            }
            "instantiate" => {
                let offline = toolhost_sandbox::CallContext::offline();
                let _ = runtime
                    .call_tool(offline, "cw-rmm-no-such-tool", "{}")
                    .await;
            }
            "native" => {
                let response = native.get(&url).bearer_auth(&token).send().await;
                let response = response.expect("native GET");
                assert!(response.status().is_success());
                response.bytes().await.expect("native body");
            }
            other => {
                panic!("profile what? {other} (front-door, call-tool, instantiate or native)")
            }
        }
    };
    crate::loopback::after_a_large_call(host, &caller).await?;
    for _ in 0..100 {
        one().await;
    }
    let switches = crate::cpu::context_switches();
    let (wall, cpu) = (Instant::now(), crate::cpu::now());
    for _ in 0..calls {
        one().await;
    }
    let cpu = crate::cpu::per_item_us(crate::cpu::now() - cpu, calls as usize);
    let wall = wall.elapsed().as_secs_f64() * 1e6 / f64::from(calls);
    let switches = (crate::cpu::context_switches() - switches) as f64 / f64::from(calls.max(1));
    println!(
        "profile {kind}: {calls} calls, {wall:.1} us wall and {cpu} us CPU per call, \
         {switches:.2} context switches per call (simulator included)"
    );
    Ok(())
}
