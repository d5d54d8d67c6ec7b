//! Hostile and odd input, through the binary: what is not a ResourceList gets one line on stderr
//! and exit code 1; a ResourceList with a bad object gets an error result that names it, exit
//! code 1 and every item back byte for byte; the oddities of real repositories (CRLF, a BOM, tabs,
//! comments, quoting, document markers) work. Nothing panics, and everything finishes.

mod common;

use common::run_function;
use serde_yaml::Value;

const HEADER: &str = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n";
const CA: &str = include_str!("../testdata/certs/ca.pem");
const CA2: &str = include_str!("../testdata/certs/ca2.pem");
const REFUSED: &str = "llsd-ca-bundle: input is not a ResourceList: ";

/// Runs `input` and checks that it was refused as a whole: exit code 1, nothing on stdout, one
/// line on stderr that says so and contains each of `expected`. Returns that line.
fn refused(input: &[u8], expected: &[&str]) -> String {
    let out = run_function(input);
    let stderr = String::from_utf8(out.stderr).expect("stderr is UTF-8");
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        out.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr:?}");
    assert!(stderr.ends_with('\n'), "{stderr:?}");
    assert!(stderr.starts_with(REFUSED), "{stderr:?}");
    assert!(!stderr.contains("panicked"), "{stderr:?}");
    for e in expected {
        assert!(stderr.contains(e), "{e:?} not in {stderr:?}");
    }
    stderr
}

/// The text of the items, from the `items:` line to the next top-level key.
fn items_text(text: &str) -> &str {
    let start = text
        .find("\nitems:")
        .map(|i| i + 1)
        .or_else(|| text.starts_with("items:").then_some(0))
        .expect("an items key at column 0");
    let mut end = text.len();
    let mut at = start
        + text[start..]
            .find('\n')
            .map_or(text.len() - start, |i| i + 1);
    while at < text.len() {
        let line = &text[at..];
        let first = line.as_bytes()[0];
        if !matches!(first, b' ' | b'-' | b'#' | b'\n' | b'\r') {
            end = at;
            break;
        }
        at += line.find('\n').map_or(line.len(), |i| i + 1);
    }
    &text[start..end]
}

/// The output of a run that failed with error results: exit code 1, the problems on stderr, the items
/// byte for byte as they came, and the results. Returns the error results.
fn error_results(input: &str) -> Vec<Value> {
    let out = run_function(input.as_bytes());
    let stdout = String::from_utf8(out.stdout).expect("stdout is UTF-8");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout:\n{stdout}\nstderr: {stderr}"
    );
    common::check_problems_told(&stdout, &stderr).unwrap();
    assert_eq!(items_text(&stdout), items_text(input), "items changed");
    // The items may hold what serde_yaml refuses (the duplicate key at fault, an alias bomb), so
    // only the results, written last, are read back.
    let results = &stdout[stdout.find("\nresults:\n").expect("results") + 1..];
    let list: Value = serde_yaml::from_str(results).expect("the results are YAML");
    let errors: Vec<Value> = list["results"]
        .as_sequence()
        .expect("results")
        .iter()
        .filter(|r| r["severity"] == "error")
        .cloned()
        .collect();
    assert!(!errors.is_empty(), "no error result:\n{stdout}");
    errors
}

/// Checks that `result` is an error about `kind`/`name`, at `field`, and that its message
/// contains each of `words`.
fn assert_result(result: &Value, kind: &str, name: &str, field: &str, words: &[&str]) {
    let message = result["message"].as_str().expect("a message");
    assert_eq!(result["severity"], "error", "{message}");
    assert_eq!(result["resourceRef"]["kind"], kind, "{message}");
    assert_eq!(result["resourceRef"]["name"], name, "{message}");
    assert_eq!(result["field"]["path"], field, "{message}");
    assert!(!message.contains('\n'), "{message:?}");
    for w in words {
        assert!(message.contains(w), "{w:?} not in {message:?}");
    }
}

/// Runs a ResourceList that should succeed; returns stdout, checked to parse as YAML.
fn succeeded(input: &[u8]) -> (String, Value) {
    let out = run_function(input);
    let stdout = String::from_utf8(out.stdout).expect("stdout is UTF-8");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr: {stderr}"
    );
    common::check_problems_told(&stdout, &stderr).unwrap();
    let list: Value = serde_yaml::from_str(&stdout).expect("the output is YAML");
    assert_eq!(list["kind"], "ResourceList");
    (stdout, list)
}

