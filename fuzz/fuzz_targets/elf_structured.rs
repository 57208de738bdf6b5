//! A structured description of an ELF object (sections, symbols, BPF relocations, header
//! patches; `fc_aot_fuzz::elf_model`), written with `object::write` -> the converter: an
//! error, or an image that passes the `elf` target's checks and, when no patch was applied,
//! is exactly what the description says (merged sections, only the relocated slots
//! changed and resolved as the relocation says, the function table).
#![no_main]

use fc_aot_fuzz::elf_model::Desc;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|desc: Desc| {
    let model = desc.model();
    let Some(written) = model.write() else { return };
    let Ok(image) = fc_aot::container::elf::convert(&written.elf) else { return };
    fc_aot_fuzz::check_image(&image);
    if !written.patched {
        fc_aot_fuzz::check_against_model(&model, &image);
    }
});
