//! `fc-aot cc`: C for a SoC, compiled as the SoC's harnesses compile theirs (firmware glue, benchmark drivers).

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::ExitCode;

use super::common::*;
use crate::target::c_compiler::Product;
use crate::target::tools::ToolError;
use crate::target::{soc, Target};

#[derive(clap::Args)]
pub struct Args {
    /// The SoC.
    #[arg(long, value_parser = soc_target())]
    pub target: Target,
    /// The C (`.c`) or assembly (`.S`) source.
    pub source: PathBuf,
    /// The object (or, with -S, the assembly) to write.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Write assembly instead of an object.
    #[arg(short = 'S')]
    pub assembly: bool,
    /// More compiler flags (`-Os`, `-I DIR`, `-D NAME`), after `--`.
    #[arg(last = true)]
    pub flags: Vec<String>,
}

pub fn run(args: Args) -> ExitCode {
    let soc = soc(args.target).expect("soc_target() offers SoCs only");
    if !args.source.is_file() {
        return fail(format!("{}: no such file", args.source.display()));
    }
    // As gcc does: never compile a file over itself.
    if std::fs::canonicalize(&args.output).ok().is_some_and(|o| std::fs::canonicalize(&args.source).is_ok_and(|s| s == o)) {
        return usage(format!("cc: the output {} is the source", args.output.display()));
    }
    let compiler = soc.c_compiler();
    let flags: Vec<&OsStr> = compiler.cflags.iter().map(OsStr::new).chain(args.flags.iter().map(OsStr::new)).collect();
    let product = if args.assembly { Product::Assembly } else { Product::Object };
    match compiler.toolchain.compile(&flags, &args.source, product, &args.output) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ ToolError::Unavailable(_)) => unavailable(format!("cc --target {}: {e}", soc.name)),
        Err(e) => fail(format!("cc --target {}: {}: {e}", soc.name, args.source.display())),
    }
}