/// Indents every line of `text` by `n` spaces.
fn indent(text: &str, n: usize) -> String {
    text.lines()
        .map(|l| format!("{}{l}\n", " ".repeat(n)))
        .collect()
}

/// An LLSD `s` in `ai` with `server` (indented for `spec.server`), its CA ConfigMap `ca` with
/// `ca_body` (indented for the ConfigMap's top level), and its Deployment.
fn group(server: &str, ca_body: &str) -> String {
    format!(
        "{HEADER}items:
- apiVersion: llamastack.io/v1alpha1
  kind: LlamaStackDistribution
  metadata:
    name: s
    namespace: ai
  spec:
    server:
{server}- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: ca
    namespace: ai
{ca_body}- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: s
    namespace: ai
  spec:
    template:
      spec:
        containers:
        - name: llama-stack
          image: x
"
    )
}

const TLS: &str = "      tlsConfig:\n        caBundle:\n          configMapName: ca\n";

fn ca_data() -> String {
    format!("  data:\n    ca-bundle.crt: |\n{}", indent(CA, 6))
}

/// The Deployment of a successful run, from the parsed output.
fn deployment(list: &Value) -> &Value {
    list["items"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "Deployment")
        .expect("a Deployment")
}

/// True when the Deployment in `list` mounts the bundle.
fn injected(list: &Value) -> bool {
    let pod = &deployment(list)["spec"]["template"]["spec"];
    let mounted = pod["volumes"]
        .as_sequence()
        .is_some_and(|v| v.iter().any(|v| v["name"] == "ca-bundle"));
    let env = pod["containers"][0]["env"]
        .as_sequence()
        .is_some_and(|e| e.iter().any(|e| e["name"] == "SSL_CERT_FILE"));
    mounted && env
}

// --- Not a ResourceList: one line on stderr, exit code 1 ---

#[test]
fn input_that_is_not_yaml_is_refused() {
    refused(b"not: [yaml", &["invalid YAML", "line"]);
    refused(b"@@@ hello\n", &["invalid YAML", "line 1"]);
    refused(b"a: \"unclosed\n", &["invalid YAML"]);
    refused(b"a:\n\tb: c\n", &["invalid YAML", "line 2"]);
}

#[test]
fn empty_input_is_refused() {
    refused(b"", &["empty"]);
    refused(b"# only a comment\n", &["empty"]);
}

#[test]
fn yaml_that_is_not_a_mapping_is_refused() {
    refused(b"- a\n- b\n", &["list, not a mapping"]);
    refused(b"just a string\n", &["string, not a mapping"]);
    refused(b"42\n", &["not a mapping"]);
    refused(b"~\n", &["not a mapping"]);
    refused(b"[1, 2]\n", &["list, not a mapping"]);
}

#[test]
fn a_mapping_of_another_kind_is_refused() {
    refused(
        b"apiVersion: v1\nkind: ConfigMap\nitems: []\n",
        &["found v1 ConfigMap"],
    );
    refused(b"items: []\n", &["(no apiVersion) (no kind)"]);
}

#[test]
fn a_resource_list_without_items_is_refused() {
    refused(HEADER.as_bytes(), &["no items"]);
    refused(
        format!("{HEADER}functionConfig: {{}}\n").as_bytes(),
        &["no items"],
    );
}

#[test]
fn items_that_are_not_a_list_are_refused() {
    for items in ["3", "{a: 1}", "\"a string\"", "{}"] {
        refused(
            format!("{HEADER}items: {items}\n").as_bytes(),
            &["items is a", "not a list"],
        );
    }
    refused(
        format!("{HEADER}items:\n  kind: ConfigMap\n").as_bytes(),
        &["items is a mapping, not a list"],
    );
}

#[test]
fn an_item_that_is_not_a_mapping_is_refused() {
    let ok = "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a\n";
    for item in ["- 3\n", "- just text\n", "- [a, b]\n", "- ~\n", "-\n"] {
        refused(
            format!("{HEADER}items:\n{ok}{item}").as_bytes(),
            &["items[1] is a", "not an object"],
        );
    }
}

#[test]
fn duplicate_top_level_keys_are_refused() {
    refused(
        format!("{HEADER}items: []\nitems: []\n").as_bytes(),
        &["\"items\" appears twice"],
    );
    refused(
        format!("{HEADER}kind: ResourceList\nitems: []\n").as_bytes(),
        &["\"kind\" appears twice"],
    );
}

