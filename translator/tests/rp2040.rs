//! The `c` engine on `--target rp2040`: the emitted C cross-compiled for the Cortex-M0+
//! (arm-none-eabi-gcc -mcpu=cortex-m0plus -mthumb) with the bare-metal start-up of
//! targets/rp2040/, run under qemu-arm (default CPU); and a scan of the translated code's
//! disassembly for anything the ARMv6-M core would not execute. The tests shared with the
//! other SoCs are in common/bare_metal.rs.
//!
//! Needs `gcc-arm-none-eabi`, `qemu-user` and clang (to build the samples).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use fc_aot::target::Target;
use fc_aot::target::bare_metal::prog_c;
use fc_aot::target::socs;
use fc_runtime::format::{Container, LayoutChoice};

mod common;

use common::bare_metal::{Map, Soc};

const SOC: Soc = Soc { soc: &socs::RP2040, target: Target::Rp2040, nm: "arm-none-eabi-nm" };

/// Every sample container, built with `fc-aot build`.
fn built() -> BTreeMap<String, Vec<u8>> {
    SOC.built()
}

#[test]
fn the_conformance_suite_passes_on_rp2040() {
    SOC.the_conformance_suite_passes();
}

#[test]
fn the_cli_runs_the_suite_on_rp2040() {
    SOC.the_cli_runs_the_suite();
}

#[test]
fn every_sample_container_matches_the_reference_on_rp2040() {
    SOC.every_sample_container_matches_the_reference();
}

#[test]
fn faults_stop_with_the_error_and_the_slot() {
    SOC.faults_stop_with_the_error_and_the_slot();
}

#[test]
fn the_budget_bounds_helpers_and_off_never_runs_out() {
    SOC.the_budget_bounds_helpers_and_off_never_runs_out();
}

#[test]
fn translated_code_goes_where_fc_container_ld_puts_it() {
    // The harness stays in flash, the container and the context in SRAM.
    let map = Map { main: 0x1000_0000..0x1020_0000, memory: 0x2000_0000..0x2004_0000 };
    SOC.translated_code_goes_where_fc_container_ld_puts_it([(SOC.flash(), 0x1000_0000..0x1020_0000), (SOC.ram(), 0x2000_0000..0x2004_0000)], &map, |symbols| {
        // Loaded from flash either way (the start-up of a firmware copies it to SRAM).
        let load = symbols["_fc_containers_text_load"];
        assert!((0x1000_0000..0x1020_0000).contains(&load), "load address {load:#x}");
    });
}

// ---- The ARMv6-M scan -------------------------------------------------------------
//
// qemu-arm's default CPU runs Thumb-2 and does unaligned word accesses, so a green run
// proves neither that the code is ARMv6-M nor that it would not fault on the M0+
// (which has no unaligned access at all). The scan reads `arm-none-eabi-objdump -d` of
// each translated container's object (its functions only, no harness) and checks:
//
// 1. ISA: a 32-bit encoding (two halfwords in objdump's encoding column) must be one of
//    the six 32-bit instructions ARMv6-M has (bl, mrs, msr, dmb, dsb, isb); a 16-bit one
//    must be a Thumb-1 mnemonic of ARMv6-M (no cbz/cbnz, it, Thumb-2 forms, `.w`).
//
// 2. Alignment. The emitter reaches container memory only through `uint8_t *` pointers
//    returned by `fc_at` and `__builtin_memcpy` (FC_LOAD, FC_STORE, the atomics): alignment
//    1, so gcc for ARMv6-M must lower them to ldrb/strb or a call of memcpy (crt.c: a
//    byte loop). Everything else the C dereferences is naturally aligned by the C ABI:
//    the `fc_env` structure (and `&env->regions[slot]`), and the C stack frame. The scan
//    checks the object agrees: a forward data-flow over each function's control flow
//    tracks which registers (and spilled stack slots) hold a pointer derived from
//    `env` (r0 at entry; copies; env plus or minus anything: C indexing into env's typed
//    members keeps their alignment) or from sp. Every word or halfword access
//    (ldr/str/ldrh/strh/ldrsh, ldm/stm) must use sp, pc (literal pool), or a base
//    register proven env- or sp-derived on every path; any value loaded from memory,
//    returned by a call or computed otherwise (a region's base plus an offset: a
//    container address) is of unknown alignment and may only be used by ldrb/strb/ldrsb
//    or passed to memcpy.

