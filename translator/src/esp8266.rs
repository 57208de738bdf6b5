//! The ESP8266 target of the `c` engine (issue 10): the emitted C cross-compiled for the
//! Xtensa LX106 (call0 ABI) with `xtensa-lx106-elf-gcc -mlongcalls`, linked with the
//! bare-metal start-up of `targets/esp8266/`, the harness shared with the ESP32-C3
//! (`targets/esp32c3/harness.c`: plain C) and the 64-bit / division helpers Debian's
//! lx106 libgcc lacks (`targets/esp8266/libgcc_extra.c`; on the chip they are in ROM),
//! and run under `qemu-xtensa -cpu lx106`. What the SoC targets share is in
//! [`crate::bare_metal`].

use crate::bare_metal::{ObjectCache, Soc};

pub use crate::bare_metal::{prog_c, Run};

/// The cross compiler (Debian package `gcc-xtensa-lx106`).
pub const GCC: &str = "xtensa-lx106-elf-gcc";
/// qemu-user for Xtensa (Debian package `qemu-user`), run with `-cpu lx106`.
pub const QEMU: &str = "qemu-xtensa";
/// Every compile and link: the LX106 (call0, no libc); `-mlongcalls` because flash
/// and IRAM are 1 MiB apart, beyond call0's reach.
pub const CFLAGS: [&str; 5] = ["-O2", "-ffreestanding", "-nostdlib", "-static", "-mlongcalls"];

/// The ESP8266. `-lgcc` brings the 64-bit shifts; multiply and divide come from libgcc_extra.c.
pub static SOC: Soc = Soc {
    name: "esp8266",
    gcc: GCC,
    gcc_package: "gcc-xtensa-lx106",
    cflags: &CFLAGS,
    qemu: QEMU,
    qemu_args: &["-cpu", "lx106"],
    sources: crate::bare_metal::target_files!("esp8266": "start.S", "crt.c", "libgcc_extra.c"),
    extra_objects: &[
        // The helpers must not be recognized as the operations they implement.
        ("libgcc_extra.c", &["-fno-builtin"]),
    ],
    // The ESP8266 address map (moved below qemu-xtensa's 1 GiB) and the placement fragment.
    linker_scripts: crate::bare_metal::target_files!("esp8266": "fc_container.ld", "qemu-memory.ld", "qemu-sections.ld", "qemu-flash.ld", "qemu-iram.ld"),
    cache: ObjectCache::new(),
};

/// Where the translated functions (`.text.fc_*`) go at link time (targets/esp8266/fc_container.ld).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Flash, executed in place through the cache (`.irom0.text`, 0x4020_1010 up on
    /// the chip, 0x3020_1010 under qemu): the default.
    Flash,
    /// Internal SRAM on the instruction bus (0x4010_0000 up on the chip, 0x3010_0000
    /// under qemu; 32 KiB).
    Iram,
}

crate::bare_metal::soc_functions! {
    placements: { Flash => "qemu-flash.ld", Iram => "qemu-iram.ld" },
    on: "the LX106 under `qemu-xtensa -cpu lx106`",
}
