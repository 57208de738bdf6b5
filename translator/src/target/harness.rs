//! The one C harness of every target outside this process (the bare-metal SoCs and the
//! Linux ISAs under qemu-user: `targets/common/bare_metal_harness.c`), from the Rust side:
//! what a run asks of it (its arguments), which helpers it lacks, building and starting
//! the program, and reading what it printed back into [`Run`]s, which the command line
//! prints exactly as the host's.

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
use crate::backend::Input;
use crate::helpers::HelperSet;
use crate::text::hex;

/// The sources every harness target shares: the harness (plain C over crt.h), the ABI and
/// hex headers, the crt's interface and its buffered output.
pub const HARNESS_C: &str = include_str!("../../../targets/common/bare_metal_harness.c");
pub const ABI_H: &str = include_str!("../../../targets/include/fc_abi.h");
pub const HEX_H: &str = include_str!("../../../targets/common/fc_hex.h");
pub const CRT_H: &str = include_str!("../../../targets/common/crt.h");
pub const CRT_OUTPUT_C: &str = include_str!("../../../targets/common/crt_output.c");
pub const CMDLINE_H: &str = include_str!("../../../targets/common/fc_cmdline.h");

/// The shared sources as (file name, text), as the targets write them for their compiler.
pub const SHARED_SOURCES: [(&str, &str); 6] = [
    ("harness.c", HARNESS_C),
    ("fc_abi.h", ABI_H),
    ("fc_hex.h", HEX_H),
    ("crt.h", CRT_H),
    ("crt_output.c", CRT_OUTPUT_C),
    ("fc_cmdline.h", CMDLINE_H),
];

/// A target the harness runs on: how a translated program becomes an executable there,
/// and how that is started.
pub trait Harness {
    /// The `--target` name (`esp32c3`, `aarch64`), for messages.
    fn name(&self) -> &'static str;
    /// Translates `input` (container `prog`, exporting `main`) and links it with the
    /// harness into an executable in `dir`.
    fn link(&self, input: &Input, dir: &Path) -> Result<PathBuf, ToolError>;
    /// The command that runs `exe` (qemu-user and its options, or `exe` itself).
    fn command(&self, exe: &Path) -> Command;
    /// Whether the program is the runtime itself (`targets/common/runtime_harness.c`),
    /// with the flag choosing its engine: it is handed the container's bytes and runs
    /// any function of its table by name; translated code it is linked with exports
    /// every table entry. `None`: the program runs its one translated `main`.
    fn on_runtime(&self) -> Option<&'static str> {
        None
    }
}

impl<H: Harness + ?Sized> Harness for &H {
    fn name(&self) -> &'static str {
        (**self).name()
    }
    fn link(&self, input: &Input, dir: &Path) -> Result<PathBuf, ToolError> {
        (**self).link(input, dir)
    }
    fn command(&self, exe: &Path) -> Command {
        (**self).command(exe)
    }
    fn on_runtime(&self) -> Option<&'static str> {
        (**self).on_runtime()
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
/// and picks the function to run: the program and the function's index. `whole`: the
/// target's runtime verifies the whole container, so an application helper called
/// anywhere in it (none is there) keeps it from loading, not only one `function` reaches.
fn prepare<'c>(target: &str, container: &Container<'c>, request: &Request, whole: bool) -> Result<(VerifiedProgram<'c>, usize), HarnessError> {
    let program = request.helpers.verify_with_stack(container, request.frame).map_err(HarnessError::Rejected)?;
    // The names a host VM can run: table entries at a function start.
    let named: Vec<(&str, usize)> = container.functions().filter_map(|f| program.function_at(f.slot()).map(|i| (f.name, i))).collect();
    let function = match request.function {
        None => program.entries().first().copied(),
        Some(name) => named.iter().find(|(n, _)| *n == name).map(|&(_, i)| i),
    };
    let function = function.ok_or_else(|| HarnessError::NoFunction {
        name: request.function.unwrap_or_default().to_string(),
        have: named.iter().map(|(n, _)| n.to_string()).collect(),
    })?;
    let roots = if whole { (0..program.functions().len()).collect() } else { vec![function] };
    if let Some(id) = roots.into_iter().find_map(|f| app_helper_called(&program, f)) {
        let why = format!("the {target} harness has no helper 0x{id:x} (app_helper): run it on --target host");
        return Err(HarnessError::Tool(ToolError::Unavailable(why)));
    }
    Ok((program, function))
}

