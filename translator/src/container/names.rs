//! The one naming rule for container names and the names inside them (docs/native-abi.md):
//! `build`'s glue (`fc_container_<C>`), `translate`'s symbols (`fc_<C>_<F>`) and any
//! firmware glue take a container's identifier part from [`container_part`].
//!
//! A *plain* name (runs of ASCII letters and digits joined by single `_`) may be kept as
//! it is; every other name is [`escape`]d: `_` followed by its UTF-8 bytes, ASCII letters
//! and digits as themselves and every other byte as `_` and two uppercase hex digits. A
//! kept part never starts with `_` and an escaped one always does, and escaping can be
//! undone ([`unescape`]), so the rule is injective: two names never give one part.

use std::collections::BTreeSet;
use std::fmt::Write;
use std::sync::OnceLock;

/// Suffixes of the per-container data symbols `fc_<container>_<suffix>` translated code defines.
pub const DATA_SUFFIXES: [&str; 6] = ["abi_version", "rodata", "rodata_len", "data", "data_len", "bss_len"];

/// The C headers fc-aot ships, which firmware compiles together with translated code.
const HEADERS: [&str; 6] = [
    include_str!("../../../targets/include/fc_abi.h"),
    include_str!("../../../targets/include/fc_runtime.h"),
    include_str!("../../../targets/common/fc_hex.h"),
    include_str!("../../../targets/common/fc_run_report.h"),
    include_str!("../../../targets/common/crt.h"),
    include_str!("../../../targets/host/fc_native_entries.h"),
];

/// `build`'s glue names each container's bytes `fc_container_<C>`: a container named
/// `container` kept as it is would define `fc_container_<F>`, another container's glue.
const GLUE_PREFIX: &str = "container";

/// Keywords of C (C23), C++ (C++20) and Rust (2021, reserved ones too): a container part
/// stands alone as an identifier (the Rust glue's statics), so it is never one of these.
const KEYWORDS: &[&str] = &[
    // C
    "alignas", "alignof", "auto", "bool", "break", "case", "char", "const", "constexpr", "continue", "default", "do",
    "double", "else", "enum", "extern", "false", "float", "for", "goto", "if", "inline", "int", "long", "nullptr",
    "register", "restrict", "return", "short", "signed", "sizeof", "static", "static_assert", "struct", "switch",
    "thread_local", "true", "typedef", "typeof", "typeof_unqual", "union", "unsigned", "void", "volatile", "while",
    // C++
    "and", "and_eq", "asm", "bitand", "bitor", "catch", "char8_t", "char16_t", "char32_t", "class", "co_await",
    "co_return", "co_yield", "compl", "concept", "const_cast", "consteval", "constinit", "decltype", "delete",
    "dynamic_cast", "explicit", "export", "friend", "mutable", "namespace", "new", "noexcept", "not", "not_eq",
    "operator", "or", "or_eq", "private", "protected", "public", "reinterpret_cast", "requires", "static_cast",
    "template", "this", "throw", "try", "typeid", "typename", "using", "virtual", "wchar_t", "xor", "xor_eq",
    // Rust
    "Self", "abstract", "as", "async", "await", "become", "box", "crate", "dyn", "final", "fn", "gen", "impl", "in",
    "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "self", "super", "trait",
    "type", "unsized", "unsafe", "use", "where", "yield",
];

/// Whether `name` is a plain identifier: runs of ASCII letters and digits joined by single `_`.
pub fn is_plain(name: &str) -> bool {
    !name.is_empty() && name.split('_').all(|run| !run.is_empty() && run.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// `name` as a symbol part: itself when `keep` and it is plain, else escaped (`_` and its
/// bytes, letters and digits as themselves, any other byte `_HH`). Injective for either
/// `keep`, and [`unescape`] inverts it.
pub fn escape(name: &str, keep: bool) -> String {
    if keep && is_plain(name) {
        return name.to_string();
    }
    let mut part = String::with_capacity(name.len() + 1);
    part.push('_');
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() {
            part.push(b as char);
        } else {
            let _ = write!(part, "_{b:02X}");
        }
    }
    part
}

/// The name a symbol part was [`escape`]d from, or `None` when no name escapes to it.
pub fn unescape(part: &str) -> Option<String> {
    let Some(escaped) = part.strip_prefix('_') else {
        return is_plain(part).then(|| part.to_string());
    };
    let mut bytes = Vec::with_capacity(escaped.len());
    let mut rest = escaped.as_bytes();
    while let [first, tail @ ..] = rest {
        if first.is_ascii_alphanumeric() {
            bytes.push(*first);
            rest = tail;
            continue;
        }
        let [b'_', hi, lo, tail @ ..] = rest else { return None };
        let digit = |d: u8| (d as char).to_digit(16).filter(|_| !d.is_ascii_lowercase());
        let byte = (digit(*hi)? << 4 | digit(*lo)?) as u8;
        if byte.is_ascii_alphanumeric() {
            return None; // never escaped
        }
        bytes.push(byte);
        rest = tail;
    }
    String::from_utf8(bytes).ok()
}

/// The identifier part of container `name` (a file's stem): the name itself when it is
/// plain, starts with a letter, is no keyword of C, C++ or Rust, is not `container`, and
/// none of its per-container or private symbols (`fc_<C>_rodata`, `fc_<C>_f0_`) is an
/// identifier of the shipped headers (`native`: `fc_native_abi_version`); else escaped.
/// So it is a valid C, C++ and Rust identifier on its own (for any non-empty name) and
/// after `fc_` or `fc_container_`, and two names never share one.
pub fn container_part(name: &str) -> String {
    let reserved = name == GLUE_PREFIX
        || KEYWORDS.contains(&name)
        || header_identifiers().iter().any(|n| {
            n.strip_prefix("fc_").and_then(|n| n.strip_prefix(name)).and_then(|n| n.strip_prefix('_')).is_some_and(emitter_suffix)
        });
    escape(name, name.starts_with(|c: char| c.is_ascii_alphabetic()) && !reserved)
}

/// Whether `suffix` is one translated code gives its own symbols: a data suffix or a private function's.
pub fn emitter_suffix(suffix: &str) -> bool {
    DATA_SUFFIXES.contains(&suffix)
        || suffix.strip_prefix('f').and_then(|s| s.strip_suffix('_')).is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Every `fc_...` identifier of the shipped headers, comments left out.
pub fn header_identifiers() -> &'static BTreeSet<String> {
    static NAMES: OnceLock<BTreeSet<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names = BTreeSet::new();
        for text in HEADERS {
            fc_identifiers(text, &mut names);
        }
        names
    })
}