const V6M_16: &[&str] = &[
    "adc", "adcs", "add", "adds", "adr", "and", "ands", "asr", "asrs", "b", "beq", "bne", "bcs", "bhs", "bcc", "blo", "bmi", "bpl",
    "bvs", "bvc", "bhi", "bls", "bge", "blt", "bgt", "ble", "bal", "bic", "bics", "bkpt", "blx", "bx", "cmn", "cmp", "cpsid", "cpsie",
    "eor", "eors", "ldm", "ldmia", "ldr", "ldrb", "ldrh", "ldrsb", "ldrsh", "lsl", "lsls", "lsr", "lsrs", "mov", "movs", "mul",
    "muls", "mvn", "mvns", "neg", "negs", "rsbs", "nop", "orr", "orrs", "pop", "push", "rev", "rev16", "revsh", "ror", "rors",
    "sbc", "sbcs", "sev", "stm", "stmia", "str", "strb", "strh", "sub", "subs", "svc", "sxtb", "sxth", "tst", "udf", "uxtb",
    "uxth", "wfe", "wfi", "yield",
];
const V6M_32: &[&str] = &["bl", "mrs", "msr", "dmb", "dsb", "isb"];

/// One disassembled instruction of a function.
#[derive(Debug)]
struct Insn {
    addr: u32,
    mnemonic: String,
    operands: String,
    wide: bool,
}

/// `objdump -d` of an object: function name -> its instructions (literal-pool words dropped).
fn disassemble(object: &std::path::Path) -> BTreeMap<String, Vec<Insn>> {
    let out = Command::new("arm-none-eabi-objdump").arg("-d").arg(object).output().expect("arm-none-eabi-objdump");
    assert!(out.status.success());
    let mut functions = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some(name) = line.strip_suffix(">:").and_then(|l| l.split_once(" <")).map(|(_, n)| n.to_string()) {
            functions.insert(name.clone(), Vec::new());
            current = Some(name);
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let (Some(name), [addr, encoding, mnemonic, rest @ ..]) = (&current, &fields[..]) else { continue };
        let Ok(addr) = u32::from_str_radix(addr.trim().trim_end_matches(':'), 16) else { continue };
        if mnemonic.starts_with('.') {
            continue; // .word / .short: a literal pool, data
        }
        let operands = rest.first().map(|s| s.split('@').next().unwrap().trim().to_string()).unwrap_or_default();
        functions.get_mut(name).unwrap().push(Insn {
            addr,
            mnemonic: mnemonic.trim().to_string(),
            operands,
            wide: encoding.trim().contains(' '),
        });
    }
    functions
}

