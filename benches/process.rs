//! Whole-process benchmark: the release binary against a `serde_yaml::Value` round trip.
//!
//! `cargo bench --bench process` (options after `--`: `--runs N`, `--sizes 100,1000`) writes
//! ResourceLists of 100, 1,000, 10,000 and 50,000 items to a temporary folder and checks the
//! function's output on each once. Then, round after round, it spawns for every size the function
//! (`CARGO_BIN_EXE_llsd-ca-bundle`, built by cargo with the bench profile) and the baseline (this
//! same program with `--baseline`, which parses stdin into a `serde_yaml::Value` and writes it
//! back), stdin from the file and stdout to a file. Each run's wall time is taken from spawn to
//! reap, and its peak resident memory from `wait4`'s `ru_maxrss`; the table shows medians (of 3
//! runs only for a size whose first run takes over 5 s). It ends with PASS or FAIL for each target
//! of the README's "Performance" section and exits 1 on any FAIL. `-- --generate N FILE` only writes
//! the input of N items to FILE, for profiling.
//!
//! Linux reports a child's `ru_maxrss` as at least the resident size of this process when it
//! started the child, however it was started, so this program never holds a whole input or output
//! in memory: it writes and reads them as streams, and stays small. Its own `ru_maxrss` is no
//! guide to that: it carries cargo's peak over through `exec`.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// The function under test, built by cargo for this benchmark.
const FUNCTION: &str = env!("CARGO_BIN_EXE_llsd-ca-bundle");
/// A real 2048-bit RSA CA, the one the tests use.
const CA_PEM: &str = include_str!("../testdata/certs/ca.pem");
const DEFAULT_SIZES: [usize; 4] = [100, 1_000, 10_000, 50_000];
const DEFAULT_RUNS: usize = 11;
/// Every this many groups of Deployment, Service and ConfigMap, one LLSD with its CA ConfigMap and
/// its Deployment.
const GROUPS_PER_LLSD: usize = 10;
const MIB: f64 = 1024.0 * 1024.0;
/// A size whose first run takes longer than this is measured only `SLOW_RUNS` times.
const SLOW_RUN: Duration = Duration::from_secs(5);
const SLOW_RUNS: usize = 3;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--baseline") {
        return baseline();
    }
    if let [flag, items, path, ..] = args.as_slice()
        && flag == "--generate"
    {
        return match items
            .parse()
            .map_err(|e| format!("{e}"))
            .and_then(|n| generate(Path::new(path), n))
        {
            Ok(_) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("bench: {e}");
                ExitCode::FAILURE
            }
        };
    }
    match bench(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What a plain YAML tool does with the same input: parse it all, write it all.
fn baseline() -> ExitCode {
    let mut input = String::new();
    if std::io::stdin().read_to_string(&mut input).is_err() {
        return ExitCode::FAILURE;
    }
    let Ok(value) = serde_yaml::from_str::<serde_yaml::Value>(&input) else {
        return ExitCode::FAILURE;
    };
    let Ok(output) = serde_yaml::to_string(&value) else {
        return ExitCode::FAILURE;
    };
    match std::io::stdout().lock().write_all(output.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}

struct Options {
    sizes: Vec<usize>,
    runs: usize,
}

fn options(args: &[String]) -> Result<Options, String> {
    let mut opts = Options {
        sizes: DEFAULT_SIZES.to_vec(),
        runs: DEFAULT_RUNS,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--runs" => {
                opts.runs = value()?.parse().map_err(|e| format!("--runs: {e}"))?;
            }
            "--sizes" => {
                opts.sizes = value()?
                    .split(',')
                    .map(|s| s.trim().replace('_', "").parse())
                    .collect::<Result<_, _>>()
                    .map_err(|e| format!("--sizes: {e}"))?;
            }
            // cargo bench passes --bench; filters and other harness flags mean nothing here.
            _ => {}
        }
    }
    if opts.runs == 0 {
        return Err("--runs must be at least 1".into());
    }
    Ok(opts)
}

/// One size's medians.
struct Row {
    items: usize,
    llsds: usize,
    input_bytes: u64,
    function: Sample,
    baseline: Sample,
}

/// One size's input and its runs so far.
struct Case {
    items: usize,
    llsds: usize,
    input: std::path::PathBuf,
    input_bytes: u64,
    /// How many runs this size gets.
    runs: usize,
    function: Vec<(Sample, i32)>,
    baseline: Vec<(Sample, i32)>,
}

