//! Where the CPU went during a benchmark phase, read from `/proc`: how many of the
//! machine's cores were busy, and how much of that was this process and the node.
//!
//! On a machine where the node and the database share the bridge's cores, a phase
//! whose cores are all busy is limited by the machine, not by the code measured: the
//! benchmarks print this beside each rate so a reader can tell the two apart.

use std::time::Instant;

/// Clock ticks of CPU time at one instant.
#[derive(Debug, Clone, Copy)]
pub struct CpuSnapshot {
    at: Instant,
    /// Busy ticks of all cores (user, nice, system, irq, softirq, steal).
    machine_busy: u64,
    /// All ticks of all cores (busy and idle).
    machine_total: u64,
    own: u64,
    node: Option<u64>,
}

/// The cores each part kept busy over an interval, on average (2.0 = two whole cores).
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuUse {
    /// Seconds of wall time.
    pub seconds: f64,
    /// The machine's cores.
    pub cores: usize,
    /// All processes.
    pub machine: f64,
    /// This process.
    pub own: f64,
    /// The node (anvil), when its process was given.
    pub node: f64,
}

impl CpuUse {
    /// Everything but this process and the node (the database server, the kernel's
    /// threads, anything else running).
    pub fn rest(&self) -> f64 {
        (self.machine - self.own - self.node).max(0.0)
    }

    /// Adds another interval (e.g. one more repetition of a phase), weighted by time.
    pub fn add(&mut self, other: CpuUse) {
        let total = self.seconds + other.seconds;
        if total <= 0.0 {
            return;
        }
        let mix = |a: f64, b: f64| (a * self.seconds + b * other.seconds) / total;
        self.machine = mix(self.machine, other.machine);
        self.own = mix(self.own, other.own);
        self.node = mix(self.node, other.node);
        self.seconds = total;
        self.cores = other.cores;
    }
}

impl std::fmt::Display for CpuUse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.2} of {} cores busy (this process {:.2}, node {:.2}, rest {:.2})",
            self.machine,
            self.cores,
            self.own,
            self.node,
            self.rest()
        )
    }
}

/// Reads the counters now. `node` is the node's process id. `None` when `/proc` cannot
/// be read (not Linux).
pub fn snapshot(node: Option<u32>) -> Option<CpuSnapshot> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .map(|t| t.parse().unwrap_or(0))
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is inside user).
    let field = |i: usize| ticks.get(i).copied().unwrap_or(0);
    let machine_busy = field(0) + field(1) + field(2) + field(5) + field(6) + field(7);
    let machine_total = machine_busy + field(3) + field(4);
    Some(CpuSnapshot {
        at: Instant::now(),
        machine_busy,
        machine_total,
        own: process_ticks("self")?,
        node: node.and_then(|pid| process_ticks(&pid.to_string())),
    })
}

/// The cores busy between `from` and `to`.
pub fn between(from: &CpuSnapshot, to: &CpuSnapshot) -> CpuUse {
    let cores = cores();
    let total = to.machine_total.saturating_sub(from.machine_total).max(1) as f64;
    let share = |ticks: u64| ticks as f64 / total * cores as f64;
    CpuUse {
        seconds: to.at.duration_since(from.at).as_secs_f64(),
        cores,
        machine: share(to.machine_busy.saturating_sub(from.machine_busy)),
        own: share(to.own.saturating_sub(from.own)),
        node: match (from.node, to.node) {
            (Some(a), Some(b)) => share(b.saturating_sub(a)),
            _ => 0.0,
        },
    }
}

/// The cores `/proc/stat` lists.
fn cores() -> usize {
    std::fs::read_to_string("/proc/stat")
        .map(|s| {
            s.lines()
                .filter(|l| l.starts_with("cpu") && !l.starts_with("cpu "))
                .count()
        })
        .unwrap_or(1)
        .max(1)
}

/// utime + stime of a process (`self` or a pid), in clock ticks.
fn process_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces: fields are counted after its ')'.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After ')': state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_spent_by_this_process_is_counted_as_its_own() {
        let Some(from) = snapshot(None) else {
            panic!("/proc/stat and /proc/self/stat must be readable on Linux");
        };
        // Spin until the kernel has charged this process 0.2 s of CPU (however loaded
        // the machine is), or give up after 60 s of wall time.
        let start = process_ticks("self").expect("readable a moment ago");
        let t = Instant::now();
        let mut x = 0u64;
        while process_ticks("self").expect("readable") < start + 20 {
            assert!(t.elapsed().as_secs() < 60, "no CPU time charged in 60 s");
            for _ in 0..100_000 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            }
        }
        std::hint::black_box(x);
        let to = snapshot(None).expect("readable a moment ago");
        let used = between(&from, &to);
        let own_seconds = used.own * used.seconds;
        assert!(
            (0.15..=0.5).contains(&own_seconds),
            "0.2 s charged, {own_seconds:.3} s counted: {used}"
        );
        assert!(used.machine + 0.05 >= used.own, "{used}");
        assert_eq!(used.node, 0.0);
        assert_eq!(used.cores, cores());
    }
}
