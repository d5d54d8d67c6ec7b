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

#[test]
fn readme_example_injects_the_bundle() {
    // The README's first command: `cargo run --release -q < examples/resource-list.yaml`.
    let input = std::fs::read(common::repo().join("examples/resource-list.yaml")).unwrap();
    let out = common::run_function(&input);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "name: llama-stack-ca-bundle",
        "mountPath: /etc/ssl/certs/ca-bundle\n",
        "- name: SSL_CERT_FILE\n            value: /etc/ssl/certs/ca-bundle/ca-bundle.crt",
        "configmap.hash/ca-bundle: sha256:",
        "severity: info",
    ] {
        assert!(text.contains(needle), "output lacks {needle:?}:\n{text}");
    }
}

#[test]
fn readme_example_is_what_kpt_sends_for_the_example_package() {
    let Some(kpt) = tool("kpt") else { return };
    let package = common::repo().join("examples/llama-stack");
    let out = Command::new(kpt)
        .args(["fn", "source"])
        .arg(&package)
        .arg("--fn-config")
        .arg(package.join("fn-config.yaml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let example =
        std::fs::read_to_string(common::repo().join("examples/resource-list.yaml")).unwrap();
    let body: String = example
        .lines()
        .skip_while(|l| l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        body,
        String::from_utf8(out.stdout).unwrap(),
        "examples/resource-list.yaml is out of date: regenerate it with the command in its header"
    );
}

#[test]
fn errors_and_warnings_are_also_told_on_stderr_one_line_each() {
    // kustomize and Argo CD drop the results: stderr is all their users see.
    let example =
        std::fs::read_to_string(common::repo().join("examples/resource-list.yaml")).unwrap();
    let broken = example.replace("configMapName: corporate-ca", "configMapName: corp-ca");
    assert_ne!(broken, example, "the example names corporate-ca");
    let out = common::run_function(broken.as_bytes());
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].starts_with("llsd-ca-bundle: error: LlamaStackDistribution ai/llama-stack")
            && lines[0].contains("CA ConfigMap security/corp-ca not found")
            && lines[0].contains("corporate-ca"),
        "{err}"
    );

    // A run that succeeds tells its warnings, and keeps its infos to the results.
    let out = common::run_function(example.as_bytes());
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.lines()
            .all(|l| l.starts_with("llsd-ca-bundle: warning: ")),
        "{err}"
    );
    assert!(err.contains("only private CAs"), "{err}");
    assert!(!err.contains("mounted ConfigMap"), "{err}");
}
