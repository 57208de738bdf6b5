//! The bare-metal SoCs of the `c` engine, one [`Soc`] description each: toolchain,
//! flags, qemu, start-up and linker fragments of `targets/<soc>/`.

use super::bare_metal::{target_files, ObjectCache, Placement, Soc};
use super::runtime_lib::{LibraryCache, RustTarget};

/// ESP32-C3: RV32IMC, ilp32, compiled with `riscv64-unknown-elf-gcc -march=rv32imc
/// -mabi=ilp32` (the chip's own is riscv32-esp-elf-gcc) and run under `qemu-riscv32`.
pub static ESP32C3: Soc = Soc {
    name: "esp32c3",
    gcc: "riscv64-unknown-elf-gcc",
    gcc_package: "gcc-riscv64-unknown-elf",
    cflags: &["-march=rv32imc", "-mabi=ilp32", "-O2", "-ffreestanding", "-nostdlib", "-static"],
    qemu: "qemu-riscv32",
    qemu_args: &[],
    sources: target_files!("esp32c3": "start.S", "crt.c"),
    extra_objects: &[],
    // The ESP32-C3 address map and the placement fragments.
    linker_scripts: target_files!("esp32c3": "fc_container.ld", "qemu-memory.ld", "qemu-sections.ld", "qemu-flash.ld", "qemu-iram.ld"),
    placements: &[
        // Flash, executed in place through the cache (0x4200_0000 up).
        Placement { name: "flash", script: "qemu-flash.ld" },
        // Internal SRAM on the instruction bus (0x4038_0000 up).
        Placement { name: "iram", script: "qemu-iram.ld" },
    ],
    rust_target: RustTarget::Builtin("riscv32imc-unknown-none-elf"),
    cache: ObjectCache::new(),
    runtime: LibraryCache::new(),
};

/// RP2040: Cortex-M0+ (ARMv6-M Thumb, no divide), compiled with `arm-none-eabi-gcc
/// -mcpu=cortex-m0plus -mthumb` and run under `qemu-arm` with its default CPU (qemu-user
/// aborts with M-profile CPUs; its default CPU also runs Thumb-2 and unaligned accesses,
/// so the rp2040 tests scan the disassembly for anything outside ARMv6-M).
pub static RP2040: Soc = Soc {
    name: "rp2040",
    gcc: "arm-none-eabi-gcc",
    gcc_package: "gcc-arm-none-eabi",
    cflags: &["-mcpu=cortex-m0plus", "-mthumb", "-O2", "-ffreestanding", "-nostdlib", "-static"],
    qemu: "qemu-arm",
    qemu_args: &[],
    sources: target_files!("rp2040": "start.S", "crt.c"),
    extra_objects: &[],
    // The RP2040 address map and the placement fragments.
    linker_scripts: target_files!("rp2040": "fc_container.ld", "qemu-memory.ld", "qemu-sections.ld", "qemu-flash.ld", "qemu-sram.ld"),
    placements: &[
        // XIP flash (0x1000_0000 up).
        Placement { name: "flash", script: "qemu-flash.ld" },
        // Copied to SRAM (0x2000_0000 up), like the pico-sdk's `__not_in_flash_func`.
        Placement { name: "sram", script: "qemu-sram.ld" },
    ],
    rust_target: RustTarget::Builtin("thumbv6m-none-eabi"),
    cache: ObjectCache::new(),
    runtime: LibraryCache::new(),
};

/// ESP8266: Xtensa LX106, call0 ABI, compiled with `xtensa-lx106-elf-gcc -mlongcalls`
/// with the 64-bit / division helpers Debian's lx106 libgcc lacks
/// (`targets/esp8266/libgcc_extra.c`; on the chip they are in ROM), run under
/// `qemu-xtensa -cpu lx106`.
pub static ESP8266: Soc = Soc {
    name: "esp8266",
    gcc: "xtensa-lx106-elf-gcc",
    gcc_package: "gcc-xtensa-lx106",
    cflags: &["-O2", "-ffreestanding", "-nostdlib", "-static", "-mlongcalls"],
    qemu: "qemu-xtensa",
    qemu_args: &["-cpu", "lx106"],
    sources: target_files!("esp8266": "start.S", "crt.c", "libgcc_extra.c"),
    extra_objects: &[
        // The helpers must not be recognized as the operations they implement.
        ("libgcc_extra.c", &["-fno-builtin"]),
    ],
    // The ESP8266 address map (moved below qemu-xtensa's 1 GiB) and the placement fragments.
    linker_scripts: target_files!("esp8266": "fc_container.ld", "qemu-memory.ld", "qemu-sections.ld", "qemu-flash.ld", "qemu-iram.ld"),
    placements: &[
        // Flash, executed in place through the cache (`.irom0.text`, 0x4020_1010 up on the
        // chip, 0x3020_1010 under qemu).
        Placement { name: "flash", script: "qemu-flash.ld" },
        // Internal SRAM on the instruction bus (0x4010_0000 up on the chip, 0x3010_0000 under qemu; 32 KiB).
        Placement { name: "iram", script: "qemu-iram.ld" },
    ],
    rust_target: RustTarget::XtensaJson {
        file: "xtensa-lx106-none-elf.json",
        text: include_str!("../../../targets/esp8266/xtensa-lx106-none-elf.json"),
        llvm_cpu: "esp8266",
        ar: "xtensa-lx106-elf-ar",
    },
    cache: ObjectCache::new(),
    runtime: LibraryCache::new(),
};
