//! What the subcommands share: exit statuses, the one-line error, reading inputs, option types.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::ValueEnum;
use fc_runtime::format::{Container, Layout, LayoutChoice};
use fc_runtime::helpers::{Profile, FIRST_APP_HELPER};
use fc_runtime::verifier::VerifyErrorKind;
use fc_runtime::vm::LoadError;

use crate::container::lines::{insn_label, LineTable};
use crate::helpers::{AppHelper, HelperSet};

/// Exit status for input that was rejected: a bad file, a failed conversion, verification or load.
pub const EXIT_BAD_INPUT: u8 = 1;
/// Exit status for a usage error (unknown flag, bad value): clap's own, and ours for
/// option combinations clap cannot check.
pub const EXIT_USAGE: u8 = 2;
/// Exit status when a container ran and stopped with an error code (ILLEGAL_MEM, ...).
pub const EXIT_RUN_ERROR: u8 = 3;
/// Exit status when the run could not be carried out: an engine or target unavailable
/// here (a compiler or qemu is missing), or `--timeout` reached.
pub const EXIT_UNAVAILABLE: u8 = 4;


/// One error line: `fc-aot: <what>`.
pub fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("fc-aot: {message}");
    ExitCode::from(EXIT_BAD_INPUT)
}

/// One error line for an engine that cannot run here.
pub fn unavailable(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("fc-aot: {message}");
    ExitCode::from(EXIT_UNAVAILABLE)
}

/// A container the load refused: `verify`'s text, one line per verifier problem on
/// stdout, each naming its source line when `lines` has it (`insn 12 (sensor.c:17):
/// <reason>`), then the one error line (so `verify` and `translate` refuse alike).
pub fn rejected_at(file: &Path, lines: Option<&LineTable>, error: &LoadError) -> ExitCode {
    match error {
        LoadError::Verify(errors) => {
            for e in errors {
                let at = insn_label(lines, e.pc);
                match e.kind {
                    VerifyErrorKind::UnknownHelper(id) if id >= FIRST_APP_HELPER => {
                        println!("{at}: {} (declare it with --app-helper 0x{id:x}[:ARITY])", e.kind)
                    }
                    _ => println!("{at}: {}", e.kind),
                }
            }
            fail(format!("{}: rejected ({} problems)", file.display(), errors.len()))
        }
        other => fail(format!("{}: {other}", file.display())),
    }
}

/// `--helpers` and `--app-helper`, as one argument group of the commands that take them.
#[derive(clap::Args, Clone)]
pub struct HelperArgs {
    /// Helper-id profile: which ids name the built-in helpers.
    #[arg(long, value_enum, default_value = "sming")]
    pub helpers: HelperProfile,
    /// Declares application helper ID (0x100 and up) reading ARITY arguments (0-5,
    /// default 0: no argument check); for `run`, BEHAVIOUR is what it does: zero
    /// (returns 0), echo (returns r1), sum (r1 + ... + r<ARITY>), log (prints
    /// `app 0xID: r1, ...` and returns 0). Repeatable.
    #[arg(long = "app-helper", value_name = "ID[:ARITY][=BEHAVIOUR]")]
    pub app_helpers: Vec<AppHelper>,
}

impl HelperArgs {
    pub fn set(&self) -> HelperSet {
        HelperSet::new(self.helpers.into(), &self.app_helpers)
    }
}

pub fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn parse<'a>(path: &Path, bytes: &'a [u8], layout: ReadLayout) -> Result<Container<'a>, String> {
    Container::parse(bytes, layout.into()).map_err(|e| format!("{}: {e}", path.display()))
}

/// A file's bytes, or standard input's without a file.
pub fn read_input(file: &Option<PathBuf>) -> Result<Vec<u8>, String> {
    match file {
        Some(p) => read(p),
        None => {
            let mut v = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut v).map_err(|e| format!("stdin: {e}"))?;
            Ok(v)
        }
    }
}

/// `--helpers`: the helper-id profile.
#[derive(Clone, Copy, ValueEnum)]
pub enum HelperProfile {
    Sming,
    Riot,
    Conformance,
}

impl From<HelperProfile> for Profile {
    fn from(p: HelperProfile) -> Self {
        match p {
            HelperProfile::Sming => Profile::Sming,
            HelperProfile::Riot => Profile::Riot,
            HelperProfile::Conformance => Profile::Conformance,
        }
    }
}

/// How to read a `.bin` header.
#[derive(Clone, Copy, ValueEnum)]
pub enum ReadLayout {
    Auto,
    Seed,
    Sming32,
}

/// Which header layout to write.
#[derive(Clone, Copy, ValueEnum)]
pub enum WriteLayout {
    Seed,
    Sming32,
}

impl From<ReadLayout> for LayoutChoice {
    fn from(l: ReadLayout) -> Self {
        match l {
            ReadLayout::Auto => LayoutChoice::Auto,
            ReadLayout::Seed => LayoutChoice::Only(Layout::Seed),
            ReadLayout::Sming32 => LayoutChoice::Only(Layout::Sming32),
        }
    }
}

impl From<WriteLayout> for Layout {
    fn from(l: WriteLayout) -> Self {
        match l {
            WriteLayout::Seed => Layout::Seed,
            WriteLayout::Sming32 => Layout::Sming32,
        }
    }
}

/// `--target` of `runtime` and `cc`: one of the bare-metal SoCs (the rest of [`Target`] is not one).
pub fn soc_target() -> impl clap::builder::TypedValueParser<Value = crate::target::Target> {
    use clap::builder::TypedValueParser as _;

    let socs = crate::target::Target::value_variants().iter().filter(|t| crate::target::soc(**t).is_some()).map(|t| t.name());
    clap::builder::PossibleValuesParser::new(socs)
        .map(|name| <crate::target::Target as clap::ValueEnum>::from_str(&name, false).expect("a SoC is a Target"))
}

/// A usage error clap cannot see: one line, exit status 2.
pub fn usage(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("fc-aot: {message}");
    ExitCode::from(EXIT_USAGE)
}
