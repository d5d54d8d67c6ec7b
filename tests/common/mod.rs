//! Shared by the integration tests: the built binary, running it, and tools that may be missing.

#![allow(dead_code)] // Each test crate uses its own part of this module.

use serde_yaml::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Set in CI: a test whose tool is missing fails instead of skipping.
pub const REQUIRE_TOOLS: &str = "LLSD_REQUIRE_TOOLS";

/// The function binary that cargo built for this test run.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_llsd-ca-bundle"))
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Longer than any run takes, even of a debug build on the largest input a test feeds it: a run
/// still going then hangs, and fails its test instead of the whole suite.
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// Runs the function on `input` and returns what it did; panics if it runs past [`RUN_LIMIT`].
pub fn run_function(input: &[u8]) -> Output {
    let mut child = Command::new(binary())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the function binary");
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // A write error means the function closed stdin early; its exit status tells why.
    let writer = std::thread::spawn(move || drop(stdin.write_all(&input)));
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || drop(done.send(child.wait_with_output())));
    match finished.recv_timeout(RUN_LIMIT) {
        Ok(output) => {
            writer.join().unwrap();
            output.expect("wait for the function")
        }
        Err(_) => {
            // SAFETY: kill(2) on the pid of our own child, which has not been reaped.
            unsafe { libc::kill(libc::pid_t::try_from(pid).unwrap(), libc::SIGKILL) };
            panic!("the function ran for over {RUN_LIMIT:?}");
        }
    }
}

/// Checks that `stderr` tells each error and warning result of `stdout` on one line of its own,
/// and nothing else: kustomize and Argo CD show their users stderr, not the results.
pub fn check_problems_told(stdout: &str, stderr: &str) -> Result<(), String> {
    let results = stdout.rsplit_once("\nresults:\n").map_or("", |(_, r)| r);
    let counted = |severity: &str| {
        results
            .matches(&format!("\n  severity: {severity}\n"))
            .count()
    };
    let told = |severity: &str| {
        let prefix = format!("llsd-ca-bundle: {severity}: ");
        stderr.lines().filter(|l| l.starts_with(&prefix)).count()
    };
    let (errors, warnings) = (counted("error"), counted("warning"));
    if told("error") == errors
        && told("warning") == warnings
        && stderr.lines().count() == errors + warnings
    {
        Ok(())
    } else {
        Err(format!(
            "stderr should tell the {errors} error and {warnings} warning results, one line each: {stderr}"
        ))
    }
}

/// The path of `tool` when it is on `PATH`. When it is not,
/// prints why and returns `None` so the test can skip, or panics when CI requires it.
pub fn tool(tool: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(tool))
            .find(|candidate| candidate.is_file())
    });
    match found {
        Some(path) => Some(path),
        None if std::env::var_os(REQUIRE_TOOLS).is_some() => {
            panic!("`{tool}` is not on PATH, and {REQUIRE_TOOLS} says it must be")
        }
        None => {
            eprintln!("skipped: `{tool}` is not on PATH (set {REQUIRE_TOOLS}=1 to fail instead)");
            None
        }
    }
}

/// A fresh temporary directory, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates a directory named after the test under the system temp dir.
    pub fn new(label: &str) -> Self {
        use std::sync::atomic::{AtomicU32, Ordering};
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("llsd-ca-bundle-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

/// Rewrites every `exec:` of a Kptfile to `binary`.
pub fn point_exec_at(kptfile: &str, binary: &Path) -> String {
    kptfile
        .lines()
        .map(|line| match line.find("exec: ") {
            Some(at)
                if line[..at]
                    .trim_start_matches(' ')
                    .trim_start_matches("- ")
                    .is_empty() =>
            {
                format!("{}exec: {}\n", &line[..at], binary.display())
            }
            _ => format!("{line}\n"),
        })
        .collect()
}

/// Every document of a YAML stream, empty ones left out.
pub fn parse_stream(text: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(text)
        .map(|doc| serde::Deserialize::deserialize(doc).expect("YAML"))
        .filter(|doc: &Value| !doc.is_null())
        .collect()
}
