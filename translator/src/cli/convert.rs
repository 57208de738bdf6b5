//! `fc-aot convert`: convert one clang BPF object (.o) into a container (.bin).

use std::path::PathBuf;
use std::process::ExitCode;

use fc_runtime::format;

use super::common::*;
use crate::container::elf;
use crate::container::outputs::write_to;

#[derive(clap::Args)]
pub struct Args {
    pub object: PathBuf,
    /// Output file, `-` for standard output [default: the object's name with .bin].
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "seed")]
    pub layout: WriteLayout,
    /// Replace an output file that fc-aot did not write.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: Args) -> ExitCode {
    let Args { object, output, layout, force } = args;
    let output = output.unwrap_or_else(|| object.with_extension("bin"));
    let result = read(&object).and_then(|bytes| {
        let image = elf::convert(&bytes).map_err(|e| format!("{}: {e}", object.display()))?;
        let bin = format::write(&image, layout.into()).map_err(|e| format!("{}: {e}", object.display()))?;
        write_to(&output, &bin, "convert", &object, force).map_err(|e| e.to_string())
    });
    result.map_or_else(fail, |()| ExitCode::SUCCESS)
}
