//! The zip container of a `torch.save` file: entries stored uncompressed,
//! with zip64 records (which torch always writes) honoured.

use std::collections::HashMap;

/// Little-endian integers at a byte offset, or a "truncated" error.
fn u16_at(b: &[u8], at: usize) -> Result<u16, String> {
    b.get(at..at + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
        .ok_or_else(truncated)
}
fn u32_at(b: &[u8], at: usize) -> Result<u32, String> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or_else(truncated)
}
/// Little-endian `u64` at a byte offset (also used by the pickle reader).
pub(super) fn u64_at(b: &[u8], at: usize) -> Result<u64, String> {
    let s = b.get(at..at + 8).ok_or_else(truncated)?;
    Ok(u64::from_le_bytes([
        s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7],
    ]))
}
fn truncated() -> String {
    "truncated or corrupt zip archive".to_string()
}

/// Name → contents of every entry of a zip archive of stored (uncompressed)
/// entries, as torch writes them (with zip64 records, which torch always adds).
pub(super) fn zip_entries(b: &[u8]) -> Result<HashMap<String, &[u8]>, String> {
    const EOCD: &[u8] = b"PK\x05\x06";
    let search_from = b.len().saturating_sub(22 + 65_535);
    let eocd = b[search_from..]
        .windows(4)
        .rposition(|w| w == EOCD)
        .map(|p| p + search_from)
        .ok_or("not a zip archive (no end of central directory)")?;
    let (mut count, mut cd_offset) = (u16_at(b, eocd + 10)? as u64, u32_at(b, eocd + 16)? as u64);
    // Zip64 end-of-central-directory record, located just before the EOCD.
    if eocd >= 20 && u32_at(b, eocd - 20)? == 0x0706_4b50 {
        let record = u64_at(b, eocd - 20 + 8)? as usize;
        if u32_at(b, record)? != 0x0606_4b50 {
            return Err(truncated());
        }
        count = u64_at(b, record + 32)?;
        cd_offset = u64_at(b, record + 48)?;
    }
    let mut entries = HashMap::new();
    let mut at = cd_offset as usize;
    for _ in 0..count {
        if u32_at(b, at)? != 0x0201_4b50 {
            return Err(truncated());
        }
        let method = u16_at(b, at + 10)?;
        let mut size = u32_at(b, at + 20)? as u64;
        let name_len = u16_at(b, at + 28)? as usize;
        let extra_len = u16_at(b, at + 30)? as usize;
        let comment_len = u16_at(b, at + 32)? as usize;
        let mut local = u32_at(b, at + 42)? as u64;
        let name = b.get(at + 46..at + 46 + name_len).ok_or_else(truncated)?;
        let name = String::from_utf8_lossy(name).into_owned();
        // Zip64 extra field: 64-bit values for the fields saturated at 0xFFFFFFFF.
        let extra = b
            .get(at + 46 + name_len..at + 46 + name_len + extra_len)
            .ok_or_else(truncated)?;
        let mut e = 0;
        while e + 4 <= extra.len() {
            let (id, len) = (u16_at(extra, e)?, u16_at(extra, e + 2)? as usize);
            if id == 1 {
                let mut field = e + 4;
                let uncompressed = u32_at(b, at + 24)?;
                if uncompressed == u32::MAX {
                    size = u64_at(extra, field)?;
                    field += 8;
                }
                if u32_at(b, at + 20)? == u32::MAX {
                    field += 8; // compressed size, equal for stored entries
                }
                if u32_at(b, at + 42)? == u32::MAX {
                    local = u64_at(extra, field)?;
                }
            }
            e += 4 + len;
        }
        if method != 0 {
            return Err(format!(
                "zip entry {name} is compressed (method {method}); torch.save never does that"
            ));
        }
        let local = local as usize;
        if u32_at(b, local)? != 0x0403_4b50 {
            return Err(truncated());
        }
        let start = local + 30 + u16_at(b, local + 26)? as usize + u16_at(b, local + 28)? as usize;
        let data = b.get(start..start + size as usize).ok_or_else(truncated)?;
        entries.insert(name, data);
        at += 46 + name_len + extra_len + comment_len;
    }
    Ok(entries)
}
