//! Arbitrary (and, from the corpus, mutated real) ELF bytes -> the converter: an error or
//! an image that writes, in both header layouts, to a container the reader accepts.
#![no_main]

use fc_runtime::format::{self, Container, Layout, LayoutChoice};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(image) = fc_aot::container::elf::convert(data) else { return };
    assert!(!image.functions.is_empty(), "converted image without functions");
    for layout in [Layout::Seed, Layout::Sming32] {
        // The writer may refuse (a name offset or location past the table's u16 fields).
        let Ok(bin) = format::write(&image, layout) else { continue };
        let c = Container::parse(&bin, LayoutChoice::Only(layout))
            .unwrap_or_else(|e| panic!("converted image written as {} does not read back: {e}", layout.name()));
        assert_eq!(c.text, &image.text[..]);
        let names: Vec<&str> = c.functions().map(|f| f.name).collect();
        let expected: Vec<&str> = image.functions.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, expected);
    }
});
