//! `fc-aot build`: compiles a folder of C/C++ containers with clang, converts them to `.bin`,
//! and writes the firmware glue (`containers.h/.c/.rs`). Rebuilds only what changed, goes on
//! past a container that fails, writes only over its own outputs (`container::outputs`) and
//! removes those whose source is gone.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

use fc_runtime::format::{self, Layout};

use crate::container::{elf, lines};
use crate::container::names::container_part;
use crate::container::outputs::{fingerprint, is_marked, marker, Comment, Folder, OutputError};

/// The command name outputs of a build are recorded under.
const COMMAND: &str = "build";

/// The helper header every container can include as `<fc_helpers.h>`; the build writes it to `OUT/include`.
pub const HELPERS_H: &str = include_str!("../../../containers/include/fc_helpers.h");

/// Instruction-set versions clang accepts for `-mcpu`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Cpu {
    V1,
    V2,
    V3,
    V4,
}

impl Cpu {
    fn flag(self) -> &'static str {
        match self {
            Cpu::V1 => "-mcpu=v1",
            Cpu::V2 => "-mcpu=v2",
            Cpu::V3 => "-mcpu=v3",
            Cpu::V4 => "-mcpu=v4",
        }
    }

    /// As `--cpu` takes it.
    pub fn name(self) -> &'static str {
        &self.flag()["-mcpu=".len()..]
    }
}

pub struct Options {
    pub dir: PathBuf,
    pub out: PathBuf,
    pub cpu: Cpu,
    pub layout: Layout,
    /// The clang to run (`$CLANG` or `clang`).
    pub clang: String,
    /// Replace files in `out` that fc-aot did not write.
    pub force: bool,
}

/// Why a build, or one container of it, failed.
#[derive(Debug)]
pub enum BuildError {
    ClangMissing(String),
    /// Clang refused a container; its output is kept in `log`.
    Clang { source: PathBuf, problem: ClangProblem, log: PathBuf },
    Io { path: PathBuf, error: String },
    DuplicateStem { first: PathBuf, second: PathBuf },
    /// Two containers whose glue would define the same symbol.
    NameClash { first: PathBuf, second: PathBuf, symbol: String },
    NoSources(PathBuf),
    Convert { object: PathBuf, error: elf::ConvertError },
    Write { object: PathBuf, error: format::WriteError },
    /// The object's line table (its DWARF) does not read.
    Lines { object: PathBuf, error: lines::LinesError },
    Output(OutputError),
}

impl From<OutputError> for BuildError {
    fn from(e: OutputError) -> Self {
        BuildError::Output(e)
    }
}

impl BuildError {
    /// Clang's own diagnostics, when they are worth showing beside the one line (an
    /// ordinary compile error, not a construct clang cannot lower for BPF or a crash).
    pub fn diagnostics(&self) -> Option<&str> {
        match self {
            BuildError::Clang { problem: ClangProblem::Failed { diagnostics, .. }, .. } => Some(diagnostics),
            _ => None,
        }
    }
}

/// What clang's output says went wrong, recognised for the constructs clang cannot
/// lower for BPF (its messages at clang 14 and 19) so the build can say what to do.
#[derive(Debug, PartialEq, Eq)]
pub enum ClangProblem {
    /// `-mcpu=v4` with a clang older than 19.
    UnknownCpu(Cpu),
    /// Signed division or remainder below `-mcpu=v4`.
    SignedDivision(Cpu),
    /// A floating-point operation, which clang lowers to a soft-float library call.
    FloatingPoint { function: String },
    /// Another library call clang needs and BPF cannot make (`__multi3`, `memcpy` of a variable size).
    Builtin { function: String },
    /// A variable-length array or `alloca`.
    DynamicStack,
    /// More than the 512-byte eBPF stack.
    StackLimit,
    /// A call with more than five arguments.
    TooManyArguments,
    /// Clang crashed on something not recognised above.
    Crashed { status: String },
    /// An ordinary compile error: `diagnostics` are clang's messages.
    Failed { status: String, diagnostics: String },
}

