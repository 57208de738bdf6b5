//! `fc-aot run`: run a container and print r0, the error, printf output, the context and the stores.

use std::path::PathBuf;
use std::process::ExitCode;

use fc_runtime::interp::{EngineFailure, DEFAULT_BUDGET};
use fc_runtime::stores::StoreContext;
use fc_runtime::vm::{LoadError, DEFAULT_STACK_SIZE};
use fc_runtime::{error_string, VirtualMachine};

use super::common::*;
use crate::helpers::HelperSet;
use crate::target::{self as engines, EngineKind, Target};
use crate::text::hex;

#[derive(clap::Args)]
pub struct Args {
    pub file: PathBuf,
    /// Run this function-table entry instead of the first.
    #[arg(long)]
    pub function: Option<String>,
    /// Context bytes as hex.
    #[arg(long, conflicts_with = "ctx_file", value_parser = parse_hex)]
    pub ctx: Option<Bytes>,
    /// Context bytes from a file.
    #[arg(long)]
    pub ctx_file: Option<PathBuf>,
    /// Budget units allowed: one per taken jump, and helpers pay for their work (one unit
    /// per started 4 KiB past the first 4 KiB a memcpy moves or a printf prints); or
    /// `off`: no bound at all (see --timeout). docs/budget.md.
    #[arg(long, default_value_t = Budget(Some(DEFAULT_BUDGET)), value_parser = parse_budget)]
    pub budget: Budget,
    /// Stop the run after SECONDS of wall time, whatever the budget (meant for `--budget
    /// off`): prints `fc-aot: run stopped by --timeout after SECONDS s` and exits with
    /// status 4.
    #[arg(long, value_name = "SECONDS", value_parser = parse_timeout)]
    pub timeout: Option<std::time::Duration>,
    /// Stack bytes per frame (a multiple of 8).
    #[arg(long, default_value_t = DEFAULT_STACK_SIZE)]
    pub stack: usize,
    #[arg(long, value_enum, default_value = "interp")]
    pub engine: EngineKind,
    #[arg(long, value_enum, default_value = "host")]
    pub target: Target,
    #[command(flatten)]
    pub helpers: HelperArgs,
    #[arg(long, value_enum, default_value = "auto")]
    pub layout: ReadLayout,
}

pub fn run(args: Args) -> ExitCode {
    let Args { file, function, ctx, ctx_file, budget, timeout, stack, engine, target, helpers, layout } = args;
    let ctx = match (ctx, ctx_file) {
        (Some(Bytes(bytes)), _) => Ok(bytes),
        (None, Some(f)) => read(&f),
        (None, None) => Ok(Vec::new()),
    };
    let ctx = match ctx {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let Budget(budget) = budget;
    let helpers = helpers.set();
    if let Some(app) = helpers.without_behaviour() {
        eprintln!("fc-aot: --app-helper 0x{:x}: a run needs its behaviour: 0x{:x}=zero, =echo, =sum or =log", app.id, app.id);
        return ExitCode::from(EXIT_USAGE);
    }
    let args = RunArgs { file, function, ctx, budget, stack, engine, target, helpers, layout };
    match timeout {
        None => run_container(args),
        Some(limit) => run_with_timeout(args, limit),
    }
}

/// `--timeout SECONDS`: a positive number of seconds (fractions allowed).
fn parse_timeout(s: &str) -> Result<std::time::Duration, String> {
    match s.parse::<f64>() {
        Ok(secs) if secs > 0.0 => std::time::Duration::try_from_secs_f64(secs).map_err(|e| e.to_string()),
        _ => Err(format!("`{s}` is not a positive number of seconds")),
    }
}

/// Runs the container on a worker thread; when it has not finished after `limit`, the
/// whole process ends with [`EXIT_UNAVAILABLE`] (in-process engines cannot be interrupted:
/// native code has no check it could be told to stop at).
fn run_with_timeout(args: RunArgs, limit: std::time::Duration) -> ExitCode {
    let (done, finished) = std::sync::mpsc::channel();
    // The interpreters keep call frames on the stack: as much as the main thread has.
    let worker = std::thread::Builder::new().name("fc-aot run".into()).stack_size(8 << 20).spawn(move || {
        let code = run_container(args);
        let _ = done.send(code);
    });
    if let Err(e) = worker {
        return fail(format!("cannot start the run: {e}"));
    }
    match finished.recv_timeout(limit) {
        Ok(code) => code,
        // Disconnected: the worker panicked, which it reported itself.
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => ExitCode::FAILURE,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            eprintln!("fc-aot: run stopped by --timeout after {} s", limit.as_secs_f64());
            std::process::exit(EXIT_UNAVAILABLE.into())
        }
    }
}

