//! `fc-aot build`: compile every .c/.cpp container of a folder with clang and convert each to .bin.

use std::path::PathBuf;
use std::process::ExitCode;


use super::common::*;
use crate::container::build::{self, Cpu, Outcome, Report};

#[derive(clap::Args)]
pub struct Args {
    /// Folder of container sources [default: $RBPF_CONTAINER_PATH, else `container`].
    pub dir: Option<PathBuf>,
    /// Where the .o, .bin and containers.h/.c/.rs go.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// BPF instruction-set version passed to clang as -mcpu.
    #[arg(long, value_enum, default_value = "v1")]
    pub cpu: Cpu,
    /// Header layout of the written .bin files.
    #[arg(long, value_enum, default_value = "seed")]
    pub layout: WriteLayout,
    /// Replace files in OUT that fc-aot did not write.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: Args) -> ExitCode {
    let Args { dir, out, cpu, layout, force } = args;
    let dir = dir
        .or_else(|| std::env::var_os("RBPF_CONTAINER_PATH").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("container"));
    let clang = std::env::var("CLANG").unwrap_or_else(|_| "clang".into());
    let opts = build::Options { dir, out, cpu, layout: layout.into(), clang, force };
    match build::build(&opts) {
        Ok(report) => print_report(&report),
        Err(e) => fail(e),
    }
}

/// One line per container built, up to date or removed on stdout; clang's messages and
/// one line per failure on stderr; exit status 1 when any container failed.
fn print_report(report: &Report) -> ExitCode {
    for path in &report.removed {
        println!("{}: removed (its source is gone)", path.display());
    }
    for b in &report.built {
        eprint!("{}", b.warnings);
        let what = if b.outcome == Outcome::Built { "built" } else { "up to date" };
        println!("{}: {what}", b.bin.display());
    }
    for e in &report.failed {
        if let Some(diagnostics) = e.diagnostics() {
            eprintln!("{diagnostics}");
        }
        eprintln!("fc-aot: {e}");
    }
    match report.failed.len() {
        0 => ExitCode::SUCCESS,
        n => fail(format!("{n} of {} containers failed", n + report.built.len())),
    }
}
