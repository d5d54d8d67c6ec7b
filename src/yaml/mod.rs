//! A small YAML tree that remembers where each node came from and how each scalar was written.
//!
//! The function copies untouched items as the text they came in, so it needs byte positions, and it
//! re-emits changed items without changing the meaning of any scalar it did not write, so it keeps
//! each scalar's source text. Everything else about YAML is left to `saphyr-parser`.

mod de;
mod emit;
mod parse;

pub use de::{DeError, from_node};
pub use emit::{emit_block, plain_is_safe};
pub use parse::{MAX_DEPTH, ParseError, parse_document, parse_fragment};

use std::borrow::Cow;
use std::collections::HashSet;

/// The most keys a mapping may have for [`Node::find_duplicate_key`] to compare them pairwise.
const SMALL_MAP: usize = 16;

/// One YAML node: a scalar, a sequence or a mapping, with its position in the input.
#[derive(Clone, Debug)]
pub struct Node<'a> {
    /// What the node holds.
    pub value: Value<'a>,
    /// Byte offset of the node's first character in the input (0 for nodes the function made).
    pub start: usize,
    /// Byte offset just past the node; for block collections, the start of whatever follows them.
    pub end: usize,
    /// True for `{…}` and `[…]` collections, which cannot take block-style text spliced into them.
    pub flow: bool,
    /// True when the node carries an anchor or a tag: its meaning depends on more than its text.
    pub decorated: bool,
}

/// The content of a [`Node`].
#[derive(Clone, Debug)]
pub enum Value<'a> {
    /// A scalar of any style.
    Scalar(Scalar<'a>),
    /// A sequence.
    Seq(Vec<Node<'a>>),
    /// A mapping, in source order.
    Map(Vec<(Node<'a>, Node<'a>)>),
    /// An alias (`*name`); the function never expands aliases.
    Alias,
}

/// A scalar: its value, and the text it was written as when that text can be copied verbatim.
#[derive(Clone, Debug)]
pub struct Scalar<'a> {
    /// The scalar's value after unquoting and folding.
    pub value: Cow<'a, str>,
    /// Whether it was written without quotes (and so may be a number, a boolean or null).
    pub plain: bool,
    /// The exact one-line source text (quotes included); `None` for multi-line scalars and for
    /// strings the function made, which the emitter quotes as needed.
    pub source: Option<Cow<'a, str>>,
}

impl<'a> Node<'a> {
    /// A string the function writes; the emitter quotes it where a YAML 1.1 reader would misread it.
    pub fn string(value: impl Into<Cow<'a, str>>) -> Self {
        Self::scalar(Scalar {
            value: value.into(),
            plain: false,
            source: None,
        })
    }

    /// A plain scalar written as given (`true`, `3`): for values that are not strings.
    pub fn plain(text: &'static str) -> Self {
        Self::scalar(Scalar {
            value: text.into(),
            plain: true,
            source: Some(text.into()),
        })
    }

    /// A plain integer.
    pub fn int(n: u64) -> Self {
        let text = n.to_string();
        Self::scalar(Scalar {
            value: text.clone().into(),
            plain: true,
            source: Some(text.into()),
        })
    }

    /// An empty mapping.
    pub fn map() -> Self {
        Self::new(Value::Map(Vec::new()))
    }

