//! `fc-aot translate`: translate a container to native code: exports `fc_<container>_<function>` (fc_abi.h).

use std::path::{Path, PathBuf};
use std::process::ExitCode;


use super::common::*;
use crate::backend::translate::{self, Backend, Emit};
use crate::container::lines::LineTable;
use crate::container::outputs::{marker, write_to, Comment};
use crate::target::c_compiler::{c_compiler, CCompiler, Product};
use crate::target::tools::ToolError;

#[derive(clap::Args)]
pub struct Args {
    /// The container (not needed with `--target help`).
    pub file: Option<PathBuf>,
    /// Target (`help` lists them with their CPU, ABI and backend).
    #[arg(long, default_value = "host")]
    pub target: String,
    #[arg(long, value_enum)]
    pub backend: Option<translate::Backend>,
    #[arg(long, value_enum)]
    pub emit: Option<translate::Emit>,
    /// Output file, `-` for standard output [default: beside the input, NAME.TARGET.<ext of
    /// the emitted kind>: out/sensor.esp32c3.c, out/sensor.x86_64.o].
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Replace an output file that fc-aot did not write.
    #[arg(long)]
    pub force: bool,
    /// The C compiler for `--emit obj|asm` of a C-backend target [default: the target's
    /// own, `--target help` names it].
    #[arg(long, value_name = "PATH")]
    pub cc: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "auto")]
    pub layout: ReadLayout,
    #[command(flatten)]
    pub helpers: HelperArgs,
}

pub fn run(args: Args) -> ExitCode {
    let Args { file, target, backend, emit, output, layout, helpers, force, cc } = args;
    if target == "help" {
        print!("{}", translate::target_help());
        return ExitCode::SUCCESS;
    }
    let Some(file) = file else {
        return usage("translate: name the container to translate (or --target help)");
    };
    let bytes = match read(&file) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let container = match parse(&file, &bytes, layout) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let info = match translate::target(&target) {
        Ok(t) => t,
        Err(e) => return fail(format!("{}: {e}", file.display())),
    };
    let backend = backend.unwrap_or(info.default_backend());
    let emit = emit.unwrap_or(if backend == Backend::C { Emit::C } else { Emit::Obj });
    // The C backend's objects and assembly are the target's C compiler's, from its C.
    let product = match (backend, emit) {
        (Backend::C, Emit::Obj) => Some(Product::Object),
        (Backend::C, Emit::Asm) => Some(Product::Assembly),
        (Backend::C, Emit::C | Emit::Clif) | (Backend::Cranelift, _) => None,
    };
    let compiler = match product.map(|p| (p, c_compiler(&target))) {
        None if cc.is_some() => return usage("--cc names the C compiler of --emit obj or asm with the C backend"),
        None => None,
        Some((p, Some(compiler))) => Some((p, compiler)),
        Some((_, None)) => {
            return usage(format!("--emit {} with --backend c: no C compiler is known for target `{target}`; use --backend cranelift, or --emit c", emit.name()))
        }
    };
    let name = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    // Beside the input and named for the target: never a container's source, never `build`'s NAME.o.
    let output = output.unwrap_or_else(|| file.with_file_name(format!("{name}.{}.{}", info.resolved_name(), emit.extension())));
    let program = match helpers.set().verify(&container) {
        Ok(p) => p,
        Err(e) => return rejected_at(&file, LineTable::read_beside(&file, container.text).as_ref(), &e),
    };
    let translated = match translate::translate(&name, &container, &program, &target, backend, if compiler.is_some() { Emit::C } else { emit }) {
        Ok(out) => out,
        Err(e) => return fail(format!("{}: {e}", file.display())),
    };
    let contents = match compiler {
        Some((product, compiler)) => match compile(compiler, cc.as_deref(), &translated, product) {
            Ok(bytes) => bytes,
            Err(e) => return unavailable(format!("{}: {e}", file.display())),
        },
        None => translated,
    };
    let what = format!("translate from {}", file.file_name().unwrap_or_default().to_string_lossy());
    let contents = match emit {
        Emit::C | Emit::Asm => [marker(Comment::C, &what).into_bytes(), contents].concat(),
        Emit::Clif => [marker(Comment::Clif, &what).into_bytes(), contents].concat(),
        Emit::Obj => contents,
    };
    match write_to(&output, &contents, "translate", &file, force) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

/// The object or assembly `compiler` (or `cc`) makes of the translated C.
fn compile(compiler: CCompiler, cc: Option<&Path>, c_source: &[u8], product: Product) -> Result<Vec<u8>, ToolError> {
    let output = std::env::temp_dir().join(format!("fc-aot-translate-{}.out", std::process::id()));
    let compiled = compiler.compile(cc, &String::from_utf8_lossy(c_source), product, &output);
    let bytes = compiled.and_then(|()| std::fs::read(&output).map_err(|e| ToolError::Failed(format!("{}: {e}", output.display()))));
    let _ = std::fs::remove_file(&output);
    bytes
}
