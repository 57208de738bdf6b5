//! `fc-aot-plugin`: an engine behind the upstream bpf_conformance plugin protocol.
//!
//! `argv[1]` (optional) is the memory as hex, the program arrives as hex on stdin;
//! r0 goes to stdout in hex and the exit status says whether the run succeeded.
//! The branch budget bounds the run time, since the upstream runner has no timeout.

use std::io::Read;
use std::process::ExitCode;

use clap::Parser;
use fc_aot::helpers::AppHelper;
use fc_aot::text::hex;
use fc_aot::target::{run_conformance, EngineKind, Execution, Target};

#[derive(Parser)]
#[command(name = "fc-aot-plugin", version, about = "bpf_conformance plugin for fc-aot's engines",
    after_help = "Examples:\n  echo 'b7 00 00 00 2a 00 00 00 95 00 00 00 00 00 00 00' | fc-aot-plugin\n  bpf_conformance_runner --test_file_directory tests --plugin_path fc-aot-plugin --cpu_version v4")]
struct Args {
    /// Input memory as hex bytes (r1 points at a copy, r2 is its length).
    memory: Option<String>,
    #[arg(long, value_enum, default_value = "interp")]
    engine: EngineKind,
    #[arg(long, value_enum, default_value = "host")]
    target: Target,
    /// Application helpers the programs may call, as `fc-aot run --app-helper` takes them.
    #[arg(long = "app-helper", value_name = "ID[:ARITY][=BEHAVIOUR]")]
    app_helpers: Vec<AppHelper>,
    /// The program as a BPF ELF object (not supported: programs come as raw bytes).
    #[arg(long)]
    elf: bool,
}

fn main() -> ExitCode {
    fc_aot::cli::restore_sigpipe();
    let args = Args::parse();
    if args.elf {
        println!("fc-aot-plugin: --elf is not supported; pass the program as raw instruction hex");
        return ExitCode::FAILURE;
    }
    let memory = match args.memory.as_deref().map(hex::decode).transpose() {
        Ok(m) => m.unwrap_or_default(),
        Err(e) => {
            println!("fc-aot-plugin: memory argument: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        println!("fc-aot-plugin: stdin: {e}");
        return ExitCode::FAILURE;
    }
    let program = match hex::decode(&input) {
        Ok(p) if p.len() % 8 == 0 => p,
        Ok(p) => {
            println!("fc-aot-plugin: program of {} bytes is not whole 8-byte instructions", p.len());
            return ExitCode::FAILURE;
        }
        Err(e) => {
            println!("fc-aot-plugin: program: {e}");
            return ExitCode::FAILURE;
        }
    };
    match run_conformance(args.engine, args.target, &args.app_helpers, &program, &memory) {
        Execution::Returned(r0) => {
            println!("0x{r0:x}");
            ExitCode::SUCCESS
        }
        Execution::Rejected(e) | Execution::Failed(e) => {
            println!("{e}");
            ExitCode::FAILURE
        }
        // Not a result of the program: on stderr, with the command line's status for it.
        Execution::Unavailable(e) => {
            eprintln!("fc-aot-plugin: engine unavailable: {e}");
            ExitCode::from(4)
        }
    }
}
