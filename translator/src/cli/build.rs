//! `fc-aot build`: compile every .c/.cpp container of a folder with clang and convert each to .bin.

use std::path::PathBuf;
use std::process::ExitCode;


use super::common::*;
use crate::container::build::{self, Cpu, Outcome};

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
}

pub fn run(args: Args) -> ExitCode {
    let Args { dir, out, cpu, layout } = args;
    let dir = dir
        .or_else(|| std::env::var_os("RBPF_CONTAINER_PATH").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("container"));
    let clang = std::env::var("CLANG").unwrap_or_else(|_| "clang".into());
    let opts = build::Options { dir, out, cpu, layout: layout.into(), clang };
    match build::build(&opts) {
        Ok(built) => {
            for b in built {
                let what = if b.outcome == Outcome::Built { "built" } else { "up to date" };
                println!("{}: {what}", b.bin.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}
