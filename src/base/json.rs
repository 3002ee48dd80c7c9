//! Compact JSON text of any `Serialize` value, byte for byte what `serde_json::to_string`
//! writes. Hand-written for speed in wasm, where serde_json checked strings for escapes one
//! byte at a time and wrote every token through `io::Write`: serialising daprd's container was
//! a fifth of an evaluation. This writer checks eight bytes at a time and appends to one
//! `String`. The tests hold it to serde_json on every kind of value.

use std::fmt;

use serde::ser::{self, Serialize};

/// JSON text of a k8s-openapi object or a `Value`. Their serialisers cannot fail, so an error
/// (never seen) yields `null` rather than a panic.
pub fn to_text<T: Serialize + ?Sized>(value: &T) -> String {
    to_string(value).unwrap_or_else(|_| "null".to_owned())
}

/// The JSON text of `value`.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, Error> {
    let mut writer = Writer(String::with_capacity(128));
    value.serialize(&mut writer)?;
    Ok(writer.0)
}

/// What serialisation refuses: a map key that is not a string, or a type's own error.
#[derive(Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Error(message.to_string())
    }
}

pub struct Writer(String);

const LOW_BITS: u64 = 0x0101_0101_0101_0101;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each of the eight bytes that is below `n` (bit tricks from "Bit Twiddling
/// Hacks"). Bits above the lowest set one may be false; the lowest is exact.
fn below(w: u64, n: u8) -> u64 {
    w.wrapping_sub(LOW_BITS.wrapping_mul(u64::from(n))) & !w & HIGH_BITS
}

fn equal(w: u64, byte: u8) -> u64 {
    below(w ^ LOW_BITS.wrapping_mul(u64::from(byte)), 1)
}

/// The bytes of a word that are a control character, `"` or `\\`.
fn escapes(w: u64) -> u64 {
    below(w, 0x20) | equal(w, b'"') | equal(w, b'\\')
}

fn is_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// The offset of the first byte `found` marks in a word (`matches` for the last few bytes),
/// eight bytes at a time: a byte at a time, scanning strings was a tenth of an evaluation in
/// wasm.
fn first(bytes: &[u8], found: fn(u64) -> u64, matches: fn(u8) -> bool) -> Option<usize> {
    let mut i = 0usize;
    while let Some(word) = bytes.get(i..i.saturating_add(8)) {
        let hits = found(u64::from_le_bytes(word.try_into().ok()?));
        if hits != 0 {
            return Some(i.saturating_add(hits.trailing_zeros() as usize / 8));
        }
        i = i.saturating_add(8);
    }
    let tail = bytes.get(i..)?.iter().position(|&b| matches(b))?;
    Some(i.saturating_add(tail))
}

/// The offset of the first `"` or `\\` in `bytes`: where a JSON string ends or escapes.
pub fn quote_or_backslash(bytes: &[u8]) -> Option<usize> {
    first(
        bytes,
        |w| equal(w, b'"') | equal(w, b'\\'),
        |b| b == b'"' || b == b'\\',
    )
}

/// serde_json's escape of one byte that needs one: short forms, else `\u00xx` in lower case.
fn escape(byte: u8, out: &mut String) {
    let short = match byte {
        b'"' => "\\\"",
        b'\\' => "\\\\",
        b'\n' => "\\n",
        b'\r' => "\\r",
        b'\t' => "\\t",
        0x08 => "\\b",
        0x0c => "\\f",
        _ => {
            out.push_str("\\u00");
            let digit = |d: u8| char::from_digit(u32::from(d), 16).unwrap_or('0');
            out.push(digit(byte / 16));
            out.push(digit(byte % 16));
            return;
        }
    };
    out.push_str(short);
}

fn write_str(out: &mut String, s: &str) {
    out.reserve(s.len().saturating_add(2));
    out.push('"');
    let mut rest = s;
    while let Some(at) = first(rest.as_bytes(), escapes, is_escape) {
        out.push_str(rest.get(..at).unwrap_or_default());
        escape(rest.as_bytes().get(at).copied().unwrap_or_default(), out);
        rest = rest.get(at.saturating_add(1)..).unwrap_or_default();
    }
    out.push_str(rest);
    out.push('"');
}

/// A float as serde_json writes it: its own shortest form, `null` when not finite. Floats
/// are rare in Kubernetes objects.
fn float_text<T: Serialize>(v: T) -> Result<String, Error> {
    serde_json::to_string(&v).map_err(ser::Error::custom)
}

fn write_display(out: &mut String, value: impl itoa::Integer) {
    out.push_str(itoa::Buffer::new().format(value));
}

/// A list, an object, or the object that wraps an enum variant's list or object.
pub struct Compound<'a> {
    writer: &'a mut Writer,
    first: bool,
    /// The closing byte of the list or object, and whether a variant's `}` follows it.
    close: char,
    variant: bool,
}