/// Median wall time and median peak resident memory of several runs.
struct Sample {
    wall: Duration,
    peak_kib: u64,
}

fn bench(args: &[String]) -> Result<bool, String> {
    let opts = options(args)?;
    let dir = std::env::temp_dir().join(format!("llsd-ca-bundle-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let result = bench_in(&dir, &opts);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn bench_in(dir: &Path, opts: &Options) -> Result<bool, String> {
    let me = std::env::current_exe().map_err(|e| format!("finding this program: {e}"))?;
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "function {FUNCTION}\n{cores} cores, load average {} at the start; {} runs each, medians",
        load_average(),
        opts.runs
    );
    let output = dir.join("output.yaml");
    // Every input is written and checked first, so that the timed runs below can go round the
    // sizes: run k of every size happens within seconds of the others, and a spell of load on
    // this shared machine slows all sizes alike instead of skewing the ratios between them.
    let mut cases = Vec::new();
    for &items in &opts.sizes {
        let input = dir.join(format!("input-{items}.yaml"));
        let llsds = generate(&input, items)?;
        let first = check_output(&input, &output, llsds)?;
        let runs = if first > SLOW_RUN {
            opts.runs.min(SLOW_RUNS)
        } else {
            opts.runs
        };
        let input_bytes = std::fs::metadata(&input).map_err(|e| e.to_string())?.len();
        cases.push(Case {
            items,
            llsds,
            input,
            input_bytes,
            runs,
            function: Vec::new(),
            baseline: Vec::new(),
        });
    }
    for round in 0..opts.runs {
        for case in cases.iter_mut().filter(|c| round < c.runs) {
            case.function
                .push(run(Command::new(FUNCTION), &case.input, &output)?);
            case.baseline
                .push(run(baseline_command(&me), &case.input, &output)?);
        }
    }
    let rows: Vec<Row> = cases
        .iter()
        .map(|c| Row {
            items: c.items,
            llsds: c.llsds,
            input_bytes: c.input_bytes,
            function: median(&c.function),
            baseline: median(&c.baseline),
        })
        .collect();
    for (row, case) in rows.iter().zip(&cases) {
        eprintln!(
            "{} items: function {:.1} ms, baseline {:.1} ms ({} runs)",
            row.items,
            ms(row.function.wall),
            ms(row.baseline.wall),
            case.runs
        );
    }
    println!("load average {} at the end\n", load_average());
    print!("{}", table(&rows));
    let verdicts = verdicts(&rows);
    println!();
    for (pass, target) in &verdicts {
        println!("{} {target}", if *pass { "PASS" } else { "FAIL" });
    }
    Ok(verdicts.iter().all(|(pass, _)| *pass))
}

fn baseline_command(me: &Path) -> Command {
    let mut command = Command::new(me);
    command.arg("--baseline");
    command
}

/// Spawn `command` with stdin from `input` and stdout to `output`; its wall time and peak memory.
fn run(mut command: Command, input: &Path, output: &Path) -> Result<(Sample, i32), String> {
    let stdin = File::open(input).map_err(|e| format!("{}: {e}", input.display()))?;
    let stdout = File::create(output).map_err(|e| format!("{}: {e}", output.display()))?;
    let start = Instant::now();
    let child = command
        .stdin(stdin)
        .stdout(stdout)
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("spawning {command:?}: {e}"))?;
    let (status, peak_kib) = wait4(child.id())?;
    let wall = start.elapsed();
    Ok((Sample { wall, peak_kib }, status))
}

/// Reap `pid`: its exit code and `ru_maxrss` (KiB on Linux).
fn wait4(pid: u32) -> Result<(i32, u64), String> {
    let mut status = 0;
    // SAFETY: rusage is plain data; zeroed is a valid value for wait4 to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = libc::pid_t::try_from(pid).map_err(|e| e.to_string())?;
    // SAFETY: pid is our own unreaped child; status and usage point to live locals.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if reaped != pid {
        return Err(format!("wait4: {}", std::io::Error::last_os_error()));
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Ok((code, u64::try_from(usage.ru_maxrss).unwrap_or(0)))
}

fn median(runs: &[(Sample, i32)]) -> Sample {
    let mut walls: Vec<Duration> = runs.iter().map(|(s, _)| s.wall).collect();
    let mut peaks: Vec<u64> = runs.iter().map(|(s, _)| s.peak_kib).collect();
    walls.sort();
    peaks.sort();
    Sample {
        wall: walls[walls.len() / 2],
        peak_kib: peaks[peaks.len() / 2],
    }
}

