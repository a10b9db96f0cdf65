//! Task runs and their lazily computed progression.
//!
//! A scheduled task has one instance; each target endpoint moves Scheduled -> Running (after
//! one `task_step`) -> Success/Failed (after another). Offline endpoints wait (next check-in)
//! or fail (run now). Status is derived from timestamps on every read, so no timers run.

use crate::tenant::{derive_id, pick, DeviceKind, Endpoint, Tenant};
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use uuid::Uuid;

/// How and when a task runs, from `schedule.regularity`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunKind {
    /// `RunNow` or `Immediate`.
    Now,
    /// `NextAgentCheckIn`.
    NextCheckIn,
    /// `OneTime` at `startDate`.
    OneTime,
    /// `Recurrent` from `startDate`.
    Recurrent,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Scheduled,
    Waiting,
    Running,
    Success,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Scheduled => "Scheduled",
            Status::Waiting => "Waiting",
            Status::Running => "Running",
            Status::Success => "Success",
            Status::Failed => "Failed",
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Success | Status::Failed)
    }
}

#[derive(Clone, Debug)]
pub struct Target {
    pub endpoint_id: Uuid,
    pub online: bool,
    /// The script's output on success, or the error on failure, decided at scheduling.
    pub outcome: Result<String, String>,
}

#[derive(Clone, Debug)]
pub struct TaskRun {
    pub task_id: Uuid,
    pub instance_id: Uuid,
    pub template_id: Uuid,
    pub template_type: String,
    pub name: String,
    pub description: String,
    pub regularity: String,
    pub schedule_type: String,
    pub time_zone: String,
    pub kind: RunKind,
    pub created: DateTime<Utc>,
    /// When execution may begin (creation, or a future `startDate`).
    pub start: DateTime<Utc>,
    /// Interval of a recurrent task, for `nextSchedule`.
    pub every: Option<Duration>,
    pub targets: Vec<Target>,
}

/// Timing knobs taken from the simulator configuration.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    pub step: Duration,
    pub offline_checkin_after: Option<Duration>,
}

pub struct TargetState {
    pub status: Status,
    pub started: Option<DateTime<Utc>>,
    pub finished: Option<DateTime<Utc>>,
}

impl TaskRun {
    pub fn target_state(&self, t: &Target, now: DateTime<Utc>, timing: Timing) -> TargetState {
        let step = timing.step;
        let mut base = self.start;
        if !t.online {
            if self.kind == RunKind::NextCheckIn {
                let Some(after) = timing.offline_checkin_after else {
                    return TargetState {
                        status: Status::Waiting,
                        started: None,
                        finished: None,
                    };
                };
                // Overflowing check-in times (absurd configs) mean "never", not a panic.
                let Some(checkin) = self.created.checked_add_signed(after) else {
                    return TargetState {
                        status: Status::Waiting,
                        started: None,
                        finished: None,
                    };
                };
                if now < checkin {
                    return TargetState {
                        status: Status::Waiting,
                        started: None,
                        finished: None,
                    };
                }
                base = base.max(checkin);
            } else {
                // The agent is unreachable: the run fails once dispatch is attempted.
                let failed_at = base
                    .checked_add_signed(step)
                    .unwrap_or(DateTime::<Utc>::MAX_UTC);
                return if now < failed_at {
                    TargetState {
                        status: Status::Scheduled,
                        started: None,
                        finished: None,
                    }
                } else {
                    TargetState {
                        status: Status::Failed,
                        started: None,
                        finished: Some(failed_at),
                    }
                };
            }
        }
        let later = |t: DateTime<Utc>| {
            t.checked_add_signed(step)
                .unwrap_or(DateTime::<Utc>::MAX_UTC)
        };
        let (running_at, done_at) = (later(base), later(later(base)));
        if now < running_at {
            TargetState {
                status: Status::Scheduled,
                started: None,
                finished: None,
            }
        } else if now < done_at {
            TargetState {
                status: Status::Running,
                started: Some(running_at),
                finished: None,
            }
        } else {
            let status = if t.outcome.is_ok() {
                Status::Success
            } else {
                Status::Failed
            };
            TargetState {
                status,
                started: Some(running_at),
                finished: Some(done_at),
            }
        }
    }

    /// Error text for a target, including the offline case decided at read time.
    pub fn error_details(&self, t: &Target, state: &TargetState) -> String {
        match (state.status, &t.outcome) {
            (Status::Failed, _) if !t.online => {
                "Endpoint offline: the agent did not respond to the task dispatch".into()
            }
            (Status::Failed, Err(e)) => e.clone(),
            _ => String::new(),
        }
    }
}

