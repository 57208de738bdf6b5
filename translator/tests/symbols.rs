//! Generated symbols never collide (docs/native-abi.md), and every engine runs function
//! tables with aliases (two entries at one location) and repeated names the same way.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use common::every_engine::{execute_function, new_vm};
use common::{assert_success, fc_aot, stderr, stdout, TempDir};
use fc_aot::backend::symbols::Symbols;
use fc_aot::target::EngineKind;
use fc_runtime::format::{write, Image, Layout};
use fc_runtime::stores::StoreContext;

/// The reproducer: entries `a` and `b` both at byte 0 of `mov r0, 1; exit`.
const ALIASES_HEX: &str = "724250460000000000000000000000000800000010000000020000006100620000000000b7000000010000009500000000000000000000000000020000000000";

const MOV_R0_1: [u8; 8] = [0xb7, 0, 0, 0, 1, 0, 0, 0];
const MOV_R0_2: [u8; 8] = [0xb7, 0, 0, 0, 2, 0, 0, 0];
const EXIT: [u8; 8] = [0x95, 0, 0, 0, 0, 0, 0, 0];

fn aliases() -> Vec<u8> {
    (0..ALIASES_HEX.len()).step_by(2).map(|i| u8::from_str_radix(&ALIASES_HEX[i..i + 2], 16).unwrap()).collect()
}

/// `mov r0, 1; exit; mov r0, 2; exit` with `functions` as (name, byte location).
fn container(functions: &[(&str, u32)]) -> Vec<u8> {
    let text = [MOV_R0_1, EXIT, MOV_R0_2, EXIT].concat();
    let functions = functions.iter().map(|&(n, at)| (n.to_string(), at)).collect();
    write(&Image { data: vec![1, 2, 3], bss_len: 8, rodata: vec![9], text, functions }, Layout::Seed).unwrap()
}

#[test]
fn the_reproducer_is_the_aliases_container() {
    assert_eq!(aliases(), write(&Image { data: vec![], bss_len: 0, rodata: vec![], text: [MOV_R0_1, EXIT].concat(), functions: vec![("a".into(), 0), ("b".into(), 0)] }, Layout::Seed).unwrap());
}

every_engine! {
fn aliases_run_the_same_code() {
    let bytes = aliases();
    let stores = StoreContext::new();
    let mut vm = new_vm(&stores);
    assert!(vm.load(&bytes, 512), "load: {:?}", vm.load_error());
    for name in ["a", "b", "a"] {
        assert_eq!(execute_function(&mut vm, name, &mut []), 1, "{name}");
    }
}
}

every_engine! {
fn repeated_names_run_the_first_entry() {
    let bytes = container(&[("a", 0), ("b", 16), ("a", 16), ("c", 16), ("c", 16), ("d", 0)]);
    let stores = StoreContext::new();
    let mut vm = new_vm(&stores);
    assert!(vm.load(&bytes, 512), "load: {:?}", vm.load_error());
    for (name, r0) in [("a", 1), ("b", 2), ("c", 2), ("d", 1)] {
        assert_eq!(execute_function(&mut vm, name, &mut []), r0, "{name}");
    }
    assert_eq!(vm.execute(&mut []), 1);
}
}

every_engine! {
fn colliding_names_run() {
    let names = ["a-b", "a_b", "a.b", "f0", "f16", "rodata", "abi_version", "data", "x", "x_depth", ""];
    let table: Vec<(&str, u32)> = names.iter().enumerate().map(|(i, &n)| (n, if i % 2 == 0 { 0 } else { 16 })).collect();
    let bytes = container(&table);
    let stores = StoreContext::new();
    let mut vm = new_vm(&stores);
    assert!(vm.load(&bytes, 512), "load: {:?}", vm.load_error());
    for (i, name) in names.iter().enumerate() {
        assert_eq!(execute_function(&mut vm, name, &mut []), if i % 2 == 0 { 1 } else { 2 }, "`{name}`");
    }
}
}

#[test]
fn fc_aot_run_prints_r0_1_on_every_engine() {
    let tmp = TempDir::new("symbols-run");
    let file = tmp.join("aliases.bin");
    std::fs::write(&file, aliases()).unwrap();
    for engine in ["reference", "interp", "jit", "aot", "c"] {
        if !EngineKind::ALL.iter().any(|k| k.name() == engine) {
            continue; // built without Cranelift
        }
        for function in [None, Some("a"), Some("b")] {
            let mut args = vec!["run", file.to_str().unwrap(), "--engine", engine];
            args.extend(function.iter().flat_map(|f| ["--function", f]));
            let out = fc_aot(&args);
            assert_success(&out, &format!("fc-aot {args:?}"));
            assert!(stdout(&out).starts_with("r0: 1 (0x1)\nerror: OK\n"), "{args:?}: {}", stdout(&out));
        }
    }
}

/// The global (exported) symbols of an object, with `nm`.
fn global_symbols(object: &std::path::Path) -> BTreeSet<String> {
    let out = Command::new("nm").args(["--defined-only", "-g"]).arg(object).output().expect("nm");
    assert_success(&out, "nm");
    stdout(&out).lines().filter_map(|l| l.split_whitespace().nth(2).map(String::from)).collect()
}

