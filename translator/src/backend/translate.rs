//! `fc-aot translate`: a container to native code for a target (spec §5).

use fc_runtime::format::Container;
use fc_runtime::verifier::VerifiedProgram;

use super::Input;

/// `--target` of `translate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TranslateTarget {
    pub name: &'static str,
    /// Cranelift's triple; empty for the host, `None` where Cranelift has no backend (C only).
    pub triple: Option<&'static str>,
    pub facts: &'static str,
}

/// The targets `translate` knows, with what `--target help` prints about them.
pub const TARGETS: &[TranslateTarget] = &[
    TranslateTarget { name: "host", triple: Some(""), facts: "this machine's ISA (Cranelift), System V / AAPCS64 C ABI" },
    TranslateTarget { name: "x86_64", triple: Some("x86_64-unknown-linux-gnu"), facts: "x86-64 (Cranelift), System V ABI, ELF" },
    TranslateTarget { name: "aarch64", triple: Some("aarch64-unknown-linux-gnu"), facts: "AArch64 (Cranelift), AAPCS64, ELF" },
    TranslateTarget { name: "riscv64gc", triple: Some("riscv64gc-unknown-linux-gnu"), facts: "RV64GC (Cranelift), LP64D, ELF" },
    TranslateTarget {
        name: "esp32c3",
        triple: None,
        facts: "ESP32-C3, RISC-V RV32IMC, ilp32 (C backend: riscv32-esp-elf-gcc, here riscv64-unknown-elf-gcc -march=rv32imc -mabi=ilp32 -O2; targets/esp32c3)",
    },
    TranslateTarget {
        name: "rp2040",
        triple: None,
        facts: "RP2040, dual Cortex-M0+ 133 MHz, ARMv6-M Thumb (no divide), AAPCS (C backend: arm-none-eabi-gcc -mcpu=cortex-m0plus -mthumb -O2 + libgcc; .text in XIP flash or SRAM; targets/rp2040)",
    },
    TranslateTarget {
        name: "esp8266",
        triple: None,
        facts: "ESP8266, Xtensa LX106 80/160 MHz, call0 ABI, no divide, no 32x32->64 multiply (C backend: xtensa-lx106-elf-gcc -O2 -mlongcalls + ROM/libgcc 64-bit helpers; code in flash .irom0.text or IRAM .iram.text; targets/esp8266)",
    },
    TranslateTarget {
        name: "esp32",
        triple: None,
        facts: "ESP32, dual Xtensa LX6 240 MHz, windowed ABI (C backend: here LLVM 22, clang-22 -O2 + llc -mcpu=esp32 -mattr=-fp,-dfpaccel,-bool,-mul32high, run and verified under qemu-xtensa -cpu dc233c; in ESP-IDF xtensa-esp32-elf-gcc -O2 -mlongcalls via --cc; targets/esp32)",
    },
    TranslateTarget {
        name: "esp32s2",
        triple: None,
        facts: "ESP32-S2, Xtensa LX7 240 MHz, windowed ABI, no loops/MAC16/FPU (C backend: here LLVM 22, llc -mcpu=esp32 with the S2's options off too (-loop,-mac16,-s32c1i), verified under qemu-xtensa -cpu dc233c; in ESP-IDF xtensa-esp32s2-elf-gcc via --cc; targets/esp32s2)",
    },
    TranslateTarget {
        name: "esp32s3",
        triple: None,
        facts: "ESP32-S3, dual Xtensa LX7 240 MHz, windowed ABI (C backend: here LLVM 22 with the ESP32's options, verified under qemu-xtensa -cpu dc233c; in ESP-IDF xtensa-esp32s3-elf-gcc via --cc; targets/esp32s3)",
    },
];

impl TranslateTarget {
    /// The spec's default: Cranelift where it has the ISA, else C.
    pub fn default_backend(&self) -> Backend {
        if self.triple.is_some() { Backend::Cranelift } else { Backend::C }
    }

    /// The target as output files name it: `host` is the target of the same triple when
    /// there is one (`x86_64` here), so one object has one name.
    pub fn resolved_name(&self) -> &'static str {
        let host = target_lexicon::HOST.to_string();
        match self.triple {
            Some("") => TARGETS.iter().find(|t| t.triple == Some(host.as_str())).map_or(self.name, |t| t.name),
            Some(_) | None => self.name,
        }
    }
}

