//! The exit statuses every command shares: 0 success, 1 rejected input, 2 usage error,
//! 3 the container stopped with an error code, 4 the run could not be carried out.

mod common;

use common::*;

#[test]
fn each_kind_of_outcome_has_its_exit_status() {
    let tmp = TempDir::new("exit-status");
    let asm = |name: &str, text: &str| {
        let raw = tmp.join(format!("{name}.s"));
        std::fs::write(&raw, text).unwrap();
        let o = fc_aot(&["asm", raw.to_str().unwrap()]);
        assert_success(&o, "asm");
        let path = tmp.join(format!("{name}.raw"));
        std::fs::write(&path, &o.stdout).unwrap();
        path.to_str().unwrap().to_string()
    };
    // Bare text is no container: rejected input.
    let raw = asm("ok", "mov %r0, 1\nexit\n");
    let status = |args: &[&str]| fc_aot(args).status.code();
    assert_eq!(status(&["verify", &raw]), Some(1), "not a container");
    assert_eq!(status(&["verify", "/nonexistent/x.bin"]), Some(1), "missing file");
    // Usage errors, whatever the file: clap's status.
    assert_eq!(status(&["verify", &raw, "--no-such-flag"]), Some(2));
    assert_eq!(status(&["run", &raw, "--budget", "lots"]), Some(2));
    assert_eq!(status(&["run", &raw, "--ctx", "xyz"]), Some(2));
    assert_eq!(status(&["run", &raw, "--engine", "warp"]), Some(2));
    assert_eq!(status(&["frobnicate"]), Some(2));
    // A container built from C that writes out of bounds stops with ILLEGAL_MEM: 3; one
    // that returns: 0.
    let src = tmp.join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("oob.c"), "int oob(unsigned *ctx) { ctx[100] = 1; return 0; }\n").unwrap();
    std::fs::write(src.join("fine.c"), "int fine(unsigned *ctx) { return ctx[0] + 1; }\n").unwrap();
    build(&src, &tmp.join("out"), &[]);
    let (oob, fine) = (tmp.join("out/oob.bin"), tmp.join("out/fine.bin"));
    let o = fc_aot(&["run", oob.to_str().unwrap(), "--ctx", "00000000"]);
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    assert!(stdout(&o).contains("error: ILLEGAL_MEM at insn"), "{}", stdout(&o));
    assert_eq!(status(&["run", fine.to_str().unwrap(), "--ctx", "29000000"]), Some(0));
    // Every --help states them.
    for command in ["build", "convert", "dump", "verify", "run", "asm", "disasm", "translate", "conformance"] {
        let help = stdout(&fc_aot(&[command, "--help"]));
        assert!(help.contains("Exit status: 0 success; 1 input rejected"), "{command} --help:\n{help}");
    }
}
