//! Numbers as text without `core::fmt`, whose machinery costs kilobytes on a microcontroller.

/// `v` in base `radix` (10 or 16), most significant digit first, at the end of `buf`
/// (24 bytes hold u64::MAX's 20 decimal digits).
pub fn digits(mut v: u64, radix: u64, upper: bool, buf: &mut [u8; 24]) -> &[u8] {
    let set: &[u8; 16] = if upper { b"0123456789ABCDEF" } else { b"0123456789abcdef" };
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = set[(v % radix) as usize];
        v /= radix;
        if v == 0 {
            return &buf[i..];
        }
    }
}

/// `v` in decimal.
pub fn decimal(v: u64, buf: &mut [u8; 24]) -> &str {
    // Every byte `digits` writes is an ASCII digit, so this never fails.
    core::str::from_utf8(digits(v, 10, false, buf)).unwrap_or("?")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_match_core_fmt() {
        let mut buf = [0u8; 24];
        for v in [0, 1, 9, 10, 255, 4096, u32::MAX as u64, u64::MAX] {
            assert_eq!(decimal(v, &mut buf), std::format!("{v}"));
            assert_eq!(digits(v, 16, false, &mut buf), std::format!("{v:x}").as_bytes());
            assert_eq!(digits(v, 16, true, &mut buf), std::format!("{v:X}").as_bytes());
        }
    }
}
