//! The ESP8266 target of the `c` engine (issue 10): the emitted C cross-compiled for the
//! Xtensa LX106 (call0 ABI) with `xtensa-lx106-elf-gcc -mlongcalls`, linked with the
//! bare-metal start-up of `targets/esp8266/`, the harness shared with the ESP32-C3
//! (`targets/esp32c3/harness.c`: plain C) and the 64-bit / division helpers Debian's
//! lx106 libgcc lacks (`targets/esp8266/libgcc_extra.c`; on the chip they are in ROM),
//! and run under `qemu-xtensa -cpu lx106`.
//!
//! The start-up and harness are compiled once per process and only linked per
//! program; every program gets its own scratch folder, so runs may go in parallel.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use fc_runtime::format::Container;
use fc_runtime::helpers::{Helpers, Profile};

use crate::engines::Execution;
pub use crate::esp32c3::{prog_c, Run};
use crate::host_native::{run_tool, scratch};

/// The cross compiler (Debian package `gcc-xtensa-lx106`).
pub const GCC: &str = "xtensa-lx106-elf-gcc";
/// qemu-user for Xtensa (Debian package `qemu-user`), run with `-cpu lx106`.
pub const QEMU: &str = "qemu-xtensa";
/// Every compile and link: the LX106 (call0, no libc); `-mlongcalls` because flash
/// and IRAM are 1 MiB apart, beyond call0's reach.
pub const CFLAGS: [&str; 5] = ["-O2", "-ffreestanding", "-nostdlib", "-static", "-mlongcalls"];

const START_S: &str = include_str!("../../targets/esp8266/start.S");
const CRT_C: &str = include_str!("../../targets/esp8266/crt.c");
const CRT_H: &str = include_str!("../../targets/esp8266/crt.h");
const LIBGCC_EXTRA_C: &str = include_str!("../../targets/esp8266/libgcc_extra.c");
const HARNESS_C: &str = include_str!("../../targets/esp32c3/harness.c");
const ABI_H: &str = include_str!("../../targets/include/fc_abi.h");
const HEX_H: &str = include_str!("../../targets/common/fc_hex.h");
/// The ESP8266 address map (moved below qemu-xtensa's 1 GiB) and the placement fragment.
const LINKER_SCRIPTS: [(&str, &str); 5] = [
    ("fc_container.ld", include_str!("../../targets/esp8266/fc_container.ld")),
    ("qemu-memory.ld", include_str!("../../targets/esp8266/qemu-memory.ld")),
    ("qemu-sections.ld", include_str!("../../targets/esp8266/qemu-sections.ld")),
    ("qemu-flash.ld", include_str!("../../targets/esp8266/qemu-flash.ld")),
    ("qemu-iram.ld", include_str!("../../targets/esp8266/qemu-iram.ld")),
];

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

impl Placement {
    fn script(self) -> &'static str {
        match self {
            Placement::Flash => "qemu-flash.ld",
            Placement::Iram => "qemu-iram.ld",
        }
    }
}

/// The start-up, crt, helper and harness objects, compiled once per process, and the linker scripts.
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
    let dir = std::env::temp_dir().join(format!("fc-aot-esp8266-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let sources = [
        ("start.S", START_S),
        ("crt.c", CRT_C),
        ("crt.h", CRT_H),
        ("libgcc_extra.c", LIBGCC_EXTRA_C),
        ("harness.c", HARNESS_C),
        ("fc_abi.h", ABI_H),
        ("fc_hex.h", HEX_H),
    ];
    for (name, text) in sources.into_iter().chain(LINKER_SCRIPTS) {
        std::fs::write(dir.join(name), text).map_err(|e| format!("{}: {e}", dir.join(name).display()))?;
    }
    let mut files = Vec::new();
    for (source, extra) in [
        ("start.S", &[][..]),
        // memset/memcpy must not be turned into calls of themselves.
        ("crt.c", &["-fno-builtin", "-fno-tree-loop-distribute-patterns"][..]),
        // The helpers must not be recognized as the operations they implement.
        ("libgcc_extra.c", &["-fno-builtin"][..]),
        ("harness.c", &[][..]),
    ] {
        let object = dir.join(source.replace(['.'], "_") + ".o");
        run_tool(Command::new(GCC).args(CFLAGS).args(extra).arg("-I").arg(&dir).arg("-c").arg(dir.join(source)).arg("-o").arg(&object))
            .map_err(|e| format!("{e} (install gcc-xtensa-lx106)"))?;
        files.push(object);
    }
    Ok(Objects { dir, files })
}

/// Compiles `c_source` (a translated container named `prog` exporting `main`) and links
/// it with the harness into `dir/prog`, with the ESP8266's address map and the
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
            // 64-bit shifts; multiply and divide come from libgcc_extra.c.
            .arg("-lgcc"),
    )?;
    Ok(exe)
}

/// Runs a linked program under qemu; returns whether it exited 0 and its stdout.
pub fn run(exe: &Path, args: &[String]) -> Result<(bool, String), String> {
    let out = Command::new(QEMU).args(["-cpu", "lx106"]).arg(exe).args(args).output().map_err(|e| format!("{QEMU}: {e} (install qemu-user)"))?;
    Ok((out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bare program text the conformance way (profile `conformance`, 512-byte frames,
/// budget 1 << 24, r1 = a copy of `mem`), on the LX106 under qemu.
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
/// persist between runs, the context starts from `ctx` each time) on the LX106 under qemu,
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
