//! Builds a [`Node`] tree with byte positions from `saphyr-parser` events.

use super::{Node, Scalar, Value};
use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

/// Deeper nesting than any Kubernetes object needs; the limit keeps hostile input bounded.
pub const MAX_DEPTH: usize = 128;

/// Why the input could not be read as one YAML document.
#[derive(Debug)]
pub struct ParseError {
    /// 1-based line of the problem.
    pub line: usize,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Parse `text` (no byte-order mark) as exactly one YAML document.
pub fn parse_document(text: &str) -> Result<Node<'_>, ParseError> {
    parse_fragment(text, 0..text.len(), 0)
}

/// Parse `text[range]` as exactly one YAML document, with node positions in `text`: for parts of
/// a larger input that are read on their own. `enclosing` collections hold the part in the whole
/// input, so that the nesting limit counts as it would there.
pub fn parse_fragment(
    text: &str,
    range: Range<usize>,
    enclosing: usize,
) -> Result<Node<'_>, ParseError> {
    let base = range.start;
    let text = &text[range];
    let mut builder = Builder {
        text,
        base,
        enclosing,
        offsets: Offsets::new(text),
        stack: Vec::new(),
        children: Vec::new(),
        root: None,
    };
    let mut documents = 0;
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| ParseError {
            line: e.marker().line(),
            message: e.info().to_string(),
        })?;
        if let Event::DocumentStart(_) = event {
            documents += 1;
            if documents > 1 {
                return Err(ParseError {
                    line: span.start.line(),
                    message: "expected one YAML document, found another".into(),
                });
            }
        }
        builder.on_event(event, span)?;
    }
    builder.root.ok_or(ParseError {
        line: 1,
        message: "the input is empty".into(),
    })
}

/// Maps saphyr's character offsets to byte offsets, moving a cursor because events arrive in order.
struct Offsets<'a> {
    text: &'a str,
    ascii: bool,
    chars: usize,
    bytes: usize,
}

impl<'a> Offsets<'a> {
    fn new(text: &'a str) -> Self {
        Offsets {
            text,
            ascii: text.is_ascii(),
            chars: 0,
            bytes: 0,
        }
    }

    fn byte(&mut self, char_index: usize) -> usize {
        if self.ascii {
            return char_index.min(self.text.len());
        }
        while self.chars < char_index {
            let Some(c) = self.text[self.bytes..].chars().next() else {
                break;
            };
            self.bytes += c.len_utf8();
            self.chars += 1;
        }
        while self.chars > char_index {
            let Some(c) = self.text[..self.bytes].chars().next_back() else {
                break;
            };
            self.bytes -= c.len_utf8();
            self.chars -= 1;
        }
        self.bytes
    }
}

/// An open collection, and where its children start in [`Builder::children`].
struct Frame<'a> {
    node: Node<'a>,
    first_child: usize,
}

/// Children pile up on one shared stack while their collection is open and move into a vector of
/// exactly their number when it closes: no per-collection regrowth, no spare capacity kept.
struct Builder<'a> {
    /// The text parsed, and where it starts in the whole input.
    text: &'a str,
    base: usize,
    enclosing: usize,
    offsets: Offsets<'a>,
    stack: Vec<Frame<'a>>,
    children: Vec<Node<'a>>,
    root: Option<Node<'a>>,
}

impl<'a> Builder<'a> {
    fn on_event(&mut self, event: Event<'a>, span: Span) -> Result<(), ParseError> {
        let start = self.offsets.byte(span.start.index());
        let end = self.offsets.byte(span.end.index());
        let flow = end > start;
        let base = self.base;
        let node = |value, decorated| Node {
            value,
            start: base + start,
            end: base + end,
            flow,
            decorated,
        };
        match event {
            Event::Scalar(value, style, anchor, tag) => {
                // saphyr spans an implied empty value (`{a, b: c}`, `? a` then `? b`) over the
                // indicator after it; no other plain scalar is empty.
                let source = if style == ScalarStyle::Plain && value.is_empty() {
                    Some("")
                } else {
                    one_line_source(self.text, start, end, style)
                };
                let value = borrow_if_verbatim(value, source, style);
                let source = source.map(Cow::Borrowed);
                let plain = style == ScalarStyle::Plain;
                let decorated = anchor != 0 || tag.is_some();
                self.add(node(
                    Value::Scalar(Scalar {
                        value,
                        plain,
                        source,
                    }),
                    decorated,
                ))
            }
            Event::Alias(_) => self.add(node(Value::Alias, true)),
            Event::SequenceStart(anchor, tag) => self.open(
                node(Value::Seq(Vec::new()), anchor != 0 || tag.is_some()),
                span,
            ),
            Event::MappingStart(anchor, tag) => self.open(
                node(Value::Map(Vec::new()), anchor != 0 || tag.is_some()),
                span,
            ),
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Frame {
                    node: mut n,
                    first_child,
                }) => {
                    n.end = base + end;
                    let mut children = self.children.drain(first_child..);
                    match &mut n.value {
                        Value::Seq(items) => *items = children.by_ref().collect(),
                        Value::Map(entries) => {
                            // Keys and values alternate; a key without a value is dropped.
                            entries.reserve_exact(children.len() / 2);
                            while let (Some(k), Some(v)) = (children.next(), children.next()) {
                                entries.push((k, v));
                            }
                        }
                        _ => {}
                    }
                    drop(children);
                    self.add(n)
                }
                None => Ok(()),
            },
            _ => Ok(()),
        }
    }

    fn open(&mut self, node: Node<'a>, span: Span) -> Result<(), ParseError> {
        if self.enclosing + self.stack.len() >= MAX_DEPTH {
            return Err(ParseError {
                line: span.start.line(),
                message: format!("nested deeper than {MAX_DEPTH} levels"),
            });
        }
        self.stack.push(Frame {
            node,
            first_child: self.children.len(),
        });
        Ok(())
    }

    fn add(&mut self, node: Node<'a>) -> Result<(), ParseError> {
        if self.stack.is_empty() {
            self.root = Some(node);
        } else {
            self.children.push(node);
        }
        Ok(())
    }
}

