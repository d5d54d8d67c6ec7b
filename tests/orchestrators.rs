//! The function driven by the real orchestrators: kpt (`fn render`, `fn eval`, exec and image
//! steps), the kustomize inside kubectl (container transformer), and Argo CD's plugin commands,
//! with every ready-to-copy file of `fn-config/` used as it is; plus the kpt-catalog-style
//! packages of `testdata/packages/`.
//!
//! There is no Docker engine and no standalone `kustomize` here. A `docker` stand-in on `PATH`
//! maps the function image to the built binary, so real kpt and real kustomize drive the
//! container path; a `kustomize` stand-in runs `kubectl kustomize`, which cannot run exec
//! functions, so only the container form goes through it.

mod common;

use common::{TempDir, binary, copy_dir, parse_stream, point_exec_at, repo, tool};
use serde_yaml::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The image every fn-config file names: the crate's version, tagged `vX.Y.Z`.
const IMAGE: &str = concat!(
    "ghcr.io/llamastack/llsd-ca-bundle:v",
    env!("CARGO_PKG_VERSION")
);

/// Set to rewrite `testdata/packages/*/.expected/` from what the run produced.
const REGENERATE: &str = "LLSD_REGENERATE";

// ---------------------------------------------------------------------------------------------
// kpt

#[test]
fn kpt_render_allow_exec_on_every_example_package() {
    let Some(kpt) = tool("kpt") else { return };
    for example in example_packages() {
        let tmp = TempDir::new("render-example");
        let pkg = tmp.path().join("pkg");
        copy_dir(&example, &pkg);
        // Point the exec step at this test run's binary.
        let kptfile = pkg.join("Kptfile");
        let original = read(&kptfile);
        let pointed = point_exec_at(&original, &binary());
        assert_ne!(pointed, original, "{}: no exec step", example.display());
        std::fs::write(&kptfile, &pointed).unwrap();
        let before = snapshot(&pkg);

        let out = run(Command::new(&kpt)
            .args(["fn", "render", "--allow-exec"])
            .arg(&pkg)
            .current_dir(tmp.path()));
        assert_success(&out, &format!("kpt fn render {}", example.display()));

        assert_eq!(read(&kptfile), pointed, "kpt changed the Kptfile");
        assert_comments_kept(&before, &pkg);
        let expect = Expect::from_kptfile_step(&pkg);
        check_package(&pkg, &expect);
    }
}

#[test]
fn kpt_fn_eval_exec_with_configmap_arguments_on_every_example_package() {
    let Some(kpt) = tool("kpt") else { return };
    for example in example_packages() {
        let tmp = TempDir::new("eval-example");
        let pkg = tmp.path().join("pkg");
        copy_dir(&example, &pkg);
        let before = snapshot(&pkg);

        let out = run(Command::new(&kpt)
            .args(["fn", "eval"])
            .arg(&pkg)
            .arg("--exec")
            .arg(binary())
            .args(["--", "mountPath=/etc/ssl/certs/corp"]));
        assert_success(&out, &format!("kpt fn eval {}", example.display()));

        assert_eq!(
            read(&pkg.join("Kptfile")),
            before[Path::new("Kptfile")],
            "kpt changed the Kptfile"
        );
        assert_comments_kept(&before, &pkg);
        check_package(&pkg, &Expect::with_mount_path("/etc/ssl/certs/corp"));
    }
}

/// Each `fn-config/kpt/Kptfile.*` as it is, in a copy of the example package, with the binary
/// on `PATH` as `llsd-ca-bundle` (exec) or the image answered by the docker stand-in (image).
#[test]
fn fn_config_kptfiles_render_as_they_are() {
    let Some(kpt) = tool("kpt") else { return };
    let dir = repo().join("fn-config/kpt");
    let kptfiles = files_starting_with(&dir, "Kptfile.");
    assert_eq!(
        kptfiles.len(),
        4,
        "exec and image, each with configPath and configMap"
    );
    for kptfile in kptfiles {
        let name = kptfile.file_name().unwrap().to_string_lossy().into_owned();
        let tmp = TempDir::new("fn-config-kptfile");
        let stand_ins = StandIns::new(&tmp);
        let pkg = tmp.path().join("pkg");
        copy_dir(&repo().join("examples/llama-stack"), &pkg);
        std::fs::copy(&kptfile, pkg.join("Kptfile")).unwrap();
        std::fs::copy(
            dir.join("llsd-ca-bundle.yaml"),
            pkg.join("llsd-ca-bundle.yaml"),
        )
        .unwrap();
        let before = snapshot(&pkg);

        let mut cmd = Command::new(&kpt);
        cmd.args(["fn", "render"])
            .arg(&pkg)
            .env("PATH", stand_ins.path());
        if name.contains("exec") {
            cmd.arg("--allow-exec");
        }
        let out = run(&mut cmd);
        assert_success(&out, &format!("kpt fn render with {name}"));

        assert_eq!(
            read(&pkg.join("Kptfile")),
            read(&kptfile),
            "{name}: Kptfile changed"
        );
        assert_comments_kept(&before, &pkg);
        let expect = Expect::from_kptfile_step(&pkg);
        if name.contains("configmap") {
            assert_eq!(
                expect.mount_path, "/etc/ssl/certs/corp",
                "{name} sets mountPath"
            );
        }
        check_package(&pkg, &expect);

        let runs = stand_ins.docker_runs();
        if name.contains("image") {
            assert_eq!(runs.len(), 1, "{name}: one docker run: {runs:?}");
            assert_runs_image_as_nobody(&runs[0]);
        } else {
            assert!(runs.is_empty(), "{name}: exec step ran docker: {runs:?}");
        }
    }
}

