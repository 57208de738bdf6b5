//! `fc-aot dump`: print containers as the rbpf-dump tool does.

use std::path::PathBuf;
use std::process::ExitCode;

use super::common::*;
use crate::container::dump::{self, Calls};

#[derive(clap::Args)]
pub struct Args {
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The same facts as JSON (an array when several files are given).
    #[arg(long)]
    pub json: bool,
    #[arg(long, value_enum, default_value = "auto")]
    pub layout: ReadLayout,
    /// Helper calls by name, as bpftool writes them (`call bpf_fetch_local#19`), instead of
    /// by number (`Call 19`).
    #[arg(long)]
    pub names: bool,
    /// Whose helper numbering names the calls [default: sming].
    #[arg(long, value_enum, requires = "names")]
    pub helpers: Option<HelperProfile>,
}

pub fn run(args: Args) -> ExitCode {
    let Args { files, json, layout, names, helpers } = args;
    let calls = if names { Calls::Named(helpers.unwrap_or(HelperProfile::Sming).into()) } else { Calls::Numbered };
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
            values.push(dump::json(&path.display().to_string(), &container, calls));
        } else if files.len() == 1 {
            texts.push(dump::text(&container, calls));
        } else {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            texts.push(format!("Contents of \"{name}\"\n{}\n{}\n", "-".repeat(29), dump::text(&container, calls)));
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
