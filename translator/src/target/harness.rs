//! The one C harness of every target outside this process (the bare-metal SoCs and the
//! Linux ISAs under qemu-user: `targets/common/runtime_harness.c`, the runtime's own C API
//! library running the container), from the Rust side: what a run asks of it (its
//! arguments), which helpers it lacks, building and starting the program, and reading
//! what it printed back into [`Run`]s, which the command line prints exactly as the host's.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use fc_runtime::format::{self, Container, Image, Layout};
use fc_runtime::helpers::{Profile, FIRST_APP_HELPER};
use fc_runtime::verifier::{Instr, VerifiedProgram};
use fc_runtime::vm::LoadError;

use super::execution::{verify_conformance, Execution, Line, Run};
use super::tools::{output, tied_to_this_process, ToolError};
use super::workdir::Scratch;
use crate::backend::symbols::Symbols;
use crate::backend::Input;
use crate::helpers::HelperSet;
use crate::text::hex;

/// The sources every harness target shares: the harness, the runtime's C API and ABI
/// headers, the hex and command-line headers, the crt's interface and its buffered output.
pub const SHARED_SOURCES: [(&str, &str); 7] = [
    ("runtime_harness.c", include_str!("../../../targets/common/runtime_harness.c")),
    ("fc_runtime.h", include_str!("../../../targets/include/fc_runtime.h")),
    ("fc_abi.h", include_str!("../../../targets/include/fc_abi.h")),
    ("fc_hex.h", include_str!("../../../targets/common/fc_hex.h")),
    ("crt.h", include_str!("../../../targets/common/crt.h")),
    ("crt_output.c", include_str!("../../../targets/common/crt_output.c")),
    ("fc_cmdline.h", include_str!("../../../targets/common/fc_cmdline.h")),
];

/// Which engine of the runtime in the harness runs a container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuntimeEngine {
    Reference,
    Interp,
    /// The container translated (C on the SoCs, Cranelift on the Linux ISAs), linked in
    /// and called by the runtime through the native ABI.
    Native,
}

impl RuntimeEngine {
    /// The harness's engine flag (translated code linked in is called whatever the
    /// interpreter chosen: the runtime runs native code when it has it).
    fn flag(self) -> &'static str {
        match self {
            RuntimeEngine::Reference => "-ereference",
            RuntimeEngine::Interp | RuntimeEngine::Native => "-einterp",
        }
    }
}

/// A target the harness runs on: how a translated program becomes an executable there,
/// and how that is started.
pub trait Harness {
    /// The `--target` name (`esp32c3`, `aarch64`), for messages.
    fn name(&self) -> &'static str;
    /// The runtime's engine there: with [`RuntimeEngine::Native`], [`link`](Self::link)
    /// links `input` translated; else one program runs every container.
    fn engine(&self) -> RuntimeEngine;
    /// The harness program for `input` (container `prog`, exporting every entry of its
    /// function table), linked into `dir` when it has translated code.
    fn link(&self, input: &Input, dir: &Path) -> Result<PathBuf, ToolError>;
    /// The command that runs `exe` (qemu-user and its options, or `exe` itself).
    fn command(&self, exe: &Path) -> Command;
}

impl<H: Harness + ?Sized> Harness for &H {
    fn name(&self) -> &'static str {
        (**self).name()
    }
    fn engine(&self) -> RuntimeEngine {
        (**self).engine()
    }
    fn link(&self, input: &Input, dir: &Path) -> Result<PathBuf, ToolError> {
        (**self).link(input, dir)
    }
    fn command(&self, exe: &Path) -> Command {
        (**self).command(exe)
    }
}

/// One `fc-aot run` of a whole container on a harness.
pub struct Request<'a> {
    pub ctx: &'a [u8],
    /// Budget units per run; `None` is no bound.
    pub budget: Option<u32>,
    /// Runs of the one loaded program (data, bss and stores persist between them).
    pub runs: u32,
    /// Stack bytes per call frame.
    pub frame: usize,
    /// The function-table entry to run; `None` is the first.
    pub function: Option<&'a str>,
    pub helpers: &'a HelperSet,
    /// How long the runs may take in all before the program is killed.
    pub timeout: Option<Duration>,
}