/// Run the function once and check, reading its output as a stream, that it injected every LLSD
/// and kept every item: a benchmark of a function that fails early would measure nothing.
fn check_output(input: &Path, output: &Path, llsds: usize) -> Result<Duration, String> {
    let (sample, code) = run(Command::new(FUNCTION), input, output)?;
    if code != 0 {
        return Err(format!(
            "the function exited with {code} on {}",
            input.display()
        ));
    }
    let mut mounted = 0;
    let mut added = 0;
    for line in BufReader::new(File::open(output).map_err(|e| e.to_string())?).lines() {
        let line = line.map_err(|e| e.to_string())?;
        mounted += usize::from(line.starts_with("- message: \"mounted ConfigMap llama-"));
        added += usize::from(line.trim_start() == "app.kubernetes.io/managed-by: llsd-ca-bundle");
    }
    if mounted != llsds || added != llsds {
        return Err(format!(
            "expected {llsds} Deployments injected and {llsds} ConfigMaps added, found {mounted} and {added}"
        ));
    }
    Ok(sample.wall)
}

/// Write a ResourceList of `items` items to `path`; the number of complete LLSDs in it.
///
/// Every group is a Deployment, a Service and a ConfigMap of an unrelated app; before every
/// `GROUPS_PER_LLSD` groups come a CA ConfigMap, an LLSD's Deployment and the LLSD, in one
/// namespace per block. The items carry the annotations kpt adds.
fn generate(path: &Path, items: usize) -> Result<usize, String> {
    let file = File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = BufWriter::new(file);
    let mut buf = String::new();
    buf.push_str("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n");
    let mut written = 0;
    let mut llsds = 0;
    let mut group = 0;
    while written < items {
        let ns = group / GROUPS_PER_LLSD;
        let mut block: Vec<String> = Vec::new();
        if group % GROUPS_PER_LLSD == 0 {
            block.push(ca_config_map(ns));
            block.push(llsd_deployment(ns));
            block.push(llsd(ns));
        }
        block.push(deployment(ns, group));
        block.push(service(ns, group));
        block.push(config_map(ns, group));
        for (i, item) in block.into_iter().enumerate() {
            if written == items {
                break;
            }
            buf.push_str(&item);
            written += 1;
            if group % GROUPS_PER_LLSD == 0 && i == 2 {
                llsds += 1;
            }
        }
        out.write_all(buf.as_bytes()).map_err(|e| e.to_string())?;
        buf.clear();
        group += 1;
    }
    buf.push_str(FUNCTION_CONFIG);
    out.write_all(buf.as_bytes()).map_err(|e| e.to_string())?;
    out.flush().map_err(|e| e.to_string())?;
    Ok(llsds)
}

fn kpt_annotations(file: &str) -> String {
    format!(
        "    annotations:\n      config.kubernetes.io/index: '0'\n      config.kubernetes.io/path: '{file}'\n"
    )
}

fn deployment(ns: usize, g: usize) -> String {
    let annotations = kpt_annotations(&format!("team-{ns}/web-{g}.yaml"));
    format!(
        "- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: web-{g}
    namespace: team-{ns}
{annotations}  spec:
    replicas: 2 # scaled by the HPA
    selector:
      matchLabels:
        app.kubernetes.io/name: web-{g}
    template:
      metadata:
        labels:
          app.kubernetes.io/name: web-{g}
      spec:
        containers:
        - name: web
          image: registry.example.com/shop/web:1.{}.0
          ports:
          - containerPort: 8080
          env:
          - name: FEATURE_FLAGS
            value: \"on\"
",
        g % 50
    )
}

fn service(ns: usize, g: usize) -> String {
    let annotations = kpt_annotations(&format!("team-{ns}/web-{g}.yaml"));
    format!(
        "- apiVersion: v1
  kind: Service
  metadata:
    name: web-{g}
    namespace: team-{ns}
{annotations}  spec:
    selector:
      app.kubernetes.io/name: web-{g}
    ports:
    - name: http
      port: 80
      targetPort: http
"
    )
}

