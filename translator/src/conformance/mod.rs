//! The conformance runner: every `.data` file of a folder on an engine or through a plugin.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::text::asm::CALLX_OPCODE;
use crate::conformance_data::{self, TestCase};
use crate::engines::{self, EngineKind, Execution, Target};

/// How long a plugin may take for one test before it is killed.
const PLUGIN_TIMEOUT: Duration = Duration::from_secs(20);

/// The outcome of one test file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail(String),
    Skip(String),
}

/// What executes the programs.
pub enum Executor {
    Engine(EngineKind, Target),
    /// An external plugin binary and the options passed after the memory argument.
    Plugin(PathBuf, Vec<String>),
}

impl Executor {
    fn execute(&self, program: &[u8], mem: &[u8]) -> Execution {
        match self {
            Executor::Engine(kind, target) => engines::run_conformance(*kind, *target, program, mem),
            Executor::Plugin(path, options) => run_plugin(path, options, program, mem),
        }
    }
}

/// Bytes as the upstream runner writes them: two hex digits and two spaces each.
pub fn plugin_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}  ")).collect()
}

/// Parses hex bytes, ignoring whitespace (the plugin side of [`plugin_hex`]).
pub fn parse_plugin_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return Err("odd number of hex digits".into());
    }
    digits
        .chunks(2)
        .map(|p| {
            let s = std::str::from_utf8(p).map_err(|_| "not hex".to_string())?;
            u8::from_str_radix(s, 16).map_err(|_| format!("`{s}` is not a hex byte"))
        })
        .collect()
}

fn run_plugin(path: &Path, options: &[String], program: &[u8], mem: &[u8]) -> Execution {
    let mut cmd = Command::new(path);
    if !mem.is_empty() {
        cmd.arg(plugin_hex(mem));
    }
    cmd.args(options).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return Execution::Failed(format!("cannot start plugin {}: {e}", path.display())),
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = writeln!(stdin, "{}", plugin_hex(program));
    }
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > PLUGIN_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Execution::Failed(format!("plugin did not finish within {}s", PLUGIN_TIMEOUT.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => return Execution::Failed(format!("plugin: {e}")),
        }
    };
    let mut out = String::new();
    let mut err = String::new();
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_string(&mut out);
    }
    if let Some(mut s) = child.stderr.take() {
        let _ = s.read_to_string(&mut err);
    }
    if !status.success() {
        let message = if out.trim().is_empty() { err.trim() } else { out.trim() };
        return Execution::Failed(message.to_string());
    }
    let text = out.trim();
    let hex = text.strip_prefix("0x").unwrap_or(text);
    match u64::from_str_radix(hex, 16) {
        Ok(v) => Execution::Returned(v),
        Err(_) => Execution::Failed(format!("plugin printed `{text}`, not a hex r0")),
    }
}

/// `callx` is not RFC 9669: tests using it are skipped before they run.
fn uses_callx(program: &[u8]) -> bool {
    program.chunks(8).any(|slot| slot[0] == CALLX_OPCODE)
}

/// Runs one parsed test case.
pub fn run_case(case: &TestCase, executor: &Executor) -> Verdict {
    let program = match case.program() {
        Ok(p) => p,
        // A program that does not assemble is rejected, which is what an error test expects.
        Err(_) if case.error.is_some() => return Verdict::Pass,
        Err(e) => return Verdict::Fail(format!("assembly: {e}")),
    };
    if uses_callx(&program) {
        return Verdict::Skip("callx (0x8d) is not RFC 9669".into());
    }
    let outcome = executor.execute(&program, &case.mem);
    match (&case.result, &case.error, outcome) {
        (_, Some(_), Execution::Rejected(_) | Execution::Failed(_)) => Verdict::Pass,
        (_, Some(_), Execution::Returned(v)) => Verdict::Fail(format!("expected an error, got r0 = 0x{v:x}")),
        (Some(want), None, Execution::Returned(got)) if *want == got => Verdict::Pass,
        (Some(want), None, Execution::Returned(got)) => Verdict::Fail(format!("r0 = 0x{got:x}, expected 0x{want:x}")),
        (Some(_), None, Execution::Rejected(e)) => Verdict::Fail(format!("rejected at load: {e}")),
        (Some(_), None, Execution::Failed(e)) => Verdict::Fail(format!("stopped: {e}")),
        (None, None, _) => Verdict::Fail("the test has neither a result nor an error".into()),
    }
}

/// Totals of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} passed, {} failed, {} skipped", self.passed, self.failed, self.skipped)
    }
}

/// The `.data` files of `dir` (not recursive), sorted.
pub fn data_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "data") && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

/// Runs every file, reporting each verdict through `report`.
pub fn run_dir(dir: &Path, executor: &Executor, mut report: impl FnMut(&str, &Verdict)) -> std::io::Result<Summary> {
    let mut summary = Summary::default();
    for path in data_files(dir)? {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let text = String::from_utf8_lossy(&std::fs::read(&path)?).into_owned();
        let verdict = match conformance_data::parse(&name, &text) {
            Ok(case) => run_case(&case, executor),
            Err(e) => Verdict::Fail(e.to_string()),
        };
        match verdict {
            Verdict::Pass => summary.passed += 1,
            Verdict::Fail(_) => summary.failed += 1,
            Verdict::Skip(_) => summary.skipped += 1,
        }
        report(&name, &verdict);
    }
    Ok(summary)
}
