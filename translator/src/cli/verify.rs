//! `fc-aot verify`: check a container as a load would; `ok` or one line per problem, naming
//! its source line when a line table (`NAME.lines`) lies beside the container.

use std::path::PathBuf;
use std::process::ExitCode;

use super::common::*;
use crate::container::lines::LineTable;

#[derive(clap::Args)]
pub struct Args {
    pub file: PathBuf,
    #[command(flatten)]
    pub helpers: HelperArgs,
    #[arg(long, value_enum, default_value = "auto")]
    pub layout: ReadLayout,
}

pub fn run(args: Args) -> ExitCode {
    let Args { file, helpers, layout } = args;
    let bytes = match read(&file) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let container = match parse(&file, &bytes, layout) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    // Everything a load checks (the verifier, and that data + bss, rodata and the
    // default stack fit the address map), without allocating the container's RAM;
    // `translate` asks the same.
    match helpers.set().verify(&container) {
        Ok(_) => {
            println!("ok");
            ExitCode::SUCCESS
        }
        Err(e) => rejected_at(&file, LineTable::read_beside(&file, container.text).as_ref(), &e),
    }
}