#[test]
fn fn_config_kpt_eval_script_runs_exec_and_image() {
    let Some(_kpt) = tool("kpt") else { return };
    let script = repo().join("fn-config/kpt/eval.sh");
    for image in [false, true] {
        let tmp = TempDir::new("eval-script");
        let stand_ins = StandIns::new(&tmp);
        let pkg = tmp.path().join("pkg");
        copy_dir(&repo().join("examples/llama-stack"), &pkg);
        let before = snapshot(&pkg);
        let results = tmp.path().join("results");

        let mut cmd = Command::new(&script);
        cmd.arg(&pkg)
            .arg("mountPath=/etc/ssl/certs/corp")
            .env("PATH", stand_ins.path())
            .env("FN_RESULTS_DIR", &results)
            .env_remove("FN_IMAGE")
            .env_remove("FN_EXEC");
        if image {
            cmd.env("FN_IMAGE", IMAGE);
        }
        let out = run(&mut cmd);
        assert_success(&out, &format!("eval.sh (image: {image})"));

        assert_comments_kept(&before, &pkg);
        check_package(&pkg, &Expect::with_mount_path("/etc/ssl/certs/corp"));
        let results = read(&results.join("results.yaml"));
        assert!(results.contains("exitCode: 0"), "{results}");
        assert!(
            results.contains("mounted ConfigMap llama-stack-ca-bundle"),
            "{results}"
        );
        assert_eq!(stand_ins.docker_runs().len(), usize::from(image));
    }
}

// ---------------------------------------------------------------------------------------------
// kustomize

/// `fn-config/kustomize/container/` as it is, with the example's resources, through
/// `kubectl kustomize --enable-alpha-plugins` and the docker stand-in.
#[test]
fn fn_config_kustomize_container_transformer_through_kubectl() {
    let Some(kubectl) = tool("kubectl") else {
        return;
    };
    let tmp = TempDir::new("kustomize-container");
    let stand_ins = StandIns::new(&tmp);
    let app = kustomize_app(&tmp, "container");

    let out = run(Command::new(&kubectl)
        .args(["kustomize", "--enable-alpha-plugins"])
        .arg(&app)
        .env("PATH", stand_ins.path()));
    assert_success(&out, "kubectl kustomize (container transformer)");

    let docs = parse_stream(&String::from_utf8_lossy(&out.stdout));
    check_stream(&docs, &Expect::default());
    assert!(
        !docs.iter().any(|d| kind_of(d) == "LlsdCaBundle"),
        "kustomize keeps the function config out of its output"
    );
    let runs = stand_ins.docker_runs();
    assert_eq!(runs.len(), 1, "one docker run: {runs:?}");
    assert_runs_image_as_nobody(&runs[0]);
}

/// The CA ConfigMap made by a `configMapGenerator`, whose name kustomize suffixes with a hash,
/// through `kubectl kustomize` and the container transformer. In another namespace than the LLSD,
/// kustomize leaves the LLSD's reference alone and the function follows the old name that
/// kustomize records on the renamed ConfigMap. In the LLSD's namespace, the `configurations`
/// entry that the function's missing-ConfigMap error proposes makes kustomize rewrite the
/// reference itself.
#[test]
fn kustomize_generated_ca_config_maps_are_found_under_their_hashed_names() {
    let Some(kubectl) = tool("kubectl") else {
        return;
    };
    let name_reference = "nameReference:\n- kind: ConfigMap\n  fieldSpecs:\n  - kind: LlamaStackDistribution\n    path: spec/server/tlsConfig/caBundle/configMapName\n";
    for (namespace, configurations) in [("security", ""), ("ai", "llsd-ca-name-reference.yaml")] {
        let tmp = TempDir::new(&format!("kustomize-generator-{namespace}"));
        let stand_ins = StandIns::new(&tmp);
        let app = kustomize_app(&tmp, "container");
        std::fs::remove_file(app.join("ca-configmap.yaml")).unwrap();
        std::fs::copy(
            repo().join("testdata/certs/ca.pem"),
            app.join("ca-bundle.crt"),
        )
        .unwrap();
        let llsd = read(&app.join("llsd.yaml"));
        let llsd = llsd.replace(
            "configMapNamespace: security",
            &format!("configMapNamespace: {namespace}"),
        );
        std::fs::write(app.join("llsd.yaml"), llsd).unwrap();
        let mut kustomization = format!(
            "resources: [deployment.yaml, llsd.yaml]\n\
             configMapGenerator:\n\
             - name: corporate-ca\n  namespace: {namespace}\n  files: [ca-bundle.crt]\n\
             transformers: [llsd-ca-bundle.yaml]\n"
        );
        if !configurations.is_empty() {
            std::fs::write(app.join(configurations), name_reference).unwrap();
            kustomization.push_str(&format!("configurations: [{configurations}]\n"));
        }
        std::fs::write(app.join("kustomization.yaml"), kustomization).unwrap();

        let out = run(Command::new(&kubectl)
            .args(["kustomize", "--enable-alpha-plugins"])
            .arg(&app)
            .env("PATH", stand_ins.path()));
        assert_success(
            &out,
            &format!("kubectl kustomize (generated CA in {namespace})"),
        );
        let docs = parse_stream(&String::from_utf8_lossy(&out.stdout));
        let generated = docs
            .iter()
            .filter(|d| kind_of(d) == "ConfigMap")
            .map(|d| str_of(&d["metadata"]["name"]))
            .find(|n| n.starts_with("corporate-ca-"))
            .expect("the generated CA ConfigMap");
        let reference = get(
            find_doc(&docs, "LlamaStackDistribution", "llama-stack"),
            &["spec", "server", "tlsConfig", "caBundle", "configMapName"],
        );
        let expected_reference = if configurations.is_empty() {
            "corporate-ca"
        } else {
            generated
        };
        assert_eq!(str_of(reference), expected_reference, "in {namespace}");
        check_stream(&docs, &Expect::default());
    }
}

