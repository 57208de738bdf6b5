//! The conformance runner: every `.data` file of a folder on an engine or through a plugin.

pub mod data;
pub mod plugin;

use std::path::{Path, PathBuf};

use crate::helpers::AppHelper;
use crate::target::{self, EngineKind, Execution, Target};
use crate::text::asm::CALLX_OPCODE;
use data::TestCase;

/// The outcome of one test file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail(String),
    Skip(String),
}

/// What executes the programs.
pub enum Executor {
    /// An engine on a target, with the declared application helpers.
    Engine(EngineKind, Target, Vec<AppHelper>),
    /// An external plugin binary and the options passed after the memory argument.
    Plugin(PathBuf, Vec<String>),
}

impl Executor {
    fn execute(&self, program: &[u8], mem: &[u8]) -> Execution {
        match self {
            Executor::Engine(kind, target, apps) => target::run_conformance(*kind, *target, apps, program, mem),
            Executor::Plugin(path, options) => plugin::run(path, options, program, mem),
        }
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
        // An engine that could not run is never "the expected error".
        (_, _, Execution::Unavailable(why)) => Verdict::Fail(format!("engine unavailable: {why}")),
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
        let verdict = match data::parse(&name, &text) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unavailable_engine_is_never_the_expected_error() {
        let case = data::parse("t.data", "-- asm\nja +5\nexit\n-- error\nanything\n").unwrap();
        let missing = Executor::Plugin(PathBuf::from("/nonexistent/fc-aot-plugin"), Vec::new());
        assert!(matches!(run_case(&case, &missing), Verdict::Fail(why) if why.starts_with("engine unavailable")));
        let ok = data::parse("t.data", "-- asm\nmov %r0, 1\nexit\n-- result\n0x1\n").unwrap();
        assert!(matches!(run_case(&ok, &missing), Verdict::Fail(_)));
        assert_eq!(run_case(&case, &Executor::Engine(EngineKind::Reference, Target::Host, Vec::new())), Verdict::Pass);
    }
}