    /// A mapping from string keys to values.
    pub fn map_of(entries: Vec<(&'a str, Node<'a>)>) -> Self {
        Self::new(Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (Node::string(k), v))
                .collect(),
        ))
    }

    /// A sequence.
    pub fn seq(items: Vec<Node<'a>>) -> Self {
        Self::new(Value::Seq(items))
    }

    fn scalar(s: Scalar<'a>) -> Self {
        Self::new(Value::Scalar(s))
    }

    fn new(value: Value<'a>) -> Self {
        Node {
            value,
            start: 0,
            end: 0,
            flow: false,
            decorated: false,
        }
    }

    /// The value of a string scalar: quoted, or plain and not null, a boolean or a number.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s) if !s.plain || plain_type(&s.value) == PlainType::String => {
                Some(&s.value)
            }
            _ => None,
        }
    }

    /// Forget how quoted strings were quoted, so that the emitter quotes only where needed. For
    /// input re-written as a whole (JSON), where keeping every `"key"` would read badly.
    pub fn forget_quoting(&mut self) {
        match &mut self.value {
            Value::Scalar(s) if !s.plain => s.source = None,
            Value::Scalar(_) | Value::Alias => {}
            Value::Seq(items) => items.iter_mut().for_each(Node::forget_quoting),
            Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
                k.forget_quoting();
                v.forget_quoting();
            }),
        }
    }

    /// `self.as_str() == Some(want)`, comparing the text before resolving the type: key lookups
    /// run this on every key they pass, and most keys differ in their text.
    fn is_str(&self, want: &str) -> bool {
        match &self.value {
            Value::Scalar(s) => {
                s.value == want && (!s.plain || plain_type(want) == PlainType::String)
            }
            _ => false,
        }
    }

    /// True for an explicit or implied null (`~`, `null`, empty).
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar(s) if s.plain && plain_type(&s.value) == PlainType::Null)
    }

    /// The entries of a mapping.
    pub fn as_map(&self) -> Option<&[(Node<'a>, Node<'a>)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The entries of a mapping, for editing.
    pub fn as_map_mut(&mut self) -> Option<&mut Vec<(Node<'a>, Node<'a>)>> {
        match &mut self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The items of a sequence.
    pub fn as_seq(&self) -> Option<&[Node<'a>]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The items of a sequence, for editing.
    pub fn as_seq_mut(&mut self) -> Option<&mut Vec<Node<'a>>> {
        match &mut self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The value under a string key of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.is_str(key))
            .map(|(_, v)| v)
    }

    /// The value under a string key of a mapping, for editing.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node<'a>> {
        self.as_map_mut()?
            .iter_mut()
            .find(|(k, _)| k.is_str(key))
            .map(|(_, v)| v)
    }

    /// The value at a path of string keys.
    pub fn at(&self, path: &[&str]) -> Option<&Node<'a>> {
        path.iter().try_fold(self, |node, key| node.get(key))
    }

    /// The string at a path of string keys.
    pub fn str_at(&self, path: &[&str]) -> Option<&str> {
        self.at(path)?.as_str()
    }

    /// A short description of the node's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            Value::Scalar(s) if !s.plain => "string",
            Value::Scalar(s) => plain_type(&s.value).name(),
            Value::Seq(_) => "list",
            Value::Map(_) => "mapping",
            Value::Alias => "alias",
        }
    }

    /// [`type_name`](Self::type_name) with its article, for messages: "a list", "an integer".
    pub fn a_type_name(&self) -> String {
        let name = self.type_name();
        let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        format!("{article} {name}")
    }

    /// True when the node and every node below it is plain data that the emitter writes back
    /// with the same meaning: no anchor, alias or tag, no key that is a collection, and no merge
    /// key (`<<`, which YAML 1.1 readers such as kubectl expand and YAML 1.2 does not).
    pub fn is_plain_data(&self) -> bool {
        let plain_key = |k: &Node<'_>| match &k.value {
            Value::Scalar(s) => !(s.plain && s.value == "<<"),
            _ => false,
        };
        !self.decorated
            && match &self.value {
                Value::Scalar(_) => true,
                Value::Alias => false,
                Value::Seq(items) => items.iter().all(Node::is_plain_data),
                Value::Map(entries) => entries
                    .iter()
                    .all(|(k, v)| plain_key(k) && k.is_plain_data() && v.is_plain_data()),
            }
    }

    /// The first key that appears twice in one mapping anywhere below this node, with its path.
    pub fn find_duplicate_key(&self) -> Option<String> {
        match &self.value {
            Value::Seq(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, item)| item.find_duplicate_key().map(|p| format!("[{i}].{p}"))),
            Value::Map(entries) => {
                // Most mappings hold a handful of keys: comparing each with those before it costs
                // no allocation, and reads no key of another length. A long mapping gets a set,
                // so that hostile input cannot make this quadratic.
                let mut seen = (entries.len() > SMALL_MAP).then(HashSet::new);
                for (i, (k, v)) in entries.iter().enumerate() {
                    let key = k.scalar_text().unwrap_or_default();
                    let repeated = match &mut seen {
                        Some(seen) => !seen.insert(key),
                        None => entries[..i]
                            .iter()
                            .any(|(earlier, _)| earlier.scalar_text().unwrap_or_default() == key),
                    };
                    if repeated {
                        return Some(key.to_string());
                    }
                    if let Some(p) = v.find_duplicate_key() {
                        let dot = if p.starts_with('[') { "" } else { "." };
                        return Some(format!("{key}{dot}{p}"));
                    }
                }
                None
            }
            _ => None,
        }
    }

    /// The text of any scalar, whatever its type.
    pub fn scalar_text(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s) => Some(&s.value),
            _ => None,
        }
    }

    /// Set `key` of a mapping to `value`: in place when the key exists (keeping the old node when
    /// it already means the same), appended otherwise.
    pub fn set(&mut self, key: impl Into<Cow<'a, str>>, value: Node<'a>) {
        let key = key.into();
        match self.get_mut(&key) {
            Some(old) if old.same_as(&value) => {}
            Some(old) => *old = value,
            None => {
                if let Some(entries) = self.as_map_mut() {
                    entries.push((Node::string(key), value));
                }
            }
        }
    }

    /// Remove `key` from a mapping, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Node<'a>> {
        let entries = self.as_map_mut()?;
        let i = entries.iter().position(|(k, _)| k.is_str(key))?;
        Some(entries.remove(i).1)
    }

    /// The mapping under `key`, created when missing or null; `None` when something else is there.
    pub fn map_entry(&mut self, key: &'a str) -> Option<&mut Node<'a>> {
        self.collection_entry(key, Node::map())
    }

    /// The sequence under `key`, created when missing or null; `None` when something else is there.
    pub fn seq_entry(&mut self, key: &'a str) -> Option<&mut Node<'a>> {
        self.collection_entry(key, Node::seq(Vec::new()))
    }

    fn collection_entry(&mut self, key: &'a str, empty: Node<'a>) -> Option<&mut Node<'a>> {
        let wanted = std::mem::discriminant(&empty.value);
        match self.get(key) {
            None => self.as_map_mut()?.push((Node::string(key), empty)),
            Some(n) if n.is_null() => self.set(key, empty),
            Some(_) => {}
        }
        self.get_mut(key)
            .filter(|n| std::mem::discriminant(&n.value) == wanted)
    }

    /// Structural equality: same values, and the same type for scalars; positions and quoting are
    /// ignored.
    pub fn same_as(&self, other: &Node<'_>) -> bool {
        match (&self.value, &other.value) {
            (Value::Scalar(_), Value::Scalar(_)) => {
                self.scalar_text() == other.scalar_text()
                    && self.as_str().is_some() == other.as_str().is_some()
            }
            (Value::Seq(a), Value::Seq(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same_as(y))
            }
            (Value::Map(a), Value::Map(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|((k1, v1), (k2, v2))| k1.same_as(k2) && v1.same_as(v2))
            }
            _ => false,
        }
    }
}