/// There is no standalone kustomize here (no `go install`, no release download, not in
/// Debian), so the exec form is checked for shape only: it is the container form's file with
/// the runtime swapped, it names a binary kustomize finds on PATH, and kubectl accepts the
/// kustomization (and, lacking `--enable-exec`, leaves the items alone).
#[test]
fn fn_config_kustomize_exec_transformer_has_the_container_form_shape() {
    let dir = repo().join("fn-config/kustomize");
    assert_eq!(
        read(&dir.join("exec/kustomization.yaml")),
        read(&dir.join("container/kustomization.yaml"))
    );
    let exec = yaml_file(&dir.join("exec/llsd-ca-bundle.yaml"));
    let container = yaml_file(&dir.join("container/llsd-ca-bundle.yaml"));
    let runtime = |doc: &Value| -> Value {
        let spec = get(
            doc,
            &["metadata", "annotations", "config.kubernetes.io/function"],
        );
        serde_yaml::from_str(spec.as_str().expect("function annotation")).unwrap()
    };
    assert_eq!(
        runtime(&exec),
        serde_yaml::from_str::<Value>("exec: {path: llsd-ca-bundle}").unwrap()
    );
    assert_eq!(
        runtime(&container),
        serde_yaml::from_str::<Value>(&format!("container: {{image: '{IMAGE}'}}")).unwrap()
    );
    let without_annotations = |mut doc: Value| {
        doc["metadata"]
            .as_mapping_mut()
            .unwrap()
            .remove("annotations");
        doc
    };
    assert_eq!(without_annotations(exec), without_annotations(container));

    let Some(kubectl) = tool("kubectl") else {
        return;
    };
    let tmp = TempDir::new("kustomize-exec");
    let app = kustomize_app(&tmp, "exec");
    let out = run(Command::new(&kubectl)
        .args(["kustomize", "--enable-alpha-plugins"])
        .arg(&app));
    assert_success(&out, "kubectl kustomize (exec transformer)");
    let docs = parse_stream(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(docs.len(), 3, "the three resources, untransformed");
}

// ---------------------------------------------------------------------------------------------
// Argo CD

/// Runs plugin.yaml's `generate` command as Argo CD would (the command array, in the app's
/// directory) with a `kustomize` stand-in that runs `kubectl kustomize`. kubectl cannot run
/// exec functions, so the app uses the container transformer through the docker stand-in: this
/// proves the command line, the shell options and the exit status, not the exec runtime.
#[test]
fn fn_config_argocd_plugin_generate_builds_and_fails_loudly() {
    let Some(_kubectl) = tool("kubectl") else {
        return;
    };
    let plugin = yaml_file(&repo().join("fn-config/argocd/plugin.yaml"));
    assert_eq!(kind_of(&plugin), "ConfigManagementPlugin");
    let generate = plugin_command(&plugin, "generate");
    let script = generate.last().unwrap();
    assert!(script.contains("set -euo pipefail"), "{script}");
    assert!(
        script.contains("kustomize build --enable-alpha-plugins --enable-exec ."),
        "{script}"
    );

    let tmp = TempDir::new("argocd-generate");
    let stand_ins = StandIns::new(&tmp);
    let app = kustomize_app(&tmp, "container");
    let out = run(Command::new(&generate[0])
        .args(&generate[1..])
        .current_dir(&app)
        .env("PATH", stand_ins.path())
        .env("ARGOCD_APP_NAME", "llama-stack")
        .env("ARGOCD_APP_NAMESPACE", "ai"));
    assert_success(&out, "plugin.yaml generate");
    check_stream(
        &parse_stream(&String::from_utf8_lossy(&out.stdout)),
        &Expect::default(),
    );
    assert_eq!(
        stand_ins.kustomize_calls(),
        ["build --enable-alpha-plugins --enable-exec ."],
        "the exact kustomize command line"
    );

    // A function error fails the sync: non-zero exit and no manifests on stdout.
    let llsd = app.join("llsd.yaml");
    let broken = read(&llsd).replace("configMapName: corporate-ca", "configMapName: gone");
    std::fs::write(&llsd, broken).unwrap();
    let out = run(Command::new(&generate[0])
        .args(&generate[1..])
        .current_dir(&app)
        .env("PATH", stand_ins.path()));
    assert!(!out.status.success(), "generate must fail: {out:?}");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("kind: Deployment"),
        "no manifests from a failed build"
    );
}