/// `--budget N|off`: `None` is no bound.
#[derive(Clone, Copy, Debug)]
pub struct Budget(Option<u32>);

impl std::fmt::Display for Budget {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self.0 {
            Some(n) => write!(f, "{n}"),
            None => f.write_str("off"),
        }
    }
}

fn parse_budget(s: &str) -> Result<Budget, String> {
    match s {
        "off" => Ok(Budget(None)),
        n => n.parse().map(|n| Budget(Some(n))).map_err(|_| format!("`{n}` is not a number of budget units or `off`")),
    }
}

/// `--ctx HEX`: one value (a plain `Vec<u8>` would be many `u8` values to clap).
#[derive(Clone, Debug)]
pub struct Bytes(Vec<u8>);

fn parse_hex(text: &str) -> Result<Bytes, String> {
    hex::decode(text).map(Bytes)
}

fn join_entries(entries: &[(u32, u32)]) -> String {
    entries.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
}

struct RunArgs {
    file: PathBuf,
    function: Option<String>,
    ctx: Vec<u8>,
    budget: Option<u32>,
    stack: usize,
    engine: EngineKind,
    target: Target,
    helpers: HelperSet,
    layout: ReadLayout,
}

fn run_container(args: RunArgs) -> ExitCode {
    let bytes = match read(&args.file) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let container = match parse(&args.file, &bytes, args.layout) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let stores = StoreContext::new();
    let lines = std::cell::RefCell::new(Vec::<String>::new());
    let started = std::time::Instant::now();
    let mut ctx = args.ctx;
    let engine = match engines::engine(args.engine, args.target) {
        Ok(e) => e,
        Err(e) => return fail(e),
    };
    let (r0, error, error_pc, globals, locals) = {
        let mut vm = VirtualMachine::new(&stores);
        vm.set_engine(engine);
        vm.set_budget(args.budget);
        let env = vm.environment();
        env.set_profile(args.helpers.profile);
        env.set_output(|line: &[u8]| {
            let text = String::from_utf8_lossy(line);
            lines.borrow_mut().push(format!("printf: {}", text.strip_suffix('\n').unwrap_or(&text)));
        });
        args.helpers.install(env, |line| lines.borrow_mut().push(line));
        env.set_clock(move || started.elapsed().as_millis() as u32);
        if !vm.load_container(&container, args.stack) {
            let e = vm.load_error().map_or_else(|| error_string(vm.last_error()).to_string(), LoadError::to_string);
            let message = format!("{}: {e}", args.file.display());
            return match vm.load_error() {
                Some(LoadError::Engine { reason: Some(EngineFailure::Unavailable(_)), .. }) => unavailable(message),
                _ => fail(message),
            };
        }
        let r0 = match &args.function {
            Some(name) if !vm.function_names().contains(&name.as_str()) => {
                return fail(format!("{}: no function `{name}` (have: {})", args.file.display(), vm.function_names().join(", ")))
            }
            Some(name) => vm.execute_function(name, &mut ctx),
            None => vm.execute(&mut ctx),
        };
        (r0 as u64, vm.last_error(), vm.last_error_pc(), vm.globals().entries(), vm.locals().entries())
    };
    println!("r0: {r0} (0x{r0:x})");
    match error {
        0 => println!("error: OK"),
        code => println!("error: {} at insn {error_pc}", error_string(code)),
    }
    for line in lines.borrow().iter() {
        println!("{line}");
    }
    if !ctx.is_empty() {
        println!("ctx: {}", ctx.iter().map(|b| format!("{b:02x}")).collect::<String>());
    }
    println!("global store: {}", join_entries(&globals));
    println!("local store: {}", join_entries(&locals));
    if error == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_RUN_ERROR)
    }
}