/// Aggregate of an instance's target statuses.
#[derive(Default, Debug)]
pub struct Counts {
    pub devices: usize,
    pub success: usize,
    pub failed: usize,
    pub scheduled: usize,
    pub waiting: usize,
    pub running: usize,
}

impl Counts {
    pub fn of(statuses: &[Status]) -> Counts {
        let n = |s: Status| statuses.iter().filter(|x| **x == s).count();
        Counts {
            devices: statuses.len(),
            success: n(Status::Success),
            failed: n(Status::Failed),
            scheduled: n(Status::Scheduled),
            waiting: n(Status::Waiting),
            running: n(Status::Running),
        }
    }

    /// `OverallStatus`: Running while any target runs, Scheduled/Waiting before any ran,
    /// then Success, Failed or "Some Failures" (the tasking service's status names).
    pub fn overall(&self) -> &'static str {
        if self.running > 0 {
            "Running"
        } else if self.scheduled > 0 {
            if self.success + self.failed > 0 {
                "Running"
            } else {
                "Scheduled"
            }
        } else if self.waiting > 0 {
            "Waiting"
        } else if self.failed == 0 {
            "Success"
        } else if self.success == 0 {
            "Failed"
        } else {
            "Some Failures"
        }
    }
}

#[derive(Default)]
pub struct TaskStore {
    pub runs: Vec<TaskRun>,
}

impl TaskStore {
    /// A few completed runs from the past hours, so summaries are not empty on a fresh tenant.
    pub fn seeded(tenant: &Tenant, now: DateTime<Utc>) -> TaskStore {
        let mut store = TaskStore::default();
        let plan: [(&str, &[&str], i64, RunKind); 3] = [
            (
                "flush-dns",
                &["CONTOSO-WS-01", "CONTOSO-WS-02", "CONTOSO-WS-03"],
                6,
                RunKind::Now,
            ),
            ("collect-event-logs", &["DC01"], 3, RunKind::Now),
            (
                "restart-print-spooler",
                &["FAB-WS-07", "FAB-WS-08"],
                20,
                RunKind::NextCheckIn,
            ),
        ];
        for (key, names, hours_ago, kind) in plan {
            let Some(script) = tenant.shell_scripts.iter().find(|s| s.key == key) else {
                continue;
            };
            let targets: Vec<&Endpoint> = names
                .iter()
                .filter_map(|n| tenant.endpoints.iter().find(|e| e.device_name == *n))
                .collect();
            let created = now - Duration::hours(hours_ago);
            let params = serde_json::json!({});
            store.runs.push(TaskRun {
                task_id: derive_id("seed-task", key),
                instance_id: derive_id("seed-task-instance", key),
                template_id: script.id,
                template_type: "script".into(),
                name: script.name.to_string(),
                description: script.description.to_string(),
                regularity: if kind == RunKind::Now {
                    "RunNow".into()
                } else {
                    "NextAgentCheckIn".into()
                },
                schedule_type: "TIME".into(),
                time_zone: "Australia/Sydney".into(),
                kind,
                created,
                start: created,
                every: None,
                targets: targets
                    .iter()
                    .map(|e| Target {
                        endpoint_id: e.id,
                        online: e.online,
                        outcome: outcome(key, &params, e),
                    })
                    .collect(),
            });
        }
        store
    }
}

const GB: f64 = 1_000_000_000.0;

