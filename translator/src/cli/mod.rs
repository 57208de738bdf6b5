//! The `fc-aot` command line (spec §5): argument parsing and one readable error line per failure.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use fc_runtime::format::{self, Container, Layout, LayoutChoice};

use fc_runtime::helpers::Profile;
use fc_runtime::interp::DEFAULT_BUDGET;
use fc_runtime::stores::StoreContext;
use fc_runtime::vm::{LoadError, DEFAULT_STACK_SIZE};
use fc_runtime::{error_string, VirtualMachine};

use crate::container::build::{self, Cpu, Outcome};
use crate::conformance::{self, Executor, Verdict};
use crate::engines::{self, EngineKind, Target};
use crate::container::{dump, elf};
use crate::text::{asm, disasm};
use crate::translate;

/// Exit status for bad input or a load/verify failure.
const EXIT_BAD_INPUT: u8 = 1;
/// Exit status when a container ran and stopped with an error.
const EXIT_RUN_ERROR: u8 = 2;

/// `--helpers`: the helper-id profile.
#[derive(Clone, Copy, ValueEnum)]
enum HelperProfile {
    Sming,
    Riot,
    Conformance,
}

impl From<HelperProfile> for Profile {
    fn from(p: HelperProfile) -> Self {
        match p {
            HelperProfile::Sming => Profile::Sming,
            HelperProfile::Riot => Profile::Riot,
            HelperProfile::Conformance => Profile::Conformance,
        }
    }
}

/// `--budget N|off`.
fn parse_budget(s: &str) -> Result<Option<u32>, String> {
    match s {
        "off" => Ok(None),
        n => n.parse().map(Some).map_err(|_| format!("`{n}` is not a number of jumps or `off`")),
    }
}

#[derive(Parser)]
#[command(name = "fc-aot", version, about = "Femto-Container (rBPF) toolchain: build, inspect, and translate containers")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

/// How to read a `.bin` header.
#[derive(Clone, Copy, ValueEnum)]
enum ReadLayout {
    Auto,
    Seed,
    Sming32,
}

/// Which header layout to write.
#[derive(Clone, Copy, ValueEnum)]
enum WriteLayout {
    Seed,
    Sming32,
}

impl From<ReadLayout> for LayoutChoice {
    fn from(l: ReadLayout) -> Self {
        match l {
            ReadLayout::Auto => LayoutChoice::Auto,
            ReadLayout::Seed => LayoutChoice::Only(Layout::Seed),
            ReadLayout::Sming32 => LayoutChoice::Only(Layout::Sming32),
        }
    }
}

