//! The `c` engine on `--target esp8266`: the emitted C cross-compiled for the Xtensa
//! LX106, call0 ABI (xtensa-lx106-elf-gcc -mlongcalls) with the bare-metal start-up and
//! 64-bit helpers of targets/esp8266/ and the harness of targets/esp8266/, run under
//! qemu-xtensa -cpu lx106. The tests shared with the other SoCs are in common/bare_metal.rs.
//!
//! Needs `gcc-xtensa-lx106`, `binutils-xtensa-lx106`, `qemu-user` and clang (to build the samples).

use fc_aot::target::{EngineKind, Target};
use fc_aot::target::socs;

mod common;

use common::bare_metal::{Map, Soc};

const SOC: Soc = Soc { soc: &socs::ESP8266, target: Target::Esp8266, nm: "xtensa-lx106-elf-nm" };

#[test]
fn the_conformance_suite_passes_on_esp8266() {
    SOC.the_conformance_suite_passes();
}

#[test]
fn the_cli_runs_the_suite_on_esp8266() {
    SOC.the_cli_runs_the_suite();
}

#[test]
fn every_sample_container_matches_the_reference_on_esp8266() {
    SOC.every_sample_container_matches_the_reference();
}

#[test]
fn translated_code_goes_where_fc_container_ld_puts_it() {
    // The chip's map moved down by 0x1000_0000 (qemu-xtensa maps only the lower 1 GiB):
    // flash (.irom0.text) 0x3020_1010 up, IRAM 0x3010_0000 (32 KiB), DRAM 0x2FFE_8000 (80 KiB).
    // The harness stays in flash, the table in DRAM rodata (flash only takes aligned
    // 32-bit loads on the chip), the context in the qemu-only RAM.
    let map = Map { main: 0x3020_1010..0x3030_0000, rodata: 0x2FFE_8000..0x2FFF_C000, memory: 0x2FA0_0000..0x2FB0_0000 };
    SOC.translated_code_goes_where_fc_container_ld_puts_it([(SOC.flash(), 0x3020_1010..0x3030_0000), (SOC.ram(), 0x3010_0000..0x3010_8000)], &map, |_| {});
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
fn the_64_bit_and_division_helpers_agree_with_the_reference() {
    // libgcc_extra.c (__muldi3, __udivdi3, __umoddi3, __divsi3, ...) through translated
    // code, against the reference interpreter on the host.
    use fc_aot::target::run_conformance;
    let values: [u64; 10] = [
        0,
        1,
        3,
        0x7fff_ffff,
        0x8000_0000,
        0xffff_ffff,
        0x1_0000_0001,
        0x1234_5678_9abc_def0,
        0x8000_0000_0000_0000,
        u64::MAX,
    ];
    let ops = ["mul", "div", "mod", "sdiv", "smod", "mul32", "div32", "mod32", "sdiv32", "smod32"];
    let mut programs = Vec::new();
    for a in values {
        for b in values {
            for op in ops {
                programs.push(format!("lddw %r0, {a:#x}\nlddw %r1, {b:#x}\n{op} %r0, %r1\nexit"));
            }
        }
    }
    // One program per operation and operand pair (so a failure names them), on 4 threads.
    let checked = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for chunk in programs.chunks(programs.len().div_ceil(4)) {
            let checked = &checked;
            scope.spawn(move || {
                for text in chunk {
                    let program = fc_aot::text::asm::assemble(text).unwrap();
                    let want = run_conformance(EngineKind::Reference, Target::Host, &[], &program, &[]);
                    let got = run_conformance(EngineKind::C, Target::Esp8266, &[], &program, &[]);
                    assert_eq!(got, want, "{text}");
                    checked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            });
        }
    });
    assert_eq!(checked.into_inner(), values.len() * values.len() * ops.len());
}
