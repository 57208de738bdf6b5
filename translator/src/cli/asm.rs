//! `fc-aot asm`: assemble the conformance files' assembly syntax into raw instruction bytes.

use std::path::PathBuf;
use std::process::ExitCode;


use super::common::*;
use crate::text::asm;

#[derive(clap::Args)]
pub struct Args {
    /// Source file [default: stdin]; the bytes go to stdout.
    pub file: Option<PathBuf>,
}

pub fn run(args: Args) -> ExitCode {
    let Args { file } = args;
    let name = file.as_ref().map_or("<stdin>".to_string(), |p| p.display().to_string());
    let source = match read_input(&file) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) => return fail(e),
    };
    match asm::assemble(&source) {
        Ok(bytes) => {
            let _ = std::io::Write::write_all(&mut std::io::stdout(), &bytes);
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("{name}: {e}")),
    }
}
