//! The windowed Xtensa SoCs (`--target esp32`, `esp32s2`, `esp32s3`): the runtime and the
//! emitted C compiled by LLVM 22 (clang-22, llc -mcpu=esp32 with each SoC's options, llvm-mc)
//! for the windowed ABI, linked with targets/esp32/start.S by GNU ld and run under
//! `qemu-xtensa -cpu dc233c`. The tests shared with the other SoCs are in
//! common/bare_metal.rs; here also the instruction scan: the code uses only what both the
//! chip and the emulated core have.
//!
//! Needs `clang-22`, `llvm-22`, `binutils-xtensa-lx106`, `qemu-user`, Debian's `rustc-web`
//! (the runtime) and clang (to build the samples).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use fc_aot::backend::c::emit;
use fc_aot::backend::Input;
use fc_aot::helpers::HelperSet;
use fc_aot::target::harness::table_functions;
use fc_aot::target::runtime_lib::Opt;
use fc_aot::target::socs;
use fc_aot::target::{EngineKind, Target};
use fc_runtime::format::{Container, LayoutChoice};
use fc_runtime::helpers::Profile;

mod common;

use common::bare_metal::{Map, Soc};

const ESP32: Soc = Soc { soc: &socs::ESP32, target: Target::Esp32, nm: "xtensa-lx106-elf-nm" };
const ESP32S2: Soc = Soc { soc: &socs::ESP32S2, target: Target::Esp32s2, nm: "xtensa-lx106-elf-nm" };
const ESP32S3: Soc = Soc { soc: &socs::ESP32S3, target: Target::Esp32s3, nm: "xtensa-lx106-elf-nm" };

/// The harness and the translated code run on the runtime's interpreters on the ESP32 too;
/// the S2 and S3 builds differ in options (S2) and addresses (S3), so their runtime runs the
/// suite with `c` and `interp`.
#[test]
fn the_conformance_suite_passes_on_esp32() {
    ESP32.the_conformance_suite_passes();
}

#[test]
fn the_conformance_suite_passes_on_esp32s2() {
    ESP32S2.the_conformance_suite_passes_on(&[EngineKind::C, EngineKind::Interp]);
}

#[test]
fn the_conformance_suite_passes_on_esp32s3() {
    ESP32S3.the_conformance_suite_passes_on(&[EngineKind::C, EngineKind::Interp]);
}

#[test]
fn the_cli_runs_the_suite_on_the_windowed_esp32s() {
    for soc in [ESP32, ESP32S2, ESP32S3] {
        soc.the_cli_runs_the_suite();
    }
}

#[test]
fn every_sample_container_matches_the_reference_on_esp32() {
    ESP32.every_sample_container_matches_the_reference();
}

#[test]
fn every_sample_container_matches_the_reference_on_esp32s2() {
    ESP32S2.every_sample_container_matches_the_reference();
}

#[test]
fn every_sample_container_matches_the_reference_on_esp32s3() {
    ESP32S3.every_sample_container_matches_the_reference();
}

#[test]
fn translated_code_goes_where_fc_container_ld_puts_it() {
    // Each chip's map moved down by 0x1000_0000 (qemu-xtensa maps only the lower 1 GiB):
    // flash (iram0_2_seg) and IRAM (iram0_0_seg) as ESP-IDF names them. The harness stays in
    // flash, the container and the context in the qemu-only RAM.
    let memory = 0x2FA0_0000..0x2FB0_0000;
    let socs = [
        (ESP32, 0x300D_0020..0x3040_0000, 0x3008_0000..0x300A_0000),
        (ESP32S2, 0x3008_0020..0x3080_0000, 0x3002_0000..0x3004_0000),
        (ESP32S3, 0x3200_0020..0x3280_0000, 0x3037_0000..0x3038_8000),
    ];
    for (soc, flash, iram) in socs {
        let map = Map { main: flash.clone(), memory: memory.clone() };
        soc.translated_code_goes_where_fc_container_ld_puts_it([(soc.flash(), flash), (soc.ram(), iram)], &map, |_| {});
    }
}

