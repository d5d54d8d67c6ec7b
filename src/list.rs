//! Reads the `ResourceList` on stdin: its items as trees, its function config, and the layout of
//! its text so that untouched items can be written back exactly as they came.
//!
//! Plain block-style input, the way kpt and kustomize write it, can also be [scanned]: its layout
//! is read from its lines, and its items are parsed only when asked for ([`ResourceList::read_items`]).
//!
//! [scanned]: ResourceList::scan

use crate::yaml::{Node, Value, parse_document, parse_fragment};
use std::fmt;
use std::ops::Range;

/// The largest input read; far above any package (10,000 objects are about 4 MiB).
pub const MAX_INPUT_BYTES: usize = 32 * 1024 * 1024;

/// A parsed `ResourceList`.
pub struct ResourceList<'a> {
    /// The input text, without a byte-order mark.
    pub text: &'a str,
    /// The top-level mapping, its `items` taken out.
    pub root: Node<'a>,
    /// The items; one not [read](ResourceList::read_items) yet stands as an empty mapping.
    items: Vec<Node<'a>>,
    /// Which items are parsed.
    read: Vec<bool>,
    /// Where each part sits in `text`, when the input is block-style YAML whose parts can be
    /// copied; `None` for JSON and flow-style input, which is re-written as a whole.
    pub layout: Option<Layout>,
}

/// Byte positions of the top-level keys and of each item.
#[derive(Debug)]
pub struct Layout {
    /// Each top-level key's name and the start of its first line.
    pub keys: Vec<(String, usize)>,
    /// Where the top-level mapping ends: new top-level keys are written here.
    pub end: usize,
    /// One entry per item, in order.
    pub entries: Vec<Entry>,
    /// The end of the last item's text.
    pub items_end: usize,
    /// Column of the items' `-` indicators.
    pub dash_column: usize,
}

/// Where one item sits: `line..body` holds its `- ` and any comments, `body..` its content.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// Start of the line with the item's `-`.
    pub line: usize,
    /// Start of the item's content.
    pub body: usize,
    /// Column of the item's content, the indentation of its keys.
    pub column: usize,
}

/// Why the input is not a `ResourceList`; reported as one line on stderr.
#[derive(Debug)]
pub struct NotAResourceList(pub String);

impl fmt::Display for NotAResourceList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "input is not a ResourceList: {}", self.0)
    }
}

impl std::error::Error for NotAResourceList {}

impl<'a> ResourceList<'a> {
    /// Parse and check the shape of a `ResourceList`.
    pub fn parse(text: &'a str) -> Result<Self, NotAResourceList> {
        let fail = |m: String| Err(NotAResourceList(m));
        if text.len() > MAX_INPUT_BYTES {
            return fail(format!(
                "it is {} MiB, and at most {} MiB are read",
                text.len() / (1024 * 1024),
                MAX_INPUT_BYTES / (1024 * 1024)
            ));
        }
        let root =
            parse_document(text).map_err(|e| NotAResourceList(format!("invalid YAML at {e}")))?;
        let Some(entries) = root.as_map() else {
            return fail(format!(
                "the document is {}, not a mapping",
                root.a_type_name()
            ));
        };
        let mut names = std::collections::HashSet::new();
        if let Some((key, _)) = entries.iter().find(|(k, _)| !names.insert(k.scalar_text())) {
            return fail(format!(
                "the key {:?} appears twice",
                key.scalar_text().unwrap_or("")
            ));
        }
        match (root.str_at(&["apiVersion"]), root.str_at(&["kind"])) {
            (
                Some("config.kubernetes.io/v1" | "config.kubernetes.io/v1beta1"),
                Some("ResourceList"),
            ) => {}
            (api_version, kind) => {
                return fail(format!(
                    "expected apiVersion config.kubernetes.io/v1 and kind ResourceList, found {} {}",
                    api_version.unwrap_or("(no apiVersion)"),
                    kind.unwrap_or("(no kind)")
                ));
            }
        }
        let items = match root.get("items") {
            None => return fail("it has no items".into()),
            Some(items) => match items.as_seq() {
                Some(items) => items,
                None => return fail(format!("items is {}, not a list", items.a_type_name())),
            },
        };
        if let Some((i, item)) = items
            .iter()
            .enumerate()
            .find(|(_, item)| item.as_map().is_none())
        {
            return fail(format!(
                "items[{i}] is {}, not an object",
                item.a_type_name()
            ));
        }
        let layout = Layout::find(text, &root);
        if layout.is_none() && !root.is_plain_data() {
            return fail("it cannot be copied item by item (flow style, JSON or `?` keys) and holds anchors, aliases, tags, merge keys (<<) or keys that are collections, which cannot be re-written".into());
        }
        let mut root = root;
        let items = root
            .get_mut("items")
            .and_then(Node::as_seq_mut)
            .map(std::mem::take)
            .unwrap_or_default();
        Ok(ResourceList {
            text,
            root,
            read: vec![true; items.len()],
            items,
            layout,
        })
    }

