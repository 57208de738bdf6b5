//! The ESP32-C3 target of the `c` engine (spec §5): the emitted C cross-compiled for
//! rv32imc with `riscv64-unknown-elf-gcc -march=rv32imc -mabi=ilp32`, linked with the
//! bare-metal start-up and harness of `targets/esp32c3/` (no libc) and run under
//! `qemu-riscv32`. What the SoC targets share is in [`crate::bare_metal`].

use crate::bare_metal::{ObjectCache, Soc};

pub use crate::bare_metal::{prog_c, Run};

/// The cross compiler (Debian package `gcc-riscv64-unknown-elf`).
pub const GCC: &str = "riscv64-unknown-elf-gcc";
/// qemu-user for 32-bit RISC-V (Debian package `qemu-user`).
pub const QEMU: &str = "qemu-riscv32";
/// Every compile and link: the ESP32-C3's ISA and ABI, no libc.
pub const CFLAGS: [&str; 6] = ["-march=rv32imc", "-mabi=ilp32", "-O2", "-ffreestanding", "-nostdlib", "-static"];

/// The ESP32-C3.
pub static SOC: Soc = Soc {
    name: "esp32c3",
    gcc: GCC,
    gcc_package: "gcc-riscv64-unknown-elf",
    cflags: &CFLAGS,
    qemu: QEMU,
    qemu_args: &[],
    sources: crate::bare_metal::target_files!("esp32c3": "start.S", "crt.c"),
    extra_objects: &[],
    // The ESP32-C3 address map and the placement fragment.
    linker_scripts: crate::bare_metal::target_files!("esp32c3": "fc_container.ld", "qemu-memory.ld", "qemu-sections.ld", "qemu-flash.ld", "qemu-iram.ld"),
    cache: ObjectCache::new(),
};

/// Where the translated functions (`.text.fc_*`) go at link time (targets/esp32c3/fc_container.ld).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Flash, executed in place through the cache (0x4200_0000 up): the default.
    Flash,
    /// Internal SRAM on the instruction bus (0x4038_0000 up).
    Iram,
}

crate::bare_metal::soc_functions! {
    placements: { Flash => "qemu-flash.ld", Iram => "qemu-iram.ld" },
    on: "rv32imc under qemu-riscv32",
}