/// What a plain scalar means under the YAML 1.2 core schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlainType {
    /// `~`, `null`, or nothing.
    Null,
    /// `true` or `false` in any of their three spellings.
    Bool,
    /// A decimal, octal (`0o`) or hexadecimal (`0x`) integer.
    Int,
    /// A decimal float, `.inf` or `.nan`.
    Float,
    /// Anything else.
    String,
}

impl PlainType {
    fn name(self) -> &'static str {
        match self {
            PlainType::Null => "null",
            PlainType::Bool => "boolean",
            PlainType::Int => "integer",
            PlainType::Float => "number",
            PlainType::String => "string",
        }
    }
}

/// Resolve a plain scalar under the YAML 1.2 core schema.
pub fn plain_type(text: &str) -> PlainType {
    // Key lookups resolve every value they read: keep the common case, a word, to one match.
    // Every number and `.inf`/`.nan` starts with a digit, a sign or a dot.
    let numeric_start = text
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_digit() || matches!(b, b'.' | b'+' | b'-'));
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return PlainType::Null,
        "true" | "True" | "TRUE" | "false" | "False" | "FALSE" => return PlainType::Bool,
        _ if !numeric_start => return PlainType::String,
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => return PlainType::Float,
        _ => {}
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let radix_digits = |prefix: &str, ok: fn(char) -> bool| {
        text.strip_prefix(prefix)
            .is_some_and(|d| !d.is_empty() && d.chars().all(ok))
    };
    if radix_digits("0o", |c| c.is_digit(8)) || radix_digits("0x", |c| c.is_ascii_hexdigit()) {
        return PlainType::Int;
    }
    if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return PlainType::Int;
    }
    if is_core_float(unsigned) {
        PlainType::Float
    } else {
        PlainType::String
    }
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, the core schema's float without its sign.
fn is_core_float(s: &str) -> bool {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => digits(int) && digits(frac) && !(int.is_empty() && frac.is_empty()),
        None => !mantissa.is_empty() && digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duplicate_key_is_named_by_its_path() {
        let dup = |yaml| parse_document(yaml).unwrap().find_duplicate_key();
        assert_eq!(dup("a: 1\nb: 2\n"), None);
        assert_eq!(dup("a: 1\na: 2\n").as_deref(), Some("a"));
        assert_eq!(
            dup("spec:\n  containers:\n  - name: x\n    image: a\n    image: b\n").as_deref(),
            Some("spec.containers[0].image")
        );
        // The first key repeated, in document order, whether the mapping is compared pairwise or
        // through a set.
        for keys in [SMALL_MAP - 2, SMALL_MAP + 1, 500] {
            let nested: String = (0..keys)
                .map(|i| format!("k{i}: {{n: 1, n: 2}}\n"))
                .collect();
            let flat: String = (0..keys).map(|i| format!("k{i}: 1\n")).collect();
            let repeated = format!("{flat}k3: 2\nk1: 2\n");
            let dup = |yaml: &str| parse_document(yaml).unwrap().find_duplicate_key();
            assert_eq!(dup(&nested).as_deref(), Some("k0.n"), "{keys} keys");
            assert_eq!(dup(&flat), None, "{keys} keys");
            assert_eq!(dup(&repeated).as_deref(), Some("k3"), "{keys} keys");
        }
    }

    #[test]
    fn plain_scalars_resolve_like_yaml_1_2_core() {
        for (text, want) in [
            ("", PlainType::Null),
            ("~", PlainType::Null),
            ("True", PlainType::Bool),
            ("on", PlainType::String),
            ("yes", PlainType::String),
            ("0755", PlainType::Int),
            ("-12", PlainType::Int),
            ("0x1F", PlainType::Int),
            ("0o17", PlainType::Int),
            ("1_000", PlainType::String),
            ("1.5e3", PlainType::Float),
            (".5", PlainType::Float),
            (".", PlainType::String),
            ("-.inf", PlainType::Float),
            ("2024-01-01", PlainType::String),
            ("nginx:1.25", PlainType::String),
            ("99999999999999999999999", PlainType::Int),
        ] {
            assert_eq!(plain_type(text), want, "{text:?}");
        }
    }
}