    /// Read the layout of plain block-style input from its lines, and parse only its top-level
    /// keys other than `items`; no item is parsed yet. `None` when the input is not of that plain
    /// shape or not a `ResourceList` as far as the scan can tell: [`ResourceList::parse`] then
    /// reads it whole, and says what is wrong.
    pub fn scan(text: &'a str) -> Option<Self> {
        if text.len() > MAX_INPUT_BYTES {
            return None;
        }
        let layout = Layout::scan(text)?;
        let mut root = Node::map();
        root.end = text.len();
        let entries = root.as_map_mut()?;
        for (i, (name, _)) in layout.keys.iter().enumerate() {
            if name == "items" {
                entries.push((Node::string("items"), Node::seq(Vec::new())));
                continue;
            }
            let Value::Map(pairs) = parse_fragment(text, layout.key_span(i), 0).ok()?.value else {
                return None;
            };
            let [(key, value)] = <[_; 1]>::try_from(pairs).ok()?;
            if key.as_str() != Some(name) {
                return None;
            }
            entries.push((key, value));
        }
        let api_version = root.str_at(&["apiVersion"]);
        let is_list = matches!(
            api_version,
            Some("config.kubernetes.io/v1" | "config.kubernetes.io/v1beta1")
        ) && root.str_at(&["kind"]) == Some("ResourceList");
        if !is_list {
            return None;
        }
        let items = layout
            .entries
            .iter()
            .enumerate()
            .map(|(i, entry)| {
                let mut unread = Node::map();
                unread.start = entry.body;
                unread.end = layout.entry_span(i).end;
                unread
            })
            .collect::<Vec<_>>();
        Some(ResourceList {
            text,
            root,
            read: vec![false; items.len()],
            items,
            layout: Some(layout),
        })
    }

    /// Parse each item not read yet whose text `wanted` accepts. `false` when one of them cannot
    /// be read on its own (an alias of an anchor in another item, say): the list must then be
    /// [parsed](ResourceList::parse) whole.
    pub fn read_items(&mut self, wanted: impl Fn(&str) -> bool) -> bool {
        let Some(layout) = &self.layout else {
            return true;
        };
        for (i, read) in self.read.iter_mut().enumerate() {
            let span = layout.entry_span(i);
            if *read || !wanted(&self.text[span.clone()]) {
                continue;
            }
            let Some(item) = parse_item(self.text, span) else {
                return false;
            };
            (self.items[i], *read) = (item, true);
        }
        true
    }

    /// Parse every item not read yet that can be read on its own, and leave the others as the text
    /// they came in: for a list that does not parse whole.
    pub fn read_every_item(&mut self) {
        let Some(layout) = &self.layout else {
            return;
        };
        for (i, read) in self.read.iter_mut().enumerate() {
            if *read {
                continue;
            }
            if let Some(item) = parse_item(self.text, layout.entry_span(i)) {
                (self.items[i], *read) = (item, true);
            }
        }
    }

    /// The items, in order.
    pub fn items(&self) -> &[Node<'a>] {
        &self.items
    }

    /// The function config, if the orchestrator sent one.
    pub fn function_config(&self) -> Option<&Node<'a>> {
        self.root.get("functionConfig").filter(|n| !n.is_null())
    }
}

/// The item whose lines, from its `-`, are `span` of `text`; `None` when it cannot be read on its
/// own. Those lines are a block sequence of one mapping; in the whole input, the top-level
/// mapping holds that sequence.
fn parse_item(text: &str, span: Range<usize>) -> Option<Node<'_>> {
    let Ok(Value::Seq(seq)) = parse_fragment(text, span, 1).map(|n| n.value) else {
        return None;
    };
    match <[_; 1]>::try_from(seq) {
        Ok([item]) if item.as_map().is_some() => Some(item),
        _ => None,
    }
}

