//! The `fc-aot` command line (spec §5): argument parsing and one readable error line per failure.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use fc_runtime::format::{self, Container, Layout, LayoutChoice};

use crate::build::{self, Cpu, Outcome};
use crate::{dump, elf};

/// Exit status for bad input or a load/verify failure.
const EXIT_BAD_INPUT: u8 = 1;

#[derive(Parser)]
#[command(name = "fc-aot", version, about = "Femto-Container (rBPF) toolchain: build, inspect, and translate containers")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

/// How to read a `.bin` header.
#[derive(Clone, Copy, ValueEnum)]
enum ReadLayout {
    Auto,
    Seed,
    Sming32,
}

/// Which header layout to write.
#[derive(Clone, Copy, ValueEnum)]
enum WriteLayout {
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

#[derive(Subcommand)]
enum Cmd {
    /// Compile every .c/.cpp container of a folder with clang and convert each to .bin.
    #[command(after_help = "Examples:\n  fc-aot build containers --out out\n  RBPF_CONTAINER_PATH=app/container fc-aot build --cpu v3\n  CLANG=clang-19 fc-aot build containers --out out --cpu v4 --layout sming32")]
    Build {
        /// Folder of container sources [default: $RBPF_CONTAINER_PATH, else `container`].
        dir: Option<PathBuf>,
        /// Where the .o, .bin and containers.h/.c/.rs go.
        #[arg(long, default_value = "out")]
        out: PathBuf,
        /// BPF instruction-set version passed to clang as -mcpu.
        #[arg(long, value_enum, default_value = "v1")]
        cpu: Cpu,
        /// Header layout of the written .bin files.
        #[arg(long, value_enum, default_value = "seed")]
        layout: WriteLayout,
    },
    /// Convert one clang BPF object (.o) into a container (.bin).
    #[command(after_help = "Examples:\n  fc-aot convert out/increment.o\n  fc-aot convert app.o -o app.bin --layout sming32")]
    Convert {
        object: PathBuf,
        /// Output file [default: the object's name with .bin].
        #[arg(short, long)]
        output: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "seed")]
        layout: WriteLayout,
    },
    /// Print containers as the rbpf-dump tool does.
    #[command(after_help = "Examples:\n  fc-aot dump out/increment.bin\n  fc-aot dump out/*.bin\n  fc-aot dump out/store.bin --json")]
    Dump {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The same facts as JSON (an array when several files are given).
        #[arg(long)]
        json: bool,
        #[arg(long, value_enum, default_value = "auto")]
        layout: ReadLayout,
    },
}

/// One error line: `fc-aot: <what>`.
fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("fc-aot: {message}");
    ExitCode::from(EXIT_BAD_INPUT)
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn parse<'a>(path: &Path, bytes: &'a [u8], layout: ReadLayout) -> Result<Container<'a>, String> {
    Container::parse(bytes, layout.into()).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn main() -> ExitCode {
    match Cli::parse().command {
        Cmd::Build { dir, out, cpu, layout } => {
            let dir = dir
                .or_else(|| std::env::var_os("RBPF_CONTAINER_PATH").map(PathBuf::from))
                .unwrap_or_else(|| PathBuf::from("container"));
            let clang = std::env::var("CLANG").unwrap_or_else(|_| "clang".into());
            let opts = build::Options { dir, out, cpu, layout: layout.into(), clang };
            match build::build(&opts) {
                Ok(built) => {
                    for b in built {
                        let what = if b.outcome == Outcome::Built { "built" } else { "up to date" };
                        println!("{}: {what}", b.bin.display());
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        Cmd::Convert { object, output, layout } => {
            let output = output.unwrap_or_else(|| object.with_extension("bin"));
            let result = read(&object).and_then(|bytes| {
                let image = elf::convert(&bytes).map_err(|e| format!("{}: {e}", object.display()))?;
                let bin = format::write(&image, layout.into()).map_err(|e| format!("{}: {e}", object.display()))?;
                std::fs::write(&output, bin).map_err(|e| format!("{}: {e}", output.display()))
            });
            result.map_or_else(fail, |()| ExitCode::SUCCESS)
        }
        Cmd::Dump { files, json, layout } => {
            let mut texts = Vec::new();
            let mut values = Vec::new();
            for path in &files {
                let bytes = match read(path) {
                    Ok(b) => b,
                    Err(e) => return fail(e),
                };
                let container = match parse(path, &bytes, layout) {
                    Ok(c) => c,
                    Err(e) => return fail(e),
                };
                if json {
                    values.push(dump::json(&path.display().to_string(), &container));
                } else if files.len() == 1 {
                    texts.push(dump::text(&container));
                } else {
                    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                    texts.push(format!("Contents of \"{name}\"\n{}\n{}\n", "-".repeat(29), dump::text(&container)));
                }
            }
            if json {
                let value = if values.len() == 1 { values.remove(0) } else { serde_json::Value::Array(values) };
                println!("{}", serde_json::to_string_pretty(&value).unwrap_or_default());
            } else {
                print!("{}", texts.concat());
            }
            ExitCode::SUCCESS
        }
    }
}