impl<'a> Compound<'a> {
    fn open(writer: &'a mut Writer, open: char, close: char, variant: bool) -> Self {
        writer.0.push(open);
        Compound {
            writer,
            first: true,
            close,
            variant,
        }
    }

    fn separate(&mut self) {
        if !self.first {
            self.writer.0.push(',');
        }
        self.first = false;
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.separate();
        value.serialize(&mut *self.writer)
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), Error> {
        self.separate();
        write_str(&mut self.writer.0, key);
        self.writer.0.push(':');
        value.serialize(&mut *self.writer)
    }

    fn close(self) -> Result<(), Error> {
        self.writer.0.push(self.close);
        if self.variant {
            self.writer.0.push('}');
        }
        Ok(())
    }
}

impl Writer {
    fn variant_key(&mut self, variant: &str) {
        self.0.push('{');
        write_str(&mut self.0, variant);
        self.0.push(':');
    }
}

/// Integers, in decimal as serde_json writes them (itoa).
macro_rules! integers {
    ($($method:ident: $ty:ty),*) => {$(
        fn $method(self, v: $ty) -> Result<(), Error> {
            write_display(&mut self.0, v);
            Ok(())
        }
    )*};
}

impl<'a> ser::Serializer for &'a mut Writer {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.0.push_str(if v { "true" } else { "false" });
        Ok(())
    }
    integers!(
        serialize_i8: i8,
        serialize_i16: i16,
        serialize_i32: i32,
        serialize_i64: i64,
        serialize_i128: i128,
        serialize_u8: u8,
        serialize_u16: u16,
        serialize_u32: u32,
        serialize_u64: u64,
        serialize_u128: u128
    );
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.0.push_str(&float_text(v)?);
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.0.push_str(&float_text(v)?);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        write_str(&mut self.0, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        write_str(&mut self.0, v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        let mut list = Compound::open(self, '[', ']', false);
        v.iter().try_for_each(|byte| list.element(byte))?;
        list.close()
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.0.push_str("null");
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, v: &'static str) -> Result<(), Error> {
        self.serialize_str(v)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.variant_key(variant);
        value.serialize(&mut *self)?;
        self.0.push('}');
        Ok(())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a>, Error> {
        Ok(Compound::open(self, '[', ']', false))
    }
    fn serialize_tuple(self, _: usize) -> Result<Compound<'a>, Error> {
        Ok(Compound::open(self, '[', ']', false))
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, Error> {
        Ok(Compound::open(self, '[', ']', false))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, Error> {
        self.variant_key(variant);
        Ok(Compound::open(self, '[', ']', true))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a>, Error> {
        Ok(Compound::open(self, '{', '}', false))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, Error> {
        Ok(Compound::open(self, '{', '}', false))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, Error> {
        self.variant_key(variant);
        Ok(Compound::open(self, '{', '}', true))
    }
}

/// The list-shaped compounds: each item is an element, and `end` closes the list.
macro_rules! list_compound {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Compound<'_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.element(value)
            }
            fn end(self) -> Result<(), Error> {
                self.close()
            }
        }
    )*};
}

list_compound!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.separate();
        key.serialize(MapKey(&mut *self.writer))?;
        self.writer.0.push(':');
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(&mut *self.writer)
    }
    fn end(self) -> Result<(), Error> {
        self.close()
    }
}