impl std::fmt::Display for ClangProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClangProblem::UnknownCpu(cpu) => write!(f, "this clang does not know --cpu {}: use clang 19 (CLANG=clang-19)", cpu.name()),
            ClangProblem::SignedDivision(cpu) => write!(
                f,
                "clang cannot compile signed division for BPF at --cpu {}: use --cpu v4 (needs clang 19: CLANG=clang-19) or unsigned arithmetic",
                cpu.name()
            ),
            ClangProblem::FloatingPoint { function } => write!(
                f,
                "clang cannot compile floating point for BPF (it needs `{function}`): eBPF has no floating-point instructions; use integer or fixed-point arithmetic"
            ),
            ClangProblem::Builtin { function } => write!(
                f,
                "clang cannot compile a call to `{function}` for BPF (128-bit arithmetic, or memcpy/memset of a size not known at compile time): use 64-bit arithmetic or a constant size"
            ),
            ClangProblem::DynamicStack => {
                f.write_str("clang cannot compile a variable-length array or alloca for BPF: use a fixed-size array")
            }
            ClangProblem::StackLimit => f.write_str(
                "the container needs more than the 512-byte eBPF stack: make large local variables smaller, static or global",
            ),
            ClangProblem::TooManyArguments => {
                f.write_str("clang cannot compile a call with more than 5 arguments for BPF: pass a pointer to a struct")
            }
            ClangProblem::Crashed { status } => write!(f, "clang crashed ({status})"),
            ClangProblem::Failed { status, .. } => write!(f, "clang failed ({status})"),
        }
    }
}

impl ClangProblem {
    /// The problem clang's `stderr` (from a compile that ended with `status`) reports.
    pub fn diagnose(stderr: &str, status: ExitStatus, cpu: Cpu) -> ClangProblem {
        let has = |text: &str| stderr.to_ascii_lowercase().contains(text);
        let builtin = stderr.split("A call to built-in function '").nth(1).and_then(|rest| rest.split('\'').next());
        if has("unknown target cpu") {
            ClangProblem::UnknownCpu(cpu)
        } else if has("unsupported signed division") || has("unsupport signed division") {
            ClangProblem::SignedDivision(cpu)
        } else if let Some(function) = builtin {
            // libgcc's soft-float routines: `__mulsf3`, `__floatdidf`, `__extendsfdf2`, ...
            let float = ["sf", "df", "tf", "xf"].iter().any(|mode| function.contains(mode));
            let function = function.to_string();
            if float { ClangProblem::FloatingPoint { function } } else { ClangProblem::Builtin { function } }
        } else if has("dynamic stack allocation") {
            ClangProblem::DynamicStack
        } else if has("bpf stack limit") {
            ClangProblem::StackLimit
        } else if has("too many arg") || has("stack arguments are not supported") {
            ClangProblem::TooManyArguments
        } else if status.code() == Some(70) || has("stack dump:") || has("please submit a bug report") {
            ClangProblem::Crashed { status: status.to_string() }
        } else {
            ClangProblem::Failed { status: status.to_string(), diagnostics: stderr.trim_end().to_string() }
        }
    }
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildError::ClangMissing(c) => write!(
                f,
                "{c}: clang not found; install it (Debian/Ubuntu: apt-get install clang) or set $CLANG to its path"
            ),
            BuildError::Clang { source, problem, log } => {
                write!(f, "{}: {problem}; clang's output: {}", source.display(), log.display())
            }
            BuildError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            BuildError::DuplicateStem { first, second } => write!(
                f,
                "{}: same container name as {} (each source file is one container named after its stem)",
                second.display(),
                first.display()
            ),
            BuildError::NameClash { first, second, symbol } => write!(
                f,
                "{}: its glue symbol {symbol} is also one of {}'s (rename one of them)",
                second.display(),
                first.display()
            ),
            BuildError::NoSources(d) => write!(f, "{}: no .c or .cpp container sources", d.display()),
            BuildError::Convert { object, error } => write!(f, "{}: {error}", object.display()),
            BuildError::Write { object, error } => write!(f, "{}: {error}", object.display()),
            BuildError::Lines { object, error } => write!(f, "{}: line table: {error}", object.display()),
            BuildError::Output(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for BuildError {}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BuildError + '_ {
    move |e| BuildError::Io { path: path.to_owned(), error: e.to_string() }
}

/// What happened to one container.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Built,
    UpToDate,
}

