//! Every sample container returns the r0 `containers/samples.txt` states for it, through
//! `fc-aot run` on every host engine, and every sample has its line there.

mod common;

use common::*;
use fc_aot::target::EngineKind;

#[test]
fn every_sample_returns_its_stated_r0_on_every_engine() {
    let tmp = TempDir::new("samples-r0");
    let out = tmp.join("out");
    build(&samples_dir(), &out, &[]);
    let table = sample_table();
    let results = sample_results();
    let names = container_names(&samples_dir());
    assert!(names.len() >= 12, "samples: {names:?}");
    for name in &names {
        let (ctx, budget) = table.get(name).unwrap_or_else(|| panic!("containers/samples.txt has no line for {name}"));
        let want = format!("r0: {} ", results[name]);
        let bin = out.join(format!("{name}.bin"));
        for &engine in EngineKind::ALL {
            let o = fc_aot(&["run", bin.to_str().unwrap(), "--engine", engine.name(), "--ctx", ctx, "--budget", &budget.to_string()]);
            assert_success(&o, &format!("{name} on {}", engine.name()));
            assert!(stdout(&o).starts_with(&want), "{name} on {}: want {want}, got\n{}", engine.name(), stdout(&o));
            assert!(stdout(&o).contains("\nerror: OK\n"), "{name} on {}: {}", engine.name(), stdout(&o));
        }
    }
}