fn isa_violations(insns: &[Insn]) -> Vec<String> {
    insns
        .iter()
        .filter(|i| {
            let m = i.mnemonic.strip_suffix(".n").unwrap_or(&i.mnemonic);
            if i.wide { !V6M_32.contains(&m) } else { i.mnemonic.ends_with(".w") || !V6M_16.contains(&m) }
        })
        .map(|i| format!("{:#x}: {} {}", i.addr, i.mnemonic, i.operands))
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Val {
    /// env plus something: aligned by C typing.
    Env,
    /// sp plus a constant.
    Stack,
    /// Anything else: alignment unknown.
    Other,
}

#[derive(Clone, Debug, PartialEq)]
struct State {
    regs: [Val; 16],
    /// sp relative to its value at entry (None: lost track).
    sp: Option<i32>,
    /// Spilled values by their offset from sp at entry.
    slots: BTreeMap<i32, Val>,
}

impl State {
    fn join(&self, other: &State) -> State {
        let mut regs = self.regs;
        for (r, o) in regs.iter_mut().zip(other.regs) {
            if *r != o {
                *r = Val::Other;
            }
        }
        let sp = if self.sp == other.sp { self.sp } else { None };
        let slots = self.slots.iter().filter(|(k, v)| other.slots.get(k) == Some(v)).map(|(k, v)| (*k, *v)).collect();
        State { regs, sp, slots }
    }
}

fn reg(name: &str) -> Option<usize> {
    let name = name.trim().trim_end_matches('!');
    Some(match name {
        "sb" => 9,
        "sl" => 10,
        "fp" => 11,
        "ip" => 12,
        "sp" => 13,
        "lr" => 14,
        "pc" => 15,
        _ => name.strip_prefix('r')?.parse().ok()?,
    })
}

fn imm(text: &str) -> Option<i32> {
    text.trim().strip_prefix('#')?.trim().parse().ok()
}

/// The register list of push/pop/ldm/stm: `{r4, r5, lr}`.
fn reg_list(text: &str) -> Vec<usize> {
    let inner = text.split_once('{').and_then(|(_, r)| r.split_once('}')).map(|(l, _)| l).unwrap_or("");
    inner.split(',').filter_map(reg).collect()
}

/// The state after `i`, with alignment violations pushed to `bad`.
fn step(i: &Insn, s: &State, bad: &mut BTreeSet<String>) -> State {
    let mut s = s.clone();
    let m = i.mnemonic.strip_suffix(".n").unwrap_or(&i.mnemonic);
    let ops: Vec<&str> = i.operands.split(',').map(str::trim).collect();
    let dst = ops.first().and_then(|r| reg(r));
    let mut report = |what: &str| {
        bad.insert(format!("{:#x}: {} {} ({what})", i.addr, i.mnemonic, i.operands));
    };
    match m {
        "ldr" | "ldrh" | "ldrsh" | "str" | "strh" | "ldrb" | "strb" | "ldrsb" => {
            let mem = i.operands.split_once('[').and_then(|(_, r)| r.split_once(']')).map(|(l, _)| l).unwrap_or("");
            let parts: Vec<&str> = mem.split(',').map(str::trim).collect();
            let base = reg(parts[0]);
            let offset = parts.get(1).and_then(|o| imm(o)).or(if parts.len() == 1 { Some(0) } else { None });
            let byte = matches!(m, "ldrb" | "strb" | "ldrsb");
            let aligned = match base {
                Some(13) | Some(15) => true,
                Some(b) => matches!(s.regs[b], Val::Env | Val::Stack),
                None => false,
            };
            if !byte && !aligned {
                report("word/halfword access through a base of unknown alignment");
            }
            // Spills: [sp, #k] with sp tracked.
            let slot = match (base, s.sp, offset) {
                (Some(13), Some(sp), Some(k)) => Some(sp + k),
                _ => None,
            };
            if m.starts_with("ldr") {
                let v = match (m, slot) {
                    ("ldr", Some(k)) => s.slots.get(&k).copied().unwrap_or(Val::Other),
                    _ => Val::Other,
                };
                if let Some(d) = dst {
                    s.regs[d] = v;
                }
            } else if let Some(k) = slot {
                let v = if m == "str" { dst.map_or(Val::Other, |d| s.regs[d]) } else { Val::Other };
                // A narrower store clobbers the word it is part of.
                s.slots.insert(k & !3, v);
            } else if base == Some(13) {
                s.slots.clear();
            }
        }
        "push" => {
            let list = reg_list(&i.operands);
            if let Some(sp) = s.sp {
                let new = sp - 4 * list.len() as i32;
                for (n, r) in list.iter().enumerate() {
                    s.slots.insert(new + 4 * n as i32, s.regs[*r]);
                }
                s.sp = Some(new);
            }
        }
        "pop" => {
            let list = reg_list(&i.operands);
            for (n, r) in list.iter().enumerate() {
                s.regs[*r] = s.sp.and_then(|sp| s.slots.get(&(sp + 4 * n as i32)).copied()).unwrap_or(Val::Other);
            }
            s.sp = s.sp.map(|sp| sp + 4 * list.len() as i32);
        }
        "ldm" | "ldmia" | "stm" | "stmia" => {
            let base = reg(ops[0].trim_end_matches('!'));
            if !base.is_some_and(|b| b == 13 || matches!(s.regs[b], Val::Env | Val::Stack)) {
                report("multiple-word access through a base of unknown alignment");
            }
            // A written-back base stays the same kind of pointer; loaded registers are values.
            if m.starts_with("ldm") {
                for r in reg_list(&i.operands) {
                    s.regs[r] = Val::Other;
                }
            }
        }
        "bl" | "blx" => {
            for r in [0, 1, 2, 3, 12, 14] {
                s.regs[r] = Val::Other;
            }
        }
        "mov" | "movs" => {
            if let Some(d) = dst {
                let v = ops.get(1).and_then(|r| reg(r)).map_or(Val::Other, |r| s.regs[r]);
                if d == 13 {
                    s.sp = None;
                    s.slots.clear();
                }
                s.regs[d] = v;
            }
        }
        "add" | "adds" | "sub" | "subs" => {
            // add rd, rn, rm / add rd, rm (rd += rm) / adds rd, rn, #k / add rd, sp, #k / add sp, #k
            let srcs: Vec<Option<usize>> = if ops.len() == 2 { vec![dst, reg(ops[1])] } else { ops[1..].iter().map(|o| reg(o)).collect() };
            let k = ops.last().and_then(|o| imm(o));
            if dst == Some(13) {
                match (s.sp, k) {
                    (Some(sp), Some(k)) if ops.len() == 2 || reg(ops[1]) == Some(13) => {
                        s.sp = Some(if m.starts_with("add") { sp + k } else { sp - k });
                    }
                    _ => {
                        s.sp = None;
                        s.slots.clear();
                    }
                }
            } else if let Some(d) = dst {
                let kinds: Vec<Val> = srcs.iter().flatten().map(|&r| if r == 13 { Val::Stack } else { s.regs[r] }).collect();
                let v = if kinds.contains(&Val::Stack) && k.is_some() && kinds.len() == 1 {
                    Val::Stack
                } else if kinds.iter().filter(|&&v| v == Val::Env).count() == 1 && !kinds.contains(&Val::Stack) {
                    Val::Env
                } else {
                    Val::Other
                };
                s.regs[d] = v;
            }
        }
        _ => {
            // Anything else that writes its first operand makes it a plain value.
            let writes = !matches!(m, "cmp" | "cmn" | "tst" | "bx" | "svc" | "nop" | "bkpt" | "dmb" | "dsb" | "isb" | "msr")
                && !m.starts_with('b');
            if let (true, Some(d)) = (writes, dst) {
                s.regs[d] = Val::Other;
            }
        }
    }
    s
}

/// The forward data-flow over one function: its alignment violations.
fn alignment_violations(insns: &[Insn]) -> Vec<String> {
    let index: BTreeMap<u32, usize> = insns.iter().enumerate().map(|(n, i)| (i.addr, n)).collect();
    let mut entry = State { regs: [Val::Other; 16], sp: Some(0), slots: BTreeMap::new() };
    entry.regs[0] = Val::Env;
    entry.regs[13] = Val::Stack;
    let mut states: Vec<Option<State>> = vec![None; insns.len()];
    states[0] = Some(entry);
    let mut work = vec![0usize];
    let mut bad = BTreeSet::new();
    let mut rounds = 0;
    while let Some(n) = work.pop() {
        rounds += 1;
        assert!(rounds < 1_000_000, "the data-flow does not settle");
        let i = &insns[n];
        let out = step(i, states[n].as_ref().unwrap(), &mut bad);
        let m = i.mnemonic.strip_suffix(".n").unwrap_or(&i.mnemonic);
        let target = i.operands.split_whitespace().next().and_then(|t| u32::from_str_radix(t, 16).ok()).and_then(|a| index.get(&a).copied());
        let is_branch = m.starts_with('b') && !matches!(m, "bl" | "blx" | "bx" | "bic" | "bics" | "bkpt");
        let ends = (m == "b") || m == "bx" || (m == "pop" && i.operands.contains("pc"));
        let mut next = Vec::new();
        if is_branch {
            match target {
                Some(t) => next.push(t),
                None => panic!("branch out of its function at {:#x}: {} {}", i.addr, i.mnemonic, i.operands),
            }
        }
        if !ends && n + 1 < insns.len() {
            next.push(n + 1);
        }
        for t in next {
            let joined = match &states[t] {
                None => out.clone(),
                Some(old) => old.join(&out),
            };
            if states[t].as_ref() != Some(&joined) {
                states[t] = Some(joined);
                work.push(t);
            }
        }
    }
    bad.into_iter().collect()
}

#[test]
fn translated_code_is_armv6m_and_never_unaligned() {
    let bins = built();
    assert!(bins.len() >= 12, "samples built: {:?}", bins.keys());
    let dir = std::env::temp_dir().join(format!("fc-aot-rp2040-scan-{}", std::process::id()));
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for (name, bin) in &bins {
        let container = Container::parse(bin, LayoutChoice::Auto).unwrap();
        let program = fc_aot::helpers::HelperSet::profile(fc_runtime::helpers::Profile::Sming).verify(&container).unwrap();
        let source = prog_c(&program, program.entries()[0], container.data, container.header.bss_len as usize, container.rodata);
        // The C side of the rule: no container pointer is ever cast to a wider type.
        for wide in ["uint16_t *)", "uint32_t *)", "uint64_t *)", "int16_t *)", "int32_t *)", "int64_t *)"] {
            assert!(!source.contains(wide), "{name}: the emitted C casts to `{wide}`");
        }
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let object = socs::RP2040.compile_object(&source, &dir).unwrap();
        let functions = disassemble(&object);
        assert!(functions.keys().any(|f| f == "fc_prog_main"), "{name}: {:?}", functions.keys());
        let (mut insns, mut words, mut bytes, mut calls) = (0, 0, 0, 0);
        for (function, code) in &functions {
            insns += code.len();
            for i in code {
                match i.mnemonic.as_str() {
                    "ldr" | "str" | "ldrh" | "strh" | "ldrsh" if !i.operands.contains("[sp") && !i.operands.contains("[pc") => words += 1,
                    "ldrb" | "strb" | "ldrsb" => bytes += 1,
                    "bl" if i.operands.contains("<memcpy>") => calls += 1,
                    _ => {}
                }
            }
            for v in isa_violations(code) {
                failures.push(format!("{name} {function}: not ARMv6-M: {v}"));
            }
            for v in alignment_violations(code) {
                failures.push(format!("{name} {function}: {v}"));
            }
        }
        report.push(format!(
            "{name}: {insns} instructions, {words} word/halfword accesses off sp/pc (all env-based), {bytes} byte accesses, {calls} memcpy calls"
        ));
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("ARMv6-M scan:\n  {}", report.join("\n  "));
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn the_scan_catches_thumb2_and_unaligned_accesses() {
    // The scan itself, on code it must refuse: a Thumb-2 instruction, and a word load
    // through a pointer read from memory (what a typed container access would give).
    let dir = std::env::temp_dir().join(format!("fc-aot-rp2040-scan-neg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join("bad.s");
    std::fs::write(
        &source,
        ".syntax unified\n.thumb\n.global f\n.type f, %function\n.thumb_func\nf:\n  ldr r1, [r0, #4]\n  ldr r2, [r1, #0]\n  ldrb r3, [r1, #1]\n  ldr r3, [r0, #8]\n  cbz r2, 1f\n  movw r3, #1000\n1:\n  bx lr\n",
    )
    .unwrap();
    let object = dir.join("bad.o");
    let o = Command::new(socs::RP2040.toolchain.binutil("gcc").0).args(["-mcpu=cortex-m3", "-mthumb", "-c"]).arg(&source).arg("-o").arg(&object).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let functions = disassemble(&object);
    let code = &functions["f"];
    let isa = isa_violations(code);
    assert_eq!(isa.len(), 2, "{isa:#?}"); // cbz, movw
    let align = alignment_violations(code);
    assert_eq!(align.len(), 1, "{align:#?}");
    // `ldr r1, [r0, #4]` and `ldr r3, [r0, #8]` are env-based: accepted; `ldrb` through r1 too.
    assert!(align[0].contains("ldr r2, [r1"), "{align:#?}");

    // Real gcc output: sort's emitted C with its container accesses made typed (what
    // scripts/bench-m0 measures as "aligned", not a valid translation): caught.
    let bins = built();
    let container = Container::parse(&bins["sort"], LayoutChoice::Auto).unwrap();
    let program = fc_aot::helpers::HelperSet::profile(fc_runtime::helpers::Profile::Sming).verify(&container).unwrap();
    let source = prog_c(&program, program.entries()[0], container.data, container.header.bss_len as usize, container.rodata);
    let typed = source
        .replace("dst = fc_get##bits(p_)", "dst = *(uint##bits##_t *)(void *)p_")
        .replace("fc_put##bits(p_, (uint##bits##_t)(value))", "*(uint##bits##_t *)(void *)p_ = (uint##bits##_t)(value)");
    assert_ne!(typed, source, "the emitted prelude changed: update this test");
    let good: usize = disassemble(&socs::RP2040.compile_object(&source, &dir).unwrap()).values().map(|c| alignment_violations(c).len()).sum();
    let bad: usize = disassemble(&socs::RP2040.compile_object(&typed, &dir).unwrap()).values().map(|c| alignment_violations(c).len()).sum();
    assert_eq!(good, 0);
    eprintln!("typed sort: {bad} alignment violations");
    assert!(bad >= 3, "typed container accesses in sort: {bad} violations found");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_runtime_library_is_armv6m() {
    // The firmware library (fc-aot runtime --target rp2040): every function of every object,
    // core and compiler_builtins included, in ARMv6-M's instruction set. qemu-arm's default
    // CPU would run Thumb-2 as well, so the green runs alone do not show it.
    let library = socs::RP2040.library(fc_aot::target::runtime_lib::Opt::Speed).unwrap();
    let functions = disassemble(&library);
    let insns: usize = functions.values().map(Vec::len).sum();
    assert!(functions.keys().any(|f| f == "fc_vm_execute") && insns > 10_000, "{} functions, {insns} instructions", functions.len());
    let failures: Vec<String> = functions.iter().flat_map(|(f, code)| isa_violations(code).into_iter().map(move |v| format!("{f}: {v}"))).collect();
    assert!(failures.is_empty(), "not ARMv6-M: {failures:#?}");
    eprintln!("ARMv6-M scan of the runtime library: {} functions, {insns} instructions", functions.len());
}
