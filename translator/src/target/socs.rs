//! The bare-metal SoCs of the `c` engine, one [`Soc`] description each: toolchain,
//! flags, qemu, start-up and linker fragments of `targets/<soc>/`.

use super::bare_metal::{target_files, ObjectCache, Placement, Soc};
use super::c_compiler::Toolchain;
use super::llvm_xtensa::XtensaCore;
use super::runtime_lib::{LibraryCache, RustTarget};

/// ESP32-C3: RV32IMC, ilp32, compiled with `riscv64-unknown-elf-gcc -march=rv32imc
/// -mabi=ilp32` (the chip's own is riscv32-esp-elf-gcc) and run under `qemu-riscv32`.
pub static ESP32C3: Soc = Soc {
    name: "esp32c3",
    toolchain: Toolchain::Gcc { gcc: "riscv64-unknown-elf-gcc", package: "gcc-riscv64-unknown-elf" },
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
    toolchain: Toolchain::Gcc { gcc: "arm-none-eabi-gcc", package: "gcc-arm-none-eabi" },
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
    toolchain: Toolchain::Gcc { gcc: "xtensa-lx106-elf-gcc", package: "gcc-xtensa-lx106" },
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
        core: XtensaCore { cpu: "esp8266", attrs: "" },
        ar: "xtensa-lx106-elf-ar",
    },
    cache: ObjectCache::new(),
    runtime: LibraryCache::new(),
};

/// The windowed ESP32s' start-up, and the ESP8266's Xtensa Linux system calls and integer
/// helpers (plain C, the same for both ABIs).
const WINDOWED_SOURCES: &[(&str, &str)] = &[
    ("start.S", include_str!("../../../targets/esp32/start.S")),
    ("crt.c", include_str!("../../../targets/esp8266/crt.c")),
    ("libgcc_extra.c", include_str!("../../../targets/esp8266/libgcc_extra.c")),
];

/// A windowed ESP32's linker scripts: its own address map and placement fragment, the
/// sections and placements the three share (targets/esp32/).
macro_rules! windowed_scripts {
    ($dir:literal) => {
        &[
            ("fc_container.ld", include_str!(concat!("../../../targets/", $dir, "/fc_container.ld"))),
            ("qemu-memory.ld", include_str!(concat!("../../../targets/", $dir, "/qemu-memory.ld"))),
            ("qemu-sections.ld", include_str!("../../../targets/esp32/qemu-sections.ld")),
            ("qemu-flash.ld", include_str!("../../../targets/esp32/qemu-flash.ld")),
            ("qemu-iram.ld", include_str!("../../../targets/esp32/qemu-iram.ld")),
        ]
    };
}

/// Flash (iram0_2_seg, executed in place through the cache) or IRAM (iram0_0_seg).
const WINDOWED_PLACEMENTS: &[Placement] =
    &[Placement { name: "flash", script: "qemu-flash.ld" }, Placement { name: "iram", script: "qemu-iram.ld" }];

/// The options of LLVM's `esp32` model that the ESP32 (LX6) and ESP32-S3 (LX7) have but
/// qemu's dc233c core lacks (MUL32_HIGH, booleans, the FPU and its double-precision
/// accelerator) are off: everything the code uses runs in both places.
const ESP32_CORE: XtensaCore = XtensaCore { cpu: "esp32", attrs: "-fp,-dfpaccel,-bool,-mul32high" };

/// The ESP32-S2 (LX7) has no zero-overhead loops, no MAC16 and no S32C1I either.
const ESP32S2_CORE: XtensaCore = XtensaCore { cpu: "esp32", attrs: "-fp,-dfpaccel,-bool,-mul32high,-loop,-mac16,-s32c1i" };

/// clang-22's flags; and ESP-IDF's, for a compiler named with `--cc`.
const WINDOWED_CFLAGS: &[&str] = &["-O2", "-ffreestanding"];
const ESP_IDF_FLAGS: &[&str] = &["-O2", "-ffreestanding", "-mlongcalls"];

/// The ESP32 family's Rust target for the ESP32 and ESP32-S3 (the same options).
const ESP32_RUST: RustTarget = RustTarget::XtensaJson {
    file: "xtensa-esp32-none-elf.json",
    text: include_str!("../../../targets/esp32/xtensa-esp32-none-elf.json"),
    core: ESP32_CORE,
    ar: "xtensa-lx106-elf-ar",
};

/// A windowed ESP32: LLVM 22 for `core`, the shared start-up and crt, `linker_scripts`
/// ([`windowed_scripts`]), run under `qemu-xtensa -cpu dc233c`.
const fn windowed(name: &'static str, core: XtensaCore, linker_scripts: &'static [(&'static str, &'static str)], rust_target: RustTarget) -> Soc {
    Soc {
        name,
        toolchain: Toolchain::LlvmXtensa { core, ld: "xtensa-lx106-elf-ld", gcc_flags: ESP_IDF_FLAGS },
        cflags: WINDOWED_CFLAGS,
        qemu: "qemu-xtensa",
        qemu_args: &["-cpu", "dc233c"],
        sources: WINDOWED_SOURCES,
        extra_objects: &[("libgcc_extra.c", &["-fno-builtin"])],
        linker_scripts,
        placements: WINDOWED_PLACEMENTS,
        rust_target,
        cache: ObjectCache::new(),
        runtime: LibraryCache::new(),
    }
}

/// ESP32: Xtensa LX6 ([`ESP32_CORE`]).
pub static ESP32: Soc = windowed("esp32", ESP32_CORE, windowed_scripts!("esp32"), ESP32_RUST);

/// ESP32-S2: Xtensa LX7 without loops, MAC16, S32C1I or FPU ([`ESP32S2_CORE`]), its own Rust target.
pub static ESP32S2: Soc = windowed(
    "esp32s2",
    ESP32S2_CORE,
    windowed_scripts!("esp32s2"),
    RustTarget::XtensaJson {
        file: "xtensa-esp32s2-none-elf.json",
        text: include_str!("../../../targets/esp32s2/xtensa-esp32s2-none-elf.json"),
        core: ESP32S2_CORE,
        ar: "xtensa-lx106-elf-ar",
    },
);

/// ESP32-S3: Xtensa LX7 with the ESP32's options (and more the code does not use), so the
/// ESP32's code and Rust target; its own address map.
pub static ESP32S3: Soc = windowed("esp32s3", ESP32_CORE, windowed_scripts!("esp32s3"), ESP32_RUST);
