//! Load bench: the disk's single-writer write+fsync rate, the baseline's get-by-id (the
//! ceiling of the stack, `benches/baseline.rs`), then a fresh release schemata filled with N
//! schemas in M subjects under get-by-id, get latest, lookup, register-existing, register-new
//! (durable; 64 clients and 1) and a compatibility check: throughput, p50 and p99 of each,
//! and each as a ratio to the baseline, all in one run. Run it with `benches/load.sh`.
//!
//! Arguments: `--schemata BIN --baseline BIN [--schemas N] [--subjects M] [--seconds S]
//! [--clients C] [--dir PARENT] [--only PHASE]` (PARENT holds the data directory and the
//! fsync probe; `--only` runs the schemata phases whose name contains PHASE, for profiling).

#[path = "support/mod.rs"]
mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::*;

/// Small writes, each followed by fdatasync, from one writer for `duration`: the rate a
/// store that syncs every write alone could reach at best. The writes overwrite a file
/// allocated and synced beforehand, as sled writes into its preallocated log segments, so
/// no sync has to commit a change of file size (which would make the disk look slower).
fn fsync_rate(dir: &Path, duration: Duration) -> f64 {
    use std::os::unix::fs::FileExt;
    const SPAN: u64 = 4 << 20;
    let path = dir.join("fsync-probe");
    let mut f = std::fs::File::create(&path).expect("probe file");
    f.write_all(&vec![0u8; SPAN as usize]).expect("allocate");
    f.sync_all().expect("fsync");
    let record = [b'x'; 128];
    let t = Instant::now();
    let mut n = 0u64;
    while t.elapsed() < duration {
        f.write_all_at(&record, (n * 128) % SPAN).expect("write");
        f.sync_data().expect("fdatasync");
        n += 1;
    }
    let rate = n as f64 / t.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(path);
    rate
}

fn main() {
    let schemata = arg("--schemata").expect("--schemata BIN");
    let baseline = arg("--baseline").expect("--baseline BIN");
    let n = num("--schemas", 10_000);
    let m = num("--subjects", 100);
    let secs = Duration::from_secs(num("--seconds", 5) as u64);
    let clients = num("--clients", 64);
    let parent = tempfile::TempDir::new_in(arg("--dir").unwrap_or_else(|| std::env::temp_dir().display().to_string()))
        .expect("temp dir");

    println!("machine: {} cores; {n} schemas in {m} subjects; {clients} clients; {secs:?} per phase", cores());
    let fsyncs = fsync_rate(parent.path(), Duration::from_secs(3));
    let fsyncs_first = fsyncs;
    println!("disk: {fsyncs:.0} write+fdatasync/s from one writer in the data directory's filesystem");

    // The ceiling.
    let base_addr = free_addr();
    let mut base = Killed(
        Command::new(&baseline)
            .args(["--listen", &base_addr, "--count", &n.to_string()])
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn baseline"),
    );
    wait_ready(&base_addr, "/schemas/ids/1", &mut base.0, Instant::now());
    let ceiling = run_load(&base_addr, clients, secs, move |_, c, r, _| {
        c.request("GET", &format!("/schemas/ids/{}", 1 + r.below(n)), None).expect("get").0
    });
    drop(base);

    // Schemata, filled through its API (64 writers: group commit makes this quick).
    let addr = free_addr();
    let data = parent.path().join("data");
    let mut server = Killed(spawn_schemata(&schemata, &addr, &data));
    wait_ready(&addr, "/", &mut server.0, Instant::now());
    let filled = fill(&addr, n, m);
    println!("filled {n} schemas in {:.1} s", filled.as_secs_f64());
    // Every schema is new, so the ids are 1..=n.
    let max_id = n;

    let only = arg("--only");
    let wanted = |name: &str| only.as_deref().is_none_or(|o| name.contains(o));
    let mut rows: Vec<(&str, Figures)> = Vec::new();
    if wanted("get by id") {
        rows.push((
            "get by id",
            run_load(&addr, clients, secs, move |_, c, r, _| {
                c.request("GET", &format!("/schemas/ids/{}", 1 + r.below(max_id)), None).expect("get").0
            }),
        ));
    }
    if wanted("get latest") {
        rows.push((
            "get latest",
            run_load(&addr, clients, secs, move |_, c, r, _| {
                c.request("GET", &format!("/subjects/s{}/versions/latest", r.below(m)), None).expect("get").0
            }),
        ));
    }
    if wanted("lookup") {
        rows.push((
            "lookup",
            run_load(&addr, clients, secs, move |_, c, r, _| {
                let i = r.below(n);
                let path = format!("/subjects/s{}", i % m);
                c.request("POST", &path, Some(&schema_body(&bench_schema(i)))).expect("post").0
            }),
        ));
    }
    if wanted("register existing") {
        rows.push((
            "register existing",
            run_load(&addr, clients, secs, move |_, c, r, _| {
                let i = r.below(n);
                let path = format!("/subjects/s{}/versions", i % m);
                c.request("POST", &path, Some(&schema_body(&bench_schema(i)))).expect("post").0
            }),
        ));
    }
    let fresh = |base: usize, per_client: usize| {
        move |client: usize, c: &mut Conn, _: &mut Rng, i: usize| {
            let k = base + client * per_client + i;
            let path = format!("/subjects/s{}/versions", k % m);
            c.request("POST", &path, Some(&schema_body(&bench_schema(k)))).expect("post").0
        }
    };
    if wanted("register new, 1 client") {
        rows.push(("register new, 1 client", run_load(&addr, 1, secs, fresh(10 * n + 1_000_000, 0))));
    }
    // The disk is shared and its rate drifts: measure it again next to register-new and
    // compare against the better of the two figures.
    let fsyncs_again = fsync_rate(parent.path(), Duration::from_secs(3));
    let fsyncs = fsyncs.max(fsyncs_again);
    if wanted("register new") {
        rows.push(("register new", run_load(&addr, clients, secs, fresh(20 * n + 2_000_000, 10_000_000))));
    }
    if wanted("compatibility check") {
        rows.push((
            "compatibility check",
            run_load(&addr, clients, secs, move |_, c, r, i| {
                let path = format!("/compatibility/subjects/s{}/versions/latest", r.below(m));
                c.request("POST", &path, Some(&schema_body(&bench_schema(1_000_000_000 + i)))).expect("post").0
            }),
        ));
    }
    let rss = rss_bytes(server.0.id());

    println!();
    println!("{:<24} {:>10} {:>9} {:>9} {:>11}", "", "req/s", "p50 ms", "p99 ms", "x baseline");
    let line = |name: &str, f: &Figures| {
        println!(
            "{:<24} {:>10.0} {:>9.2} {:>9.2} {:>10.2}x",
            name,
            f.per_sec,
            f.p50_us as f64 / 1000.0,
            f.p99_us as f64 / 1000.0,
            f.per_sec / ceiling.per_sec
        );
    };
    line("baseline get by id", &ceiling);
    for (name, f) in &rows {
        line(name, f);
    }
    let new = rows.iter().find(|(name, _)| *name == "register new").map(|(_, f)| f.per_sec).unwrap_or(0.0);
    println!();
    if new > 0.0 {
        println!(
            "register new ({clients} clients) / disk fsync rate: {:.2}x ({new:.0} vs {fsyncs:.0}/s, the better of \
             {fsyncs_first:.0} at the start and {fsyncs_again:.0} just before)",
            new / fsyncs
        );
    }
    println!("schemata RSS after the run: {:.1} MiB", rss as f64 / (1024.0 * 1024.0));
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