#[test]
fn faults_stop_with_the_error_and_the_slot() {
    ESP32.faults_stop_with_the_error_and_the_slot();
}

#[test]
fn the_budget_bounds_helpers_and_off_never_runs_out() {
    ESP32.the_budget_bounds_helpers_and_off_never_runs_out();
}

#[test]
fn the_64_bit_and_division_helpers_agree_with_the_reference() {
    ESP32.the_64_bit_and_division_helpers_agree_with_the_reference();
}

// The instruction scan. LLVM's `esp32` model has options of the ESP32 that qemu's dc233c
// core lacks, and the ESP32-S2 lacks some the model has; the builds switch those off
// (socs.rs) and this scan proves the result: every instruction in the code sections of the
// translated C of every sample and of the runtime library (`llvm-objdump -d` with every
// option decoded, literal pools skipped) must be in the base ISA, the windowed option, or an
// option both the SoC and dc233c have.
//
//   option        ESP32  S2  S3  dc233c   here
//   MUL32_HIGH      y    y   y     -      off (muluh/mulsh: SIGILL under qemu)
//   FP, DFPACCEL    y    -   y     -      off (and the build promises no float)
//   BOOLEANS        y    -   y     -      off
//   LOOPS           y    -   y     y      on for ESP32/S3, off for S2
//   MAC16           y    -   y     y      on for ESP32/S3, off for S2
//   S32C1I          y    -   y     y      on for ESP32/S3, off for S2
//   DIV32, MUL32, MUL16, NSA, MINMAX, SEXT, CLAMPS, THREADPTR: all have them, on

/// Base ISA with the density option (and the register moves it implies).
const BASE: &[&str] = &[
    "abs", "add", "add.n", "addi", "addi.n", "addmi", "addx2", "addx4", "addx8", "and", "ball", "bany", "bbc", "bbci", "bbs", "bbsi", "beq",
    "beqi", "beqz", "beqz.n", "bge", "bgei", "bgeu", "bgeui", "bgez", "blt", "blti", "bltu", "bltui", "bltz", "bnall", "bne", "bnei",
    "bnez", "bnez.n", "bnone", "break", "break.n", "call0", "callx0", "dsync", "esync", "extui", "extw", "ill", "ill.n", "isync", "j", "jx",
    "l16si", "l16ui", "l32i", "l32i.n", "l32r", "l8ui", "memw", "mov", "mov.n", "moveqz", "movgez", "movi", "movi.n", "movltz", "movnez",
    "neg", "nop", "nop.n", "or", "ret", "ret.n", "rsync", "s16i", "s32i", "s32i.n", "s8i", "sll", "slli", "sra", "srai", "src", "srl",
    "srli", "ssa8b", "ssa8l", "ssai", "ssl", "ssr", "sub", "subx2", "subx4", "subx8", "syscall", "xor",
];
/// The windowed register option.
const WINDOWED: &[&str] = &["entry", "call4", "call8", "call12", "callx4", "callx8", "callx12", "retw", "retw.n", "movsp", "rotw", "l32e", "s32e"];
/// Options all three SoCs and dc233c have.
const COMMON: &[&str] = &["mull", "mul16u", "mul16s", "quou", "quos", "remu", "rems", "nsa", "nsau", "min", "max", "minu", "maxu", "sext", "clamps"];
/// Options the ESP32 and ESP32-S3 have (and dc233c) but the S2 lacks.
const LOOPS: &[&str] = &["loop", "loopnez", "loopgtz"];
const S32C1I: &[&str] = &["s32c1i"];