impl Request<'_> {
    /// The harness's command line (its usage is in its header comment).
    fn args(&self) -> Vec<String> {
        let mut args = vec![hex::encode(self.ctx), format!("-n{}", self.runs), format!("-s{}", self.frame), "-v".to_string()];
        args.push(self.budget.map_or_else(|| "-boff".to_string(), |b| format!("-b{b}")));
        match self.helpers.profile {
            Profile::Riot => args.push("-priot".to_string()),
            Profile::Sming | Profile::Conformance => {}
        }
        args
    }
}

/// Why a container's run on a harness did not give its [`Run`]s.
#[derive(Debug)]
pub enum HarnessError {
    /// The load refused the container, as on the host.
    Rejected(LoadError),
    /// `--function` names no function of the table.
    NoFunction { name: String, have: Vec<String> },
    /// The run could not be carried out there (a tool missing, a helper or room the
    /// harness lacks), or a tool failed.
    Tool(ToolError),
    /// `--timeout` was reached; the program was killed.
    TimedOut(Duration),
}

impl fmt::Display for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HarnessError::Rejected(e) => write!(f, "{e}"),
            HarnessError::NoFunction { name, have } => write!(f, "no function `{name}` (have: {})", have.join(", ")),
            HarnessError::Tool(e) => write!(f, "{e}"),
            HarnessError::TimedOut(limit) => write!(f, "run stopped by --timeout after {} s", limit.as_secs_f64()),
        }
    }
}

impl std::error::Error for HarnessError {}

impl From<ToolError> for HarnessError {
    fn from(e: ToolError) -> Self {
        HarnessError::Tool(e)
    }
}

/// Verifies `container` as a VM offering `request.helpers` with its frame size loads it,
/// and checks there is the function to run: the program and its function table (each
/// entry's name and function). The runtime in the harness verifies the whole container,
/// so an application helper called anywhere in it (none is there) keeps it from loading,
/// not only one the function reaches.
fn prepare<'c>(target: &str, container: &Container<'c>, request: &Request) -> Result<(VerifiedProgram<'c>, Vec<(String, usize)>), HarnessError> {
    let program = request.helpers.verify_with_stack(container, request.frame).map_err(HarnessError::Rejected)?;
    let table = table_functions(container, &program);
    let found = match request.function {
        None => !program.entries().is_empty(),
        Some(name) => table.iter().any(|(n, _)| n == name),
    };
    if !found {
        let have = table.into_iter().map(|(n, _)| n).collect();
        return Err(HarnessError::NoFunction { name: request.function.unwrap_or_default().to_string(), have });
    }
    if let Some(id) = app_helper_called(&program) {
        let why = format!("the {target} harness has no helper 0x{id:x} (app_helper): run it on --target host");
        return Err(HarnessError::Tool(ToolError::Unavailable(why)));
    }
    Ok((program, table))
}

/// The first application helper the program may call: the harnesses have none (the
/// host's `--app-helper` behaviours exist only in process).
fn app_helper_called(program: &VerifiedProgram) -> Option<u32> {
    let mut called = (0..program.functions().len()).flat_map(|f| program.body(f)).filter_map(|i| if let Instr::CallHelper { id } = i.instr() { Some(id) } else { None });
    called.find(|&id| id >= FIRST_APP_HELPER)
}

/// Runs a whole container `request.runs` times in one harness process (data, bss and the
/// stores persist between runs, the context starts from `request.ctx` each time).
pub fn run_container(harness: &dyn Harness, container: &Container, request: &Request) -> Result<Vec<Run>, HarnessError> {
    let (program, functions) = prepare(harness.name(), container, request)?;
    let input = Input::of_container("prog", container, &program, &functions);
    let dir = Scratch::new()?;
    let exe = harness.link(&input, dir.path())?;
    let mut command = harness.command(&exe);
    command.arg(hex::encode(&rewritten(container)?)).arg(harness.engine().flag());
    if let Some(name) = request.function {
        command.arg(format!("-f{name}"));
    }
    command.args(request.args());
    let (_, out) = match request.timeout {
        None => run_to_end(&mut command)?,
        Some(limit) => run_for(&mut command, limit)?.ok_or(HarnessError::TimedOut(limit))?,
    };
    let runs = parse_runs(&out, harness.name())?;
    if runs.len() != request.runs as usize {
        return Err(ToolError::Failed(format!("the {} harness reported {} runs, not {}; it printed:\n{out}", harness.name(), runs.len(), request.runs)).into());
    }
    Ok(runs)
}