#[test]
fn fn_config_argocd_plugin_discovers_apps_that_use_the_function() {
    let plugin = yaml_file(&repo().join("fn-config/argocd/plugin.yaml"));
    let find = plugin_command(&plugin, "discover");
    let tmp = TempDir::new("argocd-discover");
    let app = kustomize_app(&tmp, "exec");
    let out = run(Command::new(&find[0]).args(&find[1..]).current_dir(&app));
    assert_success(&out, "discover in an app using the function");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "./llsd-ca-bundle.yaml"
    );

    std::fs::remove_file(app.join("llsd-ca-bundle.yaml")).unwrap();
    let out = run(Command::new(&find[0]).args(&find[1..]).current_dir(&app));
    assert!(
        out.stdout.is_empty(),
        "an app without the function is not claimed"
    );
}

/// The Component patches a stand-in argocd-repo-server Deployment with real kustomize; then the
/// init container's command runs for real (the helper compiled from the Dockerfile's source),
/// and the copy lands where the sidecar mounts it, under the name the exec form looks up.
#[test]
fn fn_config_argocd_component_wires_init_container_sidecar_and_plugin() {
    let Some(kubectl) = tool("kubectl") else {
        return;
    };
    let tmp = TempDir::new("argocd-component");
    let install = tmp.path().join("install");
    copy_dir(
        &repo().join("fn-config/argocd"),
        &install.join("llsd-ca-bundle"),
    );
    std::fs::write(install.join("repo-server.yaml"), REPO_SERVER).unwrap();
    std::fs::write(
        install.join("kustomization.yaml"),
        "namespace: argocd\nresources: [repo-server.yaml]\ncomponents: [llsd-ca-bundle]\n",
    )
    .unwrap();
    let out = run(Command::new(&kubectl).arg("kustomize").arg(&install));
    assert_success(&out, "kubectl kustomize (Argo CD component)");
    let docs = parse_stream(&String::from_utf8_lossy(&out.stdout));

    let config_map = find_doc(&docs, "ConfigMap", "llsd-ca-bundle-cmp");
    assert_eq!(
        get(config_map, &["data", "plugin.yaml"]).as_str().unwrap(),
        read(&repo().join("fn-config/argocd/plugin.yaml")),
        "the plugin config, byte for byte"
    );
    let pod = get(
        find_doc(&docs, "Deployment", "argocd-repo-server"),
        &["spec", "template", "spec"],
    );
    let names = |list: &str| -> Vec<String> {
        seq(&pod[list])
            .iter()
            .map(|c| str_of(&c["name"]).to_owned())
            .collect()
    };
    assert_eq!(
        names("initContainers"),
        ["llsd-ca-bundle-install", "copyutil"]
    );
    assert_eq!(
        names("containers"),
        ["llsd-ca-bundle-cmp", "argocd-repo-server"]
    );
    let volume = |name: &str| {
        seq(&pod["volumes"])
            .iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("volume {name}"))
            .clone()
    };
    assert!(volume("llsd-ca-bundle-tools")["emptyDir"].is_mapping());
    assert_eq!(
        str_of(&volume("llsd-ca-bundle-cmp-config")["configMap"]["name"]),
        "llsd-ca-bundle-cmp"
    );

    // The init container: function image, the helper the Dockerfile installs.
    let init = &seq(&pod["initContainers"])[0];
    assert_eq!(str_of(&init["image"]), IMAGE);
    let command: Vec<&str> = seq(&init["command"]).iter().map(str_of).collect();
    let dockerfile = read(&repo().join("Dockerfile"));
    for path in &command[..2] {
        assert!(
            dockerfile.contains(&format!(" {path}\n")),
            "image has {path}"
        );
    }
    let init_mount = mount(init, "llsd-ca-bundle-tools");
    let dest = Path::new(command[2]);
    assert_eq!(
        dest.parent().unwrap(),
        Path::new(str_of(&init_mount["mountPath"]))
    );

    // Run it: the helper from the image's source, the image's paths mapped into the temp dir.
    let helper = tmp.path().join("install-binary");
    let out = run(Command::new("rustc")
        .args(["--edition", "2021", "-o"])
        .arg(&helper)
        .arg(repo().join("docker/install-binary.rs")));
    assert_success(&out, "rustc docker/install-binary.rs");
    let empty_dir = tmp.path().join("custom-tools");
    std::fs::create_dir(&empty_dir).unwrap();
    let copied = empty_dir.join(dest.file_name().unwrap());
    let out = run(Command::new(&helper).arg(binary()).arg(&copied));
    assert_success(&out, "install-binary");
    assert_eq!(
        std::fs::read(&copied).unwrap(),
        std::fs::read(binary()).unwrap()
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&copied).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o755, "executable for the sidecar's user");
    let out = run(Command::new(&helper).arg(binary()));
    assert!(!out.status.success(), "usage error on one argument");

    // The sidecar mounts that file on PATH under the name the exec form runs.
    let sidecar = &seq(&pod["containers"])[0];
    assert_eq!(
        seq(&sidecar["command"])[0],
        "/var/run/argocd/argocd-cmp-server"
    );
    let tool_mount = mount(sidecar, "llsd-ca-bundle-tools");
    assert_eq!(
        Path::new(str_of(&tool_mount["subPath"])),
        copied.strip_prefix(&empty_dir).unwrap()
    );
    let on_path = Path::new(str_of(&tool_mount["mountPath"]));
    assert_eq!(on_path.parent().unwrap(), Path::new("/usr/local/bin"));
    let exec = yaml_file(&repo().join("fn-config/kustomize/exec/llsd-ca-bundle.yaml"));
    let spec: Value = serde_yaml::from_str(
        get(
            &exec,
            &["metadata", "annotations", "config.kubernetes.io/function"],
        )
        .as_str()
        .unwrap(),
    )
    .unwrap();
    assert_eq!(on_path.file_name().unwrap(), str_of(&spec["exec"]["path"]));
    let config_mount = mount(sidecar, "llsd-ca-bundle-cmp-config");
    assert_eq!(
        str_of(&config_mount["mountPath"]),
        "/home/argocd/cmp-server/config/plugin.yaml"
    );
    for shared in ["var-files", "plugins"] {
        mount(sidecar, shared);
    }
}