/// What a script run reports on an endpoint: `Ok(resultDetails)` or `Err(errorDetails)`.
pub fn outcome(script_key: &str, params: &Value, e: &Endpoint) -> Result<String, String> {
    let windows = matches!(
        e.kind,
        DeviceKind::WindowsServer | DeviceKind::WindowsDesktop | DeviceKind::WindowsLaptop
    );
    let linux = e.kind == DeviceKind::LinuxServer;
    match script_key {
        "disk-cleanup" => {
            if !windows {
                return Err(format!("Script not supported on {}: Disk Cleanup requires Windows", e.os_product));
            }
            let drive = params.get("drive").and_then(Value::as_str).unwrap_or("C:").to_uppercase();
            let age = params.get("minFileAgeDays").and_then(Value::as_u64).unwrap_or(7);
            let Some(vol) = e.volumes.iter().find(|v| v.name.eq_ignore_ascii_case(&drive)) else {
                return Err(format!("Drive {drive} was not found on {}", e.device_name));
            };
            let used = vol.total_bytes - vol.free_bytes;
            // Older thresholds free less: files must be at least `age` days old.
            let freed = (pick(&e.device_name, &format!("freed/{drive}/{age}"), 600, 9_000) * 1_000_000 / (1 + age / 30)).min(used / 4);
            let files = freed / 350_000 + pick(&e.device_name, "files", 100, 900);
            Ok(format!(
                "Disk Cleanup completed on {drive} ({})\nRemoved {files} files older than {age} days (temp files, Windows Update cache, old logs)\nBytes freed: {freed}\nFreed {:.2} GB; free space now {:.2} GB of {:.2} GB",
                e.device_name,
                freed as f64 / GB,
                (vol.free_bytes + freed) as f64 / GB,
                vol.total_bytes as f64 / GB
            ))
        }
        "restart-print-spooler" if windows => Ok("Stopping service Spooler... stopped.\nCleared 3 queued print jobs.\nStarting service Spooler... running.".into()),
        "flush-dns" if windows => Ok("Windows IP Configuration\n\nSuccessfully flushed the DNS Resolver Cache.".into()),
        "collect-event-logs" if windows => {
            let log = params.get("logName").and_then(Value::as_str).unwrap_or("System");
            let errors = pick(&e.device_name, "evt-err", 0, 12);
            Ok(format!("Exported {log} log entries for the last {} hours: {errors} errors, {} warnings.\nSaved to C:\\ProgramData\\CWRMM\\Logs\\{log}-export.evtx", params.get("hours").and_then(Value::as_u64).unwrap_or(24), pick(&e.device_name, "evt-warn", 3, 40)))
        }
        "reboot" => Ok(format!("Reboot scheduled in {} seconds; users notified.", params.get("delaySeconds").and_then(Value::as_u64).unwrap_or(60))),
        "uninstall-software" if windows => {
            let app = params.get("applicationName").and_then(Value::as_str).unwrap_or_default();
            Err(format!("No installed application matches '{app}' (exit code 1605)"))
        }
        "linux-disk-usage" if linux => Ok("12G\t/var\n4.1G\t/usr\n2.3G\t/home\n640M\t/opt".into()),
        "powershell" | "cmd" if windows => Ok("Script completed with exit code 0.".into()),
        "bash" if !windows => Ok("Script completed with exit code 0.".into()),
        "library" => Ok("Script completed with exit code 0.".into()),
        _ => Err(format!("Script not supported on {}", e.os_product)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(
        kind: RunKind,
        online: bool,
        outcome: Result<String, String>,
    ) -> (TaskRun, DateTime<Utc>) {
        let t0 = crate::time::fixed(2025, 1, 1, 0);
        let r = TaskRun {
            task_id: Uuid::nil(),
            instance_id: Uuid::nil(),
            template_id: Uuid::nil(),
            template_type: "script".into(),
            name: "x".into(),
            description: String::new(),
            regularity: "RunNow".into(),
            schedule_type: "TIME".into(),
            time_zone: String::new(),
            kind,
            created: t0,
            start: t0,
            every: None,
            targets: vec![Target {
                endpoint_id: Uuid::nil(),
                online,
                outcome,
            }],
        };
        (r, t0)
    }

    const TIMING: Timing = Timing {
        step: Duration::seconds(2),
        offline_checkin_after: None,
    };

    #[test]
    fn progresses_scheduled_running_success() {
        let (r, t0) = run(RunKind::Now, true, Ok("ok".into()));
        let at = |s: i64| {
            r.target_state(&r.targets[0], t0 + Duration::seconds(s), TIMING)
                .status
        };
        assert_eq!(at(1), Status::Scheduled);
        assert_eq!(at(3), Status::Running);
        assert_eq!(at(5), Status::Success);
    }

    #[test]
    fn offline_waits_or_fails() {
        let (r, t0) = run(RunKind::NextCheckIn, false, Ok("ok".into()));
        assert_eq!(
            r.target_state(&r.targets[0], t0 + Duration::days(9), TIMING)
                .status,
            Status::Waiting
        );
        let timing = Timing {
            offline_checkin_after: Some(Duration::seconds(10)),
            ..TIMING
        };
        assert_eq!(
            r.target_state(&r.targets[0], t0 + Duration::seconds(15), timing)
                .status,
            Status::Success
        );
        let (r, t0) = run(RunKind::Now, false, Ok("ok".into()));
        let s = r.target_state(&r.targets[0], t0 + Duration::seconds(3), TIMING);
        assert_eq!(s.status, Status::Failed);
        assert!(r.error_details(&r.targets[0], &s).contains("offline"));
    }

    #[test]
    fn overall_status() {
        assert_eq!(
            Counts::of(&[Status::Success, Status::Failed]).overall(),
            "Some Failures"
        );
        assert_eq!(Counts::of(&[Status::Success]).overall(), "Success");
        assert_eq!(
            Counts::of(&[Status::Waiting, Status::Success]).overall(),
            "Waiting"
        );
        assert_eq!(Counts::of(&[Status::Scheduled]).overall(), "Scheduled");
    }
}