/// The target named `name`.
pub fn target(name: &str) -> Result<&'static TranslateTarget, String> {
    TARGETS.iter().find(|t| t.name == name).ok_or_else(|| {
        format!("unknown target `{name}`; known: {}", TARGETS.iter().map(|t| t.name).collect::<Vec<_>>().join(", "))
    })
}

/// What `--emit` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Emit {
    /// A relocatable object: Cranelift's, or the target's C compiler's from the C.
    Obj,
    /// C for the target's compiler (the C backend).
    C,
    /// Cranelift IR.
    Clif,
    /// Assembly: Cranelift's code disassembled, or the target's C compiler's `-S`.
    Asm,
}

impl Emit {
    /// As `--emit` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Emit::Obj => "obj",
            Emit::C => "c",
            Emit::Clif => "clif",
            Emit::Asm => "asm",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Emit::Obj => "o",
            Emit::C => "c",
            Emit::Clif => "clif",
            Emit::Asm => "s",
        }
    }
}

/// `--backend`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    Cranelift,
    C,
}

/// The `--target help` text.
pub fn target_help() -> String {
    TARGETS.iter().map(|t| format!("{:<10} {}\n", t.name, t.facts)).collect()
}

/// The (name, function index) of every function-table entry, each name once. Entries at
/// the same location under other names (aliases) each get their symbol, for the same code;
/// an entry repeating an earlier one (same name, same location) adds nothing; two entries
/// with the same name at different locations are refused: one symbol cannot name both.
pub fn exported_functions(c: &Container, program: &VerifiedProgram) -> Result<Vec<(String, usize)>, String> {
    let mut functions: Vec<(String, usize)> = Vec::new();
    let mut first: Vec<(&str, usize, u16)> = Vec::new();
    for (entry, f) in c.functions().enumerate() {
        if let Some(&(_, earlier, location)) = first.iter().find(|(name, ..)| *name == f.name) {
            if location == f.location {
                continue;
            }
            return Err(format!(
                "function-table entries {earlier} (at byte {location}) and {entry} (at byte {}) are both named `{}`: a symbol can name only one of them",
                f.location, f.name
            ));
        }
        first.push((f.name, entry, f.location));
        let index = program.function_at(f.slot()).ok_or_else(|| format!("function-table entry {entry} `{}` starts no function", f.name))?;
        functions.push((f.name.to_string(), index));
    }
    Ok(functions)
}

/// Translates `container` (named `name`), verified as `program` (what a VM offering the
/// container's helpers proved, [`crate::helpers::HelperSet::verify`]), for `target` with
/// `backend`, producing `emit`. The C backend produces C only: an object or assembly from
/// it is the target's C compiler's work (`target::c_compiler`).
pub fn translate(name: &str, c: &Container, program: &VerifiedProgram, target: &str, backend: Backend, emit: Emit) -> Result<Vec<u8>, String> {
    let target = self::target(target)?;
    let functions = exported_functions(c, program)?;
    let input = Input::of_container(name, c, program, &functions);
    match (backend, emit) {
        (Backend::C, Emit::C) => Ok(crate::backend::c::emit(&input).into_bytes()),
        (Backend::C, Emit::Obj | Emit::Asm) => Err("the C backend writes C: an object or assembly from it is the C compiler's work".into()),
        (Backend::C, Emit::Clif) => Err("--emit clif needs --backend cranelift".into()),
        (Backend::Cranelift, Emit::C) => Err("--emit c needs --backend c".into()),
        #[cfg(feature = "cranelift")]
        (Backend::Cranelift, Emit::Obj | Emit::Clif | Emit::Asm) => {
            use crate::backend::clif::lower::Listing;
            use crate::backend::clif::object::translate as object;
            let triple = match target.triple {
                Some("") => crate::backend::clif::host_triple(),
                Some(t) => t.to_string(),
                None => return Err(format!("Cranelift has no backend for `{}`: use --backend c", target.name)),
            };
            let mut text = String::new();
            let listing = match emit {
                Emit::Clif => Some((Listing::Clif, &mut text)),
                Emit::Asm => Some((Listing::Asm, &mut text)),
                Emit::Obj | Emit::C => None,
            };
            let obj = object(&input, &triple, false, listing)?;
            Ok(if emit == Emit::Obj { obj } else { text.into_bytes() })
        }
        #[cfg(not(feature = "cranelift"))]
        (Backend::Cranelift, _) => {
            Err(format!("this fc-aot was built without the `cranelift` feature: target `{}` needs it", target.name))
        }
    }
}