/// Enough of the upstream argocd-repo-server Deployment for the patch to land on.
const REPO_SERVER: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: argocd-repo-server
spec:
  template:
    spec:
      initContainers:
        - name: copyutil
          image: quay.io/argoproj/argocd:v2.13.3
      containers:
        - name: argocd-repo-server
          image: quay.io/argoproj/argocd:v2.13.3
      volumes:
        - name: var-files
          emptyDir: {}
        - name: plugins
          emptyDir: {}
";

#[test]
fn fn_config_names_the_crate_version_and_the_image_runs_as_nobody() {
    let mut named = 0;
    for file in walk(&repo().join("fn-config")) {
        for (at, _) in read(&file).match_indices("ghcr.io/llamastack/llsd-ca-bundle:") {
            let tag: String = read(&file)[at..]
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '\'' && *c != '"')
                .collect();
            assert_eq!(tag, IMAGE, "{}", file.display());
            named += 1;
        }
    }
    assert!(named >= 4, "kpt, kustomize and Argo CD name the image");
    // kpt and kustomize both run function images with `--user nobody`, which Docker resolves
    // through the image's /etc/passwd: a scratch image must bring one.
    let dockerfile = read(&repo().join("Dockerfile"));
    assert!(dockerfile.contains("nobody:x:65534:65534:"));
    assert!(dockerfile.contains("COPY --from=build /out/passwd /etc/passwd"));
    assert!(dockerfile.contains("USER 65534:65534"));
    assert!(dockerfile.contains("FROM scratch"));
    assert!(dockerfile.contains(&format!("ARG VERSION={}\n", env!("CARGO_PKG_VERSION"))));
}

/// Every file the README quotes (a fenced block right after a "`fn-config/...`:" line) is the
/// file as it is, so the README cannot drift from what the tests run.
#[test]
fn readme_quotes_the_fn_config_files_exactly() {
    let readme = read(&repo().join("README.md"));
    let lines: Vec<&str> = readme.lines().collect();
    let mut quoted = Vec::new();
    for (at, line) in lines.iter().enumerate() {
        let Some(path) = line
            .strip_prefix("`fn-config/")
            .and_then(|rest| rest.strip_suffix("`:"))
        else {
            continue;
        };
        let open = at + 2;
        assert!(
            lines[open].starts_with("```"),
            "README: no fenced block after {line}"
        );
        let close = open + 1 + lines[open + 1..].iter().position(|l| *l == "```").unwrap();
        let block: String = lines[open + 1..close]
            .iter()
            .map(|l| format!("{l}\n"))
            .collect();
        let file = repo().join("fn-config").join(path);
        assert_eq!(block, read(&file), "README's copy of {}", file.display());
        quoted.push(path.to_owned());
    }
    for must in [
        "kpt/Kptfile.exec",
        "kpt/Kptfile.image",
        "kustomize/exec/llsd-ca-bundle.yaml",
        "kustomize/container/llsd-ca-bundle.yaml",
        "argocd/plugin.yaml",
        "argocd/repo-server-patch.yaml",
    ] {
        assert!(quoted.iter().any(|q| q == must), "README quotes {must}");
    }
}

// ---------------------------------------------------------------------------------------------
// Catalog-style packages