impl Layout {
    /// The layout of block-style input whose keys all start lines at column 0, or `None`.
    fn find(text: &str, root: &Node<'_>) -> Option<Layout> {
        let items = root.get("items")?;
        if root.flow || items.flow || items.as_seq()?.is_empty() {
            return None;
        }
        let trailing = text.get(root.end..)?;
        if !trailing
            .lines()
            .all(|l| is_blank_or_comment(l) || is_document_end(l))
        {
            return None;
        }
        let mut keys = Vec::new();
        let mut items_key = None;
        for (key, value) in root.as_map()? {
            let line = line_start(text, key.start);
            if line != key.start {
                return None;
            }
            let name = key.as_str()?.to_string();
            if std::ptr::eq(value, items) {
                items_key = Some(keys.len());
            }
            keys.push((name, line));
        }
        let items_key = items_key?;
        let entries: Vec<Entry> = items
            .as_seq()?
            .iter()
            .map(|item| {
                let line = dash_line(text, item.start)?;
                Some(Entry {
                    line,
                    body: item.start,
                    column: item.start - line_start(text, item.start),
                })
            })
            .collect::<Option<_>>()?;
        let dash_column = text[entries[0].line..].find('-')?;
        let items_end = keys.get(items_key + 1).map_or(root.end, |(_, line)| *line);
        Some(Layout {
            keys,
            end: root.end,
            entries,
            items_end,
            dash_column,
        })
    }

    /// The layout of plain block-style input, read from its lines alone: every top-level key a
    /// plain `key:` at column 0, and `items` a block sequence whose every entry starts `- key:`
    /// on its dash line, with all its other lines blank, comments, or indented at least as far as
    /// its keys. `None` for anything else (flow style, tabs, CRs, document markers, quoted keys).
    ///
    /// Lines alone cannot tell a `- ` line inside a quoted scalar or a flow collection that spans
    /// lines from an item: an item whose line leaves one open must be read before the list is
    /// trusted (`select::must_read`), and then fails to parse if it was cut inside it.
    fn scan(text: &str) -> Option<Layout> {
        if text.contains('\r') {
            return None;
        }
        let mut keys: Vec<(String, usize)> = Vec::new();
        let mut entries: Vec<Entry> = Vec::new();
        let mut in_items = false;
        let mut items_end = None;
        let mut dash_column = None;
        // The line of a `-` whose item starts on a later line (`- # comment`, or a bare `-`).
        let mut dash_alone = None;
        // The `...` line that ends the document; only comments may follow it.
        let mut document_end = None;
        let mut at = 0;
        for line in text.split_inclusive('\n') {
            let start = at;
            at += line.len();
            let content = line.trim_start_matches(' ');
            let indent = line.len() - content.len();
            if content.starts_with('\t') {
                return None;
            }
            let content = content.trim_end_matches('\n');
            if content.is_empty() || content.starts_with('#') {
                continue;
            }
            if document_end.is_some() {
                return None;
            }
            if indent == 0 && is_document_end(content) {
                if in_items {
                    items_end = Some(start);
                    in_items = false;
                }
                document_end = Some(start);
                continue;
            }
            if indent == 0 && !content.starts_with('-') {
                let (name, rest) = plain_key(content)?;
                if in_items {
                    items_end = Some(start);
                    in_items = false;
                }
                if name == "items" {
                    if !(rest.is_empty() || rest.starts_with('#')) || items_end.is_some() {
                        return None;
                    }
                    in_items = true;
                }
                keys.push((name.to_string(), start));
                continue;
            }
            if !in_items {
                // A value line of the key above it: indented, or an entry of a sequence at
                // column 0 (`results:` as this function writes it).
                let entry = content == "-" || content.starts_with("- ");
                if keys.is_empty() || (indent == 0 && !entry) {
                    return None;
                }
                continue;
            }
            let dash = *dash_column.get_or_insert(indent);
            if let Some(line) = dash_alone.take() {
                // The first line of the item that the `-` above opened.
                if indent <= dash {
                    return None;
                }
                plain_key(content)?;
                entries.push(Entry {
                    line,
                    body: start + indent,
                    column: indent,
                });
            } else if indent == dash && (content == "-" || content.starts_with("- ")) {
                let after_dash = content[1..].trim_start_matches(' ');
                if after_dash.is_empty() || after_dash.starts_with('#') {
                    dash_alone = Some(start);
                    continue;
                }
                let body = start + indent + (content.len() - after_dash.len());
                plain_key(after_dash)?;
                entries.push(Entry {
                    line: start,
                    body,
                    column: body - start,
                });
            } else if entries.last().is_none_or(|e| indent < e.column) {
                return None;
            }
        }
        let mut names = std::collections::HashSet::new();
        if entries.is_empty()
            || dash_alone.is_some()
            || !keys.iter().all(|(name, _)| names.insert(name.as_str()))
        {
            return None;
        }
        let end = document_end.unwrap_or(text.len());
        Some(Layout {
            keys,
            end,
            entries,
            items_end: items_end.unwrap_or(end),
            dash_column: dash_column?,
        })
    }

