//! Writes the seed corpora of the `verify` and `asm` targets from the conformance data:
//! `make_corpus CONFORMANCE_TESTS_DIR FUZZ_CORPUS_DIR`.
//!
//! - `verify/<name>`: program bytes ++ `-- mem` bytes ++ [mem length] (the target's input form);
//! - `asm/<name>.raw`: program bytes; `asm/<name>.s`: the `-- asm` text.
//!
//! Files are named after the `.data` file; identical contents are written once.

use std::collections::HashSet;
use std::fs;
use std::path::Path;

use fc_aot::conformance::data::TestCase;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, tests, out] = &args[..] else {
        eprintln!("usage: make_corpus CONFORMANCE_TESTS_DIR FUZZ_CORPUS_DIR");
        std::process::exit(2);
    };
    let out = Path::new(out);
    for sub in ["verify", "asm"] {
        fs::create_dir_all(out.join(sub)).unwrap();
    }
    let mut files: Vec<_> = fs::read_dir(tests)
        .unwrap_or_else(|e| panic!("{tests}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "data"))
        .collect();
    files.sort();
    let (mut seen, mut written) = (HashSet::new(), 0);
    let mut write = |path: std::path::PathBuf, bytes: Vec<u8>| {
        if seen.insert((path.parent().unwrap().to_owned(), bytes.clone())) {
            fs::write(&path, bytes).unwrap();
            written += 1;
        }
    };
    for path in &files {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = String::from_utf8_lossy(&fs::read(path).unwrap()).into_owned();
        let Ok(case) = TestCase::parse(&stem, &text) else { continue };
        let Ok(program) = case.program() else { continue };
        if case.mem.len() <= 255 {
            let mut v = program.clone();
            v.extend_from_slice(&case.mem);
            v.push(case.mem.len() as u8);
            write(out.join("verify").join(&stem), v);
        }
        write(out.join("asm").join(format!("{stem}.raw")), program);
        if let Some(asm) = &case.asm {
            // Without the comment lines, which only make the seeds longer.
            let asm: String = asm.lines().filter(|l| !l.trim_start().starts_with('#')).map(|l| format!("{l}\n")).collect();
            write(out.join("asm").join(format!("{stem}.s")), asm.into_bytes());
        }
    }
    println!("make_corpus: {} .data files, {written} corpus files", files.len());
}
