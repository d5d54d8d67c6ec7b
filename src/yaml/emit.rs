//! Writes a [`Node`] as block-style YAML that kubectl's YAML 1.1 reader reads the same way.

use super::{Node, PlainType, Scalar, Value, plain_type};

/// The longest key YAML reads without an explicit `? ` indicator, less a margin.
const MAX_IMPLICIT_KEY: usize = 1000;

/// Write `node` as a block value whose first line starts at the cursor, which stands at column
/// `indent`; later lines are indented by `indent` spaces. Every line ends with `\n`.
pub fn emit_block(out: &mut String, node: &Node<'_>, indent: usize) {
    match &node.value {
        Value::Map(entries) if !entries.is_empty() => {
            for (i, (key, value)) in entries.iter().enumerate() {
                if i > 0 {
                    pad(out, indent);
                }
                let key_start = out.len();
                write_key(out, key);
                // YAML limits an implicit key to 1024 characters; a longer one needs `? `.
                if out[key_start..].chars().count() > MAX_IMPLICIT_KEY {
                    out.insert_str(key_start, "? ");
                    out.push('\n');
                    pad(out, indent);
                }
                out.push(':');
                write_after_key(out, value, indent);
            }
        }
        Value::Seq(items) if !items.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    pad(out, indent);
                }
                out.push_str("- ");
                emit_block(out, item, indent + 2);
            }
        }
        _ => {
            write_inline(out, node, indent);
            out.push('\n');
        }
    }
}

/// The value after `key:`: scalars and empty collections on the same line, the rest below.
fn write_after_key(out: &mut String, value: &Node<'_>, indent: usize) {
    match &value.value {
        Value::Map(entries) if !entries.is_empty() => {
            out.push('\n');
            pad(out, indent + 2);
            emit_block(out, value, indent + 2);
        }
        // Sequences under a key sit at the key's own indentation, as kubectl and kpt write them.
        Value::Seq(items) if !items.is_empty() => {
            out.push('\n');
            pad(out, indent);
            emit_block(out, value, indent);
        }
        _ => {
            out.push(' ');
            write_inline(out, value, indent);
            out.push('\n');
        }
    }
}

fn write_inline(out: &mut String, node: &Node<'_>, indent: usize) {
    match &node.value {
        Value::Scalar(s) => write_scalar(out, s, indent),
        Value::Map(_) => out.push_str("{}"),
        Value::Seq(_) => out.push_str("[]"),
        // Callers check `is_plain_data` before re-emitting; an alias is never written.
        Value::Alias => out.push('~'),
    }
}

fn write_key(out: &mut String, key: &Node<'_>) {
    match &key.value {
        Value::Scalar(s) if s.source.is_some() || !s.value.contains('\n') => {
            write_scalar(out, s, 0)
        }
        Value::Scalar(s) => write_double_quoted(out, &s.value),
        _ => out.push_str("\"\""),
    }
}

fn write_scalar(out: &mut String, scalar: &Scalar<'_>, indent: usize) {
    // A plain `on` or `yes` is a string to this function (YAML 1.2) but a boolean to kubectl
    // (YAML 1.1): in an item the function rewrites, such strings get quotes.
    let misread_plain_string = scalar.plain
        && plain_type(&scalar.value) == PlainType::String
        && !plain_is_safe(&scalar.value);
    if let Some(source) = scalar.source.as_ref().filter(|_| !misread_plain_string) {
        out.push_str(source);
    } else if plain_is_safe(&scalar.value) {
        out.push_str(&scalar.value);
    } else if !write_literal(out, &scalar.value, indent) {
        write_double_quoted(out, &scalar.value);
    }
}

/// True when `s` can be written without quotes and every YAML 1.1 and 1.2 reader gets the same
/// string back: not a boolean, null, number or date in either version, and no indicator that
/// would change how it parses.
pub fn plain_is_safe(s: &str) -> bool {
    const YAML_1_1_WORDS: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
        "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", "~", "<<",
        "=", ".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN",
    ];
    let Some(first) = s.chars().next() else {
        return false;
    };
    let second = s.chars().nth(1);
    let looks_numeric = first.is_ascii_digit()
        || (matches!(first, '-' | '+' | '.')
            && second.is_some_and(|c| c.is_ascii_digit() || c == '.'));
    !looks_numeric
        && !YAML_1_1_WORDS.contains(&s)
        && !"-?:,[]{}#&*!|>'\"%@`".contains(first)
        && !first.is_whitespace()
        && !s.ends_with([' ', ':'])
        && !s.contains(": ")
        && !s.contains(" #")
        && s.chars().all(|c| c != '\t' && reads_as_itself(c))
}