#[test]
fn invalid_utf8_is_refused_with_the_offset() {
    let mut input = format!("{HEADER}items:\n- kind: ConfigMap\n  data:\n    a: ").into_bytes();
    let offset = input.len();
    input.extend_from_slice(b"\xff\xfe\n");
    refused(&input, &["not UTF-8", &format!("offset {offset}")]);
    refused(b"\xc3\x28", &["not UTF-8", "offset 0"]);
    // A UTF-16 file, as some Windows editors save it.
    let utf16: Vec<u8> = "\u{feff}kind: ResourceList\n"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    refused(&utf16, &["not UTF-8"]);
}

#[test]
fn input_over_the_size_cap_is_refused_saying_so() {
    // 50 MB of a plausible ResourceList: many ConfigMaps.
    let item = "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: filler\n  data:\n    k: \
                0123456789012345678901234567890123456789012345678901234567890123456789\n";
    let mut input = format!("{HEADER}items:\n");
    while input.len() < 50_000_000 {
        input.push_str(item);
    }
    refused(
        input.as_bytes(),
        &["it is over 32 MiB", "at most that is read"],
    );
}

/// The binary stops reading one byte past the cap, so an endless stream cannot fill the memory.
#[test]
fn an_endless_stream_is_refused_without_reading_it_all() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(common::binary())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let chunk = "# filler\n".repeat(100_000);
    let limit = 256 * 1024 * 1024;
    let mut written = 0;
    // The write fails once the function has stopped reading and exited.
    while written < limit && stdin.write_all(chunk.as_bytes()).is_ok() {
        written += chunk.len();
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("it is over 32 MiB"), "{stderr}");
    assert!(written < limit, "the function read all {written} bytes");
}

/// Nine anchors, each a list of nine aliases of the one before: 9^9 strings if expanded.
fn laughs(column: usize) -> String {
    let pad = " ".repeat(column);
    let mut text = format!("{pad}l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..9 {
        let prev = format!("*l{}", i - 1);
        let list = [prev.as_str(); 9].join(", ");
        text.push_str(&format!("{pad}l{i}: &l{i} [{list}]\n"));
    }
    text
}

#[test]
fn alias_bombs_as_the_items_are_refused() {
    let input = format!("{HEADER}{}items: *l8\n", laughs(0));
    refused(input.as_bytes(), &["items is a", "not a list"]);
    let input = format!("{HEADER}{}items:\n- *l8\n", laughs(0));
    refused(input.as_bytes(), &["items[0] is a", "not an object"]);
}

#[test]
fn alias_bombs_in_flow_style_or_json_are_refused() {
    let input = format!(
        "{{apiVersion: config.kubernetes.io/v1, kind: ResourceList, bomb: {{{}}}, items: [{{kind: ConfigMap, data: *l8}}]}}",
        laughs(0).trim_end().replace('\n', ", ")
    );
    refused(
        input.as_bytes(),
        &["anchors, aliases, tags, merge keys (<<) or keys that are collections"],
    );
}

#[test]
fn alias_bombs_in_an_llsd_are_error_results() {
    let server = format!(
        "{}      tlsConfig:\n        caBundle:\n          configMapName: ca\n          configMapKeys: *l8\n",
        laughs(6)
    );
    let errors = error_results(&group(&server, &ca_data()));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_result(
        &errors[0],
        "LlamaStackDistribution",
        "s",
        "spec.server.tlsConfig.caBundle.configMapKeys",
        &["YAML", "not supported"],
    );
}

#[test]
fn alias_bombs_in_the_ca_config_map_are_error_results() {
    let body = format!("  data:\n{}    ca-bundle.crt: *l8\n", laughs(4));
    let errors = error_results(&group(TLS, &body));
    // Only the key the LLSD names is read, and it is an alias, not the text of a certificate.
    assert_result(
        &errors[0],
        "ConfigMap",
        "ca",
        "data.ca-bundle.crt",
        &[
            "ai/ca",
            "data.ca-bundle.crt",
            "must be a string, found: alias",
        ],
    );
}

/// An unrelated item is copied as the text it came in: its aliases are never expanded, so an
/// alias bomb there costs nothing, and a valid anchor in someone's manifest must not fail the run.
#[test]
fn alias_bombs_in_unrelated_items_are_copied_unexpanded() {
    let input = format!(
        "{HEADER}items:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: lol\n  data:\n{}",
        laughs(4)
    );
    let out = run_function(input.as_bytes());
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), input);
}

fn assert_too_deep(input: &str) {
    refused(input.as_bytes(), &["invalid YAML"]);
    let out = run_function(input.as_bytes());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("nested deeper than") || stderr.contains("recursion limit"),
        "{stderr}"
    );
}

