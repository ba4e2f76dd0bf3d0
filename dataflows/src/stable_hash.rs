//! A hash of a value's serialized bytes that is identical across processes, runs and builds.

use serde::Serialize;

const FNV_OFFSET: u64 = 0xCBF2_9CE4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01B3;

/// FNV-1a over a byte stream, fed through `std::io::Write` so serialization needs no buffer.
struct Fnv1a(u64);

impl std::io::Write for Fnv1a {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        for &b in bytes {
            self.0 ^= b as u64;
            self.0 = self.0.wrapping_mul(FNV_PRIME);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A 64-bit finaliser (MurmurHash3's fmix64), so `hash % workers` spreads evenly.
fn finalise(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^= h >> 33;
    h = h.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    h ^ (h >> 33)
}

/// A stable hash of `value`: FNV-1a over its bincode (1.x, little-endian, fixed-width) bytes,
/// then a 64-bit finaliser.
///
/// Unlike `std`'s `RandomState` it has no per-process keys, and unlike `DefaultHasher` its
/// algorithm is fixed here, so every process of a cluster routes a genome to the same worker.
/// A value whose serialization fails (only possible for types whose `Serialize` impl errors)
/// hashes the bytes written up to the failure, which is still deterministic.
///
/// ```
/// use evoflow_dataflows::stable_hash;
/// assert_eq!(stable_hash(&vec![1i64, 2, 3]), stable_hash(&vec![1i64, 2, 3]));
/// assert_ne!(stable_hash(&vec![1i64, 2, 3]), stable_hash(&vec![3i64, 2, 1]));
/// ```
pub fn stable_hash<T: Serialize + ?Sized>(value: &T) -> u64 {
    let mut hasher = Fnv1a(FNV_OFFSET);
    // Deterministic even on the (impossible for derived impls) error path, see above.
    let _ = bincode::serialize_into(&mut hasher, value);
    finalise(hasher.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_fnv1a_over_little_endian_bincode_bytes() {
        // Independent computation: bincode 1.x writes a u64 as 8 little-endian bytes.
        let mut h = FNV_OFFSET;
        for b in 0x0102_0304_0506_0708u64.to_le_bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(FNV_PRIME);
        }
        assert_eq!(stable_hash(&0x0102_0304_0506_0708u64), finalise(h));
        // Pinned literal: if this fails, the hash changed and clusters of mixed builds would disagree.
        assert_eq!(stable_hash(&0x0102_0304_0506_0708u64), 0x4CE83454B8CE0827);
    }
}