/// A container of the folder and what the build did with it.
#[derive(Debug)]
pub struct Built {
    pub name: String,
    pub bin: PathBuf,
    pub outcome: Outcome,
    /// Clang's warnings (empty when it printed none or did not run).
    pub warnings: String,
}

/// What a build did: the containers built or up to date, the ones that failed (one error
/// each), and the outputs it removed because their source is gone.
#[derive(Debug)]
pub struct Report {
    pub built: Vec<Built>,
    pub failed: Vec<BuildError>,
    pub removed: Vec<PathBuf>,
}

const SOURCE_EXTENSIONS: [&str; 4] = ["c", "cpp", "cc", "cxx"];

fn is_cxx(path: &Path) -> bool {
    path.extension().is_some_and(|e| e != "c")
}

/// Container sources of `dir` by container name (the file stem).
pub fn sources(dir: &Path) -> Result<BTreeMap<String, PathBuf>, BuildError> {
    let mut found = BTreeMap::new();
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().and_then(|e| e.to_str()).is_some_and(|e| SOURCE_EXTENSIONS.contains(&e)))
        .collect();
    entries.sort();
    for path in entries {
        // C that fc-aot generated (`translate --emit c` of a .bin kept in this folder) is no container.
        if fs::read(&path).is_ok_and(|text| is_marked(&text)) {
            continue;
        }
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
        if let Some(first) = found.insert(stem, path.clone()) {
            return Err(BuildError::DuplicateStem { first, second: path });
        }
    }
    if found.is_empty() {
        return Err(BuildError::NoSources(dir.to_owned()));
    }
    // The naming rule is injective, but the glue adds `_len`: `a_len`'s bytes would be `a`'s length.
    let mut symbols: BTreeMap<String, &PathBuf> = BTreeMap::new();
    for (name, path) in &found {
        let (bytes, len) = glue_symbols(name);
        for symbol in [bytes, len] {
            if let Some(first) = symbols.insert(symbol.clone(), path) {
                return Err(BuildError::NameClash { first: first.clone(), second: path.clone(), symbol });
            }
        }
    }
    Ok(found)
}

/// The C glue's symbols of container `name`: its bytes and their length.
pub fn glue_symbols(name: &str) -> (String, String) {
    let bytes = format!("fc_container_{}", container_part(name));
    let len = format!("{bytes}_len");
    (bytes, len)
}

fn run_clang(clang: &str, args: &[String]) -> Result<std::process::Output, BuildError> {
    Command::new(clang).args(args).output().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => BuildError::ClangMissing(clang.to_owned()),
        _ => BuildError::Io { path: clang.into(), error: e.to_string() },
    })
}

struct Toolchain {
    /// `clang --version`, part of every stamp so a new compiler rebuilds everything.
    identity: String,
    resource_include: String,
}

fn toolchain(clang: &str) -> Result<Toolchain, BuildError> {
    let version = run_clang(clang, &["--version".into()])?;
    let include = run_clang(clang, &["-print-file-name=include".into()])?;
    Ok(Toolchain {
        identity: String::from_utf8_lossy(&version.stdout).lines().next().unwrap_or_default().to_owned(),
        resource_include: String::from_utf8_lossy(&include.stdout).trim().to_owned(),
    })
}

fn clang_args(opts: &Options, tc: &Toolchain, source: &Path, object: &Path, depfile: &Path) -> Vec<String> {
    let mut args: Vec<String> = ["-target", "bpf", opts.cpu.flag(), "-O2", "-g", "-Wall", "-Wextra", "-nostdinc"]
        .map(String::from)
        .to_vec();
    args.extend(["-isystem".into(), tc.resource_include.clone()]);
    for inc in [opts.dir.clone(), opts.dir.join("include"), opts.out.join("include")] {
        args.push(format!("-I{}", inc.display()));
    }
    if is_cxx(source) {
        args.extend(["-fno-exceptions", "-fno-rtti"].map(String::from));
    }
    args.extend(["-MD".into(), "-MF".into(), depfile.display().to_string()]);
    args.extend(["-c".into(), source.display().to_string(), "-o".into(), object.display().to_string()]);
    args
}

