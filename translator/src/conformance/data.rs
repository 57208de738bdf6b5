//! Reader of the bpf_conformance `.data` test files
//! (format: `conformance/bpf_conformance/SOURCE.md`).
//!
//! - `#` starts a comment (to the end of the line) and a trailing `\r` is stripped; both
//!   happen before section detection, so a `--` inside a comment does not switch section
//!   (the reference reader would; no file relies on it).
//! - A line containing `--` switches section, matched by substring in the reference
//!   reader's order: `asm`, `result`, `mem`, `raw`, `no register offset`, ` c`, `error`.
//!   Any other `--` line rejects the whole file ([`DataError`]). Text before the first
//!   header, and the `-- c` / `-- no register offset` sections, are ignored.
//! - `-- asm`: kept as text (the lines of all `asm` sections, comments included) for
//!   [`crate::text::asm::assemble`]; assembler line numbers count from the line after `-- asm`.
//! - `-- raw`: one 64-bit slot per token (`0x` hex or decimal, little-endian layout), or,
//!   as in `negative/unused-*.data`, 8 bytes per instruction written as two-digit hex
//!   tokens without `0x`: that form is recognised when every token is exactly two hex
//!   digits and their number is a multiple of 8 (a word-form program made only of
//!   two-digit decimal words would be misread, but no such program is meaningful).
//! - `-- mem`: hex byte tokens (an optional `0x` is accepted).
//! - `-- result`: the last non-blank line; hex if it contains `0x`, else decimal (a leading
//!   `-` wraps modulo 2^64 as `stoull` does).
//! - `-- error`: the last non-blank line, or the empty string when the section is empty;
//!   its presence alone means "expected to fail".

use std::fmt;

use crate::text::asm::{assemble, AsmError};

/// One parsed `.data` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestCase {
    pub name: String,
    /// The `-- asm` section text, if the file has one.
    pub asm: Option<String>,
    /// The `-- raw` program bytes, if the file has a non-empty `-- raw` section.
    pub raw: Option<Vec<u8>>,
    /// Initial memory (`-- mem`); empty when absent.
    pub mem: Vec<u8>,
    pub result: Option<u64>,
    /// `Some` when the file has an `-- error` section, even an empty one.
    pub error: Option<String>,
}

/// Why a `.data` file was rejected: 1-based line and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for DataError {}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Ignore,
    Asm,
    Result,
    Mem,
    Raw,
    Error,
}

