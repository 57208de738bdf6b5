//! The RP2040 target of the `c` engine (spec §5, issue 10): the emitted C cross-compiled
//! for the Cortex-M0+ (ARMv6-M Thumb) with `arm-none-eabi-gcc -mcpu=cortex-m0plus -mthumb`,
//! linked with the bare-metal start-up of `targets/rp2040/` and the harness shared with
//! the ESP32-C3 (`targets/esp32c3/harness.c`: plain C over the crt interface), no libc,
//! and run under `qemu-arm` with its default CPU (qemu-user aborts with M-profile CPUs;
//! its default CPU also runs Thumb-2 and unaligned accesses, so
//! `translator/tests/rp2040.rs` scans the disassembly for anything outside ARMv6-M).
//!
//! The start-up and harness are compiled once per process and only linked per
//! program; every program gets its own scratch folder, so runs may go in parallel.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use fc_runtime::format::Container;
use fc_runtime::helpers::{Helpers, Profile};
use fc_runtime::verifier::VerifiedProgram;

use crate::cgen::{emit, CInput};
use crate::engines::Execution;
use crate::host_native::{run_tool, scratch};

/// The cross compiler (Debian package `gcc-arm-none-eabi`).
pub const GCC: &str = "arm-none-eabi-gcc";
/// Its disassembler.
pub const OBJDUMP: &str = "arm-none-eabi-objdump";
/// qemu-user for 32-bit Arm (Debian package `qemu-user`), default CPU.
pub const QEMU: &str = "qemu-arm";
/// Every compile and link: the RP2040's core (ARMv6-M Thumb, AAPCS), no libc.
pub const CFLAGS: [&str; 6] = ["-mcpu=cortex-m0plus", "-mthumb", "-O2", "-ffreestanding", "-nostdlib", "-static"];

const START_S: &str = include_str!("../../targets/rp2040/start.S");
const CRT_C: &str = include_str!("../../targets/rp2040/crt.c");
const CRT_H: &str = include_str!("../../targets/rp2040/crt.h");
/// The harness is target-independent C over crt.h: shared with the ESP32-C3.
const HARNESS_C: &str = include_str!("../../targets/esp32c3/harness.c");
const ABI_H: &str = include_str!("../../targets/include/fc_abi.h");
const HEX_H: &str = include_str!("../../targets/common/fc_hex.h");
/// The RP2040 address map and the placement fragment, as linker scripts.
const LINKER_SCRIPTS: [(&str, &str); 5] = [
    ("fc_container.ld", include_str!("../../targets/rp2040/fc_container.ld")),
    ("qemu-memory.ld", include_str!("../../targets/rp2040/qemu-memory.ld")),
    ("qemu-sections.ld", include_str!("../../targets/rp2040/qemu-sections.ld")),
    ("qemu-flash.ld", include_str!("../../targets/rp2040/qemu-flash.ld")),
    ("qemu-sram.ld", include_str!("../../targets/rp2040/qemu-sram.ld")),
];

/// Where the translated functions (`.text.fc_*`) go at link time (targets/rp2040/fc_container.ld).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// XIP flash (0x1000_0000 up): the default.
    Flash,
    /// Copied to SRAM (0x2000_0000 up), like the pico-sdk's `__not_in_flash_func`.
    Sram,
}

impl Placement {
    fn script(self) -> &'static str {
        match self {
            Placement::Flash => "qemu-flash.ld",
            Placement::Sram => "qemu-sram.ld",
        }
    }
}

/// The start-up, crt and harness objects, compiled once per process, and the linker scripts.
struct Objects {
    dir: PathBuf,
    files: Vec<PathBuf>,
}

fn objects() -> Result<&'static Objects, String> {
    static OBJECTS: OnceLock<Result<Objects, String>> = OnceLock::new();
    OBJECTS.get_or_init(build_objects).as_ref().map_err(Clone::clone)
}

