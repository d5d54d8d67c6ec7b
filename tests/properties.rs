//! Properties over generated ResourceLists: unrelated Deployments, Services and ConfigMaps with
//! random names, labels, comments and quoting, mixed with LLSD groups (the LLSD, its CA
//! ConfigMap, its Deployment) that use the test CAs.
//!
//! - the output always reads back as a ResourceList;
//! - unrelated items come out byte for byte, and the input items keep their order;
//! - running on the output changes no item. Its results may hold less: infos say what a run
//!   changed, and the second run changes nothing, so it has none; a third run is the same as
//!   the second in every byte.

use llsd_ca_bundle::list::ResourceList;
use proptest::prelude::*;
use serde_yaml::Value;

const CA: &str = include_str!("../testdata/certs/ca.pem");
const CA2: &str = include_str!("../testdata/certs/ca2.pem");
/// 2025-01-01: the test CAs are valid from 2000 to 2999.
const NOW: i64 = 1_735_689_600;

/// How a scalar is written.
#[derive(Clone, Copy, Debug)]
enum Quote {
    Plain,
    Single,
    Double,
}

/// A string in the style asked for, or quoted when plain would change its meaning or not parse.
fn scalar(value: &str, quote: Quote) -> String {
    let plain_ok = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-._/".contains(c))
        && value.starts_with(|c: char| c.is_ascii_alphabetic())
        && !matches!(
            value,
            "on" | "off" | "yes" | "no" | "y" | "n" | "true" | "false" | "null"
        );
    match quote {
        Quote::Plain if plain_ok => value.to_string(),
        Quote::Single | Quote::Plain => format!("'{}'", value.replace('\'', "''")),
        Quote::Double => format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\"")),
    }
}

#[derive(Clone, Debug)]
enum Item {
    /// An object the function has no business with.
    Unrelated {
        kind: usize,
        name: String,
        namespace: Option<String>,
        labels: Vec<(String, String)>,
        quote: Quote,
        comments: Comments,
    },
    /// An LLSD, its CA ConfigMap and its Deployment.
    Group {
        name: String,
        namespace: String,
        /// `None`: the LLSD has no `tlsConfig`.
        tls: Option<Tls>,
        quote: Quote,
        comments: Comments,
    },
}

#[derive(Clone, Debug)]
struct Tls {
    /// Which CAs each key holds: 0 = ca, 1 = ca2, 2 = both.
    keys: Vec<usize>,
    /// Keys in binaryData instead of data.
    binary: bool,
    /// 0: configMapKeys, 1: configMapKey, 2: key (single-key forms use the first key).
    form: usize,
    /// The CA ConfigMap lives in another namespace.
    other_namespace: bool,
    /// 0: by name, 1: by ownerReference, 2: by the instance label.
    matched_by: usize,
    /// `configMapKeys` also names a key the ConfigMap lacks: an error, so nothing changes.
    broken: bool,
}

#[derive(Clone, Debug, Default)]
struct Comments {
    before: bool,
    on_dash: bool,
    trailing: bool,
}

fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,4})?"
}

fn label_value() -> impl Strategy<Value = String> {
    prop_oneof![
        name(),
        Just("on".to_string()),
        Just("yes".to_string()),
        Just("0755".to_string()),
        Just("1_000".to_string()),
        Just("2024-01-01".to_string()),
        Just("~".to_string()),
        Just("it's".to_string()),
        Just("a \"b\"".to_string()),
        Just("é ü".to_string()),
        Just(String::new()),
    ]
}

fn quote() -> impl Strategy<Value = Quote> {
    prop_oneof![Just(Quote::Plain), Just(Quote::Single), Just(Quote::Double)]
}

fn comments() -> impl Strategy<Value = Comments> {
    (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(before, on_dash, trailing)| Comments {
        before,
        on_dash,
        trailing,
    })
}

