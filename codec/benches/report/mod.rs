//! Reading back criterion's estimates of the current run, so a bench can print the ratio its
//! target is stated in.

use std::path::{Path, PathBuf};

/// Whether this run measured anything: `cargo test --benches` and `--list` run each function
/// once without estimates.
pub fn measured() -> bool {
    !std::env::args().any(|a| a == "--test" || a == "--list")
}

/// Criterion's output folder: `CRITERION_HOME`, else `<target>/criterion`, the bench binary
/// being `<target>/<profile>/deps/<name>`.
pub fn criterion_dir() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return Some(PathBuf::from(home));
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return Some(PathBuf::from(target).join("criterion"));
    }
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.parent()?.parent()?.join("criterion"))
}

/// Mean time per iteration (ns) criterion estimated in this run for `name` in `group`.
pub fn mean_ns(dir: &Path, group: &str, name: &str) -> Option<f64> {
    let path = dir.join(group).join(name.replace('/', "_")).join("new").join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["mean"]["point_estimate"].as_f64()
}
