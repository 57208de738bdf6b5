//! `fc-aot verify` and `fc-aot run --stack N` reject what cannot fit the address map
//! with a clean error (exit 1), never a panic (101), an abort (SIGABRT) or a long run
//! (issue 13): a sming32 container with bss 0xE000_0000 passed `verify`, and
//! `--stack 18446744073709551608` panicked, `--stack 68719476736` aborted,
//! `--stack 17179869184` ran on for 20 s.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use fc_runtime::format::{self, Image, Layout};

/// `mov r0, 0; exit` as `main`, sming32 header with `bss_len`.
fn write_container(dir: &Path, name: &str, bss_len: u32) -> PathBuf {
    let text = [[0xb7, 0, 0, 0, 0, 0, 0, 0], [0x95, 0, 0, 0, 0, 0, 0, 0]].concat();
    let image = Image { text, bss_len, functions: vec![("main".to_string(), 0)], ..Image::default() };
    let path = dir.join(name);
    std::fs::write(&path, format::write(&image, Layout::Sming32).unwrap()).unwrap();
    path
}

fn fc_aot(args: &[&str]) -> Output {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_fc-aot")).args(args).output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(10), "fc-aot {args:?} took {:?}", started.elapsed());
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn sizes_that_cannot_fit_are_clean_cli_errors() {
    let dir = std::env::temp_dir().join(format!("fc-aot-cli-sizes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ok = write_container(&dir, "ok.bin", 0);
    let ok = ok.to_str().unwrap();
    let out = fc_aot(&["verify", ok]);
    assert!(out.status.success(), "{}", stderr(&out));

    for bss in [0xE000_0000u32, 0xF000_0000] {
        let big = write_container(&dir, &format!("bss-{bss:x}.bin"), bss);
        let big = big.to_str().unwrap();
        for args in [vec!["verify", big], vec!["run", big]] {
            let out = fc_aot(&args);
            assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
            assert!(stderr(&out).contains(&format!("data + bss needs {bss} bytes")), "{args:?}: {}", stderr(&out));
        }
    }

    for stack in ["18446744073709551608", "68719476736", "17179869184", "268435456"] {
        let out = fc_aot(&["run", ok, "--stack", stack]);
        assert_eq!(out.status.code(), Some(1), "--stack {stack}: {}", stderr(&out));
        assert!(stderr(&out).contains(&format!("stack (1 frame of {stack} bytes) needs {stack} bytes")), "{}", stderr(&out));
    }
    let out = fc_aot(&["run", ok, "--stack", "4096"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let _ = std::fs::remove_dir_all(&dir);
}