impl TestCase {
    /// Parses the text of a `.data` file. Read files with `std::fs::read` and
    /// `String::from_utf8_lossy`: some contain a non-UTF-8 byte inside a comment.
    pub fn parse(name: &str, text: &str) -> Result<TestCase, DataError> {
        let mut section = Section::Ignore;
        let mut asm: Option<String> = None;
        let mut raw_tokens: Vec<(usize, String)> = Vec::new();
        let mut mem = Vec::new();
        let mut result_line: Option<(usize, String)> = None;
        let mut error: Option<String> = None;

        for (index, full) in text.split('\n').enumerate() {
            let line = index + 1;
            let full = full.strip_suffix('\r').unwrap_or(full);
            let content = match full.find('#') {
                Some(i) => &full[..i],
                None => full,
            };
            if content.contains("--") {
                section = if content.contains("asm") {
                    asm.get_or_insert_with(String::new);
                    Section::Asm
                } else if content.contains("result") {
                    Section::Result
                } else if content.contains("mem") {
                    Section::Mem
                } else if content.contains("raw") {
                    Section::Raw
                } else if content.contains("no register offset") || content.contains(" c") {
                    Section::Ignore
                } else if content.contains("error") {
                    error.get_or_insert_with(String::new);
                    Section::Error
                } else {
                    return Err(DataError { line, message: format!("unknown directive '{}'", content.trim()) });
                };
                continue;
            }
            let trimmed = content.trim();
            match section {
                Section::Ignore => {}
                Section::Asm => {
                    if let Some(a) = asm.as_mut() {
                        a.push_str(full);
                        a.push('\n');
                    }
                }
                Section::Result => {
                    if !trimmed.is_empty() {
                        result_line = Some((line, trimmed.to_string()));
                    }
                }
                Section::Error => {
                    if !trimmed.is_empty() {
                        error = Some(trimmed.to_string());
                    }
                }
                Section::Mem => {
                    for tok in trimmed.split_whitespace() {
                        let digits = tok.strip_prefix("0x").or_else(|| tok.strip_prefix("0X")).unwrap_or(tok);
                        let byte =
                            if !digits.is_empty() && digits.len() <= 2 && digits.chars().all(|c| c.is_ascii_hexdigit())
                            {
                                u8::from_str_radix(digits, 16).ok()
                            } else {
                                None
                            };
                        let byte = byte.ok_or_else(|| DataError {
                            line,
                            message: format!("invalid memory byte '{tok}' (expected two hex digits)"),
                        })?;
                        mem.push(byte);
                    }
                }
                Section::Raw => raw_tokens.extend(trimmed.split_whitespace().map(|t| (line, t.to_string()))),
            }
        }

        let result = match result_line {
            None => None,
            Some((line, s)) => {
                Some(parse_result(&s).ok_or_else(|| DataError { line, message: format!("invalid result '{s}'") })?)
            }
        };
        let raw = if raw_tokens.is_empty() { None } else { Some(parse_raw(&raw_tokens)?) };
        Ok(TestCase { name: name.to_string(), asm, raw, mem, result, error })
    }

    /// The program bytes: the `-- raw` bytes when present (as the reference reader does),
    /// else the assembled `-- asm` section; an error when the file has neither.
    pub fn program(&self) -> Result<Vec<u8>, AsmError> {
        match (&self.raw, &self.asm) {
            (Some(raw), _) => Ok(raw.clone()),
            (None, Some(asm)) => assemble(asm),
            (None, None) => {
                Err(AsmError { line: 0, message: "no program: the file has no -- asm or -- raw section".into() })
            }
        }
    }
}

/// Free-function form of [`TestCase::parse`].
pub fn parse(name: &str, text: &str) -> Result<TestCase, DataError> {
    TestCase::parse(name, text)
}

fn parse_result(s: &str) -> Option<u64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let v = if s.contains("0x") {
        let digits = body.strip_prefix("0x")?;
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        u64::from_str_radix(digits, 16).ok()?
    } else {
        if body.is_empty() || !body.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        body.parse::<u64>().ok()?
    };
    Some(if neg { v.wrapping_neg() } else { v })
}

