//! `fc-aot runtime`: the firmware library of a SoC (the runtime's C API, no_std) and its headers, with its sizes.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::common::*;
use crate::container::outputs::Folder;
use crate::target::bare_metal::Soc;
use crate::target::runtime_lib::{self, Opt, LIBRARY};
use crate::target::tools::ToolError;
use crate::target::{soc, Target};

#[derive(clap::Args)]
pub struct Args {
    /// The SoC (see `fc-aot run --help` for each).
    #[arg(long, value_parser = soc_target())]
    pub target: Target,
    /// Folder for libfc_runtime.a, fc_runtime.h and fc_abi.h.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Optimize for speed (-O3, what the qemu harnesses run), size (-Os) or -O2.
    #[arg(long, value_enum, default_value = "speed")]
    pub opt: OptArg,
    /// Replace output files that fc-aot did not write.
    #[arg(long)]
    pub force: bool,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum OptArg {
    Speed,
    Size,
    O2,
}

impl From<OptArg> for Opt {
    fn from(o: OptArg) -> Opt {
        match o {
            OptArg::Speed => Opt::Speed,
            OptArg::Size => Opt::Size,
            OptArg::O2 => Opt::O2,
        }
    }
}

const HEADERS: [(&str, &str); 2] =
    [("fc_runtime.h", include_str!("../../../targets/include/fc_runtime.h")), ("fc_abi.h", include_str!("../../../targets/include/fc_abi.h"))];

pub fn run(args: Args) -> ExitCode {
    let Some(soc) = soc(args.target) else {
        eprintln!("fc-aot: runtime: `{}` has no firmware library", args.target.name());
        return ExitCode::from(EXIT_USAGE);
    };
    let library = match soc.library(args.opt.into()) {
        Ok(library) => library,
        Err(e @ ToolError::Unavailable(_)) => return unavailable(format!("runtime --target {}: {e}", soc.name)),
        Err(e) => return fail(format!("runtime --target {}: {e}", soc.name)),
    };
    match write_outputs(&args.output, &library, args.force) {
        Ok(()) => {}
        Err(e) => return fail(e),
    }
    let (size_tool, package) = soc.toolchain.binutil("size");
    match runtime_lib::sizes(&library, &size_tool, package) {
        Ok((code, rodata, ram)) => {
            println!("{}: {LIBRARY} for {} ({}): {code} bytes of code, {rodata} of read-only data, {ram} of RAM", args.output.display(), soc.name, describe(soc));
            println!("(all of the library's objects: a firmware's --gc-sections keeps only what it calls; RAM besides: the arena given to fc_runtime_init)");
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("runtime --target {}: {e}", soc.name)),
    }
}

fn describe(soc: &Soc) -> String {
    match soc.rust_target {
        runtime_lib::RustTarget::Builtin(triple) => triple.to_string(),
        runtime_lib::RustTarget::XtensaJson { file, core, .. } if core.attrs.is_empty() => format!("{file}, LLVM cpu {}", core.cpu),
        runtime_lib::RustTarget::XtensaJson { file, core, .. } => format!("{file}, LLVM cpu {} {}", core.cpu, core.attrs),
    }
}

fn write_outputs(dir: &Path, library: &Path, force: bool) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut folder = Folder::open(dir, force).map_err(|e| e.to_string())?;
    let bytes = std::fs::read(library).map_err(|e| format!("{}: {e}", library.display()))?;
    folder.write(LIBRARY, &bytes, "runtime", library).map_err(|e| e.to_string())?;
    for (name, text) in HEADERS {
        folder.write(name, text.as_bytes(), "runtime", Path::new(name)).map_err(|e| e.to_string())?;
    }
    Ok(())
}