/// Files a make-style dependency file lists (the source and every header it included).
fn dependencies(depfile: &str) -> Vec<PathBuf> {
    let joined = depfile.replace("\\\n", " ");
    let Some((_, deps)) = joined.split_once(": ") else { return Vec::new() };
    let mut files = Vec::new();
    let mut current = String::new();
    let mut chars = deps.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&' ') => current.push(chars.next().unwrap_or(' ')),
            c if c.is_whitespace() => {
                if !current.is_empty() {
                    files.push(PathBuf::from(std::mem::take(&mut current)));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        files.push(PathBuf::from(current));
    }
    files
}

/// The stamp records what a build depended on: command, compiler, and every input's fingerprint.
fn stamp(command: &str, identity: &str, inputs: &[PathBuf]) -> Option<String> {
    let mut s = format!("command {command}\ncompiler {identity}\n");
    for path in inputs {
        let bytes = fs::read(path).ok()?;
        let _ = writeln!(s, "input {:016x} {}", fingerprint(&bytes), path.display());
    }
    Some(s)
}

fn up_to_date(stamp_path: &Path, command: &str, identity: &str, outputs: &[&Path]) -> bool {
    let Ok(old) = fs::read_to_string(stamp_path) else { return false };
    if outputs.iter().any(|p| !p.exists()) {
        return false;
    }
    let inputs: Vec<PathBuf> =
        old.lines().filter_map(|l| l.strip_prefix("input ")).filter_map(|l| l.split_once(' ')).map(|(_, p)| p.into()).collect();
    stamp(command, identity, &inputs).is_some_and(|new| new == old)
}

/// The helper header as the build writes it to `OUT/include`, with its marker line.
fn helpers_h() -> String {
    marker(Comment::C, "build (a copy of its fc_helpers.h)") + HELPERS_H
}

/// Builds every container of `opts.dir` into `opts.out`, going on past the ones that fail.
/// An error is returned only when nothing could be built (no sources, no clang, an output
/// folder that cannot be written).
pub fn build(opts: &Options) -> Result<Report, BuildError> {
    let sources = sources(&opts.dir)?;
    let mut out = Folder::open(&opts.out, opts.force)?;
    Folder::open(&opts.out.join("include"), opts.force)?.write("fc_helpers.h", helpers_h().as_bytes(), COMMAND, &opts.dir)?;
    let tc = toolchain(&opts.clang)?;
    let removed = remove_stale(&mut out)?;
    let (mut built, mut failed) = (Vec::new(), Vec::new());
    for (name, source) in &sources {
        match build_one(opts, &tc, &mut out, name, source) {
            Ok(b) => built.push(b),
            Err(e) => failed.push(e),
        }
    }
    write_glue(&mut out, &opts.dir, &built)?;
    Ok(Report { built, failed, removed })
}