impl From<WriteLayout> for Layout {
    fn from(l: WriteLayout) -> Self {
        match l {
            WriteLayout::Seed => Layout::Seed,
            WriteLayout::Sming32 => Layout::Sming32,
        }
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Compile every .c/.cpp container of a folder with clang and convert each to .bin.
    #[command(after_help = "Examples:\n  fc-aot build containers --out out\n  RBPF_CONTAINER_PATH=app/container fc-aot build --cpu v3\n  CLANG=clang-19 fc-aot build containers --out out --cpu v4 --layout sming32")]
    Build {
        /// Folder of container sources [default: $RBPF_CONTAINER_PATH, else `container`].
        dir: Option<PathBuf>,
        /// Where the .o, .bin and containers.h/.c/.rs go.
        #[arg(long, default_value = "out")]
        out: PathBuf,
        /// BPF instruction-set version passed to clang as -mcpu.
        #[arg(long, value_enum, default_value = "v1")]
        cpu: Cpu,
        /// Header layout of the written .bin files.
        #[arg(long, value_enum, default_value = "seed")]
        layout: WriteLayout,
    },
    /// Convert one clang BPF object (.o) into a container (.bin).
    #[command(after_help = "Examples:\n  fc-aot convert out/increment.o\n  fc-aot convert app.o -o app.bin --layout sming32")]
    Convert {
        object: PathBuf,
        /// Output file [default: the object's name with .bin].
        #[arg(short, long)]
        output: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "seed")]
        layout: WriteLayout,
    },
    /// Print containers as the rbpf-dump tool does.
    #[command(after_help = "Examples:\n  fc-aot dump out/increment.bin\n  fc-aot dump out/*.bin\n  fc-aot dump out/store.bin --json")]
    Dump {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The same facts as JSON (an array when several files are given).
        #[arg(long)]
        json: bool,
        #[arg(long, value_enum, default_value = "auto")]
        layout: ReadLayout,
    },
    /// Check a container as a load would; `ok` or one line per problem.
    #[command(after_help = "Examples:\n  fc-aot verify out/store.bin\n  fc-aot verify app.bin --helpers riot")]
    Verify {
        file: PathBuf,
        #[arg(long, value_enum, default_value = "sming")]
        helpers: HelperProfile,
        #[arg(long, value_enum, default_value = "auto")]
        layout: ReadLayout,
    },
    /// Run a container and print r0, the error, printf output, the context and the stores.
    #[command(after_help = "Examples:\n  fc-aot run out/increment.bin --ctx 2900000000000000\n  fc-aot run out/sort.bin --ctx-file values.bin --budget 8192\n  fc-aot run out/globalcall.bin --function scale --budget off")]
    Run {
        file: PathBuf,
        /// Run this function-table entry instead of the first.
        #[arg(long)]
        function: Option<String>,
        /// Context bytes as hex.
        #[arg(long, conflicts_with = "ctx_file")]
        ctx: Option<String>,
        /// Context bytes from a file.
        #[arg(long)]
        ctx_file: Option<PathBuf>,
        /// Taken jumps allowed, or `off`.
        #[arg(long, default_value_t = DEFAULT_BUDGET.to_string())]
        budget: String,
        /// Stack bytes per frame (a multiple of 8).
        #[arg(long, default_value_t = DEFAULT_STACK_SIZE)]
        stack: usize,
        #[arg(long, value_enum, default_value = "interp")]
        engine: EngineKind,
        #[arg(long, value_enum, default_value = "host")]
        target: Target,
        #[arg(long, value_enum, default_value = "sming")]
        helpers: HelperProfile,
        #[arg(long, value_enum, default_value = "auto")]
        layout: ReadLayout,
    },
    /// Assemble the conformance files' assembly syntax into raw instruction bytes.
    #[command(after_help = "Examples:\n  echo 'mov %r0, 42\n  exit' | fc-aot asm > prog.raw\n  fc-aot asm prog.s > prog.raw")]
    Asm {
        /// Source file [default: stdin]; the bytes go to stdout.
        file: Option<PathBuf>,
    },
    /// Disassemble raw instruction bytes into the conformance files' assembly syntax.
    #[command(after_help = "Examples:\n  fc-aot disasm prog.raw\n  fc-aot asm prog.s | fc-aot disasm")]
    Disasm {
        /// Raw bytes [default: stdin].
        file: Option<PathBuf>,
    },
    /// Run every *.data conformance test of a folder; the last line is `P passed, F failed, S skipped`.
    #[command(after_help = "Examples:\n  fc-aot conformance ../shared/conformance/bpf_conformance/tests\n  fc-aot conformance tests --plugin target/release/fc-aot-plugin")]
    Conformance {
        dir: PathBuf,
        #[arg(long, value_enum)]
        engine: Option<EngineKind>,
        #[arg(long, value_enum)]
        target: Option<Target>,
        /// Drive this plugin binary by the upstream protocol (`--engine`/`--target` are passed on to it).
        #[arg(long)]
        plugin: Option<PathBuf>,
    },
    /// Translate a container to native code: exports `fc_<container>_<function>` (fc_abi.h).
    #[command(after_help = "Examples:\n  fc-aot translate out/crc32.bin                 # crc32.o for this machine\n  fc-aot translate out/crc32.bin --target aarch64 -o crc32-arm64.o\n  fc-aot translate out/sort.bin --emit clif\n  fc-aot translate x.bin --target help")]
    Translate {
        file: PathBuf,
        /// Target (`help` lists them with their CPU, ABI and backend).
        #[arg(long, default_value = "host")]
        target: String,
        #[arg(long, value_enum)]
        backend: Option<translate::Backend>,
        #[arg(long, value_enum)]
        emit: Option<translate::Emit>,
        /// Output file [default: NAME.<ext of the emitted kind>].
        #[arg(short, long)]
        output: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "auto")]
        layout: ReadLayout,
    },
}

/// Output piped into `head` and the like ends quietly when the reader goes away,
/// as with other command-line tools, instead of failing a print.
pub fn restore_sigpipe() {
    #[cfg(unix)]
    // Restoring the default disposition of one signal at start-up, before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// One error line: `fc-aot: <what>`.
fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("fc-aot: {message}");
    ExitCode::from(EXIT_BAD_INPUT)
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn parse<'a>(path: &Path, bytes: &'a [u8], layout: ReadLayout) -> Result<Container<'a>, String> {
    Container::parse(bytes, layout.into()).map_err(|e| format!("{}: {e}", path.display()))
}

fn read_input(file: &Option<PathBuf>) -> Result<Vec<u8>, String> {
    match file {
        Some(p) => read(p),
        None => {
            let mut v = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut v).map_err(|e| format!("stdin: {e}"))?;
            Ok(v)
        }
    }
}

fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    conformance::parse_plugin_hex(text).map_err(|e| format!("--ctx: {e}"))
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
    profile: Profile,
    layout: ReadLayout,
}

