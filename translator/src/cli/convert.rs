//! `fc-aot convert`: convert one clang BPF object (.o) into a container (.bin).

use std::path::PathBuf;
use std::process::ExitCode;

use fc_runtime::format;

use super::common::*;
use crate::container::elf;

#[derive(clap::Args)]
pub struct Args {
    pub object: PathBuf,
    /// Output file [default: the object's name with .bin].
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "seed")]
    pub layout: WriteLayout,
}

pub fn run(args: Args) -> ExitCode {
    let Args { object, output, layout } = args;
    let output = output.unwrap_or_else(|| object.with_extension("bin"));
    let result = read(&object).and_then(|bytes| {
        let image = elf::convert(&bytes).map_err(|e| format!("{}: {e}", object.display()))?;
        let bin = format::write(&image, layout.into()).map_err(|e| format!("{}: {e}", object.display()))?;
        std::fs::write(&output, bin).map_err(|e| format!("{}: {e}", output.display()))
    });
    result.map_or_else(fail, |()| ExitCode::SUCCESS)
}