/// Why `mnemonic operands` may not run on `soc` (and the emulated core), or `None`.
fn forbidden(soc: &str, mnemonic: &str, operands: &str) -> Option<String> {
    let lx7_without = soc == "esp32s2";
    if BASE.contains(&mnemonic) || WINDOWED.contains(&mnemonic) || COMMON.contains(&mnemonic) {
        return None;
    }
    if (LOOPS.contains(&mnemonic) || S32C1I.contains(&mnemonic) || is_mac16(mnemonic)) && !lx7_without {
        return None;
    }
    // Special registers: user code touches SAR (shifts), THREADPTR, and SCOMPARE1 only with S32C1I.
    let register = operands.rsplit(',').next().unwrap_or_default().trim();
    match mnemonic {
        "rsr" | "wsr" | "xsr" if register == "sar" => return None,
        "wsr" | "rsr" if register == "scompare1" && !lx7_without => return None,
        "rur" | "wur" if register == "threadptr" => return None,
        _ => {}
    }
    Some(format!("`{mnemonic} {operands}` is not an instruction {soc} and dc233c both have"))
}

fn is_mac16(mnemonic: &str) -> bool {
    ["mul.", "mula.", "muls.", "umul."].iter().any(|p| mnemonic.starts_with(p)) || matches!(mnemonic, "lddec" | "ldinc")
}

/// Every option LLVM knows decoded, so nothing the scan forbids shows as `<unknown>` only.
const DECODE_ALL: &str = "--mattr=+mul32high,+fp,+dfpaccel,+bool,+loop,+mac16,+s32c1i,+div32,+mul32,+mul16,+nsa,+minmax,+sext,+clamps,+threadptr,+windowed,+density";

/// The violations in the code sections (`.text*`, not the `.literal*` pools) of `object`
/// (an object or an archive) for `soc`, and how many instructions were read.
fn scan(soc: &str, object: &Path) -> (Vec<String>, usize) {
    let out = Command::new("/usr/lib/llvm-22/bin/llvm-objdump").args(["-d", "--mcpu=esp32", DECODE_ALL]).arg(object).output().expect("llvm-objdump (llvm-22)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (mut bad, mut read, mut code) = (Vec::new(), 0, false);
    let mut function = String::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some(section) = line.strip_prefix("Disassembly of section ") {
            code = section.starts_with(".text");
            continue;
        }
        if let Some(name) = line.strip_suffix(">:") {
            function = name.rsplit('<').next().unwrap_or_default().to_string();
            continue;
        }
        // "  1c: 36 41 00     \tentry\ta1, 32"
        let mut fields = line.split('\t');
        let (Some(address), Some(mnemonic)) = (fields.next(), fields.next()) else { continue };
        let is_address = address.trim_start().split(':').next().is_some_and(|a| u32::from_str_radix(a, 16).is_ok());
        if !code || !is_address {
            continue;
        }
        read += 1;
        let operands = fields.next().unwrap_or_default();
        if let Some(why) = forbidden(soc, mnemonic.trim(), operands.trim()) {
            bad.push(format!("{function}: {why}"));
        }
    }
    (bad, read)
}