#[test]
fn nesting_ten_thousand_levels_deep_in_flow_style_is_refused() {
    let n = 10_000;
    assert_too_deep(&format!(
        "{HEADER}items:\n- a: {}{}\n",
        "[".repeat(n),
        "]".repeat(n)
    ));
    assert_too_deep(&format!(
        "{HEADER}items:\n- a: {}1{}\n",
        "{a: ".repeat(n),
        "}".repeat(n)
    ));
    assert_too_deep(&"[".repeat(n));
    // Unclosed: the parser must give up on depth, not scan to the end.
    assert_too_deep(&format!("{HEADER}items:\n- a: {}", "{a: [".repeat(n)));
}

#[test]
fn nesting_ten_thousand_levels_deep_in_block_style_is_refused() {
    let n = 10_000;
    // Compact block sequences nest one level per `- ` on a single line.
    assert_too_deep(&format!("{HEADER}items:\n- a:\n  {}x\n", "- ".repeat(n)));
    assert_too_deep(&format!("{HEADER}items:\n{}x\n", "- ".repeat(n)));
    // Mappings nest one level per line and a space more of indentation; 2,000 levels of that are
    // already 2 MB, far past the limit.
    let deep: String = (0..2_000)
        .map(|i| format!("{}k{i}:\n", " ".repeat(2 + i)))
        .collect();
    assert_too_deep(&format!("{HEADER}items:\n- {}", &deep[2..]));
}

#[test]
fn nesting_just_past_the_limit_in_an_unrelated_item_is_refused() {
    // 130 levels: past the parser's 128, in items the function has no other reason to read.
    let dashes = format!("{}-", "- ".repeat(129));
    assert_too_deep(&format!("{HEADER}items:\n- kind: X\n  a:\n  {dashes}"));
    assert_too_deep(&format!("{HEADER}items:\n- kind: X\n  a:\n  {dashes}\n"));
    assert_too_deep(&format!(
        "{HEADER}items:\n- kind: X\n  a:\n  {}x\n",
        "? ".repeat(130)
    ));
    // Indentation and brackets that reach the limit only together.
    let keys: String = (2..64)
        .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
        .collect();
    assert_too_deep(&format!(
        "{HEADER}items:\n- kind: X\n{keys}{}x: {}\n",
        " ".repeat(64),
        "[".repeat(64)
    ));
}

#[test]
fn an_llsd_spelt_inside_a_string_after_a_verbatim_tag_is_not_read_as_one() {
    // `!<a,b>` holds a comma that a flow collection would end at: the string that follows must
    // still be seen as open, and the list refused as the whole parse refuses it.
    let input = format!(
        "{HEADER}items:\n- kind: Note\n  text: [!<a,b> \"see]\n\
         - apiVersion: llamastack.io/v1alpha1\n  kind: LlamaStackDistribution\n  \
         metadata: {{name: ls, namespace: ai}}\n  \
         spec: {{server: {{tlsConfig: {{caBundle: {{configMapName: ca}}}}}}}}\n  end: here\"]\n"
    );
    refused(input.as_bytes(), &["invalid YAML"]);
}

#[test]
fn multiple_documents_are_refused() {
    refused(
        format!("{HEADER}items: []\n---\n{HEADER}items: []\n").as_bytes(),
        &["one YAML document", "line 4"],
    );
    refused(
        format!("---\n{HEADER}items: []\n...\n---\n").as_bytes(),
        &["one YAML document"],
    );
}

// --- A ResourceList with a bad object: an error result that names it, items unchanged ---

#[test]
fn duplicate_keys_in_an_llsd_are_error_results() {
    let server = format!("{TLS}          configMapName: other\n");
    let errors = error_results(&group(&server, &ca_data()));
    assert_result(
        &errors[0],
        "LlamaStackDistribution",
        "s",
        "spec.server.tlsConfig.caBundle.configMapName",
        &["configMapName", "twice"],
    );
    let server = format!("{TLS}{}", TLS.replacen("      tlsConfig:\n", "", 1));
    let errors = error_results(&group(&server, &ca_data()));
    assert_result(
        &errors[0],
        "LlamaStackDistribution",
        "s",
        "spec.server.tlsConfig.caBundle",
        &["caBundle", "twice"],
    );
}

