//! Aggregation speed on a demo-scale organisation: 1,000 workplaces, about 100,000 responses
//! per wave, two waves. Run with `cargo bench --bench aggregation`; figures are recorded in
//! docs/performance.md.
//!
//! - `compute`: full results of the current wave (every group, dimension, zone, agreement
//!   index, the guard) plus the previous wave's results for the change, from data in memory;
//! - `load_and_compute`: the same, reading both waves from the SQLite file first (what
//!   closing a wave does once, when its results are frozen);
//! - `read_frozen`: a closed wave's results as every later read gets them (stored JSON);
//! - `one_wave`: what closing a wave computes (issue 16's "full guarded results with its
//!   change"): the current wave's results compared with the previous wave's results, which
//!   the application reads from its frozen JSON and the benchmark holds in memory;
//! - `close_from_sqlite`: the same from the database: load the current wave, read the
//!   previous wave's frozen results, compute (what `frozen::freeze` does before storing).
//!
//! On a machine shared with other work, wall times swing with the load; two variables make
//! the binary report CPU time instead (`docs/performance.md`):
//!
//! - `ANSHIN_AGG_CPU=<runs>`: run each operation that many times and print the process's
//!   CPU time (every thread, from `/proc/self/stat`) per run, instead of criterion's figures;
//! - `ANSHIN_AGG_ONLY=<operation>`: in the CPU mode, run only that operation (to profile it);
//! - `ANSHIN_AGG_DB=<file>`: keep the demo database in that file (built if missing), so
//!   repeated runs skip building it.

use std::path::Path;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion};

use anshin::aggregation::{compute, frozen, load};
use anshin::demo::{self, DemoScale};
use anshin::settings::Settings;

const WORKPLACES: usize = 1_000;
const RESPONSES_PER_WAVE: usize = 100_000;

fn demo_database(dir: &Path) -> Settings {
    let settings = Settings::for_database(&dir.join("bench.db"));
    demo::build(
        &settings,
        DemoScale::Generated {
            workplaces: WORKPLACES,
            responses_per_wave: RESPONSES_PER_WAVE,
        },
    )
    .expect("demo database");
    settings
}

/// CPU time of this process so far (user and system, every thread), in clock ticks.
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let after_name = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of proc(5) (utime, stime): the 12th and 13th after the name.
    fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
}

/// Runs `op` `runs` times; prints CPU and wall milliseconds per run.
/// `ANSHIN_AGG_ONLY=<name>` limits it to that operation (for a profile of one).
fn cpu_per_run<T>(name: &str, runs: u32, mut op: impl FnMut() -> T) {
    if std::env::var("ANSHIN_AGG_ONLY").is_ok_and(|only| only != name) {
        return;
    }
    // One run first, outside the count (caches, the t quantiles' memo).
    std::hint::black_box(op());
    let (ticks, start) = (cpu_ticks(), Instant::now());
    for _ in 0..runs {
        std::hint::black_box(op());
    }
    let cpu = (cpu_ticks() - ticks) as f64 * 10.0 / f64::from(runs);
    let wall = start.elapsed().as_secs_f64() * 1000.0 / f64::from(runs);
    println!("cpu {name:<18} {cpu:8.2} ms CPU/run  {wall:8.2} ms wall/run  ({runs} runs)");
}

fn aggregation(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let settings = match std::env::var_os("ANSHIN_AGG_DB") {
        Some(file) if Path::new(&file).exists() => Settings::for_database(Path::new(&file)),
        Some(file) => {
            let settings = demo_database(dir.path());
            std::fs::copy(&settings.db_path, &file).expect("keep the database");
            Settings::for_database(Path::new(&file))
        }
        None => demo_database(dir.path()),
    };
    let mut conn = anshin::db::connect(&settings.db_path).expect("connect");
    // Waves 1 and 2 are closed; 2 is compared with 1.
    let current = anshin::waves::find(&mut conn, 2).expect("current wave");
    let earlier = anshin::waves::find(&mut conn, 1).expect("earlier wave");
    let current_data = load::load_wave(&mut conn, &current).expect("current data");
    let earlier_data = load::load_wave(&mut conn, &earlier).expect("earlier data");
    println!(
        "waves of {} and {} responses in {} workplaces",
        current_data.responses.len(),
        earlier_data.responses.len(),
        current_data.workplaces.len()
    );

    let previous_frozen = frozen::wave_results(&mut conn, earlier.id).expect("previous results");
    if let Some(runs) = std::env::var("ANSHIN_AGG_CPU")
        .ok()
        .and_then(|r| r.parse::<u32>().ok())
    {
        // clock ticks of 10 ms (USER_HZ = 100 on Linux).
        cpu_per_run("one_wave", runs, || {
            compute(&current_data, None, Some(&previous_frozen)).expect("current")
        });
        cpu_per_run("compute", runs, || {
            let previous = compute(&earlier_data, None, None).expect("previous");
            compute(&current_data, None, Some(&previous)).expect("current")
        });
        cpu_per_run("read_frozen", runs, || {
            frozen::wave_results(&mut conn, current.id).expect("results")
        });
        cpu_per_run("load_one", runs, || {
            load::load_wave(&mut conn, &current).expect("load")
        });
        cpu_per_run("close_from_sqlite", runs, || {
            let data = load::load_wave(&mut conn, &current).expect("current data");
            let previous = frozen::wave_results(&mut conn, earlier.id).expect("previous");
            compute(&data, None, Some(&previous)).expect("current")
        });
        return;
    }

    let mut group = c.benchmark_group("aggregation");
    group.sample_size(20);
    group.bench_function("compute", |b| {
        b.iter(|| {
            let previous = compute(&earlier_data, None, None).expect("previous");
            compute(&current_data, None, Some(&previous)).expect("current")
        })
    });
    group.bench_function("load_and_compute", |b| {
        b.iter(|| {
            let earlier_data = load::load_wave(&mut conn, &earlier).expect("earlier data");
            let previous = compute(&earlier_data, None, None).expect("previous");
            let data = load::load_wave(&mut conn, &current).expect("current data");
            compute(&data, None, Some(&previous)).expect("current")
        })
    });
    // What closing a wave computes: one wave against the previous wave's stored results.
    group.bench_function("one_wave", |b| {
        b.iter(|| compute(&current_data, None, Some(&previous_frozen)).expect("current"))
    });
    group.bench_function("close_from_sqlite", |b| {
        b.iter(|| {
            let data = load::load_wave(&mut conn, &current).expect("current data");
            let previous = frozen::wave_results(&mut conn, earlier.id).expect("previous");
            compute(&data, None, Some(&previous)).expect("current")
        })
    });
    // What every read of a closed wave does: its results were frozen when it closed.
    group.bench_function("read_frozen", |b| {
        b.iter(|| frozen::wave_results(&mut conn, current.id).expect("results"))
    });
    group.bench_function("load_one", |b| {
        b.iter(|| load::load_wave(&mut conn, &current).expect("load"))
    });
    group.finish();
}

criterion_group!(benches, aggregation);
criterion_main!(benches);
