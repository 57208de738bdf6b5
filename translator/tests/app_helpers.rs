//! `--app-helper ID[:ARITY][=BEHAVIOUR]`: a container calling an application helper is
//! accepted by `verify`, `translate` and `conformance` once declared, refused alike by
//! `verify` and `translate` when not, and runs with each built-in behaviour on every engine.

mod common;

use common::*;
use fc_aot::target::EngineKind;

const APP: &str = r#"#include <fc_helpers.h>
FC_APP_HELPER(uint64_t, relay, 0x100, uint64_t a, uint64_t b);
int app(void *ctx) {
    (void)ctx;
    uint64_t r = relay(3, 4);
    bpf_printf("after %d\n", (int)r);
    return (int)relay(r, 10);
}
"#;

fn built(tmp: &TempDir) -> String {
    let src = tmp.join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("app.c"), APP).unwrap();
    build(&src, &tmp.join("out"), &[]);
    tmp.join("out/app.bin").to_str().unwrap().to_string()
}

#[test]
fn an_undeclared_app_helper_is_refused_alike_by_verify_and_translate() {
    let tmp = TempDir::new("app-refused");
    let bin = built(&tmp);
    let verify = fc_aot(&["verify", &bin]);
    assert_eq!(verify.status.code(), Some(1), "{}", stderr(&verify));
    assert!(stdout(&verify).starts_with("insn 2 (app.c:5): helper 0x100 is not provided by this VM (declare it with --app-helper 0x100[:ARITY])\ninsn 10 (app.c:7): "), "{}", stdout(&verify));
    let out = tmp.join("app.c").to_str().unwrap().to_string();
    let translate = fc_aot(&["translate", &bin, "-o", &out]);
    assert_eq!(translate.status.code(), Some(1));
    assert_eq!((stdout(&translate), stderr(&translate)), (stdout(&verify), stderr(&verify)), "the same message");
    assert!(!std::path::Path::new(&out).exists(), "nothing written for a refused container");
    // Declared: accepted, with or without an arity (0 checks nothing), in the RIOT profile too.
    for args in [&["--app-helper", "0x100:2"][..], &["--app-helper", "256"], &["--app-helper", "0x100", "--helpers", "riot"]] {
        let o = fc_aot(&[&["verify", &bin][..], args].concat());
        assert_eq!((o.status.code(), stdout(&o)), (Some(0), "ok\n".to_string()), "{args:?}: {}", stderr(&o));
        let o = fc_aot(&[&["translate", &bin, "-o", &out][..], args].concat());
        assert_success(&o, &format!("translate {args:?}"));
    }
}

#[test]
fn each_behaviour_runs_on_every_engine() {
    let tmp = TempDir::new("app-run");
    let bin = built(&tmp);
    let cases = [
        ("zero", "r0: 0 (0x0)\nerror: OK\nprintf: after 0\n"),
        ("echo", "r0: 3 (0x3)\nerror: OK\nprintf: after 3\n"),
        ("sum", "r0: 17 (0x11)\nerror: OK\nprintf: after 7\n"),
        ("log", "r0: 0 (0x0)\nerror: OK\napp 0x100: 3, 4\nprintf: after 0\napp 0x100: 0, 10\n"),
    ];
    for &engine in EngineKind::ALL {
        for (behaviour, want) in cases {
            let o = fc_aot(&["run", &bin, "--engine", engine.name(), "--app-helper", &format!("0x100:2={behaviour}")]);
            assert_success(&o, &format!("{} {behaviour}", engine.name()));
            assert!(stdout(&o).starts_with(want), "{} {behaviour}:\n{}", engine.name(), stdout(&o));
        }
    }
    // A run needs a behaviour: a usage error.
    let o = fc_aot(&["run", &bin, "--app-helper", "0x100:2"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--app-helper 0x100: a run needs its behaviour"), "{}", stderr(&o));
    // Ids below 0x100 and unknown behaviours are clap's value errors.
    for bad in ["0x20", "0x100=add", "0x100:9"] {
        let o = fc_aot(&["run", &bin, "--app-helper", bad]);
        assert_eq!(o.status.code(), Some(2), "{bad}");
    }
}

#[test]
fn conformance_data_may_call_a_declared_app_helper() {
    let tmp = TempDir::new("app-conformance");
    std::fs::write(
        tmp.join("app.data"),
        "-- asm\nmov %r1, 5\nmov %r2, 6\ncall 0x100\nexit\n-- result\n0xb\n",
    )
    .unwrap();
    let dir = tmp.path().to_str().unwrap();
    let o = fc_aot(&["conformance", dir]);
    assert_eq!(stdout(&o).lines().last(), Some("0 passed, 1 failed, 0 skipped"), "{}", stderr(&o));
    let o = fc_aot(&["conformance", dir, "--app-helper", "0x100:2=sum"]);
    assert_eq!(stdout(&o).lines().last(), Some("1 passed, 0 failed, 0 skipped"), "{}", stderr(&o));
}
