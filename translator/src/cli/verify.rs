//! `fc-aot verify`: check a container as a load would; `ok` or one line per problem.

use std::path::PathBuf;
use std::process::ExitCode;

use fc_runtime::stores::StoreContext;
use fc_runtime::vm::{LoadError, DEFAULT_STACK_SIZE};
use fc_runtime::VirtualMachine;

use super::common::*;

#[derive(clap::Args)]
pub struct Args {
    pub file: PathBuf,
    #[arg(long, value_enum, default_value = "sming")]
    pub helpers: HelperProfile,
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
    let stores = StoreContext::new();
    let mut vm = VirtualMachine::new(&stores);
    vm.environment().set_profile(helpers.into());
    // Everything a load checks (the verifier, and that data + bss, rodata and the
    // default stack fit the address map), without allocating the container's RAM.
    match vm.check_container(&container, DEFAULT_STACK_SIZE) {
        Ok(_) => {
            println!("ok");
            ExitCode::SUCCESS
        }
        Err(LoadError::Verify(errors)) => {
            for e in &errors {
                println!("{e}");
            }
            fail(format!("{}: rejected ({} problems)", file.display(), errors.len()))
        }
        Err(other) => fail(format!("{}: {other}", file.display())),
    }
}