fn parse_raw(tokens: &[(usize, String)]) -> Result<Vec<u8>, DataError> {
    let byte_form = tokens.len().is_multiple_of(8)
        && tokens.iter().all(|(_, t)| t.len() == 2 && t.chars().all(|c| c.is_ascii_hexdigit()));
    let mut out = Vec::with_capacity(if byte_form { tokens.len() } else { tokens.len() * 8 });
    for (line, tok) in tokens {
        let bad = || DataError { line: *line, message: format!("invalid raw instruction '{tok}'") };
        if byte_form {
            out.push(u8::from_str_radix(tok, 16).map_err(|_| bad())?);
            continue;
        }
        let word = match tok.strip_prefix("0x").or_else(|| tok.strip_prefix("0X")) {
            Some(h) if !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()) => u64::from_str_radix(h, 16).ok(),
            Some(_) => None,
            None if tok.chars().all(|c| c.is_ascii_digit()) => tok.parse::<u64>().ok(),
            None => None,
        }
        .ok_or_else(bad)?;
        out.extend_from_slice(&word.to_le_bytes());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sections() {
        let text = "# header -- not a section\r\n-- asm\r\nmov %r0, 1 # c\r\nexit\r\n-- mem\r\naa bb\r\n0x01 ff\r\n-- result\r\n0x1\r\n\r\n";
        let t = TestCase::parse("x", text).unwrap();
        assert_eq!(t.name, "x");
        assert_eq!(t.asm.as_deref(), Some("mov %r0, 1 # c\nexit\n"));
        assert_eq!(t.mem, [0xaa, 0xbb, 0x01, 0xff]);
        assert_eq!(t.result, Some(1));
        assert_eq!(t.error, None);
        assert_eq!(t.raw, None);
        assert_eq!(t.program().unwrap(), [0xb7, 0, 0, 0, 1, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn result_is_hex_with_0x_else_decimal_last_line() {
        let r = |s: &str| TestCase::parse("r", &format!("-- asm\nexit\n-- result\n{s}\n")).map(|t| t.result);
        assert_eq!(r("0x8977665544332211").unwrap(), Some(0x8977665544332211));
        assert_eq!(r("0x0000000044332211").unwrap(), Some(0x44332211));
        assert_eq!(r("10").unwrap(), Some(10));
        assert_eq!(r("1\n2").unwrap(), Some(2));
        assert_eq!(r("-1").unwrap(), Some(u64::MAX));
        assert!(r("0xz").is_err());
        assert!(r("ten").is_err());
        assert!(r("18446744073709551616").is_err());
    }

    #[test]
    fn raw_word_and_byte_forms() {
        let t = TestCase::parse("w", "-- raw\n0x5566778800000018\n0x1122334400000000 149\n-- result\n0x1").unwrap();
        let mut expected = Vec::new();
        for w in [0x5566778800000018u64, 0x1122334400000000, 0x95] {
            expected.extend_from_slice(&w.to_le_bytes());
        }
        assert_eq!(t.raw.as_deref(), Some(&expected[..]));
        let t = TestCase::parse("b", "-- raw\n07 00 01 00 01 00 00 00\n95 00 00 00 00 00 00 00\n-- error\n").unwrap();
        assert_eq!(t.raw.as_deref(), Some(&[7, 0, 1, 0, 1, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0][..]));
        assert_eq!(t.error.as_deref(), Some(""));
        assert_eq!(t.result, None);
        // raw wins over asm.
        let t = TestCase::parse("both", "-- asm\nmov %r0, 1\n-- raw\n0x95\n-- result\n0").unwrap();
        assert_eq!(t.program().unwrap(), 0x95u64.to_le_bytes());
        assert!(TestCase::parse("bad", "-- raw\n0xg\n").is_err());
    }

    #[test]
    fn directives() {
        let e = TestCase::parse("u", "-- asm\n-- Unknown directive\n-- error\nx").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.to_string().contains("unknown directive"));
        let t = TestCase::parse(
            "c",
            "-- c\nint main() { return 0; }\n-- asm\nexit\n-- no register offset\nfree text\n-- result\n0x0",
        )
        .unwrap();
        assert_eq!(t.asm.as_deref(), Some("exit\n"));
        let t = TestCase::parse("e", "-- asm\nor %r0, %r10\nexit\n-- error\nfirst\nInvalid").unwrap();
        assert_eq!(t.error.as_deref(), Some("Invalid"));
        let t = TestCase::parse("empty", "# nothing\n").unwrap();
        assert_eq!((t.asm, t.raw, t.result, t.error), (None, None, None, None));
        let t = TestCase::parse("noprog", "-- result\n0x0\n").unwrap();
        assert!(t.program().is_err());
        assert!(TestCase::parse("mem", "-- mem\n123\n").is_err());
        // Non-ASCII in comments is harmless.
        let t = TestCase::parse("u", "# RFC 9669 \u{7f}4.1 \u{fffd}\n-- asm\nexit # \u{7f}\n-- result\n0x0").unwrap();
        assert_eq!(t.program().unwrap(), 0x95u64.to_le_bytes());
    }
}