fn item() -> impl Strategy<Value = Item> {
    let unrelated = (
        0..3usize,
        name(),
        proptest::option::of(name()),
        proptest::collection::vec((name(), label_value()), 0..4),
        quote(),
        comments(),
    )
        .prop_map(
            |(kind, name, namespace, labels, quote, comments)| Item::Unrelated {
                kind,
                name: format!("u-{name}"),
                namespace,
                labels,
                quote,
                comments,
            },
        );
    let tls = (
        proptest::collection::vec(0..3usize, 1..3),
        any::<bool>(),
        0..3usize,
        any::<bool>(),
        0..3usize,
        proptest::bool::weighted(0.15),
    )
        .prop_map(
            |(keys, binary, form, other_namespace, matched_by, broken)| Tls {
                keys,
                binary,
                form,
                other_namespace,
                matched_by,
                broken,
            },
        );
    let group = (
        name(),
        name(),
        proptest::option::weighted(0.85, tls),
        quote(),
        comments(),
    )
        .prop_map(|(name, namespace, tls, quote, comments)| Item::Group {
            name: format!("l-{name}"),
            namespace,
            tls,
            quote,
            comments,
        });
    prop_oneof![3 => unrelated, 2 => group]
}

/// A list item: `- ` and the object's lines, each indented by two.
fn entry(lines: &[String], comments: &Comments, what: &str) -> String {
    let mut out = String::new();
    if comments.before {
        out.push_str(&format!("# {what}\n"));
    }
    let mut lines = lines.iter();
    let first = lines.next().expect("an object has lines");
    if comments.on_dash {
        out.push_str(&format!("- # {what}\n  {first}\n"));
    } else {
        out.push_str(&format!("- {first}\n"));
    }
    for line in lines {
        out.push_str(&format!("  {line}\n"));
    }
    out
}

fn metadata(name: &str, namespace: Option<&str>, quote: Quote, trailing: bool) -> Vec<String> {
    let mut lines = vec![
        "metadata:".to_string(),
        format!(
            "  name: {}{}",
            scalar(name, quote),
            if trailing { " # the name" } else { "" }
        ),
    ];
    if let Some(ns) = namespace {
        lines.push(format!("  namespace: {}", scalar(ns, quote)));
    }
    lines
}

