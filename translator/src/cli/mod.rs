//! The `fc-aot` command: one module per subcommand over what they share (`common`; `explain`: why a run stopped).

mod asm;
mod build;
mod cc;
mod common;
mod conformance;
mod convert;
mod disasm;
mod dump;
pub mod explain;
mod run;
mod runtime;
mod translate;
mod verify;

use std::process::ExitCode;

/// What every command's `--help` ends with (one text, so the statuses are stated once).
macro_rules! exit_status {
    () => {
        "Exit status: 0 success; 1 input rejected (bad file, conversion, verification, load); 2 usage error (unknown flag, bad value); 3 the container ran and stopped with an error code (ILLEGAL_MEM, OUT_OF_BRANCHES, ...); 4 the run could not be carried out (an engine or target unavailable here: a missing compiler or qemu; --timeout reached)."
    };
}

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "fc-aot", version, about = "Femto-Container (rBPF) toolchain: build, inspect, and translate containers", after_help = exit_status!())]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Compile every .c/.cpp container of a folder with clang and convert each to .bin.
    #[command(after_help = concat!("Examples:\n  fc-aot build containers --out out\n  RBPF_CONTAINER_PATH=app/container fc-aot build --cpu v3\n  CLANG=clang-19 fc-aot build containers --out out --cpu v4 --layout sming32", "\n\n", exit_status!()))]
    Build(build::Args),
    /// Convert one clang BPF object (.o) into a container (.bin).
    #[command(after_help = concat!("Examples:\n  fc-aot convert out/increment.o\n  fc-aot convert app.o -o app.bin --layout sming32", "\n\n", exit_status!()))]
    Convert(convert::Args),
    /// Print containers as the rbpf-dump tool does.
    #[command(after_help = concat!("Examples:\n  fc-aot dump out/increment.bin\n  fc-aot dump out/*.bin\n  fc-aot dump out/store.bin --json\n  fc-aot dump out/store.bin --names --helpers riot", "\n\n", exit_status!()))]
    Dump(dump::Args),
    /// Check a container as a load would; `ok` or one line per problem.
    #[command(after_help = concat!("Examples:\n  fc-aot verify out/store.bin\n  fc-aot verify app.bin --helpers riot", "\n\n", exit_status!()))]
    Verify(verify::Args),
    /// Run a container, here or on a target, and print r0, the error, printf output, the context, the data and the stores.
    #[command(after_help = concat!("Examples:\n  fc-aot run out/increment.bin --ctx 2900000000000000\n  fc-aot run out/sort.bin --ctx-file values.bin --budget 8192\n  fc-aot run out/sort.bin --ctx-file values.bin --budget 8192 --target esp32c3\n  fc-aot run out/store.bin --ctx 0700000063000000 --runs 3 --json\n  fc-aot run out/globalcall.bin --function scale --budget off\n  fc-aot run endless.bin --budget off --timeout 2", "\n\n", exit_status!()))]
    Run(run::Args),
    /// Assemble the conformance files' assembly syntax into raw instruction bytes.
    #[command(after_help = concat!("Examples:\n  echo 'mov %r0, 42\n  exit' | fc-aot asm > prog.raw\n  fc-aot asm prog.s > prog.raw", "\n\n", exit_status!()))]
    Asm(asm::Args),
    /// Disassemble raw instruction bytes, or a container's function, into the conformance files' assembly syntax.
    #[command(after_help = concat!("Examples:\n  fc-aot disasm prog.raw\n  fc-aot asm prog.s | fc-aot disasm\n  fc-aot disasm out/globalcall.bin --function scale", "\n\n", exit_status!()))]
    Disasm(disasm::Args),
    /// Translate a container to native code: exports `fc_<container>_<function>` (fc_abi.h).
    #[command(after_help = concat!("Examples:\n  fc-aot translate out/crc32.bin                 # out/crc32.x86_64.o on x86-64: named for the target\n  fc-aot translate out/crc32.bin --target aarch64 -o crc32-arm64.o\n  fc-aot translate out/crc32.bin --target esp32c3 --emit obj   # the SoC's gcc: out/crc32.esp32c3.o\n  fc-aot translate out/sort.bin --emit asm -o -\n  fc-aot translate x.bin --target help", "\n\n", exit_status!()))]
    Translate(translate::Args),
    /// Build the runtime for a SoC as a firmware library: libfc_runtime.a and its C headers, and print its sizes.
    #[command(after_help = concat!("Examples:\n  fc-aot runtime --target esp32c3 -o fw/fc\n  fc-aot runtime --target rp2040 -o fw/fc --opt size\n\nLink libfc_runtime.a into the firmware, call fc_runtime_init() with a static arena once, and provide fc_runtime_panic() (fc_runtime.h).", "\n\n", exit_status!()))]
    Runtime(runtime::Args),
    /// Compile C (or .S assembly) for a SoC with the toolchain the SoC's harnesses use (the only C compiler here for the windowed ESP32s: LLVM 22).
    #[command(after_help = concat!("Examples:\n  fc-aot cc --target esp32 app.c -o app.o\n  fc-aot cc --target esp32s3 -S app.c -o app.s -- -Os -I include -DNDEBUG\n\nFlags after `--` go to the compiler after the SoC's own (`fc-aot translate x --target help` names them).", "\n\n", exit_status!()))]
    Cc(cc::Args),
    /// Run every *.data conformance test of a folder; the last line is `P passed, F failed, S skipped`.
    #[command(after_help = concat!("Examples:\n  fc-aot conformance conformance/bpf_conformance/tests\n  fc-aot conformance tests --plugin target/release/fc-aot-plugin", "\n\n", exit_status!()))]
    Conformance(conformance::Args),
}

/// Output piped into `head` and the like ends quietly when the reader goes away,
/// as with other command-line tools, instead of failing a print.
pub fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of one signal at start-up, before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

pub fn main() -> ExitCode {
    match Cli::parse().command {
        Cmd::Build(args) => build::run(args),
        Cmd::Convert(args) => convert::run(args),
        Cmd::Dump(args) => dump::run(args),
        Cmd::Verify(args) => verify::run(args),
        Cmd::Run(args) => run::run(args),
        Cmd::Asm(args) => asm::run(args),
        Cmd::Disasm(args) => disasm::run(args),
        Cmd::Translate(args) => translate::run(args),
        Cmd::Conformance(args) => conformance::run(args),
        Cmd::Runtime(args) => runtime::run(args),
        Cmd::Cc(args) => cc::run(args),
    }
}
