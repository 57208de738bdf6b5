//! Names of the symbols translated code defines (part of the native ABI: docs/native-abi.md,
//! targets/include/fc_abi.h). Every backend and the host loader take every name from here.
//!
//! A container `C` defines, for each function-table name `F`, `fc_<C>_<F>` and
//! `fc_<C>_<F>_depth`; once, `fc_<C>_<d>` for each of [`DATA_SUFFIXES`]; and one private
//! function `fc_<C>_f<N>_` per eBPF function (starting at slot `N`). `<C>` and `<F>` are
//! the names [`escape`]d: a plain identifier (letters and digits, single `_` between)
//! stays as it is unless keeping it would collide; every other name becomes `_` followed
//! by its UTF-8 bytes, ASCII letters and digits as themselves and every other byte as `_`
//! and two uppercase hex digits. So, inside one container's output:
//! - a kept name starts with a letter or digit and never ends in `_`; an escaped one
//!   starts with `_`, and in it every `_` after the first is followed by `[0-9A-F]{2}`;
//! - a kept function name is never a data suffix, never ends in `_depth`, and neither it
//!   nor its `_depth` symbol is an identifier of the C headers fc-aot ships or of the
//!   emitted C's prelude ([`runtime_names`]);
//! - private functions end in `_`, which no entry, depth or data symbol does.
//!
//! Hence no two symbols of one output are equal (tests below and in `tests/symbols.rs`).
//! Two *containers* linked together can still meet: `fc_a_b_c` is container `a`'s `b_c`
//! and container `a_b`'s `c` (plain names stay as they are, so this cannot be helped).

use std::collections::BTreeSet;
use std::fmt::Write;
use std::sync::OnceLock;

use fc_runtime::verifier::VerifiedProgram;

/// Suffixes of the per-container data symbols `fc_<container>_<suffix>`.
pub const DATA_SUFFIXES: [&str; 6] = ["abi_version", "rodata", "rodata_len", "data", "data_len", "bss_len"];

/// Suffix of the call-depth symbol of an entry.
pub const DEPTH_SUFFIX: &str = "_depth";

/// The C headers fc-aot ships, which firmware compiles together with translated code.
const HEADERS: [&str; 7] = [
    include_str!("../../../targets/include/fc_abi.h"),
    include_str!("../../../targets/include/fc_runtime.h"),
    include_str!("../../../targets/common/fc_support.h"),
    include_str!("../../../targets/common/fc_hex.h"),
    include_str!("../../../targets/common/fc_run_report.h"),
    include_str!("../../../targets/common/crt.h"),
    include_str!("../../../targets/host/fc_native_entries.h"),
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

/// Every `fc_...` identifier of the shipped headers and of the emitted C's prelude,
/// comments left out: symbols translated code must never define.
pub fn runtime_names() -> &'static BTreeSet<String> {
    static NAMES: OnceLock<BTreeSet<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names = BTreeSet::new();
        for text in HEADERS.iter().chain([&super::c::PRELUDE]) {
            identifiers(&strip_comments(text), &mut names);
        }
        names
    })
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

fn identifiers(text: &str, into: &mut BTreeSet<String>) {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    for word in text.split(|c: char| !is_ident(c)) {
        if word.starts_with("fc_") {
            into.insert(word.to_string());
        }
    }
}

