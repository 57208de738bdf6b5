//! Runs on the cross targets leave nothing in the temp folder (issue 14, point 12), on
//! every path: conformance programs through the plugin (one process per program) and
//! the command line, a run the harness refuses, `--timeout`, and SIGINT / SIGTERM while
//! qemu runs. The objects every run links with live in the shared cache instead
//! (`$FC_AOT_CACHE`), one complete entry per target.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;

/// A fresh, empty temp folder and cache for the runs of one test.
struct Folders {
    tmp: PathBuf,
    cache: PathBuf,
}

impl Folders {
    fn new(dir: &TempDir) -> Folders {
        let folders = Folders { tmp: dir.join("tmp"), cache: dir.join("cache") };
        std::fs::create_dir_all(&folders.tmp).unwrap();
        folders
    }

    fn env(&self) -> [(&str, &str); 2] {
        [("TMPDIR", self.tmp.to_str().unwrap()), ("FC_AOT_CACHE", self.cache.to_str().unwrap())]
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(FC_AOT);
        command.args(args).envs(self.env());
        command
    }

    fn assert_tmp_empty(&self, after: &str) {
        let left: Vec<_> = std::fs::read_dir(&self.tmp).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(left.is_empty(), "after {after}, the temp folder holds {left:?}");
    }

    /// The cache entries: one complete `<target>-<hash>` folder per target, nothing partial.
    fn assert_cache_holds(&self, targets: &[&str]) {
        let mut entries: Vec<String> = std::fs::read_dir(&self.cache).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        entries.sort();
        let names: Vec<&str> = entries.iter().map(|e| e.rsplit_once('-').map_or(e.as_str(), |(name, _)| name)).collect();
        let mut want = targets.to_vec();
        want.sort();
        assert_eq!(names, want, "cache entries {entries:?}");
    }
}

/// A few conformance programs, copied into `dir/suite`.
fn suite(dir: &TempDir) -> PathBuf {
    let (from, to) = (manifest_dir().join("../conformance/bpf_conformance/tests"), dir.join("suite"));
    std::fs::create_dir_all(&to).unwrap();
    for name in ["add.data", "call_unwind_fail.data", "div64-by-zero-reg.data", "ldxb-all.data"] {
        std::fs::copy(from.join(name), to.join(name)).unwrap();
    }
    to
}

#[test]
fn conformance_through_the_plugin_and_the_cli_leaves_the_temp_folder_empty() {
    let dir = TempDir::new("leftovers-conformance");
    let folders = Folders::new(&dir);
    let suite = suite(&dir);
    let plugin = env!("CARGO_BIN_EXE_fc-aot-plugin");
    for (engine, target) in [("aot", "riscv64gc"), ("c", "esp32c3")] {
        let through = ["--engine", engine, "--target", target];
        for plugin in [Some(plugin), None] {
            let mut args = vec!["conformance", suite.to_str().unwrap()];
            if let Some(p) = plugin {
                args.extend(["--plugin", p]);
            }
            args.extend(through);
            let o = folders.command(&args).output().unwrap();
            assert_eq!(stdout(&o).lines().last(), Some("4 passed, 0 failed, 0 skipped"), "{args:?}: {}", stderr(&o));
            folders.assert_tmp_empty(&args.join(" "));
        }
    }
    folders.assert_cache_holds(&["esp32c3", "riscv64gc"]);
}

/// The processes whose command line names `dir` (a qemu left running would).
fn processes_naming(dir: &Path) -> Vec<String> {
    let needle = dir.to_str().unwrap();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| std::fs::read(e.ok()?.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(needle))
        .collect()
}

#[test]
fn errors_timeouts_and_signals_leave_the_temp_folder_empty() {
    let dir = TempDir::new("leftovers-paths");
    let folders = Folders::new(&dir);
    let endless = build_sources(&dir, &[("endless.c", ENDLESS_C)]);
    let endless = endless.as_str();

    // Refused by the runtime there (more stack than its arena holds): exit status 4.
    let o = folders.command(&["run", endless, "--stack", "65536", "--target", "esp32c3"]).output().unwrap();
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    folders.assert_tmp_empty("a run the harness refused");
    // --timeout, on a target and on the host's c engine (which exits without unwinding).
    for target in ["esp32c3", "host"] {
        let o = folders.command(&["run", endless, "--budget", "off", "--timeout", "0.3", "--engine", "c", "--target", target]).output().unwrap();
        assert_eq!(o.status.code(), Some(4), "{target}: {}", stderr(&o));
        folders.assert_tmp_empty(&format!("--timeout on {target}"));
    }
    // A signal while qemu runs the endless program: the process ends as killed by it,
    // its scratch folder is gone and so is qemu.
    for signal in [libc::SIGINT, libc::SIGTERM] {
        let mut child = folders.command(&["run", endless, "--budget", "off", "--target", "rp2040"]).spawn().unwrap();
        let started = Instant::now();
        while processes_naming(&folders.tmp).iter().all(|c| !c.starts_with("qemu-arm")) {
            assert!(started.elapsed() < Duration::from_secs(30), "qemu did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        // SAFETY: kill(2) of the child this test started and has not waited for yet.
        assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(signal), "{status:?}");
        folders.assert_tmp_empty(&format!("signal {signal}"));
        let started = Instant::now();
        while !processes_naming(&folders.tmp).is_empty() {
            assert!(started.elapsed() < Duration::from_secs(5), "still running: {:?}", processes_naming(&folders.tmp));
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    folders.assert_cache_holds(&["esp32c3", "rp2040"]);
}