/// The text of each list item, and whether the function may change it.
fn render(items: &[Item]) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item {
            Item::Unrelated {
                kind,
                name,
                namespace,
                labels,
                quote,
                comments,
            } => {
                let name = format!("{name}-{i}");
                let (api, kind) = [
                    ("apps/v1", "Deployment"),
                    ("v1", "Service"),
                    ("v1", "ConfigMap"),
                ][*kind];
                let mut lines = vec![format!("apiVersion: {api}"), format!("kind: {kind}")];
                lines.extend(metadata(
                    &name,
                    namespace.as_deref(),
                    *quote,
                    comments.trailing,
                ));
                if !labels.is_empty() {
                    lines.push("  labels:".into());
                    let mut seen = std::collections::HashSet::new();
                    for (k, v) in labels.iter().filter(|(k, _)| seen.insert(k.clone())) {
                        lines.push(format!("    {k}: {}", scalar(v, *quote)));
                    }
                }
                match kind {
                    "Deployment" => lines.extend(
                        [
                            "spec:",
                            "  template:",
                            "    spec:",
                            "      containers:",
                            "      - name: app",
                            "        image: nginx:1.25",
                            "        env:",
                            "        - name: SSL_CERT_FILE",
                            "          value: /etc/ssl/mine.pem",
                        ]
                        .map(String::from),
                    ),
                    "Service" => {
                        lines.extend(["spec:", "  ports:", "  - port: 80 # http"].map(String::from))
                    }
                    _ => lines.extend(
                        ["data:", "  on: 'yes'", "  ca-bundle.crt: not a certificate"]
                            .map(String::from),
                    ),
                }
                out.push((entry(&lines, comments, "unrelated"), false));
            }
            Item::Group {
                name,
                namespace,
                tls,
                quote,
                comments,
            } => {
                let name = format!("{name}-{i}");
                let ns = Some(namespace.as_str());
                let q = |s: &str| scalar(s, *quote);
                let ca_name = format!("ca-{i}");
                let ca_ns = match tls {
                    Some(t) if t.other_namespace => format!("{namespace}-security"),
                    _ => namespace.clone(),
                };
                let key_names: Vec<String> = tls
                    .as_ref()
                    .map(|t| (0..t.keys.len()).map(|k| format!("ca-{k}.crt")).collect())
                    .unwrap_or_default();

                let mut llsd = vec![
                    "apiVersion: llamastack.io/v1alpha1".to_string(),
                    "kind: LlamaStackDistribution".to_string(),
                ];
                llsd.extend(metadata(&name, ns, *quote, comments.trailing));
                llsd.extend(
                    [
                        "spec:",
                        "  server:",
                        "    distribution:",
                        "      name: remote-vllm",
                    ]
                    .map(String::from),
                );
                if let Some(t) = tls {
                    llsd.push("    tlsConfig:".into());
                    llsd.push("      caBundle:".into());
                    llsd.push(format!("        configMapName: {}", q(&ca_name)));
                    if t.other_namespace {
                        llsd.push(format!("        configMapNamespace: {}", q(&ca_ns)));
                    }
                    let missing = "missing.crt".to_string();
                    let named = if t.broken { &missing } else { &key_names[0] };
                    match t.form {
                        0 => llsd.push(format!(
                            "        configMapKeys: [{}]",
                            key_names
                                .iter()
                                .chain(t.broken.then_some(&missing))
                                .map(|k| q(k))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                        1 => llsd.push(format!("        configMapKey: {}", q(named))),
                        _ => llsd.push(format!("        key: {}", q(named))),
                    }
                }
                out.push((entry(&llsd, comments, "the LLSD"), false));

                let mut cm = vec!["apiVersion: v1".to_string(), "kind: ConfigMap".to_string()];
                cm.extend(metadata(&ca_name, Some(&ca_ns), *quote, false));
                if let Some(t) = tls {
                    cm.push(if t.binary { "binaryData:" } else { "data:" }.into());
                    for (k, which) in key_names.iter().zip(&t.keys) {
                        let pem = match which {
                            0 => CA.to_string(),
                            1 => CA2.to_string(),
                            _ => format!("{CA}{CA2}"),
                        };
                        if t.binary {
                            use base64::Engine;
                            let b64 = base64::engine::general_purpose::STANDARD.encode(&pem);
                            cm.push(format!("  {k}: {b64}"));
                        } else {
                            cm.push(format!("  {k}: |"));
                            cm.extend(pem.lines().map(|l| format!("    {l}")));
                        }
                    }
                } else {
                    cm.push("data: {}".into());
                }
                out.push((entry(&cm, &Comments::default(), "the CA"), false));

                let matched_by = tls.as_ref().map_or(0, |t| t.matched_by);
                let deployment_name = if matched_by == 0 {
                    name.clone()
                } else {
                    format!("{name}-server")
                };
                let mut dep = vec![
                    "apiVersion: apps/v1".to_string(),
                    "kind: Deployment".to_string(),
                ];
                dep.extend(metadata(&deployment_name, ns, *quote, false));
                if matched_by == 1 {
                    dep.extend([
                        "  ownerReferences:".to_string(),
                        "  - apiVersion: llamastack.io/v1alpha1".to_string(),
                        "    kind: LlamaStackDistribution".to_string(),
                        format!("    name: {}", q(&name)),
                        "    uid: 00000000-0000-0000-0000-000000000000".to_string(),
                    ]);
                }
                dep.extend(
                    [
                        "spec:",
                        "  replicas: 1 # scaled by the LLSD",
                        "  template:",
                        "    metadata:",
                        "      labels:",
                    ]
                    .map(String::from),
                );
                let instance = if matched_by == 2 {
                    name.clone()
                } else {
                    format!("{name}-x")
                };
                dep.push(format!(
                    "        app.kubernetes.io/instance: {}",
                    q(&instance)
                ));
                dep.push(format!("        version: {}", q("on")));
                dep.extend(
                    [
                        "    spec:",
                        "      containers:",
                        "      - name: llama-stack",
                        "        image: docker.io/llamastack/distribution-remote-vllm:0.2.15",
                        "        ports:",
                        "        - containerPort: 8321",
                    ]
                    .map(String::from),
                );
                // Only a Deployment whose LLSD has a tlsConfig may change.
                out.push((
                    entry(&dep, &Comments::default(), "the Deployment"),
                    tls.is_some(),
                ));
            }
        }
    }
    out
}

fn resource_list(entries: &[(String, bool)]) -> String {
    let mut text = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n".to_string();
    if entries.is_empty() {
        text = text.replace("items:\n", "items: []\n");
    }
    for (entry, _) in entries {
        text.push_str(entry);
    }
    text
}