#[test]
fn duplicate_keys_in_the_ca_config_map_are_error_results() {
    let body = format!("{}    ca-bundle.crt: |\n{}", ca_data(), indent(CA2, 6));
    let errors = error_results(&group(TLS, &body));
    assert_result(
        &errors[0],
        "ConfigMap",
        "ca",
        "data.ca-bundle.crt",
        &["ca-bundle.crt", "twice"],
    );
    let body = format!("  data:\n    other: x\n{}", ca_data());
    let errors = error_results(&group(TLS, &body));
    assert_result(&errors[0], "ConfigMap", "ca", "data", &["data", "twice"]);
}

#[test]
fn binary_data_that_is_not_base64_is_an_error_result() {
    for value in ["'!!! not base64 ***'", "QUJD=QUJD", "QUJDRA", "\"\\u00e9\""] {
        let body = format!("  binaryData:\n    ca-bundle.crt: {value}\n");
        let errors = error_results(&group(TLS, &body));
        assert_result(
            &errors[0],
            "ConfigMap",
            "ca",
            "binaryData.ca-bundle.crt",
            &["ai/ca", "binaryData.ca-bundle.crt"],
        );
    }
}

#[test]
fn binary_data_of_the_wrong_type_is_an_error_result() {
    let body = "  binaryData:\n    ca-bundle.crt: [a, b]\n";
    let errors = error_results(&group(TLS, body));
    assert_eq!(errors[0]["resourceRef"]["name"], "ca", "{errors:?}");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("ca-bundle.crt"),
        "{errors:?}"
    );
}

#[test]
fn a_ca_bundle_of_the_wrong_type_is_an_error_result() {
    for (value, found) in [
        (" corporate-ca", "a string"),
        (" [corporate-ca]", "a list"),
        ("\n          - configMapName: ca", "a list"),
        (" 42", "found"),
        (" true", "found"),
    ] {
        let server = format!("      tlsConfig:\n        caBundle:{value}\n");
        let errors = error_results(&group(&server, &ca_data()));
        assert_result(
            &errors[0],
            "LlamaStackDistribution",
            "s",
            "spec.server.tlsConfig.caBundle",
            &["configMapName", found],
        );
    }
}

#[test]
fn ca_bundle_fields_of_the_wrong_type_are_error_results() {
    for (field, value) in [
        ("configMapName", "[ca]"),
        ("configMapName", "{a: b}"),
        ("configMapKeys", "{a: b}"),
        ("configMapNamespace", "[ai]"),
    ] {
        let server = format!(
            "      tlsConfig:\n        caBundle:\n          configMapName: ca\n          {field}: {value}\n"
        )
        .replacen("configMapName: ca\n          configMapName", "configMapName", 1);
        let errors = error_results(&group(&server, &ca_data()));
        assert_result(
            &errors[0],
            "LlamaStackDistribution",
            "s",
            &format!("spec.server.tlsConfig.caBundle.{field}"),
            &[],
        );
    }
}

// --- What real repositories hold: these work ---

/// The example package: an LLSD, its CA ConfigMap, its Deployment and comments.
fn example() -> String {
    std::fs::read_to_string(common::repo().join("examples/resource-list.yaml")).unwrap()
}

#[test]
fn crlf_line_ends_throughout_work() {
    let input = example().replace('\n', "\r\n");
    let (stdout, list) = succeeded(input.as_bytes());
    assert!(injected(&list), "{stdout}");
    // Untouched items keep their CRLF line ends.
    let kptfile = &input[input.find("- apiVersion: kpt.dev/v1").unwrap()..];
    let kptfile = &kptfile[..kptfile.find("- # The corporate CA").unwrap()];
    assert!(stdout.contains(kptfile), "{stdout}");
    // The output is read back the same way, and changes nothing more.
    let (again, _) = succeeded(stdout.as_bytes());
    assert_eq!(items_text(&again), items_text(&stdout));
}

#[test]
fn a_byte_order_mark_works() {
    let input = format!("\u{feff}{}", example());
    let (stdout, list) = succeeded(input.as_bytes());
    assert!(injected(&list), "{stdout}");
    assert_eq!(
        stdout.matches('\u{feff}').count(),
        0,
        "the BOM is not re-emitted mid-file"
    );
    let crlf = format!("\u{feff}{}", example().replace('\n', "\r\n"));
    let (stdout, list) = succeeded(crlf.as_bytes());
    assert!(injected(&list), "{stdout}");
}