/// Each `testdata/packages/<name>/` is a kpt package rendered twice with `kpt fn render`. The
/// first run must match `.expected/diff.patch` (the change, as `git diff`), `results.yaml`
/// (kpt's results file) and `config.yaml` (`exitCode`, 0 when absent); the second run must
/// change nothing. An error run must leave every file as it was.
/// `LLSD_REGENERATE=1` rewrites `.expected/` instead of comparing.
#[test]
fn catalog_packages_render_as_expected_and_twice_the_same() {
    let Some(kpt) = tool("kpt") else { return };
    let Some(git) = tool("git") else { return };
    let regenerate = std::env::var_os(REGENERATE).is_some();
    let packages = subdirs(&repo().join("testdata/packages"));
    assert!(
        packages.len() >= 3,
        "basic, configMap config and an error case"
    );
    let mut failures = Vec::new();
    for package in packages {
        let name = package.file_name().unwrap().to_string_lossy().into_owned();
        let expected_dir = package.join(".expected");
        let tmp = TempDir::new("catalog");
        let stand_ins = StandIns::new(&tmp);
        let pkg = tmp.path().join(&name);
        copy_dir(&package, &pkg);
        std::fs::remove_dir_all(pkg.join(".expected")).unwrap();
        let git = |args: &[&str]| -> String {
            let out = run(Command::new(&git)
                .args(["-c", "core.autocrlf=false", "-c", "diff.noprefix=false"])
                .args(args)
                .current_dir(&pkg)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("HOME", tmp.path())
                .env_remove("XDG_CONFIG_HOME"));
            assert_success(&out, &format!("git {args:?}"));
            String::from_utf8(out.stdout).unwrap()
        };
        let render = |results: &Path| -> Output {
            run(Command::new(&kpt)
                .args(["fn", "render", "--allow-exec", "--results-dir"])
                .arg(results)
                .arg(&pkg)
                .env("PATH", stand_ins.path()))
        };
        let diff = || {
            git(&["add", "--intent-to-add", "."]);
            git(&["diff", "--no-color", "--no-ext-diff"])
        };
        git(&["init", "-q"]);
        git(&["add", "."]);

        let results_dir = tmp.path().join("results-1");
        let first = render(&results_dir);
        let exit_code = first.status.code().unwrap_or(-1);
        let patch = diff();
        let results = read_if_exists(&results_dir.join("results.yaml"));
        if exit_code != 0 {
            assert_eq!(patch, "", "{name}: an error run changed files");
        }
        let config = (exit_code != 0).then(|| format!("exitCode: {exit_code}\n"));

        // The second run, on the first run's output.
        git(&["add", "."]);
        let second = render(&tmp.path().join("results-2"));
        assert_eq!(
            second.status.code().unwrap_or(-1),
            exit_code,
            "{name}: second run's exit code"
        );
        assert_eq!(diff(), "", "{name}: the second run changed files");

        let expected = [
            ("diff.patch", Some(patch)),
            ("results.yaml", results),
            ("config.yaml", config),
        ];
        for (file, actual) in expected {
            let path = expected_dir.join(file);
            if regenerate {
                match &actual {
                    Some(text) => std::fs::write(&path, text).unwrap(),
                    None => {
                        let _ = std::fs::remove_file(&path);
                    }
                }
            } else if read_if_exists(&path) != actual {
                failures.push(format!(
                    "{name}/.expected/{file} differs; got:\n{}\n(stderr: {})",
                    actual.as_deref().unwrap_or("<none>"),
                    String::from_utf8_lossy(&first.stderr)
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n(LLSD_REGENERATE=1 rewrites them)",
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// What a rendered package or stream must hold

/// What the function config says the injection looks like.
#[derive(Debug)]
struct Expect {
    mount_path: String,
    env_vars: Vec<String>,
    hash_annotation: String,
}

impl Default for Expect {
    fn default() -> Self {
        Expect {
            mount_path: "/etc/ssl/certs/ca-bundle".into(),
            env_vars: vec!["SSL_CERT_FILE".into(), "REQUESTS_CA_BUNDLE".into()],
            hash_annotation: "configmap.hash/ca-bundle".into(),
        }
    }
}

impl Expect {
    fn with_mount_path(path: &str) -> Self {
        Expect {
            mount_path: path.into(),
            ..Expect::default()
        }
    }

    /// From the config of the Kptfile's (only) mutator: `configPath` or `configMap`.
    fn from_kptfile_step(pkg: &Path) -> Self {
        let kptfile = yaml_file(&pkg.join("Kptfile"));
        let step = &seq(get(&kptfile, &["pipeline", "mutators"]))[0];
        let mut expect = Expect::default();
        let (config, comma_lists) = if let Some(path) = step["configPath"].as_str() {
            (yaml_file(&pkg.join(path)), false)
        } else if step["configMap"].is_mapping() {
            (step["configMap"].clone(), true)
        } else {
            return expect;
        };
        if let Some(path) = config["mountPath"].as_str() {
            expect.mount_path = path.into();
        }
        if let Some(key) = config["hashAnnotation"].as_str() {
            expect.hash_annotation = key.into();
        }
        match &config["envVars"] {
            Value::String(list) if comma_lists => {
                expect.env_vars = list.split(',').map(|v| v.trim().to_owned()).collect()
            }
            Value::Sequence(list) => {
                expect.env_vars = list.iter().map(|v| str_of(v).into()).collect()
            }
            _ => {}
        }
        expect
    }

    fn bundle_path(&self) -> String {
        format!("{}/ca-bundle.crt", self.mount_path)
    }
}

/// The package's files hold the injection, and each managed ConfigMap sits in a file of its
/// own next to its LLSD's file.
fn check_package(pkg: &Path, expect: &Expect) {
    let mut docs = Vec::new();
    let mut llsd_dirs = BTreeMap::new();
    for file in walk(pkg).into_iter().filter(|f| is_yaml(f)) {
        for doc in parse_stream(&read(&file)) {
            if kind_of(&doc) == "LlamaStackDistribution" {
                llsd_dirs.insert(
                    str_of(&doc["metadata"]["name"]).to_owned(),
                    file.parent().unwrap().to_owned(),
                );
            }
            docs.push(doc);
        }
    }
    let managed = check_stream(&docs, expect);
    assert!(
        !managed.is_empty(),
        "{}: no LLSD with a CA bundle",
        pkg.display()
    );
    for llsd in managed {
        let file = llsd_dirs[&llsd].join(format!("{llsd}-ca-bundle.yaml"));
        let text = read(&file);
        assert!(text.contains("kind: ConfigMap"), "{}", file.display());
        assert!(
            text.contains(&format!("name: {llsd}-ca-bundle")),
            "{}",
            file.display()
        );
    }
}

/// Every LLSD with a CA bundle has its managed ConfigMap and a Deployment with the volume,
/// mount, env and hash annotation of that bundle. Returns the names of those LLSDs.
fn check_stream(docs: &[Value], expect: &Expect) -> Vec<String> {
    let mut checked = Vec::new();
    for llsd in docs
        .iter()
        .filter(|d| kind_of(d) == "LlamaStackDistribution")
    {
        if !llsd["spec"]["server"]["tlsConfig"]["caBundle"].is_mapping() {
            continue;
        }
        let name = str_of(&llsd["metadata"]["name"]);
        let namespace = &llsd["metadata"]["namespace"];
        let managed_name = format!("{name}-ca-bundle");
        let managed = docs
            .iter()
            .find(|d| {
                kind_of(d) == "ConfigMap"
                    && d["metadata"]["name"] == managed_name.as_str()
                    && &d["metadata"]["namespace"] == namespace
            })
            .unwrap_or_else(|| panic!("no managed ConfigMap {managed_name}"));
        assert_eq!(
            managed["metadata"]["labels"]["app.kubernetes.io/managed-by"],
            "llsd-ca-bundle"
        );
        let bundle = str_of(&managed["data"]["ca-bundle.crt"]);
        assert!(
            bundle.starts_with("-----BEGIN CERTIFICATE-----\n"),
            "{bundle}"
        );
        let hash = format!("sha256:{}", hex(&Sha256::digest(bundle.as_bytes())));

        let container_name = llsd["spec"]["server"]["containerSpec"]["name"]
            .as_str()
            .unwrap_or("llama-stack");
        let deployments: Vec<&Value> = docs
            .iter()
            .filter(|d| {
                kind_of(d) == "Deployment"
                    && &d["metadata"]["namespace"] == namespace
                    && (d["metadata"]["name"] == name
                        || d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/instance"]
                            == name)
            })
            .collect();
        assert!(!deployments.is_empty(), "no Deployment for LLSD {name}");
        for deployment in deployments {
            let template = &deployment["spec"]["template"];
            assert_eq!(
                template["metadata"]["annotations"][expect.hash_annotation.as_str()],
                hash.as_str(),
                "the hash of the managed bundle"
            );
            let pod = &template["spec"];
            let volume = seq(&pod["volumes"])
                .iter()
                .find(|v| v["name"] == "ca-bundle")
                .expect("volume ca-bundle");
            assert_eq!(volume["configMap"]["name"], managed_name.as_str());
            let containers = seq(&pod["containers"]);
            let container = containers
                .iter()
                .find(|c| c["name"] == container_name)
                .or(containers.first().filter(|_| containers.len() == 1))
                .expect("the server container");
            let ca_mount = mount(container, "ca-bundle");
            assert_eq!(ca_mount["mountPath"], expect.mount_path.as_str());
            assert_eq!(ca_mount["readOnly"], true);
            assert!(ca_mount["subPath"].is_null(), "a directory mount");
            for var in &expect.env_vars {
                let set: Vec<&Value> = seq(&container["env"])
                    .iter()
                    .filter(|e| e["name"] == var.as_str())
                    .collect();
                assert_eq!(set.len(), 1, "{var} exactly once");
                assert_eq!(set[0]["value"], expect.bundle_path().as_str(), "{var}");
            }
        }
        checked.push(name.to_owned());
    }
    checked
}

/// Every comment of every file before the run is still in that file after it.
fn assert_comments_kept(before: &BTreeMap<PathBuf, String>, pkg: &Path) {
    let mut seen = 0;
    for (file, text) in before {
        let after = read(&pkg.join(file));
        for line in text.lines() {
            let comment = match line.find(" #") {
                _ if line.trim_start().starts_with('#') => line.trim(),
                Some(at) => line[at..].trim(),
                None => continue,
            };
            seen += 1;
            assert!(
                after.contains(comment),
                "{}: comment {comment:?} lost:\n{after}",
                file.display()
            );
        }
    }
    assert!(seen > 0, "the example packages carry comments");
}

// ---------------------------------------------------------------------------------------------
// Stand-ins for docker and kustomize

/// A directory put first on `PATH`, holding `llsd-ca-bundle` (this run's binary), a `docker`
/// that answers `docker run ... IMAGE` by running the binary, and a `kustomize` that answers
/// `kustomize build [flags] DIR` with `kubectl kustomize`. Both log their arguments.
struct StandIns {
    dir: PathBuf,
}

impl StandIns {
    fn new(tmp: &TempDir) -> Self {
        let dir = tmp.path().join("stand-ins");
        std::fs::create_dir_all(&dir).unwrap();
        std::os::unix::fs::symlink(binary(), dir.join("llsd-ca-bundle")).unwrap();
        let docker = format!(
            r#"#!/bin/sh
# docker stand-in: `docker version` and `docker run [flags] IMAGE [args]` for one image.
printf '%s\n' "$*" >> '{log}'
case "$1" in
    version) echo 99.0.0-stand-in; exit 0 ;;
    run) shift ;;
    *) echo "docker stand-in: cannot $1" >&2; exit 1 ;;
esac
while [ $# -gt 0 ]; do
    case "$1" in
        --*=*) shift ;;
        -i|-t|-it|--rm|--interactive|--tty|--init|--read-only|--privileged) shift ;;
        -*) shift 2 ;;
        *) break ;;
    esac
done
image=$1
shift
if [ "$image" != '{IMAGE}' ]; then
    echo "docker stand-in: no image $image" >&2
    exit 125
fi
exec '{binary}' "$@"
"#,
            log = dir.join("docker.log").display(),
            binary = binary().display(),
        );
        let kubectl = tool("kubectl").unwrap_or_else(|| PathBuf::from("kubectl"));
        let kustomize = format!(
            r#"#!/bin/sh
# kustomize stand-in: `kustomize build [flags] DIR` through `kubectl kustomize`, which has no
# --enable-exec (and skips exec functions), so drop that flag.
printf '%s\n' "$*" >> '{log}'
[ "$1" = build ] || {{ echo "kustomize stand-in: cannot $1" >&2; exit 1; }}
shift
for arg do
    shift
    [ "$arg" = --enable-exec ] || set -- "$@" "$arg"
done
exec '{kubectl}' kustomize "$@"
"#,
            log = dir.join("kustomize.log").display(),
            kubectl = kubectl.display(),
        );
        for (name, script) in [("docker", docker), ("kustomize", kustomize)] {
            let path = dir.join(name);
            std::fs::write(&path, script).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        StandIns { dir }
    }

    /// `PATH` with the stand-ins first.
    fn path(&self) -> std::ffi::OsString {
        let rest = std::env::var_os("PATH").unwrap_or_default();
        std::env::join_paths(std::iter::once(self.dir.clone()).chain(std::env::split_paths(&rest)))
            .unwrap()
    }

    fn docker_runs(&self) -> Vec<String> {
        self.log("docker.log")
            .into_iter()
            .filter(|call| call.starts_with("run "))
            .collect()
    }

    fn kustomize_calls(&self) -> Vec<String> {
        self.log("kustomize.log")
    }

    fn log(&self, name: &str) -> Vec<String> {
        read_if_exists(&self.dir.join(name))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

/// kpt (`--pull missing`) and kustomize (`-a STDIN ...`) differ, but both run the image with
/// stdin attached, no network, as nobody.
fn assert_runs_image_as_nobody(call: &str) {
    let words: Vec<&str> = call.split(' ').collect();
    assert_eq!(words.last(), Some(&IMAGE), "{call}");
    for flag in ["-i", "--rm"] {
        assert!(words.contains(&flag), "{call}");
    }
    assert!(call.contains("--network none"), "{call}");
    assert!(call.contains("--user nobody"), "{call}");
}

// ---------------------------------------------------------------------------------------------
// Small helpers

/// The packages under `examples/` (directories with a Kptfile).
fn example_packages() -> Vec<PathBuf> {
    let packages: Vec<PathBuf> = subdirs(&repo().join("examples"))
        .into_iter()
        .filter(|d| d.join("Kptfile").is_file())
        .collect();
    assert!(!packages.is_empty(), "no example package");
    packages
}

/// A kustomization directory: fn-config/kustomize/FORM/ plus the example's resources.
fn kustomize_app(tmp: &TempDir, form: &str) -> PathBuf {
    let app = tmp.path().join(format!("app-{form}"));
    copy_dir(&repo().join("fn-config/kustomize").join(form), &app);
    for file in ["ca-configmap.yaml", "deployment.yaml", "llsd.yaml"] {
        std::fs::copy(
            repo().join("examples/llama-stack").join(file),
            app.join(file),
        )
        .unwrap();
    }
    app
}

/// A plugin.yaml command (`generate`, or `discover.find`) as one argument vector.
fn plugin_command(plugin: &Value, which: &str) -> Vec<String> {
    let spec = match which {
        "discover" => &plugin["spec"]["discover"]["find"],
        _ => &plugin["spec"][which],
    };
    let words: Vec<String> = seq(&spec["command"])
        .iter()
        .chain(spec["args"].as_sequence().into_iter().flatten())
        .map(|w| str_of(w).to_owned())
        .collect();
    assert!(!words.is_empty(), "plugin.yaml has no {which} command");
    words
}

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|err| panic!("start {cmd:?}: {err}"))
}

fn assert_success(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|err| panic!("read {}: {err}", path.display()))
}