fn config_map(ns: usize, g: usize) -> String {
    let annotations = kpt_annotations(&format!("team-{ns}/web-{g}.yaml"));
    format!(
        "- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: web-{g}-config
    namespace: team-{ns}
{annotations}  data:
    DATABASE_HOST: db-{g}.team-{ns}.svc.cluster.local
    CACHE_TTL: '300'
    settings.json: |
      {{\"retries\": 3, \"timeoutSeconds\": 30}}
"
    )
}

fn ca_config_map(ns: usize) -> String {
    let annotations = kpt_annotations(&format!("team-{ns}/ca.yaml"));
    let mut pem = String::new();
    for line in CA_PEM.lines() {
        let _ = writeln!(pem, "      {line}");
    }
    format!(
        "- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: corporate-ca
    namespace: team-{ns}
{annotations}  data:
    ca-bundle.crt: |
{pem}"
    )
}

fn llsd_deployment(ns: usize) -> String {
    let annotations = kpt_annotations(&format!("team-{ns}/llama-stack.yaml"));
    format!(
        "- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: llama-stack
    namespace: team-{ns}
    labels:
      app.kubernetes.io/instance: llama-stack
{annotations}  spec:
    replicas: 1
    selector:
      matchLabels:
        app.kubernetes.io/instance: llama-stack
    template:
      metadata:
        labels:
          app.kubernetes.io/instance: llama-stack
      spec:
        containers:
        - name: llama-stack
          image: docker.io/llamastack/distribution-remote-vllm:0.2.15
          ports:
          - containerPort: 8321
          env:
          - name: VLLM_URL
            value: https://vllm.internal.example.com/v1
"
    )
}

fn llsd(ns: usize) -> String {
    let annotations = kpt_annotations(&format!("team-{ns}/llama-stack.yaml"));
    format!(
        "- apiVersion: llamastack.io/v1alpha1
  kind: LlamaStackDistribution
  metadata:
    name: llama-stack
    namespace: team-{ns}
{annotations}  spec:
    replicas: 1
    server:
      distribution:
        name: remote-vllm
      containerSpec:
        name: llama-stack
        port: 8321
      tlsConfig:
        caBundle:
          configMapName: corporate-ca
          configMapKeys: [ca-bundle.crt]
"
    )
}

const FUNCTION_CONFIG: &str = "functionConfig:
  apiVersion: fn.llamastack.io/v1alpha1
  kind: LlsdCaBundle
  metadata:
    name: ca-bundle
    annotations:
      config.kubernetes.io/local-config: \"true\"
";

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn table(rows: &[Row]) -> String {
    let mut t = String::from(
        "| items | LLSDs | input MiB | function ms | baseline ms | function/baseline | function peak MiB | peak/input | baseline peak MiB |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let input = r.input_bytes as f64 / MIB;
        let peak = r.function.peak_kib as f64 / 1024.0;
        let _ = writeln!(
            t,
            "| {} | {} | {input:.2} | {:.1} | {:.1} | {:.3} | {peak:.1} | {:.1} | {:.1} |",
            r.items,
            r.llsds,
            ms(r.function.wall),
            ms(r.baseline.wall),
            r.function.wall.as_secs_f64() / r.baseline.wall.as_secs_f64(),
            peak / input,
            r.baseline.peak_kib as f64 / 1024.0,
        );
    }
    t
}

/// PASS or FAIL for each target whose sizes were measured.
fn verdicts(rows: &[Row]) -> Vec<(bool, String)> {
    let at = |items| rows.iter().find(|r| r.items == items);
    let mut v = Vec::new();
    if let Some(r) = at(10_000) {
        let ratio = r.function.wall.as_secs_f64() / r.baseline.wall.as_secs_f64();
        v.push((
            ratio <= 1.0 / 3.0,
            format!("10,000 items: function at most 1/3 of baseline wall time (is {ratio:.3})"),
        ));
    }
    if let Some(r) = at(100) {
        let wall = ms(r.function.wall);
        v.push((
            wall < 5.0,
            format!("100 items: under 5 ms median wall time (is {wall:.2} ms)"),
        ));
    }
    for items in [10_000, 50_000] {
        if let Some(r) = at(items) {
            let ratio = (r.function.peak_kib * 1024) as f64 / r.input_bytes as f64;
            v.push((
                ratio <= 4.0,
                format!("{items} items: peak memory at most 4x the input (is {ratio:.2}x)"),
            ));
        }
    }
    if let (Some(small), Some(big)) = (at(10_000), at(50_000)) {
        let ratio = big.function.wall.as_secs_f64() / small.function.wall.as_secs_f64();
        v.push((
            ratio <= 5.5,
            format!("50,000 items cost at most 5.5x 10,000 items (is {ratio:.2}x)"),
        ));
    }
    v
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}
