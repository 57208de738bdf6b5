//! `fc-aot conformance`: run every *.data conformance test of a folder; the last line is `P passed, F failed, S skipped`.

use std::path::PathBuf;
use std::process::ExitCode;


use super::common::*;
use crate::conformance::{self, Executor, Verdict};
use crate::helpers::AppHelper;
use crate::target::{EngineKind, Target};

#[derive(clap::Args)]
pub struct Args {
    pub dir: PathBuf,
    #[arg(long, value_enum)]
    pub engine: Option<EngineKind>,
    #[arg(long, value_enum)]
    pub target: Option<Target>,
    /// Drive this plugin binary by the upstream protocol (`--engine`, `--target` and
    /// `--app-helper` are passed on to it).
    #[arg(long)]
    pub plugin: Option<PathBuf>,
    /// Application helpers the programs may call (see `fc-aot run --help`); the
    /// helper-id profile is always `conformance`.
    #[arg(long = "app-helper", value_name = "ID[:ARITY][=BEHAVIOUR]")]
    pub app_helpers: Vec<AppHelper>,
}

pub fn run(args: Args) -> ExitCode {
    let Args { dir, engine, target, plugin, app_helpers } = args;
    let executor = match plugin {
        Some(path) => {
            let mut options = Vec::new();
            if let Some(e) = engine {
                options.extend(["--engine".to_string(), e.name().to_string()]);
            }
            if let Some(t) = target {
                options.extend(["--target".to_string(), t.name().to_string()]);
            }
            for app in &app_helpers {
                options.extend(["--app-helper".to_string(), app.to_string()]);
            }
            Executor::Plugin(path, options)
        }
        None => Executor::Engine(engine.unwrap_or(EngineKind::Interp), target.unwrap_or(Target::Host), app_helpers),
    };
    let summary = conformance::run_dir(&dir, &executor, |name, verdict| match verdict {
        Verdict::Pass => eprintln!("PASS {name}"),
        Verdict::Fail(why) => eprintln!("FAIL {name}: {why}"),
        Verdict::Skip(why) => eprintln!("SKIP {name}: {why}"),
    });
    match summary {
        Ok(s) => {
            println!("{s}");
            if s.failed > 0 || s.passed == 0 {
                ExitCode::from(EXIT_BAD_INPUT)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => fail(format!("{}: {e}", dir.display())),
    }
}