/// True for a character that a YAML 1.1 reader takes as it is, unescaped: printable in YAML 1.1,
/// not a line break there (U+0085, U+2028, U+2029), and no byte-order mark (allowed only before a
/// document).
fn reads_as_itself(c: char) -> bool {
    matches!(c, '\t' | ' '..='~' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
        && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}')
}

/// A multi-line string as a literal block (`|`), when that keeps it exactly; false otherwise.
fn write_literal(out: &mut String, s: &str, indent: usize) -> bool {
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    // A literal block takes its indentation from its first line with text, so that line must
    // not start with white space of its own.
    let first_text = body.split('\n').find(|line| !line.is_empty());
    let representable = s.contains('\n')
        && first_text.is_some_and(|line| !line.starts_with([' ', '\t']))
        && body.chars().all(|c| c == '\n' || reads_as_itself(c));
    if !representable {
        return false;
    }
    out.push_str(match trailing {
        0 => "|-",
        1 => "|",
        _ => "|+",
    });
    out.push('\n');
    for line in body.split('\n') {
        if !line.is_empty() {
            pad(out, indent + 2);
            out.push_str(line);
        }
        out.push('\n');
    }
    for _ in 1..trailing {
        out.push('\n');
    }
    // The caller ends the line; a literal block has already ended its own.
    out.pop();
    true
}

fn write_double_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if !reads_as_itself(c) => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_document;

    fn emit(node: &Node<'_>) -> String {
        let mut out = String::new();
        emit_block(&mut out, node, 0);
        out
    }

    #[test]
    fn strings_a_yaml_1_1_reader_would_misread_are_quoted() {
        for s in [
            "on",
            "yes",
            "n",
            "0755",
            "1_000",
            "2024-01-01",
            "~",
            "",
            "-1",
            ".5",
            "a: b",
            "#x",
        ] {
            assert!(!plain_is_safe(s), "{s:?} must be quoted");
        }
        for s in [
            "llama-stack",
            "/etc/ssl/certs/ca-bundle",
            "nginx:1.25",
            "sha256:ab",
            "ca-bundle.crt",
        ] {
            assert!(plain_is_safe(s), "{s:?} can stay plain");
        }
    }

    #[test]
    fn new_strings_round_trip_through_the_parser() {
        let tricky = [
            "on",
            "0755",
            "a \"b\" \\ c",
            "tab\there",
            "é",
            "line\nnext\n",
            " lead\nx",
            "x\n\n",
            // A literal block would take its indentation from the first line with text.
            "\n  set -e\n  echo start\n",
            "\n\n  two\nx",
            // Line breaks and non-characters to YAML 1.1, which must be escaped.
            "line\u{2028}sep",
            "para\u{2029}graph\nnext",
            "x\u{fffe}y",
            "next\u{85}line",
        ];
        let node = Node::map_of(vec![(
            "k",
            Node::seq(tricky.iter().map(|s| Node::string(*s)).collect()),
        )]);
        let text = emit(&node);
        assert!(
            !text.contains(['\u{2028}', '\u{2029}', '\u{fffe}', '\u{85}']),
            "a YAML 1.1 reader cannot take:\n{text}"
        );
        let back = parse_document(&text).unwrap();
        let items = back.get("k").unwrap().as_seq().unwrap();
        for (want, got) in tricky.iter().zip(items) {
            assert_eq!(got.as_str(), Some(*want), "in:\n{text}");
        }
    }

    #[test]
    fn source_text_of_scalars_is_kept() {
        let doc =
            parse_document("a: 0x1F\nb: '0755'\nc: {}\nd: [1, x]\ne: {f: 99999999999999999999}\n")
                .unwrap();
        assert_eq!(
            emit(&doc),
            "a: 0x1F\nb: '0755'\nc: {}\nd:\n- 1\n- x\ne:\n  f: 99999999999999999999\n"
        );
    }

    #[test]
    fn plain_strings_a_yaml_1_1_reader_would_misread_get_quotes() {
        let doc =
            parse_document("a: on\nb: 2024-01-01\nc: 1_000\nd: 0755\ne: true\nf: ~\n").unwrap();
        assert_eq!(
            emit(&doc),
            "a: \"on\"\nb: \"2024-01-01\"\nc: \"1_000\"\nd: 0755\ne: true\nf: ~\n"
        );
    }
}
