//! Reads typed views (`serde::Deserialize`) straight from a [`Node`], with field paths in errors.

use super::{Node, PlainType, Value, plain_type};
use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// A node did not have the shape a typed view expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeError {
    /// Dotted path below the node that was read, e.g. `configMapKeys[1]`; empty for the node itself.
    pub path: String,
    /// What was wrong there.
    pub message: String,
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError {
            path: String::new(),
            message: msg.to_string(),
        }
    }
}

impl DeError {
    fn under(mut self, segment: &str) -> Self {
        self.path = match (self.path.is_empty(), segment.starts_with('[')) {
            (true, _) => segment.to_string(),
            (false, true) => format!("{segment}{}", self.path),
            (false, false) if self.path.starts_with('[') => format!("{segment}{}", self.path),
            (false, false) => format!("{segment}.{}", self.path),
        };
        self
    }
}

/// Deserialize a typed view of `node`. Anchors, aliases and tags are refused: the function
/// never expands them, so it cannot be sure what they mean.
pub fn from_node<'de, T: serde::Deserialize<'de>>(node: &'de Node<'de>) -> Result<T, DeError> {
    T::deserialize(node)
}

impl<'de> de::Deserializer<'de> for &'de Node<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.decorated {
            return Err(de::Error::custom(
                "YAML anchors and tags are not supported here",
            ));
        }
        match &self.value {
            Value::Scalar(s) if !s.plain => visitor.visit_str(&s.value),
            Value::Scalar(s) => match plain_type(&s.value) {
                PlainType::Null => visitor.visit_unit(),
                PlainType::Bool => visitor.visit_bool(s.value.eq_ignore_ascii_case("true")),
                PlainType::Int => match s.value.parse::<i64>() {
                    Ok(n) => visitor.visit_i64(n),
                    Err(_) => visitor.visit_str(&s.value),
                },
                PlainType::Float => match s.value.parse::<f64>() {
                    Ok(n) => visitor.visit_f64(n),
                    Err(_) => visitor.visit_str(&s.value),
                },
                PlainType::String => visitor.visit_str(&s.value),
            },
            Value::Seq(items) => visitor.visit_seq(Items {
                items: items.iter(),
                index: 0,
            }),
            Value::Map(entries) => visitor.visit_map(Entries {
                entries: entries.iter(),
                key: String::new(),
            }),
            Value::Alias => Err(de::Error::custom("YAML aliases are not supported here")),
        }
    }

    /// Strings are taken from any scalar but null: `name: 123` is the string "123", as kubectl
    /// would refuse it anyway and the message is better here.
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.value {
            Value::Scalar(s) if !self.decorated && !self.is_null() => visitor.visit_str(&s.value),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.is_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.as_str() {
            Some(s) => visitor.visit_enum(s.into_deserializer()),
            None => self.deserialize_any(visitor),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf unit
        unit_struct newtype_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

struct Items<'de> {
    items: std::slice::Iter<'de, Node<'de>>,
    index: usize,
}

impl<'de> SeqAccess<'de> for Items<'de> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some(item) = self.items.next() else {
            return Ok(None);
        };
        let index = self.index;
        self.index += 1;
        seed.deserialize(item)
            .map(Some)
            .map_err(|e| e.under(&format!("[{index}]")))
    }
}

struct Entries<'de> {
    entries: std::slice::Iter<'de, (Node<'de>, Node<'de>)>,
    key: String,
}

impl<'de> MapAccess<'de> for Entries<'de> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((key, _)) = self.entries.as_slice().first() else {
            return Ok(None);
        };
        self.key = key.scalar_text().unwrap_or_default().to_string();
        seed.deserialize(key)
            .map(Some)
            .map_err(|e| e.under(&self.key))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let (_, value) = self
            .entries
            .next()
            .ok_or_else(|| de::Error::custom("value without a key"))?;
        seed.deserialize(value).map_err(|e| e.under(&self.key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_document;
    use serde::Deserialize;

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct View {
        name: String,
        keys: Option<Vec<String>>,
        count: Option<u32>,
    }

    fn view(yaml: &str) -> Result<View, DeError> {
        let doc = parse_document(yaml).unwrap();
        from_node(&doc)
    }

    #[test]
    fn typed_views_read_plain_and_quoted_scalars() {
        let v = view("name: 123\nkeys: [a, 'b']\ncount: 3\n").unwrap();
        assert_eq!(
            v,
            View {
                name: "123".into(),
                keys: Some(vec!["a".into(), "b".into()]),
                count: Some(3)
            }
        );
        assert_eq!(view("name: x\nkeys: ~\n").unwrap().keys, None);
    }

    #[test]
    fn errors_carry_the_field_path() {
        assert_eq!(
            view("name: x\nkeys: [a, [b]]\n").unwrap_err().path,
            "keys[1]"
        );
        let unknown = view("name: x\nnmae: y\n").unwrap_err();
        assert!(
            unknown.message.contains("unknown field `nmae`"),
            "{unknown}"
        );
        assert!(
            view("name: x\nkeys: a\n")
                .unwrap_err()
                .to_string()
                .starts_with("keys: invalid type")
        );
    }

    #[test]
    fn aliases_are_refused() {
        assert!(view("name: &a x\nkeys: [*a]\n").is_err());
    }
}