#[test]
fn tabs_in_values_and_comments_work() {
    let input = example()
        .replace("image: docker.io", "image: \tdocker.io")
        .replace("replicas: 1 # scaled", "replicas: 1\t# scaled")
        .replace("# The corporate CA,", "#\tThe corporate CA,\t")
        .replace(
            "description: A Llama",
            "description: \"tab\\there\"\t# A Llama",
        );
    let (stdout, list) = succeeded(input.as_bytes());
    assert!(injected(&list), "{stdout}");
    let container = &deployment(&list)["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        container["image"],
        "docker.io/llamastack/distribution-remote-vllm:0.2.15"
    );
    assert!(stdout.contains("#\tThe corporate CA,\t"), "{stdout}");
}

/// YAML 1.2 allows a tab as the separator after `key:`, but saphyr-parser refuses it. Until
/// that changes, such input is refused in one line that names the line, never misread.
#[test]
fn a_tab_right_after_a_colon_is_refused_with_its_line() {
    let input = example().replace("image: docker.io", "image:\tdocker.io");
    refused(input.as_bytes(), &["invalid YAML at line 85"]);
}

#[test]
fn tabs_as_indentation_are_refused() {
    let input = example().replace("\n  kind: Kptfile", "\n\tkind: Kptfile");
    refused(input.as_bytes(), &["invalid YAML"]);
}

#[test]
fn empty_keys_work() {
    let input = group(TLS, &ca_data())
        .replace("  metadata:\n    name: ca\n", "  metadata:\n    name: ca\n    labels:\n      \"\": empty\n")
        .replace(
            "  metadata:\n    name: s\n    namespace: ai\n  spec:\n    template:",
            "  metadata:\n    name: s\n    namespace: ai\n    annotations:\n      '': x\n  spec:\n    template:",
        );
    let (stdout, list) = succeeded(input.as_bytes());
    assert!(injected(&list), "{stdout}");
    assert_eq!(deployment(&list)["metadata"]["annotations"][""], "x");
}

#[test]
fn an_empty_ca_key_is_reported_by_name() {
    let body = format!("  data:\n    \"\": |\n{}", indent(CA, 6));
    let server = format!("{TLS}          configMapKeys: [\"\"]\n");
    let errors = error_results(&group(&server, &body));
    assert_eq!(errors[0]["resourceRef"]["kind"], "LlamaStackDistribution");
    assert!(
        errors[0]["message"].as_str().unwrap().contains("\"\""),
        "{errors:?}"
    );
}

#[test]
fn comments_everywhere_work() {
    let input = format!(
        "# head\n{}",
        group(
            "      # before tlsConfig\n      tlsConfig: # after tlsConfig\n        caBundle:\n          # before\n          configMapName: ca # after\n        # trailing\n",
            &format!("  # before data\n{}  # after data\n", ca_data()),
        )
    )
    .replace("items:\n", "items: # the items\n# between\n")
    .replace("- apiVersion: v1\n", "# between items\n- # on the dash\n  apiVersion: v1\n")
        + "# after the Deployment\n- apiVersion: v1 # unrelated\n  kind: Service # and last\n  metadata: {name: web}\n# at the end\n";
    let (stdout, list) = succeeded(input.as_bytes());
    assert!(injected(&list), "{stdout}");
    assert!(stdout.starts_with("# head\n"), "{stdout}");
    assert!(stdout.contains("# at the end\n"), "{stdout}");
    // The LLSD and the CA ConfigMap are untouched, comments and all. (The managed ConfigMap goes
    // right after the LLSD, so the comment line above the CA ConfigMap ends up above it.)
    let llsd = input.find("- apiVersion: llamastack.io").unwrap();
    let ca = input.find("- # on the dash").unwrap();
    let deployment = input.find("- apiVersion: apps/v1").unwrap();
    assert!(stdout.contains(&input[llsd..ca]), "{stdout}");
    assert!(stdout.contains(&input[ca..deployment]), "{stdout}");
    let service = input.find("- apiVersion: v1 # unrelated").unwrap();
    assert!(stdout.contains(&input[service..]), "{stdout}");
}

/// A comment after the last item belongs to no item, though the item's text runs up to the end
/// of the list: rewriting the item must not take the comment with it.
#[test]
fn a_comment_after_a_rewritten_last_item_is_kept() {
    let input = group(TLS, &ca_data()) + "# at the end\n";
    let (stdout, list) = succeeded(input.as_bytes());
    assert!(injected(&list), "{stdout}");
    assert!(stdout.contains("# at the end\n"), "{stdout}");
}

