//! `fc-aot disasm`: disassemble raw instruction bytes, or one function of a container,
//! into the conformance files' assembly syntax.

use std::path::PathBuf;
use std::process::ExitCode;

use fc_runtime::format::{Container, LayoutChoice, MAGIC};
use fc_runtime::insn::SLOT;

use super::common::*;
use crate::text::disasm;

#[derive(clap::Args)]
pub struct Args {
    /// Raw instruction bytes, or a container (`.bin`, told by its header) [default: stdin].
    pub file: Option<PathBuf>,
    /// The container's function to disassemble [default: the first of its function table].
    #[arg(long)]
    pub function: Option<String>,
}

pub fn run(args: Args) -> ExitCode {
    let Args { file, function } = args;
    let name = file.as_ref().map_or("<stdin>".to_string(), |p| p.display().to_string());
    let bytes = match read_input(&file) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    // A raw program cannot start with the magic: as an instruction it has a nonzero
    // reserved field, which the decoder refuses.
    let is_container = bytes.get(..4).is_some_and(|m| m == MAGIC.to_le_bytes());
    let text = match (is_container, &function) {
        (true, _) => match function_text(&bytes, function.as_deref()) {
            Ok(text) => text,
            Err(e) => return fail(format!("{name}: {e}")),
        },
        (false, Some(_)) => return fail(format!("{name}: --function needs a container (.bin); these are raw bytes")),
        (false, None) => &bytes[..],
    };
    if text.len() % SLOT != 0 {
        return fail(format!("{name}: {} bytes is not a whole number of 8-byte instructions", text.len()));
    }
    match disasm::disassemble(text) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("{name}: {e}")),
    }
}

/// The text of a container's function `name` (else its first): from its entry to the
/// next entry of the function table, or to the end of the text.
fn function_text<'a>(bytes: &'a [u8], name: Option<&str>) -> Result<&'a [u8], String> {
    let c = Container::parse(bytes, LayoutChoice::Auto).map_err(|e| e.to_string())?;
    let chosen = match name {
        Some(name) => c.functions().find(|f| f.name == name),
        None => c.functions().next(),
    };
    let Some(f) = chosen else {
        let names: Vec<&str> = c.functions().map(|f| f.name).collect();
        return Err(match name {
            Some(name) => format!("no function `{name}` (have: {})", names.join(", ")),
            None => "the container has no function".to_string(),
        });
    };
    // The parser checked every location is an instruction inside the text.
    let start = f.location as usize;
    let end = c.functions().map(|g| g.location as usize).filter(|&l| l > start).min().unwrap_or(c.text.len());
    Ok(&c.text[start..end])
}
