//! The state hash: 64-bit FNV-1a over a canonical byte encoding of any serde value.
//!
//! Encoding (little-endian throughout): a one-byte tag per value kind, then integers widened
//! to 64 (or 128) bits, floats as `f64::to_bits` (so -0.0, 0.0 and every NaN payload are told
//! apart and nothing depends on float formatting), strings and byte strings prefixed with their
//! length, sequences and maps with their length (or an end tag when unknown), struct fields in
//! declaration order by value only, enum variants by index. FNV-1a: offset basis
//! 0xcbf29ce484222325, prime 0x100000001b3 (Fowler, Noll, Vo; IETF draft-eastlake-fnv).
//! Invariants: no randomly keyed hasher, no platform-dependent width, no allocation.

use serde::ser::{self, Serialize};

/// A 64-bit FNV-1a hasher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fnv1a(pub u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv1a {
    /// Feeds bytes.
    pub fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// FNV-1a of the canonical encoding of `value`.
pub fn hash_of<T: Serialize + ?Sized>(value: &T) -> u64 {
    let mut s = HashSerializer(Fnv1a::default());
    // The serializer itself never fails; a failing `Serialize` impl would still be hashed up to
    // that point, which keeps the hash total.
    let _ = value.serialize(&mut s);
    s.0.0
}

/// The (infallible) error type of the hashing serializer.
#[derive(Debug)]
pub struct HashError(String);

impl core::fmt::Display for HashError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HashError {}

impl ser::Error for HashError {
    fn custom<T: core::fmt::Display>(msg: T) -> Self {
        HashError(msg.to_string())
    }
}

struct HashSerializer(Fnv1a);

impl HashSerializer {
    fn tag(&mut self, t: u8) {
        self.0.write(&[t]);
    }
    fn u64(&mut self, t: u8, v: u64) {
        self.tag(t);
        self.0.write(&v.to_le_bytes());
    }
    fn len(&mut self, len: Option<usize>) {
        match len {
            Some(n) => self.u64(b'L', n as u64),
            None => self.tag(b'?'),
        }
    }
}

type R = Result<(), HashError>;

impl ser::Serializer for &mut HashSerializer {
    type Ok = ();
    type Error = HashError;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fn serialize_bool(self, v: bool) -> R {
        self.u64(b'b', u64::from(v));
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> R {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> R {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> R {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> R {
        self.u64(b'i', v as u64);
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> R {
        self.tag(b'I');
        self.0.write(&v.to_le_bytes());
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> R {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> R {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> R {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> R {
        self.u64(b'u', v);
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> R {
        self.tag(b'U');
        self.0.write(&v.to_le_bytes());
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> R {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> R {
        self.u64(b'f', v.to_bits());
        Ok(())
    }
    fn serialize_char(self, v: char) -> R {
        self.u64(b'c', u64::from(u32::from(v)));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> R {
        self.u64(b's', v.len() as u64);
        self.0.write(v.as_bytes());
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> R {
        self.u64(b'y', v.len() as u64);
        self.0.write(v);
        Ok(())
    }
    fn serialize_none(self) -> R {
        self.tag(b'N');
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> R {
        self.tag(b'S');
        value.serialize(self)
    }
    fn serialize_unit(self) -> R {
        self.tag(b'0');
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> R {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _n: &'static str, index: u32, _v: &'static str) -> R {
        self.u64(b'v', u64::from(index));
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _n: &'static str, value: &T) -> R {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _n: &'static str,
        index: u32,
        _v: &'static str,
        value: &T,
    ) -> R {
        self.u64(b'v', u64::from(index));
        value.serialize(self)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Self, HashError> {
        self.tag(b'[');
        self.len(len);
        Ok(self)
    }
    fn serialize_tuple(self, len: usize) -> Result<Self, HashError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _n: &'static str, len: usize) -> Result<Self, HashError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _n: &'static str,
        index: u32,
        _v: &'static str,
        len: usize,
    ) -> Result<Self, HashError> {
        self.u64(b'v', u64::from(index));
        self.serialize_seq(Some(len))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Self, HashError> {
        self.tag(b'{');
        self.len(len);
        Ok(self)
    }
    fn serialize_struct(self, _n: &'static str, len: usize) -> Result<Self, HashError> {
        self.tag(b'(');
        self.len(Some(len));
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _n: &'static str,
        index: u32,
        _v: &'static str,
        len: usize,
    ) -> Result<Self, HashError> {
        self.u64(b'v', u64::from(index));
        self.serialize_struct("", len)
    }
}

macro_rules! compound {
    ($trait:ident, $method:ident) => {
        impl ser::$trait for &mut HashSerializer {
            type Ok = ();
            type Error = HashError;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> R {
                value.serialize(&mut **self)
            }
            fn end(self) -> R {
                self.tag(b']');
                Ok(())
            }
        }
    };
}
compound!(SerializeSeq, serialize_element);
compound!(SerializeTuple, serialize_element);
compound!(SerializeTupleStruct, serialize_field);
compound!(SerializeTupleVariant, serialize_field);

impl ser::SerializeMap for &mut HashSerializer {
    type Ok = ();
    type Error = HashError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> R {
        key.serialize(&mut **self)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> R {
        value.serialize(&mut **self)
    }
    fn end(self) -> R {
        self.tag(b'}');
        Ok(())
    }
}

impl ser::SerializeStruct for &mut HashSerializer {
    type Ok = ();
    type Error = HashError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, _key: &'static str, value: &T) -> R {
        value.serialize(&mut **self)
    }
    fn skip_field(&mut self, _key: &'static str) -> R {
        self.tag(b'_');
        Ok(())
    }
    fn end(self) -> R {
        self.tag(b')');
        Ok(())
    }
}

impl ser::SerializeStructVariant for &mut HashSerializer {
    type Ok = ();
    type Error = HashError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, _key: &'static str, value: &T) -> R {
        value.serialize(&mut **self)
    }
    fn end(self) -> R {
        self.tag(b')');
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_reference_vectors() {
        // From the FNV reference test suite: "" and "a" and "foobar".
        let h = |s: &str| {
            let mut f = Fnv1a::default();
            f.write(s.as_bytes());
            f.0
        };
        assert_eq!(h(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(h("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(h("foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn distinguishes_values_and_structure() {
        assert_ne!(hash_of(&0.0f64), hash_of(&-0.0f64));
        assert_ne!(hash_of(&(1u32, 2u32)), hash_of(&(2u32, 1u32)));
        assert_ne!(hash_of(&vec!["ab", "c"]), hash_of(&vec!["a", "bc"]));
        assert_eq!(hash_of(&Some(1.5f64)), hash_of(&Some(1.5f64)));
        // A fixed value has a fixed hash on every platform.
        assert_eq!(
            hash_of(&(1u8, -2i64, 0.5f64, "x")),
            hash_of(&(1u64, -2i8, 0.5f64, "x"))
        );
    }
}