#[test]
fn odd_quoting_works() {
    let server = "      'tlsConfig':\n        \"caBundle\":\n          configMapName: 'ca'\n          \"configMapKeys\": [\"ca-bundle.crt\", 'ca-bundle.crt']\n";
    let input = group(server, &ca_data())
        .replace("    name: s\n    namespace: ai\n  spec:\n    template:", "    \"name\": \"s\"\n    'namespace': \"a\\\n      i\"\n  spec:\n    template:")
        .replace("image: x", "image: \"x\"\n          args: ['on', \"0755\", 'it''s', \"\\u00e9\", ~, yes, \"two\n            lines\"]\n          command:\n          - >-\n            folded\n            text");
    let (stdout, list) = succeeded(input.as_bytes());
    assert!(injected(&list), "{stdout}");
    let args = &deployment(&list)["spec"]["template"]["spec"]["containers"][0]["args"];
    assert_eq!(args[0], "on", "{stdout}");
    assert_eq!(args[1], "0755", "{stdout}");
    assert_eq!(args[2], "it's", "{stdout}");
    assert_eq!(args[3], "é", "{stdout}");
    assert_eq!(args[4], Value::Null, "{stdout}");
    assert_eq!(args[5], "yes", "{stdout}");
    assert_eq!(args[6], "two lines", "{stdout}");
    let d = deployment(&list);
    assert_eq!(d["metadata"]["namespace"], "ai", "{stdout}");
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["command"][0],
        "folded text"
    );
    // The rewritten Deployment keeps `yes` from kubectl's YAML 1.1 reader, which would make it
    // a boolean: quoted as it came, or quoted by the function.
    let rewritten = &stdout[stdout.find("- apiVersion: apps/v1").unwrap()..];
    assert!(
        !rewritten.contains(", yes") && !rewritten.contains("- yes\n"),
        "{rewritten}"
    );
}

#[test]
fn document_markers_around_one_document_work() {
    for (before, after) in [
        ("---\n", ""),
        ("--- # a comment\n", "...\n"),
        ("%YAML 1.2\n---\n", ""),
        ("", "...\n"),
    ] {
        let input = format!("{before}{}{after}", example());
        let (stdout, list) = succeeded(input.as_bytes());
        assert!(injected(&list), "{before:?} {after:?}\n{stdout}");
    }
}

// --- What the fuzz target found (fuzz/regressions/), each made small ---

/// Runs `input` through the library and checks that the output is a ResourceList it reads again.
fn output_reads_back(input: &str) -> String {
    let out = llsd_ca_bundle::run(input, 0).expect("a ResourceList");
    if let Err(e) = llsd_ca_bundle::run(&out.text, 0) {
        panic!("the output is not a ResourceList ({e}):\n{}", out.text);
    }
    out.text
}

#[test]
fn every_fuzz_regression_input_gives_output_that_reads_back() {
    let dir = common::repo().join("fuzz/regressions");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz/regressions") {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let input = std::str::from_utf8(&bytes).expect("the fuzz target only runs UTF-8");
        if llsd_ca_bundle::run(input, 0).is_ok() {
            output_reads_back(input);
        }
        // And through the binary: no panic, and either output or one line on stderr.
        let out = run_function(&bytes);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{path:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{path:?}: {stderr}");
        count += 1;
    }
    assert!(count >= 3, "regression inputs missing from {dir:?}");
}

/// An implied null (`{note, other: x}`, or `? note` with no value) was written with the text that
/// follows it, as `note: , ` or `note: ? `; in a rewritten Deployment it stays null.
#[test]
fn an_implied_null_in_a_rewritten_deployment_stays_null() {
    for annotations in [
        "    annotations: {note, other: x}\n",
        "    annotations:\n      ? note\n      ? other\n      : x\n",
    ] {
        let input = group(TLS, &ca_data()).replace(
            "    name: s\n    namespace: ai\n  spec:\n    template:",
            &format!("    name: s\n    namespace: ai\n{annotations}  spec:\n    template:"),
        );
        let text = output_reads_back(&input);
        let list: Value = serde_yaml::from_str(&text).unwrap();
        assert!(injected(&list), "{text}");
        let annotations = &deployment(&list)["metadata"]["annotations"];
        assert_eq!(annotations["note"], Value::Null, "{text}");
        assert_eq!(annotations["other"], "x", "{text}");
    }
}

