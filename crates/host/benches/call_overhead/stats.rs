//! Samples, percentiles, the printed table and the JSON figures.

use serde_json::{json, Map, Value};
use std::time::{Duration, Instant};

/// Summary of one measured thing.
#[derive(Clone, Copy)]
pub struct Stats {
    pub mean: Duration,
    pub p50: Duration,
    pub p99: Duration,
}

pub fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let total: Duration = samples.iter().sum();
    let at = |q: usize| samples[(samples.len() * q / 100).min(samples.len() - 1)];
    Stats {
        mean: total / samples.len() as u32,
        p50: at(50),
        p99: at(99),
    }
}

fn us(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e7).round() / 10.0
}

/// Runs `a` and `b` alternately, `warmup` times unmeasured then `iterations` times, so
/// both see the same machine load (the machine is shared).
pub async fn side_by_side<A, FA, B, FB>(warmup: u32, iterations: u32, a: A, b: B) -> (Stats, Stats)
where
    A: FnMut() -> FA,
    FA: std::future::Future<Output = ()>,
    B: FnMut() -> FB,
    FB: std::future::Future<Output = ()>,
{
    side_by_side_settled(warmup, iterations, a, b, || async {}).await
}

/// [`side_by_side`], with `settle` run untimed after each `b`: for a `b` that leaves work
/// behind it (the host makes the next call's instance after a call returns), so that work
/// does not land in the next `a`'s time, as it would not for an agent that thinks between
/// calls.
pub async fn side_by_side_settled<A, FA, B, FB, S, FS>(
    warmup: u32,
    iterations: u32,
    mut a: A,
    mut b: B,
    mut settle: S,
) -> (Stats, Stats)
where
    A: FnMut() -> FA,
    FA: std::future::Future<Output = ()>,
    B: FnMut() -> FB,
    FB: std::future::Future<Output = ()>,
    S: FnMut() -> FS,
    FS: std::future::Future<Output = ()>,
{
    for _ in 0..warmup {
        a().await;
        b().await;
        settle().await;
    }
    let (mut sa, mut sb) = (Vec::new(), Vec::new());
    for _ in 0..iterations {
        let started = Instant::now();
        a().await;
        sa.push(started.elapsed());
        let started = Instant::now();
        b().await;
        sb.push(started.elapsed());
        settle().await;
    }
    (stats(sa), stats(sb))
}

/// Rows printed as they are added and written to `target/bench/<name>.json` at the end.
#[derive(Default)]
pub struct Report {
    rows: Map<String, Value>,
    top: Map<String, Value>,
}

impl Report {
    /// One row; `baseline` gives it a ratio (mean over mean).
    pub fn row(&mut self, name: &str, s: &Stats, baseline: Option<&Stats>) {
        let ratio = baseline.map(|b| s.mean.as_secs_f64() / b.mean.as_secs_f64());
        let shown = ratio.map_or(String::new(), |r| format!("{r:>7.2}x"));
        println!(
            "{name:<52} mean {:>11.1} us   p50 {:>11.1} us   p99 {:>11.1} us  {shown}",
            us(s.mean),
            us(s.p50),
            us(s.p99)
        );
        let mut row = json!({"mean_us": us(s.mean), "p50_us": us(s.p50), "p99_us": us(s.p99)});
        if let Some(r) = ratio {
            row["ratio"] = json!((r * 1000.0).round() / 1000.0);
        }
        self.rows.insert(name.to_string(), row);
    }

    /// A top-level figure.
    pub fn figure(&mut self, key: &str, value: Value) {
        self.top.insert(key.to_string(), value);
    }

    /// Writes the figures next to the build output.
    pub fn write(mut self, target_dir: &std::path::Path, name: &str) -> anyhow::Result<()> {
        let dir = target_dir.join("bench");
        std::fs::create_dir_all(&dir)?;
        self.top.insert("rows".into(), Value::Object(self.rows));
        let path = dir.join(format!("{name}.json"));
        std::fs::write(
            &path,
            serde_json::to_string_pretty(&Value::Object(self.top))? + "\n",
        )?;
        println!("figures written to {}", path.display());
        Ok(())
    }
}
