//! The pod really trusts the CA: the function's output, laid out as the kubelet would, makes
//! Python's HTTPS clients (stdlib `ssl`/`urllib`, `requests`, `httpx`) verify a server whose
//! certificate a private CA signed, and nothing else does.
//!
//! At test time, `openssl` makes a CA, a server certificate it signs for 127.0.0.1, and a second,
//! unrelated CA. `tests/tls_server.py` serves HTTPS with that certificate. The function renders a
//! ResourceList holding the CA; the test reads the rendered Deployment (volume, mount, env) and the
//! managed ConfigMap that the volume names, writes the files where the kubelet would put them
//! under a temporary root, rebases the env's paths into that root, and runs `tests/tls_client.py`
//! once per library with exactly that env. The negative cases (no env; a bundle rendered from the
//! other CA) must fail with a certificate-verify error, which proves that it is the rendered bundle,
//! not a system or certifi store, that makes the positive case work. A third test does the same
//! with the files that real `kpt fn render` writes for the bundled example package.
//!
//! Needs `openssl`, `python3` and (for the example package) `kpt`, and the Python modules `requests` and `httpx`: each is skipped
//! with a printed reason when missing, or fails the test when `LLSD_REQUIRE_TOOLS` is set.

mod common;

use common::{
    REQUIRE_TOOLS, TempDir, binary, copy_dir, parse_stream, point_exec_at, repo, run_function, tool,
};
use serde_yaml::Value;
use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The clients `tests/tls_client.py` knows, and the Python module each one needs.
const LIBRARIES: [(&str, &str); 4] = [
    ("stdlib", "ssl"),
    ("requests", "requests"),
    ("httpx", "httpx"),
    ("httpx-async", "httpx"),
];

/// Variables of the test process that reach the clients: what the container image would set.
/// Nothing TLS- or proxy-related passes (`SSL_CERT_FILE`, `REQUESTS_CA_BUNDLE`, `HTTPS_PROXY`…):
/// the only trust settings the clients see are the rendered ones.
const BASE_ENV: [&str; 4] = ["PATH", "HOME", "PYTHONPATH", "PYTHONHOME"];

const NAMESPACE: &str = "ai";
const LLSD: &str = "llama-stack";
const CONTAINER: &str = "llama-stack";

// ---------------------------------------------------------------------------------------------
// Certificates

/// OpenSSL config for the test PKI; no dependence on the system's openssl.cnf.
const OPENSSL_CNF: &str = "\
[req]
distinguished_name = dn
prompt             = no

[dn]
CN = unused

[ca]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash

[server]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
";

/// A private CA, a server certificate it signed, and an unrelated CA, all made now.
struct Pki {
    ca_pem: String,
    other_ca_pem: String,
    server_cert: PathBuf,
    server_key: PathBuf,
}

