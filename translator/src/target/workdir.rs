//! Where targets keep files, so that no process leaves any behind: scratch folders that
//! are removed on every path (drop, error, panic, SIGINT/SIGTERM/SIGHUP), and one cache
//! of the objects every run on a target links with (start-up, crt, harness), keyed by
//! the hash of their sources, flags and compiler and shared by all processes.
//!
//! Why a shared cache and not per-process object folders: a conformance run through the
//! plugin starts one process per test, and each compiled (and left behind) the same
//! objects. Keyed by content, an entry is complete when its name exists (it is renamed
//! into place whole), is reused by every later process and never goes stale: changed
//! sources, flags or compiler make another key. `$FC_AOT_CACHE` names the folder; else
//! `$XDG_CACHE_HOME/fc-aot`, `$HOME/.cache/fc-aot`, or `fc-aot-cache` in the temp folder
//! when there is no home. Removing it is always safe.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, Once};

use super::tools::{output, ToolError};

/// The folders of this process that a signal must remove: every live [`Scratch`].
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn live() -> MutexGuard<'static, Vec<PathBuf>> {
    // A panic while the list was held leaves it intact: go on with it.
    LIVE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A folder of this process, removed with everything in it when dropped, or by the
/// signal handler when the process is interrupted first.
#[derive(Debug)]
pub struct Scratch(PathBuf);

impl Scratch {
    /// A fresh folder in the temp folder.
    pub fn new() -> Result<Scratch, ToolError> {
        Scratch::new_in(&std::env::temp_dir(), "fc-aot")
    }

    /// A fresh folder `<prefix>-<pid>-<n>` in `parent`.
    fn new_in(parent: &Path, prefix: &str) -> Result<Scratch, ToolError> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        install_signal_cleanup();
        let dir = parent.join(format!("{prefix}-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed)));
        // Created while the list is held, so that a signal either sees it listed or
        // finds it not yet made.
        let mut live = live();
        std::fs::create_dir_all(&dir).map_err(|e| ToolError::Failed(format!("{}: {e}", dir.display())))?;
        live.push(dir.clone());
        Ok(Scratch(dir))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.0.join(name)
    }

    /// Stops tracking the folder (it was renamed away whole): nothing to remove.
    fn disarm(self) {
        live().retain(|d| *d != self.0);
        std::mem::forget(self);
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let mut live = live();
        let _ = std::fs::remove_dir_all(&self.0);
        live.retain(|d| *d != self.0);
    }
}

fn sweep(live: &mut Vec<PathBuf>) {
    for dir in live.drain(..) {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Removes every live scratch folder now, for a process about to exit without
/// unwinding (`std::process::exit` runs no destructors).
pub fn remove_scratch() {
    sweep(&mut live());
}

/// The write end of the pipe the signal handler reports on (-1 before installation).
static SIGNAL_PIPE: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_signal(signal: libc::c_int) {
    let byte = signal as u8;
    // SAFETY: write(2) is async-signal-safe; the fd is the pipe's write end, which stays
    // open for the life of the process, and `byte` outlives the call.
    unsafe {
        libc::write(SIGNAL_PIPE.load(Ordering::Relaxed), (&byte as *const u8).cast(), 1);
    }
}

/// On the first scratch folder, SIGINT, SIGTERM and SIGHUP get a handler that only
/// writes the signal's number to a pipe (all a handler may safely do); a thread reading
/// it removes the live folders and re-raises the signal with its default action, so the
/// process still ends as killed by it. A signal the process ignores (nohup) or handles
/// itself is left alone. Child tools get the terminal's signals themselves.
fn install_signal_cleanup() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let mut fds = [0; 2];
        // SAFETY: pipe2 writes two fds into the array it is given.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return;
        }
        let [read_end, write_end] = fds;
        SIGNAL_PIPE.store(write_end, Ordering::Relaxed);
        let cleaner = std::thread::Builder::new().name("fc-aot cleanup".into()).spawn(move || loop {
            let mut byte = 0u8;
            // SAFETY: reads one byte into `byte` from the pipe's read end, owned by this thread.
            let n = unsafe { libc::read(read_end, (&mut byte as *mut u8).cast(), 1) };
            if n == 1 {
                // Held until the process ends: no new folder appears after the sweep.
                let mut live = live();
                sweep(&mut live);
                // SAFETY: restores the default action of a valid signal number and raises it
                // in this thread, which ends the whole process.
                unsafe {
                    libc::signal(libc::c_int::from(byte), libc::SIG_DFL);
                    libc::raise(libc::c_int::from(byte));
                }
            } else if n == 0 || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
                return;
            }
        });
        if cleaner.is_err() {
            return;
        }
        for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            // SAFETY: sigaction with a zeroed (empty mask, no flags) struct reads the current
            // disposition; the new one is a plain handler that only calls write(2).
            unsafe {
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(signal, std::ptr::null(), &mut old) != 0 || old.sa_sigaction != libc::SIG_DFL {
                    continue;
                }
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
                action.sa_flags = libc::SA_RESTART;
                libc::sigaction(signal, &action, std::ptr::null_mut());
            }
        }
    });
}

/// The cache folder (see the module's comment).
pub fn cache_root() -> PathBuf {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("FC_AOT_CACHE")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("fc-aot")))
        .or_else(|| var("HOME").map(|d| d.join(".cache/fc-aot")))
        .unwrap_or_else(|| std::env::temp_dir().join("fc-aot-cache"))
}

/// The first line of `compiler --version`: part of every key, so a new compiler builds
/// new objects. A compiler that cannot be started is unavailable (`package` has it).
pub fn compiler_identity(compiler: &str, package: &str) -> Result<String, ToolError> {
    let out = output(Command::new(compiler).arg("--version")).map_err(|e| e.install_hint(package))?;
    Ok(String::from_utf8_lossy(&out.stdout).lines().next().unwrap_or_default().to_string())
}

/// The cache entry `<name>-<hash of inputs>`: built by `build` into a fresh folder on
/// first use (by any process), then renamed into place whole, so a folder with that name
/// is always complete. The hash is std's (SipHash): a new Rust release may change it,
/// which only builds a new entry.
pub fn cached(name: &str, inputs: &[&[u8]], build: impl FnOnce(&Path) -> Result<(), ToolError>) -> Result<PathBuf, ToolError> {
    let mut hasher = std::hash::DefaultHasher::new();
    inputs.hash(&mut hasher);
    let root = cache_root();
    let entry = root.join(format!("{name}-{:016x}", hasher.finish()));
    if entry.is_dir() {
        return Ok(entry);
    }
    std::fs::create_dir_all(&root).map_err(|e| ToolError::Failed(format!("{}: {e}", root.display())))?;
    let partial = Scratch::new_in(&root, &format!(".{name}.partial"))?;
    build(partial.path())?;
    match std::fs::rename(partial.path(), &entry) {
        Ok(()) => partial.disarm(),
        // Another process put the same entry in place first: use that one (ours goes).
        Err(_) if entry.is_dir() => {}
        Err(e) => return Err(ToolError::Failed(format!("{}: {e}", entry.display()))),
    }
    Ok(entry)
}