fn read_if_exists(path: &Path) -> Option<String> {
    path.exists().then(|| read(path))
}

/// Every file under `dir` (no `.expected`, no hidden directories), sorted.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if !path.file_name().unwrap().to_string_lossy().starts_with('.') {
                files.extend(walk(&path));
            }
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn files_starting_with(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    walk(dir)
        .into_iter()
        .filter(|f| f.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect()
}

/// The text of every file of a package, by path relative to it.
fn snapshot(pkg: &Path) -> BTreeMap<PathBuf, String> {
    walk(pkg)
        .into_iter()
        .map(|f| (f.strip_prefix(pkg).unwrap().to_owned(), read(&f)))
        .collect()
}

fn is_yaml(path: &Path) -> bool {
    let name = path.file_name().unwrap().to_string_lossy();
    name == "Kptfile" || name.ends_with(".yaml") || name.ends_with(".yml")
}

fn yaml_file(path: &Path) -> Value {
    serde_yaml::from_str(&read(path)).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

fn find_doc<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| kind_of(d) == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

fn mount<'a>(container: &'a Value, volume: &str) -> &'a Value {
    seq(&container["volumeMounts"])
        .iter()
        .find(|m| m["name"] == volume)
        .unwrap_or_else(|| panic!("{} mounts no {volume}", str_of(&container["name"])))
}

fn get<'a>(doc: &'a Value, path: &[&str]) -> &'a Value {
    path.iter().fold(doc, |node, key| &node[*key])
}

fn kind_of(doc: &Value) -> &str {
    doc["kind"].as_str().unwrap_or("")
}

fn str_of(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value:?}"))
}

fn seq(value: &Value) -> &[Value] {
    value.as_sequence().map(Vec::as_slice).unwrap_or(&[])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