/// Compiles and converts one container, unless its stamp says it is up to date.
fn build_one(opts: &Options, tc: &Toolchain, out: &mut Folder, name: &str, source: &Path) -> Result<Built, BuildError> {
    let [object, bin, lines_file, depfile, stamp_file, log] = ["o", "bin", "lines", "d", "stamp", "clang.log"].map(|ext| format!("{name}.{ext}"));
    let bin_path = out.path(&bin);
    // The stamp names the outputs; clang writes beside them, and what it wrote replaces
    // them once fc-aot knows it may.
    let stamped = clang_args(opts, tc, source, &out.path(&object), &out.path(&depfile));
    let command = format!("{} {} --layout {}", opts.clang, stamped.join(" "), opts.layout.name());
    let (object_tmp, depfile_tmp) = (out.temporary(&object), out.temporary(&depfile));
    let args = clang_args(opts, tc, source, &object_tmp, &depfile_tmp);
    if up_to_date(&out.path(&stamp_file), &command, &tc.identity, &[&out.path(&object), &bin_path, &out.path(&lines_file)]) {
        return Ok(Built { name: name.to_string(), bin: bin_path, outcome: Outcome::UpToDate, warnings: String::new() });
    }
    for name in [&object, &bin, &lines_file, &depfile, &stamp_file] {
        out.check(name, None)?;
    }
    out.remove(&stamp_file)?;
    let compiled = run_clang(&opts.clang, &args)?;
    let stderr = String::from_utf8_lossy(&compiled.stderr).into_owned();
    if !compiled.status.success() {
        let _ = fs::remove_file(&object_tmp);
        let _ = fs::remove_file(&depfile_tmp);
        out.write(&log, stderr.as_bytes(), COMMAND, source)?;
        let problem = ClangProblem::diagnose(&stderr, compiled.status, opts.cpu);
        return Err(BuildError::Clang { source: source.to_owned(), problem, log: out.path(&log) });
    }
    if out.entries().contains_key(&log) {
        out.remove(&log)?;
    }
    let elf_bytes = out.adopt(&object, COMMAND, source)?;
    let depfile_text = out.adopt(&depfile, COMMAND, source).map(|d| String::from_utf8_lossy(&d).into_owned());
    let object_path = out.path(&object);
    let image = elf::convert(&elf_bytes).map_err(|error| BuildError::Convert { object: object_path.clone(), error })?;
    let bytes = format::write(&image, opts.layout).map_err(|error| BuildError::Write { object: object_path, error })?;
    out.write(&bin, &bytes, COMMAND, source)?;
    // Instruction -> source line, from the object's DWARF, for the errors of verify and run.
    let table = lines::table(&elf_bytes).map_err(|error| BuildError::Lines { object: out.path(&object), error })?;
    out.write(&lines_file, table.to_text().as_bytes(), COMMAND, source)?;
    let deps = depfile_text.map(|d| dependencies(&d)).unwrap_or_else(|_| vec![source.to_owned()]);
    if let Some(s) = stamp(&command, &tc.identity, &deps) {
        out.write(&stamp_file, s.as_bytes(), COMMAND, source)?;
    }
    Ok(Built { name: name.to_string(), bin: bin_path, outcome: Outcome::Built, warnings: stderr })
}

/// Removes what earlier builds wrote for sources that are gone; returns the files removed.
fn remove_stale(out: &mut Folder) -> Result<Vec<PathBuf>, BuildError> {
    let stale: Vec<String> =
        out.entries().iter().filter(|(_, e)| e.command == COMMAND && !e.source.exists()).map(|(name, _)| name.clone()).collect();
    let mut removed = Vec::new();
    for name in stale {
        if out.remove(&name)? {
            removed.push(out.path(&name));
        }
    }
    Ok(removed)
}

