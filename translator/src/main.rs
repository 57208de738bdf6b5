//! The `fc-aot` command.

fn main() -> std::process::ExitCode {
    fc_aot::cli::main()
}
