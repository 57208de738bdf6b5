//! How a run on a target ended (a conformance program's [`Execution`], a whole
//! container's [`Run`]s), and the conformance profile's verification every harness shares.

use fc_runtime::helpers::{ConformanceHelpers, Helpers};
use fc_runtime::verifier::{self, VerifiedProgram, DEFAULT_MAX_CALL_DEPTH};

use super::tools::ToolError;

/// Verifies bare text for the conformance profile, as the harnesses of other targets run it.
pub fn verify_conformance(program: &[u8]) -> Result<VerifiedProgram<'_>, Execution> {
    let arity = |id| ConformanceHelpers.arity(id);
    let config = verifier::Config { max_call_depth: DEFAULT_MAX_CALL_DEPTH, helper_arity: &arity };
    verifier::verify(program, &[], &config)
        .map_err(|r| Execution::Rejected(match r.errors() {
            [] => "no memory for the verifier's tables".to_string(),
            errors => errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "),
        }))
}

/// Taken jumps a conformance program may make: far above what any test needs,
/// low enough that a runaway program stops within a second.
pub const CONFORMANCE_BUDGET: u32 = 1 << 24;
/// Frame size the conformance tests assume.
pub const CONFORMANCE_FRAME: usize = 512;

/// How a conformance-style run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Execution {
    /// The program ran to its exit: r0.
    Returned(u64),
    /// The load (verifier) refused it.
    Rejected(String),
    /// It stopped with an error while running.
    Failed(String),
    /// The engine could not run here (a compiler or qemu is missing, or building the
    /// code failed): not a result of the program, never counted as an expected error.
    Unavailable(String),
}

impl Execution {
    /// What a harness printed when it ran: `0x<r0>` on success, else its error line.
    pub fn from_harness(outcome: Result<(bool, String), ToolError>) -> Execution {
        match outcome {
            Ok((true, out)) => {
                let out = out.trim();
                match u64::from_str_radix(out.trim_start_matches("0x"), 16) {
                    Ok(r0) => Execution::Returned(r0),
                    Err(_) => Execution::Unavailable(format!("the harness printed `{out}`")),
                }
            }
            Ok((false, out)) => Execution::Failed(out.trim().to_string()),
            Err(ToolError::Unavailable(why) | ToolError::Failed(why)) => Execution::Unavailable(why),
        }
    }
}

/// What one run of a whole container showed, on any target: what `fc-aot run` prints.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Run {
    /// r0 when the run succeeded.
    pub r0: Option<u64>,
    /// The error code (0 when none) and the slot it stopped at.
    pub error: i32,
    pub error_pc: Option<usize>,
    /// The printf lines and application helpers' log lines, in the order they came.
    pub lines: Vec<Line>,
    pub ctx: Vec<u8>,
    /// The data section (with bss) after the run.
    pub data: Vec<u8>,
    pub globals: Vec<(u32, u32)>,
    pub locals: Vec<(u32, u32)>,
}

/// One line of a run's output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    /// A printf line, without its newline.
    Printf(String),
    /// What an application helper with behaviour `log` printed (`app 0x100: 1, 2`).
    AppHelper(String),
}

impl Run {
    /// The printf lines alone.
    pub fn printf(&self) -> impl Iterator<Item = &str> {
        self.lines.iter().filter_map(|l| match l {
            Line::Printf(text) => Some(text.as_str()),
            Line::AppHelper(_) => None,
        })
    }
}
