//! `fc-aot build`: compiles a folder of C/C++ containers with clang, converts them to `.bin`,
//! and writes the firmware glue (`containers.h/.c/.rs`). Rebuilds only what changed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use fc_runtime::format::{self, Layout};

use crate::container::elf;

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
}

pub struct Options {
    pub dir: PathBuf,
    pub out: PathBuf,
    pub cpu: Cpu,
    pub layout: Layout,
    /// The clang to run (`$CLANG` or `clang`).
    pub clang: String,
}

/// Why a build stopped. Clang's own diagnostics have already gone to stderr.
#[derive(Debug)]
pub enum BuildError {
    ClangMissing(String),
    Clang { source: PathBuf, status: String },
    Io { path: PathBuf, error: String },
    DuplicateStem { first: PathBuf, second: PathBuf },
    NoSources(PathBuf),
    Convert { object: PathBuf, error: elf::ConvertError },
    Write { object: PathBuf, error: format::WriteError },
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildError::ClangMissing(c) => write!(
                f,
                "{c}: clang not found; install it (Debian/Ubuntu: apt-get install clang) or set $CLANG to its path"
            ),
            BuildError::Clang { source, status } => write!(f, "{}: clang failed ({status})", source.display()),
            BuildError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            BuildError::DuplicateStem { first, second } => write!(
                f,
                "{}: same container name as {} (each source file is one container named after its stem)",
                second.display(),
                first.display()
            ),
            BuildError::NoSources(d) => write!(f, "{}: no .c or .cpp container sources", d.display()),
            BuildError::Convert { object, error } => write!(f, "{}: {error}", object.display()),
            BuildError::Write { object, error } => write!(f, "{}: {error}", object.display()),
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
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
        if let Some(first) = found.insert(stem, path.clone()) {
            return Err(BuildError::DuplicateStem { first, second: path });
        }
    }
    if found.is_empty() {
        return Err(BuildError::NoSources(dir.to_owned()));
    }
    Ok(found)
}

/// A C identifier made from a container name (non-identifier characters become `_`).
pub fn identifier(name: &str) -> String {
    let mut id: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if id.starts_with(|c: char| c.is_ascii_digit()) {
        id.insert(0, '_');
    }
    id
}

/// 64-bit FNV-1a: a stable content fingerprint for the rebuild stamps.
fn fingerprint(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
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

/// Writes `contents` only when it differs, so unchanged glue keeps its timestamp.
fn write_if_changed(path: &Path, contents: &[u8]) -> Result<(), BuildError> {
    if fs::read(path).ok().as_deref() != Some(contents) {
        fs::write(path, contents).map_err(io(path))?;
    }
    Ok(())
}

/// Builds every container of `opts.dir` into `opts.out`.
pub fn build(opts: &Options) -> Result<Vec<Built>, BuildError> {
    let sources = sources(&opts.dir)?;
    fs::create_dir_all(opts.out.join("include")).map_err(io(&opts.out))?;
    write_if_changed(&opts.out.join("include/fc_helpers.h"), HELPERS_H.as_bytes())?;
    let tc = toolchain(&opts.clang)?;
    let mut built = Vec::new();
    for (name, source) in &sources {
        let object = opts.out.join(format!("{name}.o"));
        let bin = opts.out.join(format!("{name}.bin"));
        let depfile = opts.out.join(format!("{name}.d"));
        let stamp_path = opts.out.join(format!("{name}.stamp"));
        let args = clang_args(opts, &tc, source, &object, &depfile);
        let command = format!("{} {} --layout {}", opts.clang, args.join(" "), opts.layout.name());
        if up_to_date(&stamp_path, &command, &tc.identity, &[&object, &bin]) {
            built.push(Built { name: name.clone(), bin, outcome: Outcome::UpToDate });
            continue;
        }
        let _ = fs::remove_file(&stamp_path);
        let status = Command::new(&opts.clang)
            .args(&args)
            .status()
            .map_err(|e| BuildError::Io { path: opts.clang.clone().into(), error: e.to_string() })?;
        if !status.success() {
            return Err(BuildError::Clang { source: source.clone(), status: status.to_string() });
        }
        let elf_bytes = fs::read(&object).map_err(io(&object))?;
        let image = elf::convert(&elf_bytes).map_err(|error| BuildError::Convert { object: object.clone(), error })?;
        let bytes = format::write(&image, opts.layout).map_err(|error| BuildError::Write { object: object.clone(), error })?;
        fs::write(&bin, bytes).map_err(io(&bin))?;
        let deps = fs::read_to_string(&depfile).map(|d| dependencies(&d)).unwrap_or_else(|_| vec![source.clone()]);
        if let Some(s) = stamp(&command, &tc.identity, &deps) {
            fs::write(&stamp_path, s).map_err(io(&stamp_path))?;
        }
        built.push(Built { name: name.clone(), bin, outcome: Outcome::Built });
    }
    write_glue(&opts.out, &built)?;
    Ok(built)
}

/// `containers.h`, `containers.c` and `containers.rs`: every container as a byte array.
fn write_glue(out: &Path, built: &[Built]) -> Result<(), BuildError> {
    let mut h = String::from(
        "/* Generated by fc-aot build: the containers as byte arrays. Do not edit. */\n\
         #ifndef FC_CONTAINERS_H\n#define FC_CONTAINERS_H\n\n#include <stddef.h>\n#include <stdint.h>\n\n\
         #ifdef __cplusplus\nextern \"C\" {\n#endif\n\n",
    );
    let mut c = String::from("/* Generated by fc-aot build. Do not edit. */\n#include \"containers.h\"\n");
    let mut rs = String::from("// Generated by fc-aot build: the containers as byte slices. Do not edit.\n");
    for b in built {
        let bytes = fs::read(&b.bin).map_err(io(&b.bin))?;
        let id = identifier(&b.name);
        let _ = writeln!(h, "extern const uint8_t fc_container_{id}[{}];\nextern const size_t fc_container_{id}_len;", bytes.len());
        let _ = write!(c, "\n__attribute__((aligned(8))) const uint8_t fc_container_{id}[{}] = {{", bytes.len());
        let _ = write!(rs, "\n#[allow(non_upper_case_globals)]\npub static {id}: &[u8] = &[");
        for (i, byte) in bytes.iter().enumerate() {
            let sep = if i % 12 == 0 { "\n    " } else { " " };
            let _ = write!(c, "{sep}0x{byte:02x},");
            let _ = write!(rs, "{sep}0x{byte:02x},");
        }
        let _ = writeln!(c, "\n}};\nconst size_t fc_container_{id}_len = sizeof fc_container_{id};");
        let _ = writeln!(rs, "\n];");
    }
    h.push_str("\n#ifdef __cplusplus\n}\n#endif\n\n#endif\n");
    write_if_changed(&out.join("containers.h"), h.as_bytes())?;
    write_if_changed(&out.join("containers.c"), c.as_bytes())?;
    write_if_changed(&out.join("containers.rs"), rs.as_bytes())
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
    fn identifiers_are_c_safe() {
        assert_eq!(identifier("my-app.v2"), "my_app_v2");
        assert_eq!(identifier("9lives"), "_9lives");
    }
}