/// The object-shaped compounds with named fields.
macro_rules! struct_compound {
    ($($trait:ident),*) => {$(
        impl ser::$trait for Compound<'_> {
            type Ok = ();
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), Error> {
                self.field(key, value)
            }
            fn end(self) -> Result<(), Error> {
                self.close()
            }
        }
    )*};
}

struct_compound!(SerializeStruct, SerializeStructVariant);

/// Object keys: strings, and integers and booleans in quotes, as serde_json writes them.
struct MapKey<'a>(&'a mut Writer);

fn key_must_be_a_string() -> Error {
    Error("key must be a string".to_owned())
}

impl MapKey<'_> {
    fn quoted(self, text: &str) -> Result<(), Error> {
        write_str(&mut self.0.0, text);
        Ok(())
    }

    fn float<T: Serialize>(self, finite: bool, v: T) -> Result<(), Error> {
        if !finite {
            return Err(Error(
                "float key must be finite (got NaN or +/-inf)".to_owned(),
            ));
        }
        self.quoted(&float_text(v)?)
    }
}

/// Integer keys, in quotes.
macro_rules! quoted_integers {
    ($($method:ident: $ty:ty),*) => {$(
        fn $method(self, v: $ty) -> Result<(), Error> {
            self.quoted(itoa::Buffer::new().format(v))
        }
    )*};
}