/// A key that is itself a mapping cannot be written back as a block key: an item that has one is
/// not rewritten, and a list that has one outside its items is refused.
#[test]
fn keys_that_are_collections_are_never_rewritten() {
    let input = group(TLS, &ca_data()).replace(
        "    name: s\n    namespace: ai\n  spec:\n    template:",
        "    name: s\n    namespace: ai\n    annotations:\n      ? {a: b}\n      : x\n  spec:\n    template:",
    );
    let errors = error_results(&input);
    assert!(
        errors.iter().any(|e| e["message"]
            .as_str()
            .is_some_and(|m| m.contains("keys that are collections"))),
        "{errors:?}"
    );
    refused(
        b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- a: 1\n? {k: v}\n: x\n",
        &["keys that are collections"],
    );
}

/// A merge key means something to kubectl's YAML 1.1 reader that it does not mean to YAML 1.2:
/// a Deployment that uses one is not rewritten.
#[test]
fn a_merge_key_in_the_deployment_is_an_error_result() {
    let input = group(TLS, &ca_data()).replace("image: x", "image: x\n          <<: {tty: true}");
    assert!(input.contains("<<:"));
    let errors = error_results(&input);
    assert!(
        errors.iter().any(|e| e["message"]
            .as_str()
            .is_some_and(|m| m.contains("merge keys (<<)"))),
        "{errors:?}"
    );
}

/// A block scalar ends at the line after it, so a comment after a rewritten item that ends in
/// one was taken for part of the value and dropped.
#[test]
fn a_comment_after_a_rewritten_item_that_ends_in_a_block_scalar_is_kept() {
    let input = group(TLS, &ca_data()).replace(
        "image: x",
        "image: x\n          command:\n          - |\n            run\n\n# between items",
    );
    assert!(input.contains("# between items\n"), "{input}");
    let (stdout, list) = succeeded(input.as_bytes());
    assert!(injected(&list), "{stdout}");
    assert!(stdout.contains("\n# between items\n"), "{stdout}");
}

/// A byte-order mark inside a multi-line string cannot sit in a literal block.
#[test]
fn a_byte_order_mark_inside_a_multi_line_string_is_escaped() {
    let input = format!(
        r#"{{"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [{{"a": "x\ny{}z"}}]}}"#,
        '\u{feff}'
    );
    let text = output_reads_back(&input);
    assert!(text.contains(r#"a: "x\ny\ufeffz""#), "{text}");
}

/// YAML reads implicit keys up to 1024 characters; a longer one from JSON needs `? `.
#[test]
fn a_key_over_1024_characters_from_json_is_written_explicitly() {
    let key = "k".repeat(1500);
    let input = format!(
        r#"{{"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [{{"{key}": "v", "a": {{"{key}": [1, 2]}}}}]}}"#
    );
    let text = output_reads_back(&input);
    let list: Value = serde_yaml::from_str(&text).unwrap();
    assert_eq!(list["items"][0][key.as_str()], "v", "{text}");
    assert_eq!(list["items"][0]["a"][key.as_str()][1], 2, "{text}");
}

/// `notes`, an unrelated ConfigMap whose value `note` opens with `open`, then `group`'s LLSD,
/// whose lines, at column 0, go on inside that value until `close` ends it.
fn llsd_inside_a_value(open: &str, close: &str) -> String {
    let notes = format!(
        "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: notes\n    namespace: ai\n  data:\n    note: {open}hello\n- apiVersion: llamastack.io/v1alpha1\n"
    );
    group(&format!("{TLS}  x: y{close}\n"), &ca_data()).replacen(
        "- apiVersion: llamastack.io/v1alpha1\n",
        &notes,
        1,
    )
}

/// Lines at column 0 inside a quoted scalar or a flow collection are not items of their own:
/// YAML 1.2 wants them indented, and the whole parse refuses them. Cutting items by their lines
/// took them for an LLSD, which kustomize, reading them as part of the string, never sees.
#[test]
fn an_llsd_spelled_inside_a_string_or_collection_is_not_read() {
    for (open, close) in [("\"", "\""), ("'", "'"), ("[", "]"), ("{a: ", "}")] {
        let input = llsd_inside_a_value(open, close);
        assert!(input.contains(&format!("note: {open}hello\n- apiVersion: llamastack")));
        refused(input.as_bytes(), &["invalid YAML"]);
    }
}

/// The same inside the last item, where the line that closes the string looks like a top-level
/// key of the list.
#[test]
fn a_key_spelled_inside_a_string_in_the_last_item_is_not_read() {
    for (open, close) in [("\"", "\""), ("'", "'"), ("[", "]")] {
        let input = format!(
            "{}- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: notes\n  data:\n    note: {open}hello\nfoo: bar{close}\n",
            group(TLS, &ca_data())
        );
        refused(input.as_bytes(), &["invalid YAML"]);
    }
}
