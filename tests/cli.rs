//! Command-line manners: help, version, bad arguments, and a terminal on stdin.

mod common;

use common::{binary, tool};
use std::process::Command;

#[test]
fn help_says_what_it_does_and_shows_the_config() {
    let out = Command::new(binary()).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "ResourceList",
        "LlamaStackDistribution",
        "USAGE",
        "kind: LlsdCaBundle",
        "useDefaultCAs",
    ] {
        assert!(help.contains(needle), "--help lacks {needle:?}:\n{help}");
    }
    let short = Command::new(binary()).arg("-h").output().unwrap();
    assert_eq!(short.stdout, help.as_bytes());
}

#[test]
fn version_is_the_crate_version() {
    let out = Command::new(binary()).arg("--version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("llsd-ca-bundle {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn unknown_argument_fails_with_one_line() {
    let out = Command::new(binary()).arg("--frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("--frobnicate") && err.contains("--help"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn terminal_on_stdin_gets_a_hint_instead_of_a_hang() {
    // `script` runs the binary on a pseudo-terminal, as a person typing the bare command would.
    let Some(script) = tool("script") else { return };
    let command = format!("{} </dev/tty", binary().display());
    let out = Command::new(script)
        .args(["-qec", &command, "/dev/null"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("expected a ResourceList on stdin"), "{text}");
}
