//! The external tools (compilers, linkers, qemu) targets run, and how they fail.

use std::fmt;
use std::process::{Command, Output};

/// Why a target could not build or run a program: never a container's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ToolError {
    /// A tool the target needs is not installed (or cannot be started): the engine is
    /// unavailable here, which the command line reports with exit status 4.
    Unavailable(String),
    /// A tool ran and failed, or printed what the runner does not understand.
    Failed(String),
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ToolError::Unavailable(why) => write!(f, "unavailable: {why}"),
            ToolError::Failed(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for ToolError {}

impl ToolError {
    /// Adds which Debian package provides the missing tool.
    pub fn install_hint(self, package: &str) -> ToolError {
        match self {
            ToolError::Unavailable(why) => ToolError::Unavailable(format!("{why} (install {package})")),
            failed => failed,
        }
    }
}

/// Writes a file the target builds from.
pub fn write(path: &std::path::Path, bytes: impl AsRef<[u8]>) -> Result<(), ToolError> {
    std::fs::write(path, bytes).map_err(|e| ToolError::Failed(format!("{}: {e}", path.display())))
}

/// Makes the tool `cmd` starts end with this process: the kernel sends it SIGTERM when
/// the thread that started it goes away, so an interrupted or killed fc-aot leaves no
/// qemu running on (with `--budget off` it would run for ever). SIGTERM, not SIGKILL:
/// gcc then removes its own temporary files, and qemu ends as its guest does.
pub fn tied_to_this_process(cmd: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: getpid has no preconditions.
    let parent = unsafe { libc::getpid() };
    // SAFETY: the closure runs in the child between fork and exec; prctl, getppid and
    // _exit are async-signal-safe and touch no memory of the parent.
    unsafe {
        cmd.pre_exec(move || {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            // The parent died before the request took effect: no one is left to tie to.
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        })
    }
}

/// Starts a tool and waits for it; a tool that cannot be started is unavailable.
pub fn output(cmd: &mut Command) -> Result<Output, ToolError> {
    tied_to_this_process(cmd).output().map_err(|e| {
        let program = cmd.get_program().to_string_lossy().into_owned();
        if e.kind() == std::io::ErrorKind::NotFound {
            ToolError::Unavailable(format!("`{program}` is not installed"))
        } else {
            ToolError::Failed(format!("`{program}`: {e}"))
        }
    })
}

/// Runs a tool that must succeed; its stderr becomes the error.
pub fn run_tool(cmd: &mut Command) -> Result<(), ToolError> {
    let out = output(cmd)?;
    if out.status.success() {
        Ok(())
    } else {
        Err(ToolError::Failed(format!("{:?} failed: {}", cmd.get_program(), String::from_utf8_lossy(&out.stderr).trim())))
    }
}