/// Bare program text the conformance way (profile `conformance`, 512-byte frames, budget
/// 1 << 24, r1 = a copy of `mem`) on the harness: the text goes in a container whose one
/// table entry, `main`, is slot 0.
pub fn run_conformance(harness: &dyn Harness, program: &[u8], mem: &[u8]) -> Execution {
    let verified = match verify_conformance(program) {
        Ok(v) => v,
        Err(rejected) => return rejected,
    };
    let functions = [(CONFORMANCE_ENTRY.to_string(), verified.entries()[0])];
    let input = Input { container: "prog", program: &verified, functions: &functions, data: &[], bss_len: 0, rodata: &[] };
    let outcome = Scratch::new().and_then(|dir| {
        let exe = harness.link(&input, dir.path())?;
        let mut command = harness.command(&exe);
        let image = Image { text: program.to_vec(), functions: vec![(CONFORMANCE_ENTRY.to_string(), 0)], ..Image::default() };
        let bytes = format::write(&image, Layout::Sming32).map_err(|e| ToolError::Failed(format!("the conformance program as a container: {e}")))?;
        command.arg(hex::encode(&bytes)).arg(harness.engine().flag()).arg("-pconformance");
        if !mem.is_empty() {
            command.arg(hex::encode(mem));
        }
        run_to_end(&mut command)
    });
    Execution::from_harness(outcome)
}

/// The table entry a conformance program runs as.
const CONFORMANCE_ENTRY: &str = "main";

/// Every function-table entry of `container` with its function: what translated code for
/// the runtime exports (the runtime links the table by these names).
pub fn table_functions(container: &Container, program: &VerifiedProgram) -> Vec<(String, usize)> {
    container.functions().filter_map(|f| program.function_at(f.slot()).map(|i| (f.name.to_string(), i))).collect()
}

/// The table `runtime_harness.c -DFC_HARNESS_NATIVE` hands to `fc_vm_set_native`: each
/// function-table name of the container (`input.functions`) with its translated entry.
pub fn native_table(input: &Input) -> String {
    let symbols = Symbols::new(input.container);
    let mut c = String::from("/* Generated by fc-aot: the native entries of the container. */\n#include \"fc_runtime.h\"\n\n");
    for (name, _) in input.functions {
        c += &format!("uint64_t {}(fc_env *env, uint64_t r1, uint64_t r2);\n", symbols.entry(name));
    }
    c += "\nconst fc_native_fn fc_prog_native[] = {\n";
    for (name, _) in input.functions {
        c += &format!("    {{\"{}\", {}}},\n", c_string(name), symbols.entry(name));
    }
    c += "};\nconst size_t fc_prog_native_len = sizeof fc_prog_native / sizeof fc_prog_native[0];\n";
    c
}

/// `text` inside a C string literal: letters, digits and `_` as they are, every other
/// byte as a three-digit octal escape (which no following digit can extend).
fn c_string(text: &str) -> String {
    text.bytes().map(|b| if b.is_ascii_alphanumeric() || b == b'_' { (b as char).to_string() } else { format!("\\{b:03o}") }).collect()
}

/// `container` written out again from its parts (its own layout): the bytes the runtime
/// on a target loads.
fn rewritten(container: &Container) -> Result<Vec<u8>, ToolError> {
    let image = Image {
        data: container.data.to_vec(),
        bss_len: container.header.bss_len,
        rodata: container.rodata.to_vec(),
        text: container.text.to_vec(),
        functions: container.functions().map(|f| (f.name.to_string(), u32::from(f.location))).collect(),
    };
    format::write(&image, container.layout).map_err(|e| ToolError::Failed(format!("the container could not be written again: {e}")))
}