    /// The text span of item `i`, from its `-` line to the next item.
    pub fn entry_span(&self, i: usize) -> Range<usize> {
        let end = self.entries.get(i + 1).map_or(self.items_end, |e| e.line);
        self.entries[i].line..end
    }

    /// The text span of top-level key `i`, up to the next key.
    pub fn key_span(&self, i: usize) -> Range<usize> {
        let end = self.keys.get(i + 1).map_or(self.end, |(_, line)| *line);
        self.keys[i].1..end
    }
}

fn is_blank_or_comment(line: &str) -> bool {
    let content = line.trim();
    content.is_empty() || content.starts_with('#')
}

/// The `...` marker that ends a YAML document, alone on its line or before a comment.
fn is_document_end(line: &str) -> bool {
    line.strip_prefix("...").is_some_and(|rest| {
        is_blank_or_comment(rest) && (rest.is_empty() || rest.starts_with([' ', '\t', '\n']))
    })
}

/// A line that starts with a plain mapping key (letters, digits and `_./-`, then `:` and a space
/// or the end): the key, and what follows the `:`, trimmed.
fn plain_key(line: &str) -> Option<(&str, &str)> {
    let len = line
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || b"_./-".contains(b))
        .count();
    let (key, rest) = line.split_at(len);
    let rest = rest.strip_prefix(':')?;
    if key.is_empty() || !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    Some((key, rest.trim()))
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

/// The start of the line holding the `-` that introduces the item starting at `body`: on the same
/// line, or on an earlier one with only blank and comment lines between.
fn dash_line(text: &str, body: usize) -> Option<usize> {
    let mut line = line_start(text, body);
    if text[line..body].trim_start().starts_with('-') {
        return Some(line);
    }
    while line > 0 {
        line = line_start(text, line - 1);
        let content = text[line..].lines().next().unwrap_or("").trim_start();
        if content.starts_with('-') {
            return Some(line);
        }
        if !(content.is_empty() || content.starts_with('#')) {
            return None;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        ResourceList::parse(text)
            .err()
            .expect("should fail")
            .to_string()
    }

    const HEADER: &str = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n";

    #[test]
    fn shapes_that_are_not_resource_lists_are_refused() {
        assert!(err("- a\n").contains("is a list"));
        assert!(err("apiVersion: v1\nkind: ConfigMap\nitems: []\n").contains("found v1 ConfigMap"));
        assert!(err(HEADER).contains("no items"));
        assert!(err(&format!("{HEADER}items: {{}}\n")).contains("items is a mapping"));
        assert!(err(&format!("{HEADER}items:\n- a\n")).contains("items[0] is a string"));
        assert!(err(&format!("{HEADER}items: []\nitems: []\n")).contains("appears twice"));
        assert!(err("a: [").contains("invalid YAML"));
    }

    #[test]
    fn block_items_are_located_with_their_comments() {
        let text = format!(
            "{HEADER}items:\n- # first\n  kind: A\n-\n  kind: B\n# between\nfunctionConfig: {{}}\n"
        );
        let list = ResourceList::parse(&text).unwrap();
        let layout = list.layout.unwrap();
        assert_eq!(&text[layout.entry_span(0)], "- # first\n  kind: A\n");
        assert_eq!(&text[layout.entry_span(1)], "-\n  kind: B\n# between\n");
        assert_eq!(layout.entries[0].column, 2);
        assert_eq!(
            layout.keys.iter().map(|k| k.0.as_str()).collect::<Vec<_>>(),
            ["apiVersion", "kind", "items", "functionConfig"]
        );
    }

    #[test]
    fn json_input_has_no_layout() {
        let text = r#"{"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [{"kind": "A"}]}"#;
        assert!(ResourceList::parse(text).unwrap().layout.is_none());
    }
}
