//! Arbitrary (and, from the corpus, mutated real) ELF bytes -> the converter: an error or
//! an image that writes, in both header layouts, to a container the reader accepts.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(image) = fc_aot::container::elf::convert(data) else { return };
    fc_aot_fuzz::check_image(&image);
});