/// Starts `command` (qemu-user, or the program itself) and waits for it: whether it
/// exited 0, and its stdout.
pub fn run_to_end(command: &mut Command) -> Result<(bool, String), ToolError> {
    let out = output(command).map_err(|e| e.install_hint("qemu-user"))?;
    Ok((out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned()))
}

/// [`run_to_end`] for at most `limit`: `None` when the program was still running then (it
/// is killed), for programs that may never end (`-boff`).
pub fn run_for(command: &mut Command, limit: Duration) -> Result<Option<(bool, String)>, ToolError> {
    use std::io::Read;
    let program = command.get_program().to_string_lossy().into_owned();
    let mut child = tied_to_this_process(command).stdout(std::process::Stdio::piped()).spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ToolError::Unavailable(format!("`{program}` is not installed (install qemu-user)")),
        _ => ToolError::Failed(format!("`{program}`: {e}")),
    })?;
    // Read on a thread of its own, so that a program printing much cannot block on a full pipe.
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = stdout.read_to_end(&mut out);
        out
    });
    let started = std::time::Instant::now();
    let status = loop {
        match child.try_wait().map_err(|e| ToolError::Failed(format!("`{program}`: {e}")))? {
            Some(status) => break Some(status),
            None if started.elapsed() >= limit => break None,
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    };
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        let _ = reader.join();
        return Ok(None);
    };
    let out = reader.join().unwrap_or_default();
    Ok(Some((status.success(), String::from_utf8_lossy(&out).into_owned())))
}

fn parse_store(text: &str) -> Result<Vec<(u32, u32)>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| {
            let (k, v) = e.split_once('=').ok_or_else(|| format!("store entry `{e}`"))?;
            Ok((k.parse().map_err(|_| format!("key `{k}`"))?, v.parse().map_err(|_| format!("value `{v}`"))?))
        })
        .collect()
}

/// Parses the `-v` output of the harness on `target`: one [`Run`] per r0 / error line.
/// `harness: <reason>` (what it cannot hold) makes the run unavailable there.
pub fn parse_runs(out: &str, target: &str) -> Result<Vec<Run>, ToolError> {
    let mut runs = Vec::new();
    let mut run = Run::default();
    let garbled = |what: String| ToolError::Failed(format!("the {target} harness printed {what}"));
    for line in out.lines() {
        if let Some(reason) = line.strip_prefix("harness: ") {
            return Err(ToolError::Unavailable(format!("the {target} harness: {reason}")));
        } else if let Some(why) = line.strip_prefix("load: ") {
            // The host verified the container first: only the target's smaller memory can
            // refuse it there (NO_MEMORY); anything else is the target's fault.
            return Err(match why.strip_prefix("-100 ") {
                Some(what) => ToolError::Unavailable(format!("the {target} harness's arena is too small for the container: {what}")),
                None => ToolError::Failed(format!("the runtime on {target} refused a container the host accepts: {why}")),
            });
        } else if let Some(text) = line.strip_prefix("printf: ") {
            run.lines.push(Line::Printf(text.to_string()));
        } else if let Some(h) = line.strip_prefix("ctx:") {
            run.ctx = hex::decode(h).map_err(garbled)?;
        } else if let Some(h) = line.strip_prefix("data:") {
            run.data = hex::decode(h).map_err(garbled)?;
        } else if let Some(s) = line.strip_prefix("global store:") {
            run.globals = parse_store(s).map_err(garbled)?;
        } else if let Some(s) = line.strip_prefix("local store:") {
            run.locals = parse_store(s).map_err(garbled)?;
        } else if let Some(h) = line.strip_prefix("0x") {
            run.r0 = Some(u64::from_str_radix(h, 16).map_err(|_| garbled(format!("r0 line `{line}`")))?);
            runs.push(std::mem::take(&mut run));
        } else if let Some(rest) = line.strip_prefix("error ") {
            let error_line = || garbled(format!("error line `{line}`"));
            let (code, pc) = rest.split_once(" at insn ").ok_or_else(error_line)?;
            run.error = code.parse().map_err(|_| error_line())?;
            run.error_pc = Some(pc.parse().map_err(|_| error_line())?);
            runs.push(std::mem::take(&mut run));
        } else {
            return Err(garbled(format!("`{line}`")));
        }
    }
    Ok(runs)
}
