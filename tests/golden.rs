//! Golden cases: `testdata/cases/<case>/input.yaml` run through the binary must give exactly
//! `expected.yaml` on stdout and the exit code in `exit-code`. Cases that succeed must also be
//! idempotent: the function run on its own output gives the same items again (the results may
//! differ: a migration or a replaced value is reported only when it happens).
//!
//! `LLSD_REGENERATE=1 cargo test --test golden` rewrites the expectations from the current output;
//! read the diff before committing it.

mod common;

use common::{check_problems_told, repo, run_function};
use std::fs;
use std::path::Path;

const REGENERATE: &str = "LLSD_REGENERATE";

#[test]
fn golden_cases() {
    let root = repo().join("testdata/cases");
    let mut cases: Vec<_> = fs::read_dir(&root)
        .expect("testdata/cases exists")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.join("input.yaml").is_file())
        .collect();
    cases.sort();
    assert!(cases.len() >= 30, "only {} cases found", cases.len());

    let failures: Vec<String> = cases.iter().filter_map(|case| check(case).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} golden cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

/// Runs one case; `Err` says what differed.
fn check(case: &Path) -> Result<(), String> {
    let name = case.file_name().unwrap().to_string_lossy();
    let input = fs::read(case.join("input.yaml")).unwrap();
    let run = run_function(&input);
    let stdout =
        String::from_utf8(run.stdout).map_err(|_| format!("{name}: stdout is not UTF-8"))?;
    let code = run
        .status
        .code()
        .ok_or(format!("{name}: killed by a signal"))?;
    let stderr = String::from_utf8_lossy(&run.stderr);
    check_problems_told(&stdout, &stderr).map_err(|e| format!("{name}: {e}"))?;

    if std::env::var_os(REGENERATE).is_some() {
        fs::write(case.join("expected.yaml"), &stdout).unwrap();
        fs::write(case.join("exit-code"), format!("{code}\n")).unwrap();
    }
    let expected = fs::read_to_string(case.join("expected.yaml"))
        .map_err(|e| format!("{name}: expected.yaml: {e} (run with {REGENERATE}=1)"))?;
    let expected_code: i32 = fs::read_to_string(case.join("exit-code"))
        .map_err(|e| format!("{name}: exit-code: {e}"))?
        .trim()
        .parse()
        .map_err(|e| format!("{name}: exit-code: {e}"))?;

    if code != expected_code {
        return Err(format!(
            "{name}: exit code {code}, expected {expected_code}"
        ));
    }
    if stdout != expected {
        return Err(format!(
            "{name}: output differs:\n{}",
            first_difference(&expected, &stdout)
        ));
    }
    if code == 0 {
        let again = run_function(stdout.as_bytes());
        if again.status.code() != Some(0) {
            return Err(format!(
                "{name}: the second run exited with {:?}",
                again.status.code()
            ));
        }
        let again = String::from_utf8(again.stdout).unwrap();
        if without_results(&again) != without_results(&stdout) {
            return Err(format!(
                "{name}: not idempotent, a second run changed the output:\n{}",
                first_difference(&stdout, &again)
            ));
        }
    }
    Ok(())
}

/// The output up to its `results`, which the function always writes last.
fn without_results(output: &str) -> &str {
    output
        .find("\nresults:\n")
        .map_or(output, |end| &output[..=end])
}

/// The first differing line with a little context, enough to see what went wrong.
fn first_difference(expected: &str, actual: &str) -> String {
    let (mut e, mut a) = (expected.lines(), actual.lines());
    let mut line = 1;
    loop {
        match (e.next(), a.next()) {
            (None, None) => return "(only line endings differ)".into(),
            (x, y) if x == y => line += 1,
            (x, y) => {
                return format!(
                    "  line {line}\n  expected: {}\n  actual:   {}",
                    x.unwrap_or("<end>"),
                    y.unwrap_or("<end>")
                );
            }
        }
    }
}