/// The output without its results, and the results.
fn split_results(text: &str) -> (&str, &str) {
    match text.find("\nresults:\n") {
        Some(i) => (&text[..i + 1], &text[i + 1..]),
        None => (text, ""),
    }
}

/// `(kind, namespace, name)` of every item.
fn identities(list: &Value) -> Vec<(String, String, String)> {
    list["items"]
        .as_sequence()
        .expect("items is a list")
        .iter()
        .map(|i| {
            let s = |v: &Value| v.as_str().unwrap_or("").to_string();
            (
                s(&i["kind"]),
                s(&i["metadata"]["namespace"]),
                s(&i["metadata"]["name"]),
            )
        })
        .collect()
}

/// The result entries of a results section, each as its text.
fn result_entries(results: &str) -> Vec<&str> {
    let mut entries = Vec::new();
    let mut start = None;
    for (i, _) in results.match_indices("\n- ") {
        if let Some(s) = start {
            entries.push(&results[s..i + 1]);
        }
        start = Some(i + 1);
    }
    if let Some(s) = start {
        entries.push(&results[s..]);
    }
    entries
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn runs_keep_unrelated_items_and_order_and_reach_a_fixed_point(
        items in proptest::collection::vec(item(), 0..7)
    ) {
        let entries = render(&items);
        let input = resource_list(&entries);
        let first = llsd_ca_bundle::run(&input, NOW).expect("a ResourceList");

        // The output reads back, as YAML and as a ResourceList.
        let parsed_in: Value = serde_yaml::from_str(&input).expect("the input is YAML");
        let parsed: Value = serde_yaml::from_str(&first.text)
            .unwrap_or_else(|e| panic!("output is not YAML ({e}):\n{}", first.text));
        prop_assert_eq!(&parsed["kind"], "ResourceList");
        prop_assert_eq!(&parsed["apiVersion"], "config.kubernetes.io/v1");

        // Every item that may not change is there byte for byte, in order; on an error, all are.
        let failed = first.exit_code == 1;
        let mut at = 0;
        for (entry, may_change) in &entries {
            if *may_change && !failed {
                continue;
            }
            let found = first.text[at..].find(entry.as_str());
            prop_assert!(found.is_some(), "item not kept:\n{}\noutput:\n{}", entry, first.text);
            at += found.unwrap() + entry.len();
        }

        // Input items keep their order; the function only adds (managed ConfigMaps).
        let before = identities(&parsed_in);
        let after = identities(&parsed);
        let mut rest = after.iter();
        for id in &before {
            prop_assert!(rest.any(|o| o == id), "{:?} missing or out of order in {:?}", id, after);
        }
        if failed {
            prop_assert_eq!(&before, &after);
        }

        // A second run changes no item and says nothing the first did not.
        let second = llsd_ca_bundle::run(&first.text, NOW).expect("the output is a ResourceList");
        prop_assert_eq!(second.exit_code, first.exit_code, "{}", second.text);
        let (items1, results1) = split_results(&first.text);
        let (items2, results2) = split_results(&second.text);
        prop_assert_eq!(items1, items2);
        let known = result_entries(results1);
        for r in result_entries(results2) {
            prop_assert!(!r.contains("severity: info"), "a second run changed something: {}", r);
            prop_assert!(known.contains(&r), "new result on the second run: {}", r);
        }
        if failed {
            prop_assert_eq!(results1, results2);
        }

        // And from there on nothing moves, results included.
        let third = llsd_ca_bundle::run(&second.text, NOW).expect("a ResourceList");
        prop_assert_eq!(&third.text, &second.text);
    }
}