#[test]
fn translated_code_and_the_runtime_use_only_instructions_of_the_chip_and_the_emulated_core() {
    let bins = common::bare_metal::built("esp32-scan");
    for soc in [ESP32, ESP32S2, ESP32S3] {
        let name = soc.soc.name;
        let dir = std::env::temp_dir().join(format!("fc-aot-{name}-scan-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut total = 0;
        for (container_name, bin) in &bins {
            let container = Container::parse(bin, LayoutChoice::Auto).unwrap();
            let program = HelperSet::profile(Profile::Sming).verify(&container).unwrap();
            let functions = table_functions(&container, &program);
            let c = emit(&Input::of_container(container_name, &container, &program, &functions));
            let object = soc.soc.compile_object(&c, &dir).unwrap();
            let (bad, read) = scan(name, &object);
            assert!(bad.is_empty(), "{container_name} on {name}: {bad:#?}");
            total += read;
        }
        let library = soc.soc.library(Opt::Speed).unwrap();
        let (bad, read) = scan(name, &library);
        assert!(bad.is_empty(), "the runtime library for {name}: {bad:#?}");
        // Something was read: a scan of nothing proves nothing.
        assert!(total > 1000 && read > 10_000, "{name}: {total} translated and {read} runtime instructions scanned");
        eprintln!("{name}: {total} instructions of translated samples and {read} of the runtime scanned, none outside the chip's and dc233c's");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn the_scan_catches_what_the_emulated_core_or_the_chip_lacks() {
    let dir = std::env::temp_dir().join(format!("fc-aot-esp32-bad-scan-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join("bad.s");
    std::fs::write(
        &source,
        "\t.section .text.f,\"ax\",@progbits\n\t.global f\n\t.type f,@function\nf:\n\tentry a1, 32\n\tmuluh a2, a3, a4\n\tadd.s f0, f1, f2\n\tloop a2, 1f\n\tmull a2, a3, a4\n1:\n\ts32c1i a2, a3, 0\n\twsr a2, ps\n\tretw\n",
    )
    .unwrap();
    let object = dir.join("bad.o");
    let o = Command::new("/usr/lib/llvm-22/bin/llvm-mc")
        .args(["-triple=xtensa", "-mcpu=esp32", "-mattr=+mul32high,+fp,+loop,+s32c1i", "-filetype=obj"])
        .arg(&source)
        .arg("-o")
        .arg(&object)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (esp32, read) = scan("esp32", &object);
    assert_eq!(read, 8);
    // muluh, add.s, wsr ps; loop and s32c1i are the ESP32's.
    assert_eq!(esp32.len(), 3, "{esp32:#?}");
    let (s2, _) = scan("esp32s2", &object);
    assert_eq!(s2.len(), 5, "{s2:#?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The programs the scan reads are the ones that run: what llc is told (socs.rs) is what
/// the chip has, and names no option BASE..S32C1I above leaves out.
#[test]
fn the_builds_switch_off_what_dc233c_lacks() {
    use fc_aot::target::c_compiler::Toolchain;
    for (soc, off) in [(&socs::ESP32, ["-mul32high", "-fp", "-bool"]), (&socs::ESP32S2, ["-loop", "-mac16", "-s32c1i"]), (&socs::ESP32S3, ["-mul32high", "-fp", "-bool"])] {
        let Toolchain::LlvmXtensa { core, .. } = soc.toolchain else { panic!("{} is built by LLVM", soc.name) };
        let attrs: BTreeSet<&str> = core.attrs.split(',').collect();
        for option in off {
            assert!(attrs.contains(option), "{}: {option} in {}", soc.name, core.attrs);
        }
    }
}

/// `fc-aot cc`: firmware C through the same toolchain, windowed code out; never over its source.
#[test]
fn cc_compiles_firmware_c_for_the_windowed_abi() {
    let dir = std::env::temp_dir().join(format!("fc-aot-esp32-cc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join("glue.c");
    std::fs::write(&source, "int twice(int x) { return SCALE * x; }\n").unwrap();
    let fc = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_fc-aot")).args(args).output().unwrap();
    let (src, obj, asm) = (source.to_str().unwrap(), dir.join("glue.o"), dir.join("glue.s"));
    let o = fc(&["cc", "--target", "esp32s3", src, "-o", obj.to_str().unwrap(), "--", "-DSCALE=2"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(&obj).unwrap();
    assert_eq!(&bytes[..4], b"\x7fELF");
    assert_eq!(u16::from_le_bytes([bytes[18], bytes[19]]), 94, "EM_XTENSA");
    let o = fc(&["cc", "--target", "esp32", "-S", src, "-o", asm.to_str().unwrap(), "--", "-DSCALE=2"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&asm).unwrap();
    assert!(text.contains("entry") && text.contains("retw"), "{text}");
    // Without the flag the C does not compile: the error names the file and clang's reason.
    let o = fc(&["cc", "--target", "esp32", src, "-o", obj.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("SCALE"), "{}", String::from_utf8_lossy(&o.stderr));
    let o = fc(&["cc", "--target", "esp32", src, "-o", src]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&source).unwrap(), "int twice(int x) { return SCALE * x; }\n");
    let _ = std::fs::remove_dir_all(&dir);
}
