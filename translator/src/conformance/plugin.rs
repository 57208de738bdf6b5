//! The upstream bpf_conformance plugin protocol: memory as hex in argv, the program as
//! hex on stdin, r0 in hex on stdout, success in the exit status.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::target::Execution;
use crate::text::hex;

/// How long a plugin may take for one test before it is killed.
const PLUGIN_TIMEOUT: Duration = Duration::from_secs(20);

/// Runs `program` on the plugin at `path` with `options` after the memory argument.
pub fn run(path: &Path, options: &[String], program: &[u8], mem: &[u8]) -> Execution {
    let mut cmd = Command::new(path);
    if !mem.is_empty() {
        cmd.arg(hex::encode_spaced(mem));
    }
    cmd.args(options).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return Execution::Unavailable(format!("cannot start plugin {}: {e}", path.display())),
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = writeln!(stdin, "{}", hex::encode_spaced(program));
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
