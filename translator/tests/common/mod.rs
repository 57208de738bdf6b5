//! Helpers shared by the integration tests: temp dirs, running `fc-aot`, clang.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The `fc-aot` binary cargo built for these tests.
pub const FC_AOT: &str = env!("CARGO_BIN_EXE_fc-aot");

/// `translator/`.
pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The sample containers (`containers/` at the workspace root).
pub fn samples_dir() -> PathBuf {
    manifest_dir().join("../containers")
}

/// Small fixtures of this test suite.
pub fn data_dir() -> PathBuf {
    manifest_dir().join("tests/data")
}

/// A fresh directory under the system temp dir, unique per test and process;
/// removed on drop unless the test is failing (so it can be inspected).
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(test: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("fc-aot-test-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        TempDir(path)
    }
    pub fn path(&self) -> &Path {
        &self.0
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

/// Runs `fc-aot` with `args` (and extra environment), returning its output.
pub fn fc_aot_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(FC_AOT);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap_or_else(|e| panic!("cannot run {FC_AOT}: {e}"))
}

pub fn fc_aot(args: &[&str]) -> Output {
    fc_aot_env(args, &[])
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Panics with both streams unless the command succeeded.
pub fn assert_success(o: &Output, what: &str) {
    assert!(o.status.success(), "{what} failed ({}):\nstdout:\n{}\nstderr:\n{}", o.status, stdout(o), stderr(o));
}

/// The clang to use (`$CLANG` or `clang`); fails the test with a clear message when it is missing.
pub fn clang() -> String {
    let clang = std::env::var("CLANG").unwrap_or_else(|_| "clang".into());
    match Command::new(&clang).arg("--version").output() {
        Ok(o) if o.status.success() => clang,
        _ => panic!("`{clang}` not found: these tests need clang with the BPF target (apt-get install clang llvm), or set $CLANG"),
    }
}

/// `clang -print-file-name=include`, computed once.
pub fn clang_include() -> &'static str {
    static INCLUDE: OnceLock<String> = OnceLock::new();
    INCLUDE.get_or_init(|| {
        let o = Command::new(clang()).arg("-print-file-name=include").output().expect("clang -print-file-name");
        String::from_utf8_lossy(&o.stdout).trim().to_owned()
    })
}

/// Compiles `source` (C, or C++ by extension) for BPF into `object` with the brief's flags.
pub fn compile_bpf(source: &Path, object: &Path, extra: &[&str]) {
    let mut cmd = Command::new(clang());
    cmd.args(["-target", "bpf", "-O2", "-c", "-nostdinc", "-isystem", clang_include()]);
    if source.extension().is_some_and(|e| e != "c") {
        cmd.args(["-fno-exceptions", "-fno-rtti"]);
    }
    cmd.args(extra).arg(source).arg("-o").arg(object);
    let o = cmd.output().expect("run clang");
    assert_success(&o, &format!("clang {}", source.display()));
}

/// Writes `text` to `dir/name` and compiles it to `dir/<stem>.o`, returning the object path.
pub fn compile_snippet(dir: &Path, name: &str, text: &str) -> PathBuf {
    let source = dir.join(name);
    std::fs::write(&source, text).unwrap();
    let object = source.with_extension("o");
    compile_bpf(&source, &object, &[]);
    object
}

/// `fc-aot build SRC --out OUT [extra]`, asserting success; returns stdout.
pub fn build(src: &Path, out: &Path, extra: &[&str]) -> String {
    clang();
    let mut args = vec!["build", src.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = fc_aot(&args);
    assert_success(&o, &format!("fc-aot {}", args.join(" ")));
    stdout(&o)
}

/// Writes each (file name, source) into `tmp/src` and builds them into `tmp/out`;
/// returns `tmp/out/NAME.bin` of the first as a string (for `fc-aot` arguments).
pub fn build_sources(tmp: &TempDir, sources: &[(&str, &str)]) -> String {
    let src = tmp.join("src");
    std::fs::create_dir_all(&src).unwrap();
    for (name, text) in sources {
        std::fs::write(src.join(name), text).unwrap();
    }
    build(&src, &tmp.join("out"), &[]);
    let stem = Path::new(sources[0].0).file_stem().unwrap().to_string_lossy().into_owned();
    tmp.join(format!("out/{stem}.bin")).to_str().unwrap().to_string()
}

/// A container that loops for ever (for `--budget off`, `--timeout` and signals).
pub const ENDLESS_C: &str = "int endless(void *ctx) { (void)ctx; volatile int x = 0; for (;;) x++; }\n";

/// Container names (source stems) of a folder, sorted.
pub fn container_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file() && p.extension().is_some_and(|e| ["c", "cpp", "cc", "cxx"].contains(&e.to_str().unwrap_or("")))
        })
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `NAME -> (context hex, budget)` of the samples as `scripts/demo` runs them: the lines
/// `NAME CONTEXT-HEX BUDGET R0` of `containers/samples.txt` (`#` lines are comments).
pub fn sample_table() -> BTreeMap<String, (String, u32)> {
    sample_lines().into_iter().map(|(name, ctx, budget, _)| (name, (ctx, budget))).collect()
}