impl ser::Serializer for MapKey<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = ser::Impossible<(), Error>;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = ser::Impossible<(), Error>;
    type SerializeStruct = ser::Impossible<(), Error>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.quoted(v)
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.quoted(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.quoted(if v { "true" } else { "false" })
    }
    quoted_integers!(
        serialize_i8: i8,
        serialize_i16: i16,
        serialize_i32: i32,
        serialize_i64: i64,
        serialize_i128: i128,
        serialize_u8: u8,
        serialize_u16: u16,
        serialize_u32: u32,
        serialize_u64: u64,
        serialize_u128: u128
    );
    fn serialize_unit_variant(self, _: &'static str, _: u32, v: &'static str) -> Result<(), Error> {
        self.quoted(v)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.float(v.is_finite(), v)
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.float(v.is_finite(), v)
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_none(self) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(key_must_be_a_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Value, json};
    use std::collections::BTreeMap;

    fn same_as_serde_json<T: Serialize + ?Sized>(value: &T) {
        assert_eq!(
            to_string(value).map_err(|e| e.to_string()),
            serde_json::to_string(value).map_err(|e| e.to_string())
        );
    }

    #[test]
    fn every_control_character_quote_and_backslash_is_escaped_as_serde_json_escapes_it() {
        let all: String = (0u8..0x80).map(char::from).collect();
        same_as_serde_json(&all);
        same_as_serde_json(&format!("{all}{all}é\u{2028}😀\u{7f}"));
    }

    #[test]
    fn escapes_are_found_at_every_offset_of_an_eight_byte_word() {
        for at in 0..20 {
            for special in ["\"", "\\", "\n", "\u{1}", "\u{1f}"] {
                let text = format!("{}{special}{}", "a".repeat(at), "b".repeat(at));
                same_as_serde_json(&text);
            }
        }
    }

    #[test]
    fn numbers_booleans_null_and_nesting_are_written_as_serde_json_writes_them() {
        same_as_serde_json(&json!({
            "i": -42, "u": u64::MAX, "f": 1.5, "tiny": 1e-7, "big": 1e300, "t": true, "n": null,
            "list": [[], {}, [1, [2, {"a": "b"}]]], "": ""
        }));
        same_as_serde_json(&f64::NAN);
        same_as_serde_json(&[0.1f32, f32::MAX, f32::NAN]);
        same_as_serde_json(&(i128::MIN, u128::MAX, 'x', '\n', ()));
    }

    #[test]
    fn enums_and_map_keys_take_serde_json_shapes() {
        #[derive(serde::Serialize)]
        enum E {
            Unit,
            New(i32),
            Tuple(i32, String),
            Struct { a: Option<bool> },
        }
        same_as_serde_json(&[
            E::Unit,
            E::New(1),
            E::Tuple(2, "x".into()),
            E::Struct { a: None },
        ]);
        same_as_serde_json(&BTreeMap::from([(1, "one"), (-2, "minus two")]));
        same_as_serde_json(&BTreeMap::from([(true, 1)]));
        same_as_serde_json(&BTreeMap::from([((1, 2), 3)]));
        same_as_serde_json(&BTreeMap::from([(i128::MIN, 1), (1, 2)]));
        same_as_serde_json(&BTreeMap::from([(u128::MAX, 1)]));
        same_as_serde_json(&BTreeMap::from([(Some(7u8), 1)]));
        same_as_serde_json(&BTreeMap::from([(None::<u8>, 1)]));
        same_as_serde_json(&[(0.1f32, 1)].into_iter().collect::<FloatKeys<f32>>());
        same_as_serde_json(&[(1e300, 1)].into_iter().collect::<FloatKeys<f64>>());
        same_as_serde_json(&[(f64::NAN, 1)].into_iter().collect::<FloatKeys<f64>>());
        same_as_serde_json(&serde_bytes_like());
    }

    /// A map with float keys (no std map takes them).
    struct FloatKeys<T>(Vec<(T, i32)>);

    impl<T> FromIterator<(T, i32)> for FloatKeys<T> {
        fn from_iter<I: IntoIterator<Item = (T, i32)>>(items: I) -> Self {
            FloatKeys(items.into_iter().collect())
        }
    }

    impl<T: Serialize> Serialize for FloatKeys<T> {
        fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use ser::SerializeMap;
            let mut map = s.serialize_map(Some(self.0.len()))?;
            for (k, v) in &self.0 {
                map.serialize_entry(k, v)?;
            }
            map.end()
        }
    }

    fn serde_bytes_like() -> impl Serialize {
        struct Bytes;
        impl Serialize for Bytes {
            fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(&[0, 1, 255])
            }
        }
        Bytes
    }

    #[test]
    fn a_kubernetes_container_is_written_as_serde_json_writes_it() {
        let container: k8s_openapi::api::core::v1::Container = serde_json::from_value(json!({
            "name": "daprd", "image": "ghcr.io/dapr/daprd:1.18.3", "args": ["--a", "b\tc"],
            "env": [{"name": "X", "value": "line\nline"}, {"name": "Y", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
            "ports": [{"containerPort": 3500, "name": "dapr-http"}],
            "resources": {"limits": {"cpu": "1"}},
            "livenessProbe": {"httpGet": {"path": "/", "port": 3501}, "periodSeconds": 10},
            "securityContext": {"runAsNonRoot": true}
        }))
        .unwrap();
        same_as_serde_json(&container);
    }

    #[test]
    fn the_first_quote_or_backslash_is_found_at_every_offset() {
        for at in 0..20 {
            for special in ["\"", "\\"] {
                let text = format!("{}{special}x\"\\", "a".repeat(at));
                assert_eq!(quote_or_backslash(text.as_bytes()), Some(at), "{text}");
            }
            assert_eq!(quote_or_backslash("é".repeat(at).as_bytes()), None);
        }
    }

    proptest! {
        #[test]
        fn the_first_quote_or_backslash_of_any_text_is_found(text in any::<String>()) {
            let expected = text.bytes().position(|b| b == b'"' || b == b'\\');
            prop_assert_eq!(quote_or_backslash(text.as_bytes()), expected);
        }

        #[test]
        fn any_string_is_written_as_serde_json_writes_it(text in any::<String>()) {
            same_as_serde_json(&text);
        }

        #[test]
        fn any_json_value_is_written_as_serde_json_writes_it(
            text in "[ -~\\n\\t\\u{0}-\\u{1f}é]{0,40}",
            number in any::<i64>(),
        ) {
            let value: Value = json!({ "s": text, "n": number, "l": [text, number] });
            same_as_serde_json(&value);
        }
    }
}
