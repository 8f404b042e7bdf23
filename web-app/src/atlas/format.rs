//! Wire-format primitives shared by the encoder (`web-app/build.rs`, which includes this
//! file with `#[path]`) and the decoder (`super`), so that both sides agree by construction.
//!
//! The format itself is described in the module docs of `atlas.rs`.

/// The first four bytes of every atlas file ("Missile-Defense World Atlas").
pub const MAGIC: [u8; 4] = *b"MDWA";

/// The format version that follows the magic; the decoder rejects any other value.
pub const VERSION: u8 = 1;

/// Low bit of an arc header: set when the arc is a land border (used by two or more
/// rings), clear when it is a coastline (used by exactly one ring).
pub const ARC_BORDER_BIT: u64 = 1;

/// Maps signed to unsigned integers so that small magnitudes of either sign stay small
/// (0, -1, 1, -2, ... become 0, 1, 2, 3, ...).
pub fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

/// The inverse of [`zigzag`].
pub fn unzigzag(value: u64) -> i64 {
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

/// Appends `value` as an unsigned LEB128 varint (7 bits per byte, high bit = "more").
pub fn write_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}
