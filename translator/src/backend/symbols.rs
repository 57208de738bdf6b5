//! Names of the symbols translated code defines (part of the native ABI: docs/native-abi.md,
//! targets/include/fc_abi.h). Every backend and the host loader take every name from here.
//!
//! A container `C` defines, for each function-table name `F`, `fc_<C>_<F>` and
//! `fc_<C>_<F>_depth`; once, `fc_<C>_<d>` for each of [`DATA_SUFFIXES`]; and one private
//! function `fc_<C>_f<N>_` per eBPF function (starting at slot `N`). `<C>` is the
//! container's part by the one naming rule (`container::names::container_part`, which
//! `build`'s glue uses too); `<F>` is the function name escaped by the same scheme
//! (`container::names::escape`): a plain identifier (letters and digits, single `_`
//! between) stays as it is unless keeping it would collide; every other name becomes `_`
//! followed by its UTF-8 bytes, ASCII letters and digits as themselves and every other
//! byte as `_` and two uppercase hex digits. So, inside one container's output:
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
use std::sync::OnceLock;

use fc_runtime::verifier::VerifiedProgram;

pub use crate::container::names::DATA_SUFFIXES;
use crate::container::names::{container_part, escape, fc_identifiers, header_identifiers};

/// Suffix of the call-depth symbol of an entry.
pub const DEPTH_SUFFIX: &str = "_depth";

/// Every `fc_...` identifier of the shipped headers and of the emitted C's prelude,
/// comments left out: symbols translated code must never define.
pub fn runtime_names() -> &'static BTreeSet<String> {
    static NAMES: OnceLock<BTreeSet<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names = header_identifiers().clone();
        fc_identifiers(super::c::PRELUDE, &mut names);
        names
    })
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
    /// The container's part is [`container_part`]: the one rule `build`'s glue uses too.
    pub fn new(container: &str) -> Symbols {
        Symbols { part: container_part(container) }
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
        // Container `vm`'s data would be `fc_vm_data`, the C API's function: the part is escaped.
        assert_eq!(Symbols::new("vm").entry("new"), "fc__vm_new");
        assert_eq!(Symbols::new("vm").entry("run"), "fc__vm_run");
        assert_eq!(Symbols::new("env").entry("run"), "fc_env_run");
        // `build`'s glue calls container `main`'s bytes `fc_container_main`.
        assert_eq!(Symbols::new("container").entry("main"), "fc__container_main");
    }

    proptest! {
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
