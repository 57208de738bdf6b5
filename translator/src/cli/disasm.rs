//! `fc-aot disasm`: disassemble raw instruction bytes into the conformance files' assembly syntax.

use std::path::PathBuf;
use std::process::ExitCode;


use super::common::*;
use crate::text::disasm;

#[derive(clap::Args)]
pub struct Args {
    /// Raw bytes [default: stdin].
    pub file: Option<PathBuf>,
}

pub fn run(args: Args) -> ExitCode {
    let Args { file } = args;
    let name = file.as_ref().map_or("<stdin>".to_string(), |p| p.display().to_string());
    let bytes = match read_input(&file) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    if bytes.len() % 8 != 0 {
        return fail(format!("{name}: {} bytes is not a whole number of 8-byte instructions", bytes.len()));
    }
    match disasm::disassemble(&bytes) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("{name}: {e}")),
    }
}