/// `NAME -> r0` each sample returns with its context and budget (`containers/samples.txt`).
pub fn sample_results() -> BTreeMap<String, u64> {
    sample_lines().into_iter().map(|(name, _, _, r0)| (name, r0)).collect()
}

fn sample_lines() -> Vec<(String, String, u32, u64)> {
    let path = samples_dir().join("samples.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let entry = |line: &str| match line.split_whitespace().collect::<Vec<_>>()[..] {
        [name, hex, budget, r0] => {
            Some((name.to_owned(), hex.to_owned(), budget.parse().ok()?, u64::from_str_radix(r0.strip_prefix("0x")?, 16).ok()?))
        }
        _ => None,
    };
    let lines = text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#'));
    lines.map(|l| entry(l).unwrap_or_else(|| panic!("{}: `{l}` is not NAME CONTEXT-HEX BUDGET R0", path.display()))).collect()
}

/// `expand -t 8`: tabs to spaces up to the next multiple of 8 columns.
pub fn expand_tabs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let mut col = 0;
        for c in line.chars() {
            match c {
                '\t' => {
                    let n = 8 - col % 8;
                    out.extend(std::iter::repeat_n(' ', n));
                    col += n;
                }
                '\n' => {
                    out.push(c);
                    col = 0;
                }
                c => {
                    out.push(c);
                    col += 1;
                }
            }
        }
    }
    out
}

/// A section header of an ELF64 little-endian file, read by hand (so tests can patch bytes).
#[derive(Clone, Debug)]
pub struct RawSection {
    pub name: String,
    pub sh_type: u32,
    pub offset: usize,
    pub size: usize,
    pub link: u32,
    pub info: u32,
    /// File offset of the section header itself.
    pub header: usize,
}

pub const SHT_SYMTAB: u32 = 2;
pub const SHT_REL: u32 = 9;

fn le(bytes: &[u8], at: usize, n: usize) -> u64 {
    bytes[at..at + n].iter().rev().fold(0, |v, &b| v << 8 | b as u64)
}

/// The section headers of a well-formed ELF64 LE object.
pub fn raw_sections(elf: &[u8]) -> Vec<RawSection> {
    let shoff = le(elf, 0x28, 8) as usize;
    let (entsize, num, strndx) = (le(elf, 0x3a, 2) as usize, le(elf, 0x3c, 2) as usize, le(elf, 0x3e, 2) as usize);
    let header = |i: usize| shoff + i * entsize;
    let strtab = le(elf, header(strndx) + 0x18, 8) as usize;
    (0..num)
        .map(|i| {
            let h = header(i);
            let name_off = strtab + le(elf, h, 4) as usize;
            let end = elf[name_off..].iter().position(|&b| b == 0).unwrap();
            RawSection {
                name: String::from_utf8_lossy(&elf[name_off..name_off + end]).into_owned(),
                sh_type: le(elf, h + 4, 4) as u32,
                offset: le(elf, h + 0x18, 8) as usize,
                size: le(elf, h + 0x20, 8) as usize,
                link: le(elf, h + 0x28, 4) as u32,
                info: le(elf, h + 0x2c, 4) as u32,
                header: h,
            }
        })
        .collect()
}

/// Name of symbol `index` of the symbol table `symtab` (section list from [`raw_sections`]).
pub fn raw_symbol_name(elf: &[u8], sections: &[RawSection], symtab: &RawSection, index: usize) -> String {
    let strtab = &sections[symtab.link as usize];
    let name_off = strtab.offset + le(elf, symtab.offset + index * 24, 4) as usize;
    let end = elf[name_off..].iter().position(|&b| b == 0).unwrap();
    String::from_utf8_lossy(&elf[name_off..name_off + end]).into_owned()
}
pub mod bare_metal;
pub mod every_engine;
