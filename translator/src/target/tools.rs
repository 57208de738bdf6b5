//! Scratch folders and the external tools (compilers, linkers, qemu) targets run.

use std::fmt;
use std::path::PathBuf;
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

/// A fresh scratch directory.
pub fn scratch() -> Result<PathBuf, ToolError> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!("fc-aot-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed)));
    std::fs::create_dir_all(&dir).map_err(|e| ToolError::Failed(format!("{}: {e}", dir.display())))?;
    Ok(dir)
}

/// Writes a file the target builds from.
pub fn write(path: &std::path::Path, bytes: impl AsRef<[u8]>) -> Result<(), ToolError> {
    std::fs::write(path, bytes).map_err(|e| ToolError::Failed(format!("{}: {e}", path.display())))
}

/// Starts a tool and waits for it; a tool that cannot be started is unavailable.
pub fn output(cmd: &mut Command) -> Result<Output, ToolError> {
    cmd.output().map_err(|e| {
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
