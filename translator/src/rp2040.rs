//! The RP2040 target of the `c` engine (spec §5, issue 10): the emitted C cross-compiled
//! for the Cortex-M0+ (ARMv6-M Thumb) with `arm-none-eabi-gcc -mcpu=cortex-m0plus -mthumb`,
//! linked with the bare-metal start-up of `targets/rp2040/` and the harness shared with
//! the ESP32-C3 (`targets/esp32c3/harness.c`: plain C over the crt interface), no libc,
//! and run under `qemu-arm` with its default CPU (qemu-user aborts with M-profile CPUs;
//! its default CPU also runs Thumb-2 and unaligned accesses, so
//! `translator/tests/rp2040.rs` scans the disassembly for anything outside ARMv6-M).
//! What the SoC targets share is in [`crate::bare_metal`].

use std::path::{Path, PathBuf};

use crate::bare_metal::{ObjectCache, Soc};

/// What one run of a container on the harness showed (the same harness as the ESP32-C3's).
pub use crate::bare_metal::{prog_c, Run};

/// The cross compiler (Debian package `gcc-arm-none-eabi`).
pub const GCC: &str = "arm-none-eabi-gcc";
/// Its disassembler.
pub const OBJDUMP: &str = "arm-none-eabi-objdump";
/// qemu-user for 32-bit Arm (Debian package `qemu-user`), default CPU.
pub const QEMU: &str = "qemu-arm";
/// Every compile and link: the RP2040's core (ARMv6-M Thumb, AAPCS), no libc.
pub const CFLAGS: [&str; 6] = ["-mcpu=cortex-m0plus", "-mthumb", "-O2", "-ffreestanding", "-nostdlib", "-static"];

/// The RP2040. `-lgcc` brings __aeabi_uldivmod, __aeabi_lmul, __aeabi_llsl, ...: what the M0+ lacks.
pub static SOC: Soc = Soc {
    name: "rp2040",
    gcc: GCC,
    gcc_package: "gcc-arm-none-eabi",
    cflags: &CFLAGS,
    qemu: QEMU,
    qemu_args: &[],
    sources: crate::bare_metal::target_files!("rp2040": "start.S", "crt.c"),
    extra_objects: &[],
    // The RP2040 address map and the placement fragment.
    linker_scripts: crate::bare_metal::target_files!("rp2040": "fc_container.ld", "qemu-memory.ld", "qemu-sections.ld", "qemu-flash.ld", "qemu-sram.ld"),
    cache: ObjectCache::new(),
};

/// Where the translated functions (`.text.fc_*`) go at link time (targets/rp2040/fc_container.ld).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// XIP flash (0x1000_0000 up): the default.
    Flash,
    /// Copied to SRAM (0x2000_0000 up), like the pico-sdk's `__not_in_flash_func`.
    Sram,
}

crate::bare_metal::soc_functions! {
    placements: { Flash => "qemu-flash.ld", Sram => "qemu-sram.ld" },
    on: "the Cortex-M0+ under qemu-arm",
}

/// Compiles `c_source` alone into `dir/prog.o` with the link's flags (for disassembly:
/// `translator/tests/rp2040.rs` scans it for instructions outside ARMv6-M).
pub fn compile_object(c_source: &str, dir: &Path) -> Result<PathBuf, String> {
    SOC.compile_object(c_source, dir)
}