/// `containers.h`, `containers.c` and `containers.rs`: every container as a byte array.
fn write_glue(out: &mut Folder, dir: &Path, built: &[Built]) -> Result<(), BuildError> {
    let mut h = String::from(
        "/* Generated by fc-aot build: the containers as byte arrays. Do not edit. */\n\
         #ifndef FC_CONTAINERS_H\n#define FC_CONTAINERS_H\n\n#include <stddef.h>\n#include <stdint.h>\n\n\
         #ifdef __cplusplus\nextern \"C\" {\n#endif\n\n",
    );
    let mut c = String::from("/* Generated by fc-aot build. Do not edit. */\n#include \"containers.h\"\n");
    let mut rs = String::from("// Generated by fc-aot build: the containers as byte slices. Do not edit.\n");
    for b in built {
        let bytes = fs::read(&b.bin).map_err(io(&b.bin))?;
        let (array, len) = glue_symbols(&b.name);
        let _ = writeln!(h, "extern const uint8_t {array}[{}];\nextern const size_t {len};", bytes.len());
        let _ = write!(c, "\n__attribute__((aligned(8))) const uint8_t {array}[{}] = {{", bytes.len());
        let _ = write!(rs, "\n#[allow(non_upper_case_globals)]\npub static {}: &[u8] = &[", container_part(&b.name));
        for (i, byte) in bytes.iter().enumerate() {
            let sep = if i % 12 == 0 { "\n    " } else { " " };
            let _ = write!(c, "{sep}0x{byte:02x},");
            let _ = write!(rs, "{sep}0x{byte:02x},");
        }
        let _ = writeln!(c, "\n}};\nconst size_t {len} = sizeof {array};");
        let _ = writeln!(rs, "\n];");
    }
    h.push_str("\n#ifdef __cplusplus\n}\n#endif\n\n#endif\n");
    out.write("containers.h", h.as_bytes(), COMMAND, dir)?;
    out.write("containers.c", c.as_bytes(), COMMAND, dir)?;
    out.write("containers.rs", rs.as_bytes(), COMMAND, dir)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depfile_lists_escaped_paths() {
        let d = "out/a.o: containers/a.c \\\n  containers/include/fc\\ helpers.h /usr/x.h\n";
        assert_eq!(
            dependencies(d),
            vec![PathBuf::from("containers/a.c"), "containers/include/fc helpers.h".into(), "/usr/x.h".into()]
        );
    }

    #[test]
    fn clang_messages_are_recognised_in_both_versions() {
        use std::os::unix::process::ExitStatusExt;
        let (failed, crashed) = (ExitStatus::from_raw(1 << 8), ExitStatus::from_raw(70 << 8));
        let diagnose = |stderr: &str, status| ClangProblem::diagnose(stderr, status, Cpu::V1);
        // What clang 14 and clang 19 print (abridged).
        let v14 = "Error at line 1: Unsupport signed division for DAG: 0x3860ae68: i64 = sdiv ...\nfatal error: error in backend: Cannot select\nStack dump:\n";
        let v19 = "sdiv.c:1:33: error: unsupported signed division, please convert to unsigned div/mod.\n";
        assert_eq!(diagnose(v14, crashed), ClangProblem::SignedDivision(Cpu::V1));
        assert_eq!(diagnose(v19, failed), ClangProblem::SignedDivision(Cpu::V1));
        let float = "flt.c:1:29: error: A call to built-in function '__floatsisf' is not supported.\n";
        assert_eq!(diagnose(float, failed), ClangProblem::FloatingPoint { function: "__floatsisf".into() });
        let int128 = "i128.c:1:59: error: A call to built-in function '__multi3' is not supported.\ni128.c:1:59: error: only small returns supported\n";
        assert_eq!(diagnose(int128, failed), ClangProblem::Builtin { function: "__multi3".into() });
        assert_eq!(diagnose("fatal error: error in backend: Unsupported dynamic stack allocation\n", crashed), ClangProblem::DynamicStack);
        assert_eq!(diagnose("vla.c:1:19: error: unsupported dynamic stack allocation\n", failed), ClangProblem::DynamicStack);
        assert_eq!(diagnose("big.c:2:5: error: Looks like the BPF stack limit of 512 bytes is exceeded.\n", failed), ClangProblem::StackLimit);
        assert_eq!(diagnose("args.c:1:39: error: defined with too many args\n", failed), ClangProblem::TooManyArguments);
        assert_eq!(diagnose("args.c:1:39: error: stack arguments are not supported\n", failed), ClangProblem::TooManyArguments);
        assert_eq!(diagnose("error: unknown target CPU 'v4'\n", failed), ClangProblem::UnknownCpu(Cpu::V1));
        assert_eq!(diagnose("PLEASE submit a bug report\nStack dump:\n", crashed), ClangProblem::Crashed { status: crashed.to_string() });
        let syntax = "x.c:1:32: error: expected expression\n";
        assert_eq!(diagnose(syntax, failed), ClangProblem::Failed { status: failed.to_string(), diagnostics: syntax.trim_end().into() });
    }

    #[test]
    fn glue_symbols_follow_the_naming_rule() {
        assert_eq!(glue_symbols("sensor"), ("fc_container_sensor".into(), "fc_container_sensor_len".into()));
        assert_eq!(glue_symbols("my-filter").0, "fc_container__my_2Dfilter");
        assert_eq!(glue_symbols("my_filter").0, "fc_container_my_filter");
        assert_eq!(glue_symbols("1st").0, "fc_container__1st");
    }
}
