//! The `fc-aot` command.

fn main() -> std::process::ExitCode {
    fc_aot::cli::restore_sigpipe();
    fc_aot::cli::main()
}