/// Translates `container` as file `<stem>.bin` with both backends; the C must compile
/// warning-free, and both objects must export exactly the symbols `Symbols` names.
fn translates_cleanly(tmp: &TempDir, stem: &str, table: &[(&str, u32)]) -> BTreeSet<String> {
    let bin = tmp.join(format!("{stem}.bin"));
    std::fs::write(&bin, container(table)).unwrap();
    let (c, c_obj, clif_obj) = (tmp.join(format!("{stem}.c")), tmp.join(format!("{stem}.c.o")), tmp.join(format!("{stem}.clif.o")));
    let out = fc_aot(&["translate", bin.to_str().unwrap(), "--backend", "c", "-o", c.to_str().unwrap()]);
    assert_success(&out, &format!("translate {stem} --backend c"));
    let cc = Command::new("cc").args(["-Wall", "-Wextra", "-Werror", "-O1", "-c", "-o"]).arg(&c_obj).arg(&c).output().unwrap();
    assert_success(&cc, &format!("cc {}", c.display()));
    let symbols = Symbols::new(stem);
    let mut names: Vec<&str> = table.iter().map(|(n, _)| *n).collect();
    names.dedup();
    let mut expected: BTreeSet<String> = symbols.all(names.iter().copied(), []).into_iter().collect();
    assert_eq!(expected.len(), 2 * names.len() + 6, "{stem}: {expected:?}");
    assert_eq!(global_symbols(&c_obj), expected, "{stem}: C");
    if EngineKind::ALL.iter().any(|k| k.name() == "aot") {
        let out = fc_aot(&["translate", bin.to_str().unwrap(), "--backend", "cranelift", "-o", clif_obj.to_str().unwrap()]);
        assert_success(&out, &format!("translate {stem} --backend cranelift"));
        assert_eq!(global_symbols(&clif_obj), expected, "{stem}: Cranelift");
    }
    expected.retain(|s| !s.ends_with("_depth"));
    expected
}

#[test]
fn colliding_names_translate_with_both_backends() {
    let tmp = TempDir::new("symbols-translate");
    // `a-b` / `a_b` / `a.b`: formerly all `fc_c_a_b`.
    let got = translates_cleanly(&tmp, "c", &[("a-b", 0), ("a_b", 16), ("a.b", 0), ("a__b", 16)]);
    for s in ["fc_c_a_b", "fc_c__a_2Db", "fc_c__a_2Eb", "fc_c__a_5F_5Fb"] {
        assert!(got.contains(s), "{s} in {got:?}");
    }
    // The emitter's own names, and another function's `_depth`.
    let own = [("f0", 0), ("f16", 16), ("rodata", 0), ("abi_version", 16), ("data", 0), ("data_len", 16), ("bss_len", 0), ("rodata_len", 16), ("x", 0), ("x_depth", 16), ("", 0)];
    let got = translates_cleanly(&tmp, "prog", &own);
    for s in ["fc_prog_f0", "fc_prog_f16", "fc_prog__rodata", "fc_prog__abi_5Fversion", "fc_prog_x", "fc_prog__x_5Fdepth", "fc_prog__", "fc_prog_abi_version"] {
        assert!(got.contains(s), "{s} in {got:?}");
    }
    // Names of the emitted prelude and of the headers firmware includes.
    let got = translates_cleanly(&tmp, "env", &[("helper_fn", 0), ("main", 16)]);
    assert!(got.contains("fc_env__helper_5Ffn") && got.contains("fc_env_main"), "{got:?}");
    let got = translates_cleanly(&tmp, "native", &[("entries", 0)]);
    assert!(got.contains("fc__native_entries") && got.contains("fc__native_abi_version"), "{got:?}");
    // Container names are escaped the same way; plain ones are kept.
    let got = translates_cleanly(&tmp, "my-sensor", &[("sensor_filter", 0)]);
    assert!(got.contains("fc__my_2Dsensor_sensor_filter"), "{got:?}");
    let got = translates_cleanly(&tmp, "sensor_filter", &[("sensor_filter", 0), ("increment", 16)]);
    assert!(got.contains("fc_sensor_filter_sensor_filter") && got.contains("fc_sensor_filter_increment"), "{got:?}");
    // Aliases: one symbol each, same code; a repeated entry adds nothing.
    let got = translates_cleanly(&tmp, "alias", &[("a", 0), ("b", 0), ("b", 0)]);
    assert!(got.contains("fc_alias_a") && got.contains("fc_alias_b"), "{got:?}");
}

#[test]
fn a_name_at_two_locations_is_refused_at_translation() {
    let tmp = TempDir::new("symbols-duplicate");
    let bin = tmp.join("dup.bin");
    std::fs::write(&bin, container(&[("main", 0), ("a", 0), ("x", 16), ("a", 16)])).unwrap();
    for backend in ["c", "cranelift"] {
        let out = fc_aot(&["translate", bin.to_str().unwrap(), "--backend", backend, "-o", tmp.join("dup.out").to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{backend}: {}", stderr(&out));
        let e = stderr(&out);
        assert!(e.contains("entries 1 (at byte 0) and 3 (at byte 16) are both named `a`"), "{backend}: {e}");
    }
    // The VM runs it (the first `a`), like every engine.
    let out = fc_aot(&["run", bin.to_str().unwrap(), "--function", "a", "--engine", "c"]);
    assert_success(&out, "run");
    assert!(stdout(&out).starts_with("r0: 1 (0x1)"), "{}", stdout(&out));
}