/// saphyr hands every plain and quoted scalar over as a new `String`; when the value is its
/// one-line source text (minus the quotes), point into the input instead and free the copy.
fn borrow_if_verbatim<'a>(
    value: Cow<'a, str>,
    source: Option<&'a str>,
    style: ScalarStyle,
) -> Cow<'a, str> {
    let Cow::Owned(owned) = &value else {
        return value;
    };
    let verbatim = match (style, source) {
        (ScalarStyle::Plain, Some(source)) => Some(source),
        (ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted, Some(source)) => source
            .len()
            .checked_sub(1)
            .and_then(|end| source.get(1..end)),
        _ => None,
    };
    match verbatim {
        Some(text) if text == owned => Cow::Borrowed(text),
        _ => value,
    }
}

/// The scalar's exact source text when it sits on one line; multi-line and block scalars are
/// re-written from their value instead. saphyr's end offset can overrun a quoted scalar into a
/// trailing comment, so quoted scalars are measured here.
fn one_line_source(text: &str, start: usize, end: usize, style: ScalarStyle) -> Option<&str> {
    let rest = text.get(start..)?;
    let len = match style {
        ScalarStyle::Plain => end.checked_sub(start)?,
        ScalarStyle::SingleQuoted => closing_quote(rest, b'\'')?,
        ScalarStyle::DoubleQuoted => closing_quote(rest, b'"')?,
        _ => return None,
    };
    let source = rest.get(..len)?;
    (!source.contains(['\n', '\r'])).then_some(source)
}

/// Length up to and including the quote that closes the scalar opening `s`.
fn closing_quote(s: &str, quote: u8) -> Option<usize> {
    let bytes = s.as_bytes();
    if bytes.first() != Some(&quote) {
        return None;
    }
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote == b'"' => i += 2,
            b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 2,
            b if b == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source_of(yaml: &str, key: &str) -> Option<String> {
        let doc = parse_document(yaml).unwrap();
        match &doc.get(key).unwrap().value {
            Value::Scalar(s) => s.source.as_ref().map(|s| s.to_string()),
            _ => panic!("not a scalar"),
        }
    }

    #[test]
    fn scalars_keep_their_one_line_source() {
        let yaml = "a: 'it''s' # c\nb: \"x\\\"y\"\nc: plain text\nd: |\n  lit\ne: two\n  lines\n";
        assert_eq!(source_of(yaml, "a").as_deref(), Some("'it''s'"));
        assert_eq!(source_of(yaml, "b").as_deref(), Some("\"x\\\"y\""));
        assert_eq!(source_of(yaml, "c").as_deref(), Some("plain text"));
        assert_eq!(source_of(yaml, "d"), None);
        assert_eq!(source_of(yaml, "e"), None);
    }

    #[test]
    fn verbatim_scalars_point_into_the_input() {
        let yaml = "plain: a b\nsingle: 'c'\ndouble: \"d\"\nescaped: \"e\\tf\"\nquote: 'it''s'\nk: [x, \"y\"]\n";
        let doc = parse_document(yaml).unwrap();
        let value = |key: &str| match &doc.get(key).unwrap().value {
            Value::Scalar(s) => (s.value.to_string(), matches!(s.value, Cow::Borrowed(_))),
            _ => panic!("not a scalar"),
        };
        assert_eq!(value("plain"), ("a b".into(), true));
        assert_eq!(value("single"), ("c".into(), true));
        assert_eq!(value("double"), ("d".into(), true));
        assert_eq!(value("escaped"), ("e\tf".into(), false));
        assert_eq!(value("quote"), ("it's".into(), false));
        let (keys, items) = (
            doc.as_map().unwrap(),
            doc.get("k").unwrap().as_seq().unwrap(),
        );
        assert_eq!(keys.len(), 6);
        assert_eq!(
            items
                .iter()
                .map(|n| n.as_str().unwrap())
                .collect::<Vec<_>>(),
            ["x", "y"]
        );
    }

    #[test]
    fn byte_offsets_survive_multibyte_text() {
        let yaml = "a: \"é ü\"\nb: x\n";
        let doc = parse_document(yaml).unwrap();
        let (key, _) = &doc.as_map().unwrap()[1];
        assert_eq!(&yaml[key.start..key.start + 1], "b");
    }

    #[test]
    fn hostile_shapes_are_errors() {
        assert!(parse_document("").is_err());
        assert!(parse_document("a: 1\n---\nb: 2\n").is_err());
        let deep = "[".repeat(10_000);
        assert!(parse_document(&deep).is_err());
        let deep_block = (0..1000)
            .map(|i| format!("{}k:\n", " ".repeat(i)))
            .collect::<String>();
        assert!(
            parse_document(&deep_block)
                .unwrap_err()
                .message
                .contains("nested deeper")
        );
    }

    #[test]
    fn anchors_and_aliases_are_marked() {
        let doc = parse_document("a: &x {b: 1}\nc: *x\n").unwrap();
        assert!(!doc.is_plain_data());
        assert!(parse_document("a: {b: 1}\n").unwrap().is_plain_data());
    }
}