/// Runs `openssl` in `dir` with `args`, split at whitespace.
fn openssl(openssl: &Path, dir: &Path, args: &str) {
    let output = Command::new(openssl)
        .args(args.split_whitespace())
        .current_dir(dir)
        .env_remove("OPENSSL_CONF")
        .output()
        .expect("run openssl");
    assert!(
        output.status.success(),
        "openssl {args} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

impl Pki {
    /// Makes the PKI in `dir`; the server certificate is signed by `ca` (its PEM and key files)
    /// when given, else by a CA made here.
    fn generate(openssl_bin: &Path, dir: &Path, ca: Option<(&Path, &Path)>) -> Pki {
        std::fs::write(dir.join("openssl.cnf"), OPENSSL_CNF).expect("write openssl.cnf");
        let new_key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
        let mut made = vec![("other-ca", "LLSD-TLS-unrelated-CA")];
        match ca {
            Some((pem, key)) => {
                std::fs::copy(pem, dir.join("ca.pem")).expect("copy the CA");
                std::fs::copy(key, dir.join("ca.key")).expect("copy the CA key");
            }
            None => made.push(("ca", "LLSD-TLS-test-CA")),
        }
        for (name, cn) in made {
            let args = format!(
                "req -x509 -config openssl.cnf -extensions ca {new_key} \
                 -keyout {name}.key -out {name}.pem -days 3650 -subj /CN={cn}"
            );
            openssl(openssl_bin, dir, &args);
        }
        let args = format!(
            "req -new -config openssl.cnf {new_key} \
             -keyout server.key -out server.csr -subj /CN=127.0.0.1"
        );
        openssl(openssl_bin, dir, &args);
        let args = "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 2 -days 3650 \
                    -extfile openssl.cnf -extensions server -out server.pem";
        openssl(openssl_bin, dir, args);
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect("read PEM");
        Pki {
            ca_pem: read("ca.pem"),
            other_ca_pem: read("other-ca.pem"),
            server_cert: dir.join("server.pem"),
            server_key: dir.join("server.key"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Python

/// The real interpreter behind `python3` (not a pyenv shim), which the clients run with a
/// stripped environment.
fn python() -> Option<PathBuf> {
    let python3 = tool("python3")?;
    let output = Command::new(python3)
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("run python3");
    assert!(output.status.success(), "python3 does not run");
    Some(PathBuf::from(
        String::from_utf8(output.stdout).unwrap().trim(),
    ))
}

/// The base environment the clients get (see [`BASE_ENV`]).
fn base_env() -> Vec<(String, OsString)> {
    BASE_ENV
        .iter()
        .filter_map(|name| std::env::var_os(name).map(|value| (name.to_string(), value)))
        .collect()
}

/// Whether `module` imports; prints why not and returns false, or panics in CI, as `tool()` does.
fn python_module(python: &Path, module: &str) -> bool {
    let imports = Command::new(python)
        .args(["-c", &format!("import {module}")])
        .env_clear()
        .envs(base_env())
        .stderr(Stdio::null())
        .status()
        .expect("run python")
        .success();
    match imports {
        true => true,
        false if std::env::var_os(REQUIRE_TOOLS).is_some() => {
            panic!(
                "the Python module `{module}` is missing, and {REQUIRE_TOOLS} says it must be there"
            )
        }
        false => {
            eprintln!(
                "skipped: the Python module `{module}` is missing \
                 (python3 -m pip install requests httpx; set {REQUIRE_TOOLS}=1 to fail instead)"
            );
            false
        }
    }
}

/// The HTTPS server, killed when dropped (also on panic); it also exits when its stdin closes.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(python: &Path, pki: &Pki, body: &str) -> Server {
        let mut child = Command::new(python)
            .arg(repo().join("tests/tls_server.py"))
            .arg(&pki.server_cert)
            .arg(&pki.server_key)
            .arg(body)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start tests/tls_server.py");
        let mut line = String::new();
        let read = BufReader::new(child.stdout.take().unwrap()).read_line(&mut line);
        let port = match read.ok().and_then(|_| line.trim().parse::<u16>().ok()) {
            Some(port) => port,
            None => {
                let _ = child.kill();
                let output = child.wait_with_output().expect("wait for the server");
                panic!(
                    "the HTTPS server did not start: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
            }
        };
        Server {
            child,
            url: format!("https://127.0.0.1:{port}/"),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one client run ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ok,
    VerifyError,
    Error,
}

/// Runs `tests/tls_client.py` for one library with exactly `env`.
fn fetch(
    python: &Path,
    library: &str,
    server: &Server,
    body: &str,
    env: &[(String, OsString)],
) -> (Outcome, String) {
    let output = Command::new(python)
        .arg(repo().join("tests/tls_client.py"))
        .args([library, &server.url, body])
        .env_clear()
        .envs(env.iter().map(|(name, value)| (name, value)))
        .output()
        .expect("run tests/tls_client.py");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "tests/tls_client.py {library} crashed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (outcome, detail) = stdout
        .trim_end()
        .split_once('\t')
        .expect("OUTCOME<TAB>DETAIL");
    let outcome = match outcome {
        "ok" => Outcome::Ok,
        "verify-error" => Outcome::VerifyError,
        "error" => Outcome::Error,
        other => panic!("tests/tls_client.py printed an unknown outcome {other:?}"),
    };
    (outcome, detail.to_string())
}

// ---------------------------------------------------------------------------------------------
// The function's output, as a pod sees it

/// A ResourceList like the operator's package: the LLSD, its CA ConfigMap (in another namespace,
/// as a security team keeps it) holding `ca_pem`, and the Deployment the operator generates.
fn resource_list(ca_pem: &str) -> String {
    let pem: String = ca_pem
        .lines()
        .map(|line| format!("      {line}\n"))
        .collect();
    format!(
        "\
apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: llamastack.io/v1alpha1
  kind: LlamaStackDistribution
  metadata:
    name: {LLSD}
    namespace: {NAMESPACE}
  spec:
    replicas: 1
    server:
      distribution:
        name: remote-vllm
      containerSpec:
        name: {CONTAINER}
        port: 8321
      tlsConfig:
        caBundle:
          configMapName: private-ca
          configMapNamespace: security
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: private-ca
    namespace: security
  data:
    ca-bundle.crt: |
{pem}- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: {LLSD}
    namespace: {NAMESPACE}
    labels:
      app: llama-stack
      app.kubernetes.io/instance: {LLSD}
  spec:
    replicas: 1
    selector:
      matchLabels:
        app: llama-stack
        app.kubernetes.io/instance: {LLSD}
    template:
      metadata:
        labels:
          app: llama-stack
          app.kubernetes.io/instance: {LLSD}
      spec:
        containers:
        - name: {CONTAINER}
          image: docker.io/llamastack/distribution-remote-vllm:0.2.15
          ports:
          - containerPort: 8321
          env:
          - name: VLLM_URL
            value: https://vllm.internal.example.com/v1
"
    )
}

fn str_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(value, |value, key| value.get(key))?
        .as_str()
}

fn seq_at<'a>(value: &'a Value, path: &[&str]) -> &'a [Value] {
    path.iter()
        .try_fold(value, |value, key| value.get(key))
        .and_then(Value::as_sequence)
        .map_or(&[], Vec::as_slice)
}

/// Runs the function on a ResourceList holding `ca_pem`, lays out the rendered volumes under
/// `root` as the kubelet would, and returns the rendered container env rebased into `root`.
fn render_pod(ca_pem: &str, root: &Path) -> Vec<(String, OsString)> {
    let output = run_function(resource_list(ca_pem).as_bytes());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the function failed ({:?}): {stdout}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let list: Value = serde_yaml::from_str(&stdout).expect("the output is YAML");
    lay_out_pod(seq_at(&list, &["items"]), root)
}

/// Lays out the volumes of the LLSD's Deployment among `items` under `root` as the kubelet would,
/// and returns its server container's env rebased into `root`.
fn lay_out_pod(items: &[Value], root: &Path) -> Vec<(String, OsString)> {
    let deployment = items
        .iter()
        .find(|item| {
            str_at(item, &["kind"]) == Some("Deployment")
                && str_at(item, &["metadata", "name"]) == Some(LLSD)
        })
        .expect("the output has the Deployment");
    let pod = &deployment["spec"]["template"]["spec"];
    let container = seq_at(pod, &["containers"])
        .iter()
        .find(|container| str_at(container, &["name"]) == Some(CONTAINER))
        .expect("the Deployment has the server container");

    for mount in seq_at(container, &["volumeMounts"]) {
        let name = str_at(mount, &["name"]).expect("a mount has a name");
        let mount_path = str_at(mount, &["mountPath"]).expect("a mount has a mountPath");
        assert!(
            mount.get("subPath").is_none(),
            "mount {name} uses subPath: {mount:?}"
        );
        let volume = seq_at(pod, &["volumes"])
            .iter()
            .find(|volume| str_at(volume, &["name"]) == Some(name))
            .unwrap_or_else(|| panic!("the mount {name} has no volume"));
        let Some(config_map) = volume.get("configMap") else {
            continue; // Only configMap volumes carry trust; others are not simulated.
        };
        let cm_name =
            str_at(config_map, &["name"]).expect("a configMap volume names its ConfigMap");
        let cm = items
            .iter()
            .find(|item| {
                str_at(item, &["kind"]) == Some("ConfigMap")
                    && str_at(item, &["metadata", "name"]) == Some(cm_name)
                    && str_at(item, &["metadata", "namespace"]) == Some(NAMESPACE)
            })
            .unwrap_or_else(|| {
                panic!("no ConfigMap {NAMESPACE}/{cm_name} in the output for volume {name}")
            });
        let key_content = |key: &str| {
            str_at(cm, &["data", key])
                .unwrap_or_else(|| panic!("ConfigMap {cm_name} has no data key {key}"))
                .to_string()
        };
        // Without `items`, the kubelet projects every key under its own name.
        let files: Vec<(String, String)> = match volume["configMap"].get("items") {
            Some(items) => items
                .as_sequence()
                .expect("items is a list")
                .iter()
                .map(|item| {
                    let key = str_at(item, &["key"]).expect("an item has a key");
                    let path = str_at(item, &["path"]).expect("an item has a path");
                    (path.to_string(), key_content(key))
                })
                .collect(),
            None => cm["data"]
                .as_mapping()
                .expect("the ConfigMap has data")
                .iter()
                .map(|(key, value)| {
                    (
                        key.as_str().unwrap().to_string(),
                        value.as_str().unwrap().to_string(),
                    )
                })
                .collect(),
        };
        write_configmap_volume(&root.join(mount_path.trim_start_matches('/')), &files);
    }

    seq_at(container, &["env"])
        .iter()
        .filter_map(|var| {
            let name = str_at(var, &["name"])?.to_string();
            let value = str_at(var, &["value"])?; // valueFrom: not literal, not ours
            let value = match value.strip_prefix('/') {
                Some(absolute) => root.join(absolute).into_os_string(),
                None => value.into(),
            };
            Some((name, value))
        })
        .collect()
}

/// Writes a configMap volume the way the kubelet's atomic writer does: the files in a
/// timestamped directory, `..data` linking to it, and each top-level entry linking through `..data`.
fn write_configmap_volume(dir: &Path, files: &[(String, String)]) {
    let data = dir.join("..2000_01_01_00_00_00.000000001");
    for (path, content) in files {
        assert!(
            !path.starts_with('/') && !path.split('/').any(|part| part == ".."),
            "bad item path {path}"
        );
        let file = data.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).expect("create the volume directory");
        std::fs::write(&file, content).expect("write a volume file");
    }
    std::os::unix::fs::symlink(data.file_name().unwrap(), dir.join("..data")).expect("link ..data");
    let mut top: Vec<&str> = files
        .iter()
        .map(|(path, _)| path.split('/').next().unwrap())
        .collect();
    top.sort_unstable();
    top.dedup();
    for entry in top {
        std::os::unix::fs::symlink(Path::new("..data").join(entry), dir.join(entry))
            .expect("link a volume entry");
    }
}

// ---------------------------------------------------------------------------------------------
// The tests

/// Everything the tests need, or `None` (skipped) when a tool is missing.
struct Setup {
    server: Server, // first, so that it is dropped (killed) before its directory is removed
    dir: TempDir,
    python: PathBuf,
    libraries: Vec<&'static str>,
    pki: Pki,
    body: String,
    root: PathBuf,
}

impl Setup {
    /// `ca` (PEM and key files) signs the server certificate; `None` makes a CA.
    fn new(label: &str, ca: Option<(&Path, &Path)>) -> Option<Setup> {
        let openssl_bin = tool("openssl")?;
        let python = python()?;
        let mut libraries = Vec::new();
        for (library, module) in LIBRARIES {
            if python_module(&python, module) {
                libraries.push(library);
            }
        }
        let dir = TempDir::new(label);
        let pki_dir = dir.path().join("pki");
        std::fs::create_dir(&pki_dir).unwrap();
        let pki = Pki::generate(&openssl_bin, &pki_dir, ca);
        let body = format!("hello from the private-CA server of {label}");
        let server = Server::start(&python, &pki, &body);
        let root = dir.path().join("pod");
        Some(Setup {
            root,
            dir,
            python,
            libraries,
            pki,
            server,
            body,
        })
    }

    /// A fresh pod filesystem root under the test's directory.
    fn pod_root(&self, name: &str) -> PathBuf {
        let root = self.root.join(name);
        std::fs::create_dir_all(&root).unwrap();
        root
    }

    /// Runs every available library with `base_env()` plus `env`; returns (library, outcome, detail).
    fn fetch_all(&self, env: &[(String, OsString)]) -> Vec<(&'static str, Outcome, String)> {
        let mut full = base_env();
        full.retain(|(name, _)| !env.iter().any(|(other, _)| other == name));
        full.extend(env.iter().cloned());
        self.libraries
            .iter()
            .map(|&library| {
                let (outcome, detail) =
                    fetch(&self.python, library, &self.server, &self.body, &full);
                (library, outcome, detail)
            })
            .collect()
    }
}

fn assert_all(case: &str, results: &[(&str, Outcome, String)], expected: impl Fn(&str) -> Outcome) {
    let wrong: Vec<String> = results
        .iter()
        .filter(|(library, outcome, _)| *outcome != expected(library))
        .map(|(library, outcome, detail)| {
            format!(
                "{library}: expected {:?}, got {outcome:?}: {detail}",
                expected(library)
            )
        })
        .collect();
    assert!(wrong.is_empty(), "{case}:\n  {}", wrong.join("\n  "));
    for (library, outcome, detail) in results {
        eprintln!("{case}: {library}: {outcome:?} ({detail})");
    }
}

/// With `env`, every client verifies the server; with the same files but without the variables
/// that point into the pod's mounts, none does: the system and certifi stores do not know the
/// private CA, so it is the rendered env that points the clients at the bundle.
fn assert_the_rendered_env_and_only_it_trusts(
    setup: &Setup,
    env: &[(String, OsString)],
    case: &str,
) {
    assert_all(case, &setup.fetch_all(env), |_| Outcome::Ok);
    let without: Vec<_> = env
        .iter()
        .filter(|(_, value)| !Path::new(value).starts_with(&setup.root))
        .cloned()
        .collect();
    assert!(
        without.len() < env.len(),
        "the rendered env points at no mounted file: {env:?}"
    );
    assert_all(
        &format!("{case}, without the rendered env"),
        &setup.fetch_all(&without),
        |_| Outcome::VerifyError,
    );
}

/// The rendered env names these variables; the library matrix below depends on them.
fn rendered_var<'a>(env: &'a [(String, OsString)], name: &str) -> &'a (String, OsString) {
    env.iter()
        .find(|(var, _)| var == name)
        .unwrap_or_else(|| panic!("the rendered container env has no {name}: {env:?}"))
}

#[test]
fn the_rendered_bundle_and_only_it_makes_python_clients_trust_the_private_ca() {
    let Some(setup) = Setup::new("tls-trust", None) else {
        return;
    };

    let env = render_pod(&setup.pki.ca_pem, &setup.pod_root("trusted"));
    assert_the_rendered_env_and_only_it_trusts(&setup, &env, "rendered bundle of the server's CA");

    // A bundle rendered from an unrelated CA: the clients do read the bundle's content.
    let other = render_pod(&setup.pki.other_ca_pem, &setup.pod_root("other-ca"));
    assert_all(
        "rendered bundle of an unrelated CA",
        &setup.fetch_all(&other),
        |_| Outcome::VerifyError,
    );
}

#[test]
fn each_python_library_reads_its_own_variable_of_the_rendered_env() {
    let Some(setup) = Setup::new("tls-vars", None) else {
        return;
    };
    let env = render_pod(&setup.pki.ca_pem, &setup.pod_root("trusted"));
    let ssl_cert_file = rendered_var(&env, "SSL_CERT_FILE");
    let requests_ca_bundle = rendered_var(&env, "REQUESTS_CA_BUNDLE");
    // Other rendered variables that are not file paths (VLLM_URL) stay; only the two are split.
    let rest: Vec<_> = env
        .iter()
        .filter(|(name, _)| name != "SSL_CERT_FILE" && name != "REQUESTS_CA_BUNDLE")
        .cloned()
        .collect();

    // requests ignores SSL_CERT_FILE (certifi unless REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE).
    let only_ssl: Vec<_> = rest
        .iter()
        .cloned()
        .chain([ssl_cert_file.clone()])
        .collect();
    assert_all(
        "only SSL_CERT_FILE",
        &setup.fetch_all(&only_ssl),
        |library| match library {
            "requests" => Outcome::VerifyError,
            _ => Outcome::Ok,
        },
    );

    // The stdlib (OpenSSL) and httpx ignore REQUESTS_CA_BUNDLE.
    let only_requests: Vec<_> = rest
        .iter()
        .cloned()
        .chain([requests_ca_bundle.clone()])
        .collect();
    assert_all(
        "only REQUESTS_CA_BUNDLE",
        &setup.fetch_all(&only_requests),
        |library| match library {
            "requests" => Outcome::Ok,
            _ => Outcome::VerifyError,
        },
    );
}

/// What the README's first steps give a newcomer: `kpt fn render` on the bundled example package
/// writes files that, mounted as the kubelet would, make every client trust a server whose
/// certificate the example's CA (`testdata/certs/ca.pem`, whose key is committed for tests) signed.
#[test]
fn the_example_package_rendered_by_kpt_makes_python_clients_trust_its_ca() {
    let Some(kpt) = tool("kpt") else { return };
    let certs = repo().join("testdata/certs");
    let ca = (certs.join("ca.pem"), certs.join("ca.key"));
    let Some(setup) = Setup::new("tls-kpt", Some((&ca.0, &ca.1))) else {
        return;
    };
    let pkg = setup.dir.path().join("pkg");
    copy_dir(&repo().join("examples/llama-stack"), &pkg);
    let kptfile = pkg.join("Kptfile");
    let pointed = point_exec_at(&std::fs::read_to_string(&kptfile).unwrap(), &binary());
    std::fs::write(&kptfile, pointed).unwrap();
    let out = Command::new(kpt)
        .args(["fn", "render", "--allow-exec"])
        .arg(&pkg)
        .output()
        .expect("run kpt");
    assert!(
        out.status.success(),
        "kpt fn render failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let mut items = Vec::new();
    for entry in std::fs::read_dir(&pkg).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            items.extend(parse_stream(&std::fs::read_to_string(&path).unwrap()));
        }
    }
    let env = lay_out_pod(&items, &setup.pod_root("kpt-rendered"));
    assert_the_rendered_env_and_only_it_trusts(&setup, &env, "example package rendered by kpt");
}
