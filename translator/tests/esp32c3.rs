//! The `c` engine on `--target esp32c3`: the emitted C cross-compiled for rv32imc
//! (riscv64-unknown-elf-gcc -march=rv32imc -mabi=ilp32) with the bare-metal start-up and
//! harness of targets/esp32c3/, run under qemu-riscv32. The tests shared with the other
//! SoCs are in common/bare_metal.rs.
//!
//! Needs `gcc-riscv64-unknown-elf`, `qemu-user` and clang (to build the samples).

use fc_aot::target::Target;
use fc_aot::target::socs;

mod common;

use common::bare_metal::{Map, Soc};

const SOC: Soc = Soc { soc: &socs::ESP32C3, target: Target::Esp32c3, nm: "riscv64-unknown-elf-nm" };

#[test]
fn the_conformance_suite_passes_on_esp32c3() {
    SOC.the_conformance_suite_passes();
}

#[test]
fn the_cli_runs_the_suite_on_esp32c3() {
    SOC.the_cli_runs_the_suite();
}

#[test]
fn every_sample_container_matches_the_reference_on_esp32c3() {
    SOC.every_sample_container_matches_the_reference();
}

#[test]
fn translated_code_goes_where_fc_container_ld_puts_it() {
    // The harness stays in flash, the container and the context in DRAM.
    let map = Map { main: 0x4200_0000..0x4240_0000, memory: 0x3FC9_0000..0x3FCE_0000 };
    SOC.translated_code_goes_where_fc_container_ld_puts_it([(SOC.flash(), 0x4200_0000..0x4240_0000), (SOC.ram(), 0x4038_0000..0x4039_0000)], &map, |_| {});
}

#[test]
fn faults_stop_with_the_error_and_the_slot() {
    SOC.faults_stop_with_the_error_and_the_slot();
}

#[test]
fn the_budget_bounds_helpers_and_off_never_runs_out() {
    SOC.the_budget_bounds_helpers_and_off_never_runs_out();
}
