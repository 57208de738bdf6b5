//! Hex byte strings: how contexts, memory and harness reports cross process boundaries.

/// Bytes as two lower-case hex digits each, no separator.
pub fn encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes as the upstream conformance runner writes them: two hex digits and two spaces each.
pub fn encode_spaced(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}  ")).collect()
}

/// Parses hex bytes, ignoring whitespace (reads what both encoders write).
pub fn decode(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return Err("odd number of hex digits".into());
    }
    digits
        .chunks(2)
        .map(|p| {
            let s = std::str::from_utf8(p).map_err(|_| "not hex".to_string())?;
            u8::from_str_radix(s, 16).map_err(|_| format!("`{s}` is not a hex byte"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_encodings_decode() {
        let bytes = [0u8, 0x2a, 0xff];
        assert_eq!(super::decode(&super::encode(&bytes)), Ok(bytes.to_vec()));
        assert_eq!(super::decode(&super::encode_spaced(&bytes)), Ok(bytes.to_vec()));
        assert!(super::decode("abc").is_err());
        assert!(super::decode("zz").is_err());
    }
}