/// Adds every `fc_...` identifier of C `text`, comments left out, to `into`.
pub fn fc_identifiers(text: &str, into: &mut BTreeSet<String>) {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    for word in strip_comments(text).split(|c: char| !is_ident(c)) {
        if word.starts_with("fc_") {
            into.insert(word.to_string());
        }
    }
}

fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let at = match (rest.find("/*"), rest.find("//")) {
            (Some(block), Some(line)) => block.min(line),
            (Some(at), None) | (None, Some(at)) => at,
            (None, None) => break,
        };
        let (close, skip) = if rest[at..].starts_with("/*") { ("*/", 2) } else { ("\n", 0) };
        let end = rest[at + 2..].find(close).map_or(rest.len(), |e| at + 2 + e + skip);
        out.push_str(&rest[..at]);
        out.push(' ');
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plain_identifiers_are_kept() {
        for name in ["increment", "sensor_filter", "crc32", "v2_main", "f0", "A_1_b", "2fast"] {
            assert_eq!(escape(name, true), name);
        }
    }

    #[test]
    fn other_names_are_escaped() {
        assert_eq!(escape("a-b", true), "_a_2Db");
        assert_eq!(escape("a_b", true), "a_b");
        assert_eq!(escape("a__b", true), "_a_5F_5Fb");
        assert_eq!(escape("_a", true), "__5Fa");
        assert_eq!(escape("a_", true), "_a_5F");
        assert_eq!(escape("", true), "_");
        assert_eq!(escape("é", true), "__C3_A9");
        assert_eq!(escape("rodata", false), "_rodata");
    }

    #[test]
    fn container_parts_stand_alone_as_identifiers() {
        assert_eq!(container_part("sensor_filter"), "sensor_filter");
        assert_eq!(container_part("my-filter"), "_my_2Dfilter");
        assert_eq!(container_part("my_filter"), "my_filter");
        assert_eq!(container_part("1st"), "_1st");
        assert_eq!(container_part("loop"), "_loop");
        assert_eq!(container_part("class"), "_class");
        assert_eq!(container_part("container"), "_container");
        assert_eq!(container_part("native"), "_native");
        assert_eq!(container_part("store"), "store");
    }

    #[test]
    fn comments_are_not_declarations() {
        let mut names = BTreeSet::new();
        fc_identifiers("int fc_a_b; /* fc_c_d */ int fc_e_f; // fc_g_h\nint fc_i_j;", &mut names);
        assert_eq!(names.into_iter().collect::<Vec<_>>(), ["fc_a_b", "fc_e_f", "fc_i_j"]);
    }

    proptest! {
        #[test]
        fn unescape_inverts_escape(name in any::<String>(), keep in any::<bool>()) {
            let part = escape(&name, keep);
            prop_assert!(part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'), "{part}");
            prop_assert_eq!(unescape(&part), Some(name));
        }

        #[test]
        fn escape_is_injective(a in "[a-z_.\\-é0-9]{0,6}", b in "[a-z_.\\-é0-9]{0,6}", keep in any::<bool>()) {
            prop_assert_eq!(escape(&a, keep) == escape(&b, keep), a == b);
        }

        #[test]
        fn container_parts_are_injective_identifiers(a in "[a-zA-Z0-9_.\\-é]{1,8}|loop|class|native|container", b in "[a-zA-Z0-9_.\\-]{1,8}") {
            let (pa, pb) = (container_part(&a), container_part(&b));
            prop_assert_eq!(pa == pb, a == b);
            prop_assert_eq!(unescape(&pa), Some(a));
            // An identifier of C, C++ and Rust: a letter or `_` first, no keyword, not `_` alone.
            prop_assert!(pa.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') && pa != "_", "{pa}");
            prop_assert!(!KEYWORDS.contains(&pa.as_str()), "{pa}");
        }
    }
}
