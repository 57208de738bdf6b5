//! Helpers shared by this crate's integration tests: paths, the static library, the
//! `fc-aot` binary, temp dirs, running tools.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Libraries a Rust staticlib needs from the C side.
pub const SYSTEM_LIBS: [&str; 3] = ["-lpthread", "-ldl", "-lm"];

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn workspace_root() -> PathBuf {
    manifest_dir().join("../..").canonicalize().expect("workspace root")
}

pub fn include_dir() -> PathBuf {
    manifest_dir().join("../include")
}

/// `target/<profile>`: this test executable lives in its `deps/`.
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent().and_then(Path::parent).expect("target/<profile>/deps/<test>").to_path_buf()
}

/// The static library of this very build. Before the integration tests cargo builds the
/// package's library with all its crate types in one rustc run, but `cargo test` leaves
/// the `.a` in `deps/` (only `cargo build` copies it up to `target/<profile>/`), so the
/// copy in `deps/` is the one that matches the rlib under test.
pub fn staticlib() -> PathBuf {
    let dir = profile_dir();
    let lib = [dir.join("deps/libfc_runtime_capi.a"), dir.join("libfc_runtime_capi.a")]
        .into_iter()
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("libfc_runtime_capi.a missing under {}: cargo should have built it", dir.display()));
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let source = manifest_dir().join("src/lib.rs");
    if let (Some(built), Some(edited)) = (modified(&lib), modified(&source)) {
        assert!(built >= edited, "{} is older than {}", lib.display(), source.display());
    }
    lib
}

/// The `fc-aot` binary of the workspace, next to this package's outputs. Another package's
/// binary is not available through `CARGO_BIN_EXE_*`, so build it (a no-op when it is up
/// to date; cargo does not hold the build lock while tests run).
pub fn fc_aot() -> PathBuf {
    let dir = profile_dir();
    let bin = dir.join(format!("fc-aot{}", std::env::consts::EXE_SUFFIX));
    let target_dir = dir.parent().expect("target dir");
    let profile = match dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => "dev".to_owned(),
        Some(p) => p.to_owned(),
    };
    let status = Command::new(env!("CARGO"))
        .args(["build", "-p", "fc-aot", "--bin", "fc-aot", "--profile", &profile, "--target-dir"])
        .arg(target_dir)
        .current_dir(workspace_root())
        .status();
    match status {
        Ok(s) if s.success() => {}
        // An existing binary still does the job (e.g. offline); without one the test cannot go on.
        other if bin.is_file() => eprintln!("warning: cargo build -p fc-aot failed ({other:?}); using {}", bin.display()),
        other => panic!("cargo build -p fc-aot failed: {other:?}"),
    }
    assert!(bin.is_file(), "{} missing after cargo build", bin.display());
    bin
}

/// A fresh directory, removed on drop unless the test is failing (then kept for inspection).
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(test: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("fc-runtime-capi-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        TempDir(path)
    }
    pub fn join(&self, p: impl AsRef<Path>) -> PathBuf {
        self.0.join(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("test files kept in {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

pub fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    if !out.status.success() {
        panic!(
            "{cmd:?} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}