/// The generated groups are ones the function acts on, in every form the generator picks: else
/// the property above would hold for lists that the function leaves alone.
#[test]
fn every_generated_group_shape_is_rewritten() {
    for form in 0..3 {
        for binary in [false, true] {
            for other_namespace in [false, true] {
                for matched_by in 0..3 {
                    let group = Item::Group {
                        name: "l-a".into(),
                        namespace: "ai".into(),
                        tls: Some(Tls {
                            keys: vec![2, 0],
                            binary,
                            form,
                            other_namespace,
                            matched_by,
                            broken: false,
                        }),
                        quote: Quote::Double,
                        comments: Comments::default(),
                    };
                    let input = resource_list(&render(&[group]));
                    let out = llsd_ca_bundle::run(&input, NOW).unwrap();
                    assert_eq!(out.exit_code, 0, "{}", out.text);
                    let infos = out.text.matches("severity: info").count();
                    assert_eq!(infos, 1, "{}", out.text);
                    assert!(out.text.contains("name: l-a-0-ca-bundle"), "{}", out.text);
                    assert!(
                        out.text.contains("mountPath: /etc/ssl/certs/ca-bundle"),
                        "{}",
                        out.text
                    );
                }
            }
        }
    }
}

/// The output of a run that reads only the items that matter, and of one that parses the list
/// whole, as text and exit code.
fn both_ways(input: &str) -> ((String, i32), (String, i32)) {
    let text = |r: llsd_ca_bundle::Rendered<'_>| {
        let mut out = Vec::new();
        r.write_to(&mut out).unwrap();
        (String::from_utf8(out).unwrap(), r.exit_code)
    };
    let lazy = llsd_ca_bundle::render(input, NOW).map(text);
    let whole = llsd_ca_bundle::render_whole(input, NOW).map(text);
    match (lazy, whole) {
        (Ok(lazy), Ok(whole)) => (lazy, whole),
        (lazy, whole) => panic!(
            "refused one way only: {:?} / {:?}",
            lazy.err().map(|e| e.to_string()),
            whole.err().map(|e| e.to_string())
        ),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn reading_only_what_matters_gives_what_reading_everything_gives(
        items in proptest::collection::vec(item(), 1..9)
    ) {
        let input = resource_list(&render(&items));
        prop_assert!(ResourceList::scan(&input).is_some(), "not scanned:\n{}", input);
        let (lazy, whole) = both_ways(&input);
        prop_assert_eq!(&lazy, &whole);
        // What the function writes, results included, is scanned again on the next run.
        prop_assert!(ResourceList::scan(&lazy.0).is_some(), "output not scanned:\n{}", lazy.0);
        // And on the output, which holds rewritten items and results.
        let (again_lazy, again_whole) = both_ways(&lazy.0);
        prop_assert_eq!(again_lazy, again_whole);
    }
}

/// The golden case with an unrelated item that is not valid YAML.
const NOT_YAML_ITEM_CASE: &str = "error-beside-an-unreadable-unrelated-item";

/// Every golden case, sample and fuzz seed gives the same output read either way; most of them
/// are plain block style, so the scan is what runs on them.
#[test]
fn the_committed_inputs_give_the_same_output_read_either_way() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut inputs = Vec::new();
    for dir in ["testdata/cases", "fuzz/corpus/run", "../shared/samples"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            // Only the committed seeds: what a local fuzz run adds to the corpus may hold an
            // unrelated item that is not YAML, which the scan copies as it came (see README).
            let name = path.file_name().unwrap().to_string_lossy();
            if dir.starts_with("fuzz") && !name.starts_with("seed-") {
                continue;
            }
            let file = if path.is_dir() {
                path.join("input.yaml")
            } else {
                path
            };
            if let Ok(text) = std::fs::read_to_string(&file) {
                inputs.push((file, text));
            }
        }
    }
    let mut scanned = 0;
    for (file, text) in &inputs {
        let body = text.strip_prefix('\u{feff}').unwrap_or(text);
        scanned += usize::from(ResourceList::scan(body).is_some());
        if llsd_ca_bundle::render_whole(text, NOW).is_err() {
            // Refused whole, refused read lazily; but for the case whose unrelated item is not
            // YAML, which the scan copies as it came (see README).
            let copies_bad_item = file
                .parent()
                .is_some_and(|d| d.ends_with(NOT_YAML_ITEM_CASE));
            let lazy = llsd_ca_bundle::render(text, NOW);
            assert_eq!(lazy.is_ok(), copies_bad_item, "{file:?}");
            continue;
        }
        let (lazy, whole) = both_ways(text);
        assert_eq!(lazy, whole, "{file:?}");
    }
    assert!(inputs.len() >= 60, "only {} inputs", inputs.len());
    assert!(
        scanned * 2 > inputs.len(),
        "only {scanned} of {} scanned",
        inputs.len()
    );
}