/// The first application helper `function` or a function it calls may call: the
/// harnesses have none (the host's `--app-helper` behaviours exist only in process).
fn app_helper_called(program: &VerifiedProgram, function: usize) -> Option<u32> {
    let mut seen = vec![false; program.functions().len()];
    let mut todo = vec![function];
    while let Some(f) = todo.pop() {
        if std::mem::replace(&mut seen[f], true) {
            continue;
        }
        todo.extend(&program.functions()[f].callees);
        let mut called = program.body(f).iter().filter_map(|i| if let Instr::CallHelper { id } = i.instr() { Some(id) } else { None });
        if let Some(id) = called.find(|&id| id >= FIRST_APP_HELPER) {
            return Some(id);
        }
    }
    None
}

/// Runs a whole container `request.runs` times in one harness process (data, bss and the
/// stores persist between runs, the context starts from `request.ctx` each time).
pub fn run_container(harness: &dyn Harness, container: &Container, request: &Request) -> Result<Vec<Run>, HarnessError> {
    let on_runtime = harness.on_runtime();
    let (program, function) = prepare(harness.name(), container, request, on_runtime.is_some())?;
    let functions = match on_runtime {
        None => vec![("main".to_string(), function)],
        Some(_) => table_functions(container, &program),
    };
    let input = Input {
        container: "prog",
        program: &program,
        functions: &functions,
        data: container.data,
        bss_len: container.header.bss_len as usize,
        rodata: container.rodata,
    };
    let dir = Scratch::new()?;
    let exe = harness.link(&input, dir.path())?;
    let mut command = harness.command(&exe);
    if let Some(engine) = on_runtime {
        command.arg(hex::encode(&rewritten(container)?)).arg(engine);
        if let Some(name) = request.function {
            command.arg(format!("-f{name}"));
        }
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
/// 1 << 24, r1 = a copy of `mem`) on the harness.
pub fn run_conformance(harness: &dyn Harness, program: &[u8], mem: &[u8]) -> Execution {
    let verified = match verify_conformance(program) {
        Ok(v) => v,
        Err(rejected) => return rejected,
    };
    let on_runtime = harness.on_runtime();
    // On the runtime the text goes in a container whose one table entry, `main`, is slot 0.
    let name = if on_runtime.is_some() { CONFORMANCE_ENTRY } else { "main" };
    let functions = [(name.to_string(), verified.entries()[0])];
    let input = Input { container: "prog", program: &verified, functions: &functions, data: &[], bss_len: 0, rodata: &[] };
    let outcome = Scratch::new().and_then(|dir| {
        let exe = harness.link(&input, dir.path())?;
        let mut command = harness.command(&exe);
        if let Some(engine) = on_runtime {
            let image = Image { text: program.to_vec(), functions: vec![(CONFORMANCE_ENTRY.to_string(), 0)], ..Image::default() };
            let bytes = format::write(&image, Layout::Sming32).map_err(|e| ToolError::Failed(format!("the conformance program as a container: {e}")))?;
            command.arg(hex::encode(&bytes)).arg(engine).arg("-pconformance");
        }
        if !mem.is_empty() {
            command.arg(hex::encode(mem));
        }
        run_to_end(&mut command)
    });
    Execution::from_harness(outcome)
}

/// The table entry a conformance program runs as, on the runtime.
const CONFORMANCE_ENTRY: &str = "main";

/// Every function-table entry of `container` with its function: what translated code for
/// the runtime exports (the runtime links the table by these names).
fn table_functions(container: &Container, program: &VerifiedProgram) -> Vec<(String, usize)> {
    container.functions().filter_map(|f| program.function_at(f.slot()).map(|i| (f.name.to_string(), i))).collect()
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