/// Whether `suffix` is one the emitter gives its own symbols: a data suffix or a private function's.
fn emitter_suffix(suffix: &str) -> bool {
    DATA_SUFFIXES.contains(&suffix)
        || suffix.strip_prefix('f').and_then(|s| s.strip_suffix('_')).is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The entry points engines that load translated code into this process export: one
/// (name `e<function index>`, function index) per function some table entry starts, so
/// entries at the same location (aliases) share one symbol and one piece of code.
pub fn loaded_entries(program: &VerifiedProgram) -> Vec<(String, usize)> {
    let mut functions = program.entries().to_vec();
    functions.sort_unstable();
    functions.dedup();
    functions.into_iter().map(|f| (format!("e{f}"), f)).collect()
}

/// Every symbol name of one container's translated code.
#[derive(Clone, Debug)]
pub struct Symbols {
    /// The container name, escaped.
    part: String,
}

impl Symbols {
    /// A plain container name is kept unless a header identifier is one of its data or
    /// private symbols (`fc_native_abi_version`: container `native` is escaped).
    pub fn new(container: &str) -> Symbols {
        let runtime = runtime_names();
        let taken = runtime.iter().any(|n| n.strip_prefix("fc_").and_then(|n| n.strip_prefix(container)).and_then(|n| n.strip_prefix('_')).is_some_and(emitter_suffix));
        Symbols { part: escape(container, !taken) }
    }

    /// The container name as it appears in every symbol.
    pub fn container_part(&self) -> &str {
        &self.part
    }

    /// Function-table name `name` as it appears in its symbols.
    pub fn function_part(&self, name: &str) -> String {
        let runtime = runtime_names();
        let keep = !DATA_SUFFIXES.contains(&name)
            && !name.ends_with(DEPTH_SUFFIX)
            && !runtime.contains(&format!("fc_{}_{name}", self.part))
            && !runtime.contains(&format!("fc_{}_{name}{DEPTH_SUFFIX}", self.part));
        escape(name, keep)
    }

    /// The exported entry of function-table name `name` (`fc_<container>_<name>`).
    pub fn entry(&self, name: &str) -> String {
        format!("fc_{}_{}", self.part, self.function_part(name))
    }

    /// The call depth of entry `name` (`fc_<container>_<name>_depth`).
    pub fn depth(&self, name: &str) -> String {
        self.entry(name) + DEPTH_SUFFIX
    }

    /// The private function of the eBPF function starting at slot `start`.
    pub fn private_function(&self, start: usize) -> String {
        format!("fc_{}_f{start}_", self.part)
    }

    fn data_symbol(&self, suffix: &str) -> String {
        format!("fc_{}_{suffix}", self.part)
    }
    pub fn abi_version(&self) -> String {
        self.data_symbol("abi_version")
    }
    pub fn rodata(&self) -> String {
        self.data_symbol("rodata")
    }
    pub fn rodata_len(&self) -> String {
        self.data_symbol("rodata_len")
    }
    pub fn data(&self) -> String {
        self.data_symbol("data")
    }
    pub fn data_len(&self) -> String {
        self.data_symbol("data_len")
    }
    pub fn bss_len(&self) -> String {
        self.data_symbol("bss_len")
    }

    /// Every symbol the output defines for `functions` (entry names) and `starts` (slots of
    /// the eBPF functions): entries, depths, data, private functions.
    pub fn all<'n>(&self, functions: impl IntoIterator<Item = &'n str>, starts: impl IntoIterator<Item = usize>) -> Vec<String> {
        let mut all: Vec<String> = functions.into_iter().flat_map(|f| [self.entry(f), self.depth(f)]).collect();
        all.extend(DATA_SUFFIXES.iter().map(|s| self.data_symbol(s)));
        all.extend(starts.into_iter().map(|s| self.private_function(s)));
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn distinct(symbols: &[String]) -> Result<(), String> {
        let mut seen = BTreeSet::new();
        for s in symbols {
            if !seen.insert(s) {
                return Err(format!("`{s}` twice"));
            }
        }
        Ok(())
    }

    #[test]
    fn plain_identifiers_are_kept() {
        for name in ["increment", "sensor_filter", "crc32", "v2_main", "f0", "A_1_b", "2fast"] {
            assert_eq!(escape(name, true), name);
        }
        let s = Symbols::new("sensor_filter");
        assert_eq!(s.entry("sensor_filter"), "fc_sensor_filter_sensor_filter");
        assert_eq!(s.depth("increment"), "fc_sensor_filter_increment_depth");
        assert_eq!(s.abi_version(), "fc_sensor_filter_abi_version");
        assert_eq!(Symbols::new("crc32").entry("crc32"), "fc_crc32_crc32");
        assert_eq!(Symbols::new("prog").entry("main"), "fc_prog_main");
        assert_eq!(Symbols::new("prog").depth("main"), "fc_prog_main_depth");
        assert_eq!(Symbols::new("prog").data_len(), "fc_prog_data_len");
    }

    #[test]
    fn the_sample_containers_keep_their_names() {
        let samples = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../containers")).unwrap();
        for entry in samples {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "c" || e == "cpp") {
                let name = path.file_stem().unwrap().to_str().unwrap();
                assert_eq!(Symbols::new(name).container_part(), name);
            }
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
    fn the_collision_cases_are_distinct() {
        let s = Symbols::new("c");
        // a-b / a_b; the emitter's own names; another function's depth; private functions.
        let names = ["a-b", "a_b", "a.b", "f0", "f0_", "rodata", "abi_version", "data", "data_len", "bss_len", "rodata_len", "x", "x_depth", "x_depth_depth", "", "_", "__"];
        let all = s.all(names, [0, 1, 2]);
        distinct(&all).unwrap();
        assert_eq!(s.entry("rodata"), "fc_c__rodata");
        assert_eq!(s.entry("x_depth"), "fc_c__x_5Fdepth");
        assert_eq!(s.private_function(0), "fc_c_f0_");
        assert_eq!(s.entry("f0"), "fc_c_f0");
    }

    #[test]
    fn header_identifiers_are_never_defined() {
        let runtime = runtime_names();
        assert!(runtime.contains("fc_env_helper_fn") && runtime.contains("fc_vm_new") && runtime.contains("fc_native_abi_version"));
        // No generated symbol is an identifier of the headers or the prelude: try every
        // split of each as `fc_<container>_<rest>`, and `rest` as the function name.
        for name in runtime {
            // Escaped parts start with `_` and contain `__` only right after `fc_<container>_`.
            assert!(!name.starts_with("fc__") && (name.ends_with('_') || !name.contains("__")), "{name}");
            let tail = &name["fc_".len()..];
            for (at, _) in tail.match_indices('_') {
                let (container, rest) = (&tail[..at], &tail[at + 1..]);
                let s = Symbols::new(container);
                let function = rest.strip_suffix(DEPTH_SUFFIX).unwrap_or(rest);
                let all = s.all([rest, function], [0]);
                assert!(!all.contains(name), "`{name}` is defined by container `{container}`: {all:?}");
            }
        }
        assert_eq!(Symbols::new("env").entry("helper_fn"), "fc_env__helper_5Ffn");
        assert_eq!(Symbols::new("native").container_part(), "_native");
        assert_eq!(Symbols::new("vm").entry("new"), "fc_vm__new");
        assert_eq!(Symbols::new("vm").entry("run"), "fc_vm_run");
    }

    #[test]
    fn comments_are_not_declarations() {
        let mut names = BTreeSet::new();
        identifiers(&strip_comments("int fc_a_b; /* fc_c_d */ int fc_e_f; // fc_g_h\nint fc_i_j;"), &mut names);
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
        fn one_container_never_defines_a_symbol_twice(
            container in "[a-z_\\-]{0,8}",
            names in proptest::collection::btree_set("[a-z0-9_\\-]{0,10}|rodata|data|f[0-9]|[a-z]{1,3}_depth", 0..12),
            starts in proptest::collection::btree_set(0usize..64, 1..6),
        ) {
            let s = Symbols::new(&container);
            let all = s.all(names.iter().map(String::as_str), starts);
            prop_assert!(distinct(&all).is_ok(), "{:?}: {:?}", distinct(&all), all);
            for symbol in &all {
                prop_assert!(!runtime_names().contains(symbol), "{symbol}");
            }
        }
    }
}
