//! `fc-aot translate`: translate a container to native code: exports `fc_<container>_<function>` (fc_abi.h).

use std::path::PathBuf;
use std::process::ExitCode;


use super::common::*;
use crate::backend::translate;

#[derive(clap::Args)]
pub struct Args {
    pub file: PathBuf,
    /// Target (`help` lists them with their CPU, ABI and backend).
    #[arg(long, default_value = "host")]
    pub target: String,
    #[arg(long, value_enum)]
    pub backend: Option<translate::Backend>,
    #[arg(long, value_enum)]
    pub emit: Option<translate::Emit>,
    /// Output file [default: NAME.<ext of the emitted kind>].
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "auto")]
    pub layout: ReadLayout,
    #[command(flatten)]
    pub helpers: HelperArgs,
}

pub fn run(args: Args) -> ExitCode {
    let Args { file, target, backend, emit, output, layout, helpers } = args;
    if target == "help" {
        print!("{}", translate::target_help());
        return ExitCode::SUCCESS;
    }
    let bytes = match read(&file) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let container = match parse(&file, &bytes, layout) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let backend = match backend {
        Some(b) => b,
        None => match translate::target(&target) {
            Ok(t) => t.default_backend(),
            Err(e) => return fail(format!("{}: {e}", file.display())),
        },
    };
    let emit = emit.unwrap_or(if backend == translate::Backend::C { translate::Emit::C } else { translate::Emit::Obj });
    let name = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let output = output.unwrap_or_else(|| PathBuf::from(format!("{name}.{}", emit.extension())));
    let program = match helpers.set().verify(&container) {
        Ok(p) => p,
        Err(e) => return rejected(&file, &e),
    };
    match translate::translate(&name, &container, &program, &target, backend, emit) {
        Ok(out) => match std::fs::write(&output, out) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(format!("{}: {e}", output.display())),
        },
        Err(e) => fail(format!("{}: {e}", file.display())),
    }
}