fn build_objects() -> Result<Objects, String> {
    // A folder of its own, kept for the life of the process (the objects are linked from it).
    let dir = std::env::temp_dir().join(format!("fc-aot-rp2040-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let sources = [("start.S", START_S), ("crt.c", CRT_C), ("crt.h", CRT_H), ("harness.c", HARNESS_C), ("fc_abi.h", ABI_H), ("fc_hex.h", HEX_H)];
    for (name, text) in sources.into_iter().chain(LINKER_SCRIPTS) {
        std::fs::write(dir.join(name), text).map_err(|e| format!("{}: {e}", dir.join(name).display()))?;
    }
    let mut files = Vec::new();
    for (source, extra) in [
        ("start.S", &[][..]),
        // memset/memcpy must not be turned into calls of themselves.
        ("crt.c", &["-fno-builtin", "-fno-tree-loop-distribute-patterns"][..]),
        ("harness.c", &[][..]),
    ] {
        let object = dir.join(source.replace(['.'], "_") + ".o");
        run_tool(Command::new(GCC).args(CFLAGS).args(extra).arg("-I").arg(&dir).arg("-c").arg(dir.join(source)).arg("-o").arg(&object))
            .map_err(|e| format!("{e} (install gcc-arm-none-eabi)"))?;
        files.push(object);
    }
    Ok(Objects { dir, files })
}

/// Compiles `c_source` (a translated container named `prog` exporting `main`) and links
/// it with the harness into `dir/prog`, with the RP2040's address map and the
/// translated functions placed per `placement`.
pub fn link(c_source: &str, dir: &Path, placement: Placement) -> Result<PathBuf, String> {
    let objects = objects()?;
    let (source, exe) = (dir.join("prog.c"), dir.join("prog"));
    std::fs::write(&source, c_source).map_err(|e| format!("{}: {e}", source.display()))?;
    run_tool(
        Command::new(GCC)
            .args(CFLAGS)
            // One section per function: `.text.fc_prog_*`, which fc_container.ld places.
            .args(["-ffunction-sections", "-fdata-sections"])
            .arg("-L")
            .arg(&objects.dir)
            .arg("-T")
            .arg(placement.script())
            .arg("-o")
            .arg(&exe)
            .args(&objects.files)
            .arg(&source)
            // __aeabi_uldivmod, __aeabi_lmul, __aeabi_llsl, ...: what the M0+ lacks.
            .arg("-lgcc"),
    )?;
    Ok(exe)
}

/// Runs a linked program under qemu; returns whether it exited 0 and its stdout.
pub fn run(exe: &Path, args: &[String]) -> Result<(bool, String), String> {
    let out = Command::new(QEMU).arg(exe).args(args).output().map_err(|e| format!("{QEMU}: {e} (install qemu-user)"))?;
    Ok((out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned()))
}

/// The C of a verified program as container `prog` with its first entry as `main`.
pub fn prog_c(program: &VerifiedProgram, data: &[u8], bss_len: usize, rodata: &[u8]) -> String {
    let functions = vec![("main".to_string(), program.entries()[0])];
    emit(&CInput { container: "prog", program, functions: &functions, data, bss_len, rodata })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bare program text the conformance way (profile `conformance`, 512-byte frames,
/// budget 1 << 24, r1 = a copy of `mem`), on the Cortex-M0+ under qemu-arm.
pub fn run_conformance(program: &[u8], mem: &[u8]) -> Execution {
    let arity = |id| fc_runtime::helpers::ConformanceHelpers.arity(id);
    let config = fc_runtime::verifier::Config { max_call_depth: fc_runtime::verifier::DEFAULT_MAX_CALL_DEPTH, helper_arity: &arity };
    let verified = match fc_runtime::verifier::verify(program, &[], &config) {
        Ok(v) => v,
        Err(errors) => return Execution::Rejected(errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ")),
    };
    let source = prog_c(&verified, &[], 0, &[]);
    let dir = match scratch() {
        Ok(d) => d,
        Err(e) => return Execution::Failed(e),
    };
    let args: Vec<String> = if mem.is_empty() { Vec::new() } else { vec![hex(mem)] };
    let outcome = link(&source, &dir, Placement::Flash).and_then(|exe| run(&exe, &args));
    let _ = std::fs::remove_dir_all(&dir);
    match outcome {
        Ok((true, out)) => {
            let out = out.trim();
            match u64::from_str_radix(out.trim_start_matches("0x"), 16) {
                Ok(r0) => Execution::Returned(r0),
                Err(_) => Execution::Failed(format!("harness printed `{out}`")),
            }
        }
        Ok((false, out)) => Execution::Failed(out.trim().to_string()),
        Err(e) => Execution::Failed(e),
    }
}

/// What one run of a container on the harness showed (the same harness as the ESP32-C3's).
pub use crate::esp32c3::Run;

fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    crate::conformance::parse_plugin_hex(text)
}

fn parse_store(text: &str) -> Result<Vec<(u32, u32)>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| {
            let (k, v) = e.split_once('=').ok_or_else(|| format!("store entry `{e}`"))?;
            Ok((k.parse().map_err(|_| format!("key `{k}`"))?, v.parse().map_err(|_| format!("value `{v}`"))?))
        })
        .collect()
}

/// Parses the `-v` output of `runs` runs.
fn parse_runs(out: &str) -> Result<Vec<Run>, String> {
    let mut runs = Vec::new();
    let mut run = Run::default();
    for line in out.lines() {
        if let Some(text) = line.strip_prefix("printf: ") {
            run.printf.push(text.to_string());
        } else if let Some(h) = line.strip_prefix("ctx:") {
            run.ctx = parse_hex(h)?;
        } else if let Some(h) = line.strip_prefix("data:") {
            run.data = parse_hex(h)?;
        } else if let Some(s) = line.strip_prefix("global store:") {
            run.globals = parse_store(s)?;
        } else if let Some(s) = line.strip_prefix("local store:") {
            run.locals = parse_store(s)?;
        } else if let Some(h) = line.strip_prefix("0x") {
            run.r0 = Some(u64::from_str_radix(h, 16).map_err(|_| format!("r0 line `{line}`"))?);
            runs.push(std::mem::take(&mut run));
        } else if let Some(rest) = line.strip_prefix("error ") {
            let (code, pc) = rest.split_once(" at insn ").ok_or_else(|| format!("error line `{line}`"))?;
            run.error = code.parse().map_err(|_| format!("error line `{line}`"))?;
            run.error_pc = Some(pc.parse().map_err(|_| format!("error line `{line}`"))?);
            runs.push(std::mem::take(&mut run));
        } else {
            return Err(format!("harness printed `{line}`"));
        }
    }
    Ok(runs)
}

/// Runs a container's entry function `runs` times in one process (data and stores
/// persist between runs, the context starts from `ctx` each time) on the Cortex-M0+ under qemu-arm,
/// with the harness's minimal `sming` helpers; `budget` None means no bound.
pub fn run_container(container: &Container, ctx: &[u8], budget: Option<u32>, runs: u32, placement: Placement) -> Result<Vec<Run>, String> {
    let program = crate::translate::verify(container, Profile::Sming)?;
    let source = prog_c(&program, container.data, container.header.bss_len as usize, container.rodata);
    let dir = scratch()?;
    let mut args = vec![hex(ctx), format!("-n{runs}"), "-v".to_string()];
    args.push(budget.map_or_else(|| "-boff".to_string(), |b| format!("-b{b}")));
    let outcome = link(&source, &dir, placement).and_then(|exe| run(&exe, &args));
    let _ = std::fs::remove_dir_all(&dir);
    let (_, out) = outcome?;
    let parsed = parse_runs(&out)?;
    if parsed.len() != runs as usize {
        return Err(format!("{} runs reported, {runs} expected; output:\n{out}", parsed.len()));
    }
    Ok(parsed)
}

/// Compiles `c_source` alone into `dir/prog.o` with the link's flags (for disassembly:
/// `translator/tests/rp2040.rs` scans it for instructions outside ARMv6-M).
pub fn compile_object(c_source: &str, dir: &Path) -> Result<PathBuf, String> {
    let (source, object) = (dir.join("prog.c"), dir.join("prog.o"));
    std::fs::write(&source, c_source).map_err(|e| format!("{}: {e}", source.display()))?;
    run_tool(Command::new(GCC).args(CFLAGS).args(["-ffunction-sections", "-fdata-sections", "-c"]).arg(&source).arg("-o").arg(&object))
        .map_err(|e| format!("{e} (install gcc-arm-none-eabi)"))?;
    Ok(object)
}