fn run(args: RunArgs) -> ExitCode {
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
        env.set_profile(args.profile);
        env.set_output(|line: &[u8]| {
            let text = String::from_utf8_lossy(line);
            lines.borrow_mut().push(text.strip_suffix('\n').unwrap_or(&text).to_string());
        });
        env.set_clock(move || started.elapsed().as_millis() as u32);
        if !vm.load_container(&container, args.stack) {
            let e = vm.load_error().map(LoadError::to_string).unwrap_or_default();
            return fail(format!("{}: {e}", args.file.display()));
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
        println!("printf: {line}");
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

pub fn main() -> ExitCode {
    match Cli::parse().command {
        Cmd::Build { dir, out, cpu, layout } => {
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
        Cmd::Convert { object, output, layout } => {
            let output = output.unwrap_or_else(|| object.with_extension("bin"));
            let result = read(&object).and_then(|bytes| {
                let image = elf::convert(&bytes).map_err(|e| format!("{}: {e}", object.display()))?;
                let bin = format::write(&image, layout.into()).map_err(|e| format!("{}: {e}", object.display()))?;
                std::fs::write(&output, bin).map_err(|e| format!("{}: {e}", output.display()))
            });
            result.map_or_else(fail, |()| ExitCode::SUCCESS)
        }
        Cmd::Dump { files, json, layout } => {
            let mut texts = Vec::new();
            let mut values = Vec::new();
            for path in &files {
                let bytes = match read(path) {
                    Ok(b) => b,
                    Err(e) => return fail(e),
                };
                let container = match parse(path, &bytes, layout) {
                    Ok(c) => c,
                    Err(e) => return fail(e),
                };
                if json {
                    values.push(dump::json(&path.display().to_string(), &container));
                } else if files.len() == 1 {
                    texts.push(dump::text(&container));
                } else {
                    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                    texts.push(format!("Contents of \"{name}\"\n{}\n{}\n", "-".repeat(29), dump::text(&container)));
                }
            }
            if json {
                let value = if values.len() == 1 { values.remove(0) } else { serde_json::Value::Array(values) };
                println!("{}", serde_json::to_string_pretty(&value).unwrap_or_default());
            } else {
                print!("{}", texts.concat());
            }
            ExitCode::SUCCESS
        }
        Cmd::Verify { file, helpers, layout } => {
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
            if vm.load_container(&container, DEFAULT_STACK_SIZE) {
                println!("ok");
                return ExitCode::SUCCESS;
            }
            match vm.load_error() {
                Some(LoadError::Verify(errors)) => {
                    for e in errors {
                        println!("{e}");
                    }
                    fail(format!("{}: rejected ({} problems)", file.display(), errors.len()))
                }
                other => fail(format!("{}: {}", file.display(), other.map(LoadError::to_string).unwrap_or_default())),
            }
        }
        Cmd::Run { file, function, ctx, ctx_file, budget, stack, engine, target, helpers, layout } => {
            let ctx = match (ctx, ctx_file) {
                (Some(hex), _) => parse_hex(&hex),
                (None, Some(f)) => read(&f),
                (None, None) => Ok(Vec::new()),
            };
            let ctx = match ctx {
                Ok(c) => c,
                Err(e) => return fail(e),
            };
            let budget = match parse_budget(&budget) {
                Ok(b) => b,
                Err(e) => return fail(format!("--budget: {e}")),
            };
            run(RunArgs { file, function, ctx, budget, stack, engine, target, profile: helpers.into(), layout })
        }
        Cmd::Asm { file } => {
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
        Cmd::Disasm { file } => {
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
        Cmd::Translate { file, target, backend, emit, output, layout } => {
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
            match translate::translate(&name, &container, &target, backend, emit) {
                Ok(out) => match std::fs::write(&output, out) {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => fail(format!("{}: {e}", output.display())),
                },
                Err(e) => fail(format!("{}: {e}", file.display())),
            }
        }
        Cmd::Conformance { dir, engine, target, plugin } => {
            let executor = match plugin {
                Some(path) => {
                    let mut options = Vec::new();
                    if let Some(e) = engine {
                        options.extend(["--engine".to_string(), e.name().to_string()]);
                    }
                    if let Some(t) = target {
                        options.extend(["--target".to_string(), t.name().to_string()]);
                    }
                    Executor::Plugin(path, options)
                }
                None => Executor::Engine(engine.unwrap_or(EngineKind::Interp), target.unwrap_or(Target::Host)),
            };
            let summary = conformance::run_dir(&dir, &executor, |name, verdict| match verdict {
                Verdict::Pass => eprintln!("PASS {name}"),
                Verdict::Fail(why) => eprintln!("FAIL {name}: {why}"),
                Verdict::Skip(why) => eprintln!("SKIP {name}: {why}"),
            });
            match summary {
                Ok(s) => {
                    println!("{s}");
                    if s.failed > 0 || s.passed == 0 {
                        ExitCode::from(EXIT_BAD_INPUT)
                    } else {
                        ExitCode::SUCCESS
                    }
                }
                Err(e) => fail(format!("{}: {e}", dir.display())),
            }
        }
    }
}
